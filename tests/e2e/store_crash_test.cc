// Crash safety of the store across real processes: `arca store add` of a
// large bundle is killed with SIGKILL at several points; after each kill the
// store opens, fsck finds nothing corrupt, and no ref names an incomplete
// bundle. A final add completes and checks out byte for byte.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "common/file.h"
#include "common/testing.h"
#include "store/store.h"

namespace arca {
namespace {

std::string ArcaBinary() {
  const char* dir = std::getenv("ARCA_BIN_DIR");
  return std::string(dir ? dir : ARCA_TEST_BIN_DIR) + "/arca";
}

// Starts `arca store add` and returns its pid.
pid_t StartAdd(const std::string& model, const std::string& store) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    std::string bin = ArcaBinary();
    ::execl(bin.c_str(), bin.c_str(), "store", "add", model.c_str(), "--store", store.c_str(), "--name",
            "crash/model", "--ref", "crash/model:v1", "--threads", "2", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

void ExpectConsistent(const std::string& store_dir) {
  auto store = store::Store::Open(store_dir);
  ASSERT_TRUE(store.ok()) << store.status();
  store::FsckReport r = (*store)->Fsck();
  EXPECT_TRUE(r.ok()) << r.problems.front();
  // A ref, if present, names a complete bundle.
  auto ref = (*store)->GetRef("crash/model:v1");
  if (ref.ok()) {
    auto m = (*store)->GetManifest(*ref);
    EXPECT_TRUE(m.ok()) << m.status();
  }
}

TEST(StoreCrashTest, KillNineAtAnyPointLeavesAConsistentStore) {
  ASSERT_EQ(::access(ArcaBinary().c_str(), X_OK), 0) << "arca binary not found at " << ArcaBinary();
  testing::TempDir tmp;
  std::string model = tmp / "model";
  std::filesystem::create_directories(model);
  // 160 MiB of weights-like data (three packs) plus a small file.
  ASSERT_TRUE(WriteFileAtomic(model + "/weights.bin", testing::Bf16Normal(80 << 20, 0.02f, 11)).ok());
  ASSERT_TRUE(WriteFileAtomic(model + "/config.json", "{}").ok());
  std::string store_dir = tmp / "store";

  for (int delay_ms : {30, 150, 400, 800, 1500}) {
    pid_t pid = StartAdd(model, store_dir);
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    SCOPED_TRACE("killed after " + std::to_string(delay_ms) + " ms");
    ExpectConsistent(store_dir);
  }

  // A final add completes; what was packed before the kills is reused.
  pid_t pid = StartAdd(model, store_dir);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  auto store = store::Store::Open(store_dir);
  ASSERT_TRUE(store.ok()) << store.status();
  auto ref = (*store)->GetRef("crash/model:v1");
  ASSERT_TRUE(ref.ok()) << ref.status();
  ASSERT_TRUE((*store)->Checkout(*ref, tmp / "out", 2).ok());
  EXPECT_EQ(*ReadFile(tmp / "out/weights.bin", 1ull << 30), *ReadFile(model + "/weights.bin", 1ull << 30));
  store::FsckReport r = (*store)->Fsck();
  EXPECT_TRUE(r.ok()) << r.problems.front();
}

}  // namespace
}  // namespace arca
