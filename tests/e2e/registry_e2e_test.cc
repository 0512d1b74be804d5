// The registry end to end: real `arca-registry` processes on 127.0.0.1 port
// 0 and the real `arca` binary, each client with its own cache and config.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/file.h"
#include "common/testing.h"
#include "store/store.h"
#include "tests/e2e/process.h"

namespace arca::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Slurp(const std::string& path) {
  auto r = ReadFile(path, 1ull << 31);
  return r.ok() ? *r : std::string("<unreadable " + path + ">");
}

// A model directory: a bf16 weights file, a config and a licence.
void MakeModel(const std::string& dir, size_t weight_bytes, uint64_t seed) {
  fs::create_directories(dir);
  ASSERT_OK(WriteFileAtomic(dir + "/weights.bin", testing::Bf16Normal(weight_bytes, 0.02f, seed)));
  ASSERT_OK(WriteFileAtomic(dir + "/config.json", "{\"seed\": " + std::to_string(seed) + "}\n"));
  ASSERT_OK(WriteFileAtomic(dir + "/LICENSE", "MIT License\n"));
}

void ExpectSameFiles(const std::string& a, const std::string& b) {
  for (const char* f : {"weights.bin", "config.json", "LICENSE"}) {
    EXPECT_TRUE(Slurp(a + "/" + f) == Slurp(b + "/" + f)) << f << " differs between " << a << " and " << b;
  }
}

std::vector<std::string> PackFiles(const std::string& store_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto& e : fs::recursive_directory_iterator(store_dir + "/packs", ec)) {
    if (e.is_regular_file()) out.push_back(e.path().string());
  }
  return out;
}

// Bytes of the pack files a store has recorded (a pack file renamed into
// place just before a kill, but not yet recorded, does not count).
uint64_t RecordedPackBytes(const std::string& store_dir) {
  auto store = store::Store::Open(store_dir);
  if (!store.ok()) return 0;
  uint64_t n = 0;
  for (const std::string& f : PackFiles(store_dir)) {
    auto d = Digest::Parse("sha256:" + fs::path(f).stem().string());
    if (!d.ok()) continue;
    auto info = (*store)->GetPack(*d);
    if (info.ok()) n += info->size;
  }
  return n;
}

// One client: its own cache, config and token.
struct Client {
  std::string home, token;
  Env env() const {
    return {{"HOME", home},
            {"XDG_CONFIG_HOME", home + "/.config"},
            {"XDG_CACHE_HOME", home + "/.cache"},
            {"ARCA_STORE", home + "/cache"},
            {"ARCA_TOKEN", token}};
  }
  std::string cache() const { return home + "/cache"; }
  RunResult arca(std::vector<std::string> args) const {
    args.insert(args.begin(), BinaryPath("arca"));
    return Run(args, env());
  }
  // Runs with --json and parses stdout; a failure is reported with stderr.
  json arca_json(std::vector<std::string> args) const {
    args.push_back("--json");
    RunResult r = arca(args);
    EXPECT_TRUE(r.ok()) << "arca " << args[0] << " failed (" << r.exit_code << "): " << r.err;
    json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.out;
    return j;
  }
};

class RegistryE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(BinaryPath("arca").c_str(), X_OK), 0) << "build the arca binary first";
    ASSERT_EQ(::access(BinaryPath("arca-registry").c_str(), X_OK), 0) << "build arca-registry first";
    data_ = tmp_ / "registry";
    push_token_ = Registry::CreateToken(data_, "acme", "push");
    ASSERT_FALSE(push_token_.empty());
  }
  void StartRegistry(const std::vector<std::string>& extra = {}) {
    registry_ = Registry::Start(data_, extra);
    ASSERT_TRUE(registry_.running()) << "arca-registry did not start; see " << data_ << ".log";
  }
  Client NewClient(const std::string& name, const std::string& token) {
    return Client{tmp_ / name, token};
  }
  std::string Ref(const std::string& repo_tag) const { return registry_.host() + "/" + repo_tag; }

  testing::TempDir tmp_;
  std::string data_, push_token_;
  Registry registry_;
};

TEST_F(RegistryE2E, PushThenPullGivesIdenticalFilesAndSecondPushSendsNoChunks) {
  StartRegistry();
  MakeModel(tmp_ / "model", 12 << 20, 1);
  Client alice = NewClient("alice", push_token_);
  json push = alice.arca_json({"push", tmp_ / "model", Ref("acme/model:v1")});
  EXPECT_GT(push.value("bytes_sent", 0), 0);
  EXPECT_GT(push.value("chunks_sent", 0), 0);

  Client bob = NewClient("bob", push_token_);
  json pull = bob.arca_json({"pull", "--allow-unsigned", Ref("acme/model:v1"), tmp_ / "out"});
  EXPECT_EQ(pull.value("digest", ""), push.value("digest", "x"));
  EXPECT_GT(pull.value("bytes_fetched", 0), 0);
  ExpectSameFiles(tmp_ / "model", tmp_ / "out");

  // The same directory again, from a client with an empty cache: the
  // registry has every chunk, so no chunk data moves.
  Client carol = NewClient("carol", push_token_);
  json again = carol.arca_json({"push", tmp_ / "model", Ref("acme/model:v1")});
  EXPECT_EQ(again.value("chunks_sent", -1), 0);
  EXPECT_EQ(again.value("packs_sent", -1), 0);
  EXPECT_EQ(again.value("digest", ""), push.value("digest", "x"));

  // Pulling again into the same directory moves and rewrites nothing.
  json warm = bob.arca_json({"pull", "--allow-unsigned", Ref("acme/model:v1"), tmp_ / "out"});
  EXPECT_EQ(warm.value("bytes_fetched", -1), 0);
  EXPECT_EQ(warm.value("files_written", -1), 0);
  ExpectSameFiles(tmp_ / "model", tmp_ / "out");

  // A local edit is noticed and repaired by the next pull.
  ASSERT_OK(WriteFileAtomic(tmp_ / "out/config.json", "{\"edited\": true, \"longer\": 1}\n"));
  json repaired = bob.arca_json({"pull", "--allow-unsigned", Ref("acme/model:v1"), tmp_ / "out"});
  EXPECT_EQ(repaired.value("files_written", -1), 1);
  ExpectSameFiles(tmp_ / "model", tmp_ / "out");
}

TEST_F(RegistryE2E, ACorruptChunkOnTheServerFailsThePullNamingTheFile) {
  StartRegistry();
  MakeModel(tmp_ / "model", 6 << 20, 2);
  Client alice = NewClient("alice", push_token_);
  alice.arca_json({"push", tmp_ / "model", Ref("acme/model:v1")});
  // Flip one byte of chunk data in every pack the registry holds.
  for (const std::string& pack : PackFiles(data_ + "/store")) {
    std::fstream f(pack, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(4096);
    char c;
    f.read(&c, 1);
    c ^= 0x10;
    f.seekp(4096);
    f.write(&c, 1);
  }
  Client bob = NewClient("bob", push_token_);
  RunResult r = bob.arca({"pull", "--allow-unsigned", Ref("acme/model:v1"), tmp_ / "out"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("weights.bin"), std::string::npos) << r.err;
  // Nothing was materialised.
  for (const char* f : {"weights.bin", "config.json", "LICENSE"}) {
    EXPECT_FALSE(fs::exists(tmp_ / (std::string("out/") + f))) << f;
  }
}

TEST_F(RegistryE2E, AKilledPullResumesAndFetchesOnlyWhatWasMissing) {
  StartRegistry();
  MakeModel(tmp_ / "model", 160 << 20, 3);
  Client alice = NewClient("alice", push_token_);
  alice.arca_json({"push", tmp_ / "model", Ref("acme/big:v1")});

  // What a whole pull moves, for comparison.
  Client ref = NewClient("reference", push_token_);
  json full = ref.arca_json({"pull", "--allow-unsigned", Ref("acme/big:v1"), tmp_ / "ref-out"});
  const int64_t full_bytes = full.value("bytes_fetched", 0);
  ASSERT_GT(full_bytes, 0);

  // Kill the pull once it has committed a pack to the cache (with one
  // connection packs are sealed one after another, so when a second pack
  // file appears the first one is recorded).
  Client bob = NewClient("bob", push_token_);
  Child pull = Child::Start({BinaryPath("arca"), "pull", "--allow-unsigned", Ref("acme/big:v1"), tmp_ / "out", "--jobs", "1"},
                            bob.env(), tmp_ / "bob-pull.log");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (PackFiles(bob.cache()).size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  pull.Kill(SIGKILL);
  const uint64_t kept = RecordedPackBytes(bob.cache());
  ASSERT_GT(kept, 0u) << "the pull committed nothing before it was killed";
  ASSERT_LT(int64_t(kept), full_bytes) << "the pull finished before it could be killed";
  EXPECT_FALSE(fs::exists(tmp_ / "out/weights.bin"));

  json resumed = bob.arca_json({"pull", "--allow-unsigned", Ref("acme/big:v1"), tmp_ / "out"});
  const int64_t fetched = resumed.value("bytes_fetched", -1);
  EXPECT_GT(resumed.value("chunks_cached", 0), 0);
  // It fetched what was missing and not what the killed run had verified
  // (pack framing and coalesced gaps make the cache's packs a little larger
  // than the chunk bytes; allow 1 MiB).
  EXPECT_LE(fetched + int64_t(kept), full_bytes + (1 << 20)) << "kept " << kept << ", fetched " << fetched;
  EXPECT_LT(fetched, full_bytes);
  std::printf("whole pull %lld bytes; killed run kept %llu; resumed run fetched %lld\n", (long long)full_bytes,
              (unsigned long long)kept, (long long)fetched);
  ExpectSameFiles(tmp_ / "model", tmp_ / "out");
}

TEST_F(RegistryE2E, AServerKilledMidPushRestartsCleanAndTheRePushCompletes) {
  StartRegistry();
  MakeModel(tmp_ / "model", 160 << 20, 4);
  Client alice = NewClient("alice", push_token_);
  // Build into the cache first so that the push itself starts at once.
  ASSERT_TRUE(alice.arca({"store", "add", tmp_ / "model", "--name", "acme/big"}).ok());
  Child push = Child::Start({BinaryPath("arca"), "push", tmp_ / "model", Ref("acme/big:v1"), "--jobs", "1"},
                            alice.env(), tmp_ / "alice-push.log");
  // Kill the registry once an upload has begun arriving.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto uploading = [&] {
    std::error_code ec;
    return fs::directory_iterator(data_ + "/store/tmp", ec) != fs::directory_iterator() ||
           !PackFiles(data_ + "/store").empty();
  };
  while (!uploading() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  registry_.child().Kill(SIGKILL);
  EXPECT_NE(push.Wait(), 0);  // the push cannot finish without its registry

  RunResult fsck = alice.arca({"store", "fsck", "--store", data_ + "/store"});
  EXPECT_TRUE(fsck.ok()) << fsck.out << fsck.err;

  StartRegistry();
  json repush = alice.arca_json({"push", tmp_ / "model", Ref("acme/big:v1")});
  EXPECT_FALSE(repush.value("digest", "").empty());
  Client bob = NewClient("bob", push_token_);
  bob.arca_json({"pull", "--allow-unsigned", Ref("acme/big:v1"), tmp_ / "out"});
  ExpectSameFiles(tmp_ / "model", tmp_ / "out");
}

TEST_F(RegistryE2E, EightConcurrentPushesAndPullsOfOverlappingBundles) {
  StartRegistry();
  // Four models sharing their first 8 MiB of weights; a base bundle holding
  // just that shared part.
  std::string shared = testing::Bf16Normal(8 << 20, 0.02f, 50);
  MakeModel(tmp_ / "base", 0, 0);
  ASSERT_OK(WriteFileAtomic(tmp_ / "base/weights.bin", shared));
  Client seed = NewClient("seed", push_token_);
  seed.arca_json({"push", tmp_ / "base", Ref("acme/base:v1")});
  for (int i = 0; i < 4; ++i) {
    std::string dir = tmp_ / ("m" + std::to_string(i));
    MakeModel(dir, 0, 60 + i);
    ASSERT_OK(WriteFileAtomic(dir + "/weights.bin", shared + testing::Bf16Normal(4 << 20, 0.02f, 70 + i)));
  }
  std::vector<std::thread> threads;
  std::vector<RunResult> results(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      Client c = NewClient("c" + std::to_string(i), push_token_);
      if (i < 4) {
        results[i] = c.arca({"push", tmp_ / ("m" + std::to_string(i)), Ref("acme/m" + std::to_string(i) + ":v1")});
      } else {
        results[i] = c.arca({"pull", "--allow-unsigned", Ref("acme/base:v1"), tmp_ / ("base-out" + std::to_string(i))});
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(results[i].ok()) << "client " << i << ": " << results[i].err;
  for (int i = 4; i < 8; ++i) ExpectSameFiles(tmp_ / "base", tmp_ / ("base-out" + std::to_string(i)));
  Client reader = NewClient("reader", push_token_);
  for (int i = 0; i < 4; ++i) {
    std::string out = tmp_ / ("m-out" + std::to_string(i));
    reader.arca_json({"pull", "--allow-unsigned", Ref("acme/m" + std::to_string(i) + ":v1"), out});
    ExpectSameFiles(tmp_ / ("m" + std::to_string(i)), out);
  }
  // The registry's store is consistent and holds each chunk once.
  registry_.child().Kill(SIGTERM);
  auto store = store::Store::Open(data_ + "/store");
  ASSERT_OK(store);
  store::FsckReport report = (*store)->Fsck();
  EXPECT_TRUE(report.ok()) << report.problems.front();
}

TEST_F(RegistryE2E, PushesNeedATokenForTheirNamespace) {
  StartRegistry();
  MakeModel(tmp_ / "model", 1 << 20, 5);
  Client anonymous = NewClient("anon", "");
  RunResult r = anonymous.arca({"push", tmp_ / "model", Ref("acme/model:v1")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("login"), std::string::npos) << r.err;

  Client other = NewClient("other", Registry::CreateToken(data_, "other", "push"));
  r = other.arca({"push", tmp_ / "model", Ref("acme/model:v1")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("acme"), std::string::npos) << r.err;

  Client reader = NewClient("reader", Registry::CreateToken(data_, "acme", "pull"));
  r = reader.arca({"push", tmp_ / "model", Ref("acme/model:v1")});
  EXPECT_NE(r.exit_code, 0);

  // Nothing was tagged by the refused pushes; a pull without a token is
  // refused while anonymous pull is off.
  Client alice = NewClient("alice", push_token_);
  RunResult missing = alice.arca({"pull", "--allow-unsigned", Ref("acme/model:v1"), tmp_ / "out"});
  EXPECT_NE(missing.exit_code, 0);
  alice.arca_json({"push", tmp_ / "model", Ref("acme/model:v1")});
  r = anonymous.arca({"pull", "--allow-unsigned", Ref("acme/model:v1"), tmp_ / "anon-out"});
  EXPECT_NE(r.exit_code, 0);

  // With anonymous pull switched on, the same pull works.
  registry_.child().Kill(SIGTERM);
  StartRegistry({"--anonymous-pull"});
  anonymous.arca_json({"pull", "--allow-unsigned", Ref("acme/model:v1"), tmp_ / "anon-out"});
  ExpectSameFiles(tmp_ / "model", tmp_ / "anon-out");
}

}  // namespace
}  // namespace arca::e2e
