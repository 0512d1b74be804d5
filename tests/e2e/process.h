// Real processes for end-to-end tests: run the built binaries with their
// own environment, capture what they print, start and kill servers.
#ifndef ARCA_TESTS_E2E_PROCESS_H_
#define ARCA_TESTS_E2E_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace arca::e2e {

// Path of a binary in build/bin ($ARCA_BIN_DIR overrides).
std::string BinaryPath(const std::string& name);

// Environment changes for a child: a value sets the variable, an empty
// value removes it.
using Env = std::map<std::string, std::string>;

struct RunResult {
  int exit_code = -1;  // -1 if killed by a signal
  std::string out, err;
  bool ok() const { return exit_code == 0; }
};

// Runs argv[0] (a path) to completion with stdin from /dev/null.
RunResult Run(const std::vector<std::string>& argv, const Env& env = {});

// A child process running in the background; killed (SIGKILL) and reaped
// when destroyed.
class Child {
 public:
  // Starts argv; its stdout goes to a pipe read by WaitForLine, its stderr
  // to `stderr_path` (or the test's stderr when empty).
  static Child Start(const std::vector<std::string>& argv, const Env& env = {},
                     const std::string& stderr_path = "");
  Child() = default;
  Child(Child&& o) noexcept;
  Child& operator=(Child&& o) noexcept;
  ~Child();

  pid_t pid() const { return pid_; }
  // Reads stdout until a line containing `needle` arrives; returns that line,
  // or "" on EOF or timeout.
  std::string WaitForLine(const std::string& needle, std::chrono::seconds timeout = std::chrono::seconds(30));
  // Sends `sig` and waits for the exit; returns the wait status.
  int Kill(int sig);
  // Waits for a normal exit; returns the exit code or -1.
  int Wait();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffered_;
};

// A real `arca-registry serve` on 127.0.0.1 with an ephemeral port.
class Registry {
 public:
  // Starts serving `data_dir` (created if needed).
  static Registry Start(const std::string& data_dir, const std::vector<std::string>& extra = {});
  // Starts `serve --config config_path` (a mirror); `data_dir` is the config's.
  static Registry StartMirror(const std::string& config_path, const std::string& data_dir,
                              const std::vector<std::string>& extra = {});
  bool running() const { return port_ > 0; }
  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& data_dir() const { return data_dir_; }
  Child& child() { return child_; }
  // `arca-registry token create`; "" on failure.
  static std::string CreateToken(const std::string& data_dir, const std::string& ns, const std::string& scope);

 private:
  static Registry Serve(const std::string& data_dir, const std::vector<std::string>& args);
  std::string data_dir_;
  Child child_;
  int port_ = 0;
};

}  // namespace arca::e2e

#endif  // ARCA_TESTS_E2E_PROCESS_H_
