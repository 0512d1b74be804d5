#include "tests/e2e/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <thread>
#include <utility>

extern char** environ;

namespace arca::e2e {

std::string BinaryPath(const std::string& name) {
  const char* dir = std::getenv("ARCA_BIN_DIR");
  return std::string(dir ? dir : ARCA_TEST_BIN_DIR) + "/" + name;
}

namespace {

// The child's environment: ours with `env` applied.
std::vector<std::string> MakeEnv(const Env& env) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    std::string key = kv.substr(0, kv.find('='));
    if (!env.count(key)) out.push_back(kv);
  }
  for (const auto& [k, v] : env) {
    if (!v.empty()) out.push_back(k + "=" + v);
  }
  return out;
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (std::string& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Forks and execs; the child's stdout and stderr go to the given fds
// (-1 leaves them as they are).
pid_t Spawn(std::vector<std::string> argv, const Env& env, int out_fd, int err_fd) {
  std::vector<std::string> envs = MakeEnv(env);
  std::vector<char*> cargv = CStrings(argv);
  std::vector<char*> cenv = CStrings(envs);
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    if (out_fd >= 0) ::dup2(out_fd, 1);
    if (err_fd >= 0) ::dup2(err_fd, 2);
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  return pid;
}

void DrainInto(int fd, std::string* out) {
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out->append(buf, size_t(n));
}

}  // namespace

RunResult Run(const std::vector<std::string>& argv, const Env& env) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return {};
  pid_t pid = Spawn(argv, env, out[1], err[1]);
  ::close(out[1]);
  ::close(err[1]);
  RunResult r;
  std::thread err_reader([&] { DrainInto(err[0], &r.err); });
  DrainInto(out[0], &r.out);
  err_reader.join();
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

Child Child::Start(const std::vector<std::string>& argv, const Env& env, const std::string& stderr_path) {
  Child c;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return c;
  int err_fd = -1;
  if (!stderr_path.empty()) err_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  c.pid_ = Spawn(argv, env, out[1], err_fd);
  ::close(out[1]);
  if (err_fd >= 0) ::close(err_fd);
  c.out_fd_ = out[0];
  return c;
}

Child::Child(Child&& o) noexcept { *this = std::move(o); }

Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    if (pid_ > 0) Kill(SIGKILL);
    if (out_fd_ >= 0) ::close(out_fd_);
    pid_ = std::exchange(o.pid_, -1);
    out_fd_ = std::exchange(o.out_fd_, -1);
    buffered_ = std::move(o.buffered_);
  }
  return *this;
}

Child::~Child() {
  if (pid_ > 0) Kill(SIGKILL);
  if (out_fd_ >= 0) ::close(out_fd_);
}

std::string Child::WaitForLine(const std::string& needle, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    size_t nl;
    while ((nl = buffered_.find('\n')) != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      if (line.find(needle) != std::string::npos) return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || out_fd_ < 0) return "";
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, int(left.count())) <= 0) return "";
    char buf[4096];
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) return "";
    buffered_.append(buf, size_t(n));
  }
}

int Child::Kill(int sig) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

int Child::Wait() {
  if (pid_ <= 0) return -1;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Registry Registry::Start(const std::string& data_dir, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"--data", data_dir};
  args.insert(args.end(), extra.begin(), extra.end());
  return Serve(data_dir, args);
}

Registry Registry::StartMirror(const std::string& config_path, const std::string& data_dir,
                               const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"--config", config_path};
  args.insert(args.end(), extra.begin(), extra.end());
  return Serve(data_dir, args);
}

Registry Registry::Serve(const std::string& data_dir, const std::vector<std::string>& args) {
  Registry r;
  r.data_dir_ = data_dir;
  std::vector<std::string> argv = {BinaryPath("arca-registry"), "serve", "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), args.begin(), args.end());
  r.child_ = Child::Start(argv, {}, data_dir + ".log");
  std::string line = r.child_.WaitForLine("listening on");
  size_t colon = line.rfind("127.0.0.1:");
  if (colon != std::string::npos) r.port_ = std::atoi(line.c_str() + colon + 10);
  return r;
}

std::string Registry::CreateToken(const std::string& data_dir, const std::string& ns, const std::string& scope) {
  RunResult r = Run({BinaryPath("arca-registry"), "token", "create", "--data", data_dir, "--namespace", ns,
                     "--scope", scope});
  if (!r.ok()) return "";
  std::string t = r.out;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  return t;
}

}  // namespace arca::e2e
