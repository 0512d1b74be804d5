// One quick round trip against a real `arca-registry serve` process: push a
// small directory, pull it into another cache and directory, compare. Skipped
// when the registry binary has not been built. The thorough end-to-end suite
// lives in tests/e2e/.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "client/pull.h"
#include "client/push.h"
#include "common/file.h"
#include "common/testing.h"

namespace arca::client {
namespace {

namespace fs = std::filesystem;
using arca::testing::TempDir;

std::string RegistryBinary() { return std::string(ARCA_TEST_BIN_DIR) + "/arca-registry"; }

// `arca-registry serve` in the background; SIGTERM and reaped on destruction.
class RegistryProcess {
 public:
  explicit RegistryProcess(const std::string& data) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      std::string bin = RegistryBinary();
      ::execl(bin.c_str(), bin.c_str(), "serve", "--data", data.c_str(), "--listen", "127.0.0.1:0",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    // "arca-registry listening on http://127.0.0.1:PORT (data DIR)"
    std::string line;
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(fds[0]);
    size_t at = line.find("127.0.0.1:");
    if (at != std::string::npos) port_ = std::atoi(line.c_str() + at + 10);
  }
  ~RegistryProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status;
      ::waitpid(pid_, &status, 0);
    }
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

std::string RunForLine(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buf[512];
  if (std::fgets(buf, sizeof buf, p)) out = buf;
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

TEST(SmokeTest, PushThenPullAgainstARealRegistry) {
  if (::access(RegistryBinary().c_str(), X_OK) != 0) GTEST_SKIP() << "build arca-registry first";
  TempDir dir;
  const std::string token = RunForLine(RegistryBinary() + " token create --data " + dir / "reg" +
                                       " --namespace acme --scope push 2>/dev/null");
  ASSERT_FALSE(token.empty());
  RegistryProcess registry(dir / "reg");
  ASSERT_GT(registry.port(), 0);
  ::setenv("ARCA_TOKEN", token.c_str(), 1);

  fs::create_directories(dir / "model/sub");
  ASSERT_OK(WriteFileAtomic(dir / "model/weights.bin", arca::testing::RandomBytes(3 << 20, 5)));
  ASSERT_OK(WriteFileAtomic(dir / "model/sub/config.json", "{\"layers\": 2}"));
  const std::string ref = "127.0.0.1:" + std::to_string(registry.port()) + "/acme/smoke:v1";

  std::ostringstream err;
  StoreOptions push_so;
  push_so.store_dir = dir / "cache-a";
  push_so.quiet = true;
  PushOptions po;
  po.dir = dir / "model";
  po.ref = ref;
  Result<PushReport> pushed = PushBundle(push_so, po, err);
  ASSERT_OK(pushed);
  EXPECT_EQ(pushed->chunks_sent, pushed->chunks);
  // Again: the registry has everything, nothing but objects is sent.
  Result<PushReport> again = PushBundle(push_so, po, err);
  ASSERT_OK(again);
  EXPECT_EQ(again->chunks_sent, 0u);
  EXPECT_EQ(again->packs_sent, 0u);

  StoreOptions pull_so;
  pull_so.store_dir = dir / "cache-b";
  pull_so.quiet = true;
  PullOptions pl;
  pl.ref = ref;
  pl.out_dir = dir / "out";
  // This test is about transfer; signatures have tests of their own
  // (tests/e2e/signing_e2e_test.cc). No policy file: accept unsigned.
  pl.trust.policy_path = dir / "no-policy.json";
  pl.trust.allow_unsigned = true;
  Result<PullReport> pulled = PullBundle(pull_so, pl, err);
  ASSERT_OK(pulled);
  EXPECT_EQ(pulled->digest, pushed->digest);
  EXPECT_EQ(pulled->chunks_fetched, pushed->chunks);
  EXPECT_EQ(*ReadFile(dir / "out/weights.bin", 1 << 30), *ReadFile(dir / "model/weights.bin", 1 << 30));
  EXPECT_EQ(*ReadFile(dir / "out/sub/config.json", 1 << 20), "{\"layers\": 2}");

  Result<PullReport> warm = PullBundle(pull_so, pl, err);
  ASSERT_OK(warm);
  EXPECT_EQ(warm->chunks_fetched, 0u);
  EXPECT_EQ(warm->files_unchanged, 2u);
  ::unsetenv("ARCA_TOKEN");
}

}  // namespace
}  // namespace arca::client
