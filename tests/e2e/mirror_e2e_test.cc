// Mirroring end to end (mirror/PROTOCOL.md): real `arca-registry` processes
// on loopback (an upstream, a mirror, a second-level mirror), the real `arca`
// CLI, signed bundles and trust policies with log keys. Two versions of a
// model pass down the chain with the second moving about its changed bytes;
// a client of the last mirror verifies the publisher's signature and that
// mirror's log. Faults: kill -9 mid-sync then resume, an unreachable
// upstream, a tampered chunk, a tag going backwards, a forked upstream log.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "common/file.h"
#include "common/testing.h"
#include "tests/e2e/process.h"

namespace arca::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

class MirrorE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(BinaryPath("arca").c_str(), X_OK), 0) << "build the arca binary first";
    ASSERT_EQ(::access(BinaryPath("arca-registry").c_str(), X_OK), 0) << "build arca-registry first";
    home_ = tmp_ / "home";
    fs::create_directories(home_);
    up_ = tmp_ / "upstream";
    m1_ = tmp_ / "mirror1";
    m2_ = tmp_ / "mirror2";
    token_ = Registry::CreateToken(up_, "acme", "push");
    ASSERT_FALSE(token_.empty());
    // The mirror reads the upstream with a pull token from a file.
    ASSERT_OK(WriteFileAtomic(tmp_ / "up.token", Registry::CreateToken(up_, "*", "pull") + "\n", 0600));
    up_key_ = LogKey(up_);
    m1_key_ = LogKey(m1_);
    m2_key_ = LogKey(m2_);
    ASSERT_TRUE(arca({"key", "generate", "alice", "--json"}).ok());
    RunResult pub = arca({"key", "export", "alice"});
    ASSERT_TRUE(pub.ok());
    alice_ = json::parse(pub.out);
    // The sites' policy: alice signs acme/*. The client's adds a log key.
    ASSERT_OK(WriteFileAtomic(tmp_ / "site-policy.json", Policy({}).dump()));
    ASSERT_OK(WriteFileAtomic(home_ + "/policy.json", Policy({up_key_}).dump()));
    model_ = tmp_ / "model";
    fs::create_directories(model_);
    ASSERT_OK(WriteFileAtomic(model_ + "/LICENSE", "MIT\n"));
  }

  json Policy(const std::vector<std::string>& log_keys) const {
    json p = {{"schema", "arca.policy.v1"},
              {"keys", {{"alice", alice_}}},
              {"rules", {{{"repositories", "acme/*"}, {"keys", {"alice"}}, {"threshold", 1}}}}};
    if (!log_keys.empty()) p["logs"] = {{"keys", log_keys}};
    return p;
  }

  static std::string LogKey(const std::string& data) {
    RunResult vk = e2e::Run({BinaryPath("arca-registry"), "log-key", "--data", data});
    EXPECT_TRUE(vk.ok()) << vk.err;
    return Trim(vk.out);
  }

  Env env() const {
    return {{"HOME", home_},
            {"XDG_CONFIG_HOME", home_ + "/.config"},
            {"XDG_STATE_HOME", home_ + "/.state"},
            {"ARCA_STATE_DIR", ""},
            {"ARCA_STORE", home_ + "/cache"},
            {"ARCA_KEYS_DIR", home_ + "/keys"},
            {"ARCA_POLICY", home_ + "/policy.json"},
            {"ARCA_KEY_PASSPHRASE", "pw"},
            {"ARCA_TOKEN", token_}};
  }
  RunResult arca(std::vector<std::string> args) const {
    args.insert(args.begin(), BinaryPath("arca"));
    return e2e::Run(args, env());
  }
  // As a reader of a mirror served with anonymous pull: no token.
  RunResult reader(std::vector<std::string> args) const {
    args.insert(args.begin(), BinaryPath("arca"));
    Env e = env();
    e["ARCA_TOKEN"] = "";
    return e2e::Run(args, e);
  }
  RunResult registry(std::vector<std::string> args) const {
    args.insert(args.begin(), BinaryPath("arca-registry"));
    return e2e::Run(args, env());
  }

  // Writes the model's weights (`size` random bytes of `seed`, with `patch`
  // bytes at `at` replaced) and pushes it signed as `ref`.
  void Push(const std::string& host, const std::string& ref, size_t size, uint64_t seed, size_t at = 0,
            size_t patch = 0, const std::string& license = "MIT", const std::string& key = "alice") {
    std::string w = testing::RandomBytes(size, seed);
    if (patch) {
      std::string p = testing::RandomBytes(patch, seed + 1000);
      w.replace(at, patch, p);
    }
    ASSERT_OK(WriteFileAtomic(model_ + "/weights.bin", w));
    RunResult r = arca({"push", model_, host + "/" + ref, "--sign", key, "--license", license, "--quiet"});
    ASSERT_TRUE(r.ok()) << r.err;
  }

  // A mirror config following `url` (log key `log_key`) into `data`.
  std::string Config(const std::string& name, const std::string& data, const std::string& url,
                     const std::string& log_key, json extra = json::object()) {
    json up = {{"name", "up"},
               {"url", url},
               {"log_key", log_key},
               {"namespaces", {"acme"}},
               {"retry", {{"initial_seconds", 1}, {"max_seconds", 2}, {"attempts", 2}}}};
    for (auto& [k, v] : extra.items()) up[k] = v;
    json c = {{"schema", "arca.mirror.v1"}, {"data", data}, {"policy", tmp_ / "site-policy.json"},
              {"upstreams", {up}}};
    const std::string path = tmp_ / (name + ".json");
    EXPECT_OK(WriteFileAtomic(path, c.dump(1)));
    return path;
  }

  // `mirror sync --once --json`, parsed; exit code in *code.
  json SyncOnce(const std::string& config, int* code) {
    RunResult r = registry({"mirror", "sync", "--config", config, "--once", "--json"});
    *code = r.exit_code;
    json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    if (r.exit_code != 0) std::cerr << "mirror sync said:\n" << r.err;
    return j.is_discarded() ? json::object() : j["upstreams"][0];
  }
  json Status(const std::string& config) {
    RunResult r = registry({"mirror", "status", "--config", config, "--json"});
    json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    return j.is_discarded() ? json::object() : j["upstreams"][0];
  }

  testing::TempDir tmp_;
  std::string home_, up_, m1_, m2_, token_, up_key_, m1_key_, m2_key_, model_;
  json alice_;
};

TEST_F(MirrorE2E, ChainOfThreeSyncsTwoVersionsAndAClientVerifiesThePublisher) {
  Registry up = Registry::Start(up_);
  ASSERT_TRUE(up.running());
  const size_t size = 6 << 20, changed = 256 << 10;
  Push(up.host(), "acme/m:v1", size, 1);
  const std::string c1 = Config("m1", m1_, "http://" + up.host(), up_key_, {{"token_file", tmp_ / "up.token"}});
  int code = -1;
  json r = SyncOnce(c1, &code);
  ASSERT_EQ(code, 0) << r;
  EXPECT_EQ(r["updated"], 1) << r;
  const uint64_t v1_bytes = r["bytes_fetched"];
  EXPECT_GE(v1_bytes, size);

  // v2 changes 256 KiB in the middle: the sync moves about that.
  Push(up.host(), "acme/m:v2", size, 1, size / 2, changed);
  r = SyncOnce(c1, &code);
  ASSERT_EQ(code, 0) << r;
  EXPECT_EQ(r["updated"], 1) << r;
  EXPECT_EQ(r["unchanged"], 1) << r;
  const uint64_t v2_bytes = r["bytes_fetched"];
  // At most one maximum-size chunk (128 KiB) of boundary shift on each side.
  EXPECT_LE(v2_bytes, changed + (256 << 10)) << "v2 moved " << v2_bytes << " bytes for " << changed << " changed";
  std::cerr << "v1 moved " << v1_bytes << " bytes; v2 moved " << v2_bytes << " for " << changed << " changed\n";
  json st = Status(c1);
  EXPECT_EQ(st["state"], "ok") << st;
  EXPECT_EQ(st["models"]["acme/m:v2"]["status"], "ok") << st;

  // Level 2 follows level 1 (served with anonymous pull).
  Registry m1 = Registry::Start(m1_, {"--anonymous-pull"});
  ASSERT_TRUE(m1.running());
  const std::string c2 = Config("m2", m2_, "http://" + m1.host(), m1_key_);
  r = SyncOnce(c2, &code);
  ASSERT_EQ(code, 0) << r;
  EXPECT_EQ(r["updated"], 2) << r;

  // A client of level 2 checks the publisher's signature and level 2's log.
  Registry m2 = Registry::Start(m2_, {"--anonymous-pull"});
  ASSERT_TRUE(m2.running());
  ASSERT_OK(WriteFileAtomic(home_ + "/policy.json", Policy({m2_key_}).dump()));
  RunResult p = reader({"pull", m2.host() + "/acme/m:v2", tmp_ / "out"});
  ASSERT_TRUE(p.ok()) << p.err;
  EXPECT_EQ(*ReadFile(tmp_ / "out/weights.bin", 64 << 20), *ReadFile(model_ + "/weights.bin", 64 << 20));
  RunResult v = reader({"verify", m2.host() + "/acme/m:v2"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("alice"), std::string::npos) << v.out;
  // Both mirrors' countersignatures ride along as attestations.
  RunResult a = reader({"attestations", m2.host() + "/acme/m:v2", "--json"});
  ASSERT_TRUE(a.ok()) << a.err;
  EXPECT_EQ(Count(a.out, "urn:arca:predicate:mirror:v1"), 2u) << a.out;
  // Level 2's log witnesses level 1's log (type 5 entries).
  RunResult audit = reader({"audit", m2.host()});
  ASSERT_TRUE(audit.ok()) << audit.err;
  EXPECT_NE(audit.out.find("mirror sync from"), std::string::npos) << audit.out;
}

TEST_F(MirrorE2E, KillNineMidSyncThenTheNextSyncFetchesOnlyWhatWasMissing) {
  Registry up = Registry::Start(up_);
  ASSERT_TRUE(up.running());
  const size_t size = 64 << 20;
  Push(up.host(), "acme/big:v1", size, 7);
  // One connection at 8 MiB/s: about eight seconds; the mirror's store seals
  // a pack of verified chunks every 16 MiB.
  json slow = {{"token_file", tmp_ / "up.token"}, {"concurrency", 1}, {"bandwidth_bytes_per_second", 8 << 20}};
  const std::string c1 = Config("m1", m1_, "http://" + up.host(), up_key_, slow);
  Child sync = Child::Start({BinaryPath("arca-registry"), "mirror", "sync", "--config", c1, "--once"}, env(),
                            tmp_ / "killed-sync.log");
  // Killed as soon as the first pack of verified chunks is sealed.
  auto sealed = [&] {
    std::error_code ec;
    if (!fs::exists(m1_ + "/store/packs", ec)) return false;
    for (const auto& e : fs::recursive_directory_iterator(m1_ + "/store/packs", ec)) {
      if (e.is_regular_file()) return true;
    }
    return false;
  };
  for (int i = 0; i < 600 && !sealed(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(sealed()) << "no pack was sealed within 30 s";
  sync.Kill(SIGKILL);
  // Nothing partial is visible: the model was not committed.
  json st = Status(c1);
  EXPECT_NE(st["models"].value("acme/big:v1", json::object()).value("status", ""), "ok") << st;

  const std::string fast = Config("m1", m1_, "http://" + up.host(), up_key_, {{"token_file", tmp_ / "up.token"}});
  int code = -1;
  json r = SyncOnce(fast, &code);
  ASSERT_EQ(code, 0) << r;
  EXPECT_EQ(r["updated"], 1) << r;
  const uint64_t again = r["bytes_fetched"];
  std::cerr << "after kill -9, the resumed sync fetched " << again << " of " << size << " bytes\n";
  EXPECT_LE(again, size - (16u << 20)) << "the verified, sealed chunks were fetched again";
  EXPECT_GT(r["chunks_held"].get<uint64_t>(), 0u) << r;
}

TEST_F(MirrorE2E, UnreachableUpstreamPublishesNothingAndTheNextPassRecovers) {
  std::string host;
  {
    Registry up = Registry::Start(up_);
    ASSERT_TRUE(up.running());
    Push(up.host(), "acme/m:v1", 1 << 20, 3);
    host = up.host();
  }  // stopped (SIGKILL)
  const std::string c1 = Config("m1", m1_, "http://" + host, up_key_, {{"token_file", tmp_ / "up.token"}});
  int code = -1;
  json r = SyncOnce(c1, &code);
  EXPECT_EQ(code, 1) << r;
  EXPECT_EQ(r["state"], "unreachable") << r;
  json st = Status(c1);
  EXPECT_EQ(st["state"], "unreachable") << st;
  EXPECT_EQ(st["retries"], 1) << st;
  EXPECT_TRUE(st["models"].empty()) << st;

  Registry up = Registry::Start(up_);
  ASSERT_TRUE(up.running());
  const std::string back = Config("m1", m1_, "http://" + up.host(), up_key_, {{"token_file", tmp_ / "up.token"}});
  r = SyncOnce(back, &code);
  EXPECT_EQ(code, 0) << r;
  EXPECT_EQ(r["updated"], 1) << r;
  st = Status(back);
  EXPECT_EQ(st["state"], "ok") << st;
  EXPECT_EQ(st["retries"], 0) << st;
}

TEST_F(MirrorE2E, TamperedChunkFailsThatModelAndOthersStillSync) {
  Registry up = Registry::Start(up_);
  ASSERT_TRUE(up.running());
  Push(up.host(), "acme/a:v1", 1 << 20, 11);
  std::set<fs::path> before;
  for (const auto& e : fs::recursive_directory_iterator(up_ + "/store/packs")) before.insert(e.path());
  Push(up.host(), "acme/b:v1", 1 << 20, 12);
  fs::path b_pack;
  for (const auto& e : fs::recursive_directory_iterator(up_ + "/store/packs")) {
    if (e.is_regular_file() && !before.count(e.path())) b_pack = e.path();
  }
  ASSERT_FALSE(b_pack.empty());
  {
    std::fstream f(b_pack, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096);
    char c = 0;
    f.read(&c, 1);
    f.seekp(4096);
    c ^= 0x40;
    f.write(&c, 1);
  }
  const std::string c1 = Config("m1", m1_, "http://" + up.host(), up_key_, {{"token_file", tmp_ / "up.token"}});
  int code = -1;
  json r = SyncOnce(c1, &code);
  EXPECT_EQ(code, 1) << r;
  EXPECT_EQ(r["updated"], 1) << r;
  EXPECT_EQ(r["failed"], 1) << r;
  json st = Status(c1);
  EXPECT_EQ(st["models"]["acme/a:v1"]["status"], "ok") << st;
  EXPECT_EQ(st["models"]["acme/b:v1"]["status"], "failed") << st;
  EXPECT_EQ(st["models"]["acme/b:v1"]["code"], "chunk_invalid") << st;
  RunResult text = registry({"mirror", "status", "--config", c1});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("chunk_invalid"), std::string::npos) << text.out;

  // The mirror serves a, not b.
  Registry m1 = Registry::Start(m1_, {"--anonymous-pull"});
  ASSERT_OK(WriteFileAtomic(home_ + "/policy.json", Policy({m1_key_}).dump()));
  EXPECT_TRUE(reader({"pull", m1.host() + "/acme/a:v1", tmp_ / "a"}).ok());
  RunResult b = reader({"pull", m1.host() + "/acme/b:v1", tmp_ / "b"});
  EXPECT_EQ(b.exit_code, 1) << b.err;
}

TEST_F(MirrorE2E, TagGoingBackwardsIsRefusedAndTheMirroredTagStays) {
  Registry up = Registry::Start(up_);
  ASSERT_TRUE(up.running());
  Push(up.host(), "acme/m:latest", 1 << 20, 21);
  Push(up.host(), "acme/n:v1", 1 << 20, 22);
  const std::string c1 = Config("m1", m1_, "http://" + up.host(), up_key_, {{"token_file", tmp_ / "up.token"}});
  int code = -1;
  json r = SyncOnce(c1, &code);
  ASSERT_EQ(code, 0) << r;
  const std::string held = Status(c1)["models"]["acme/m:latest"]["digest"];
  // The mirror saw a later move of the tag (#5) than the upstream now shows:
  // the upstream serves an old binding.
  std::string tags_file;
  for (const auto& e : fs::recursive_directory_iterator(m1_ + "/mirror/logs")) {
    if (e.path().filename() == "tags.json") tags_file = e.path();
  }
  ASSERT_FALSE(tags_file.empty());
  json tags = json::parse(*ReadFile(tags_file, 1 << 20));
  tags["acme/m:latest"] = 5;
  ASSERT_OK(WriteFileAtomic(tags_file, tags.dump()));
  Push(up.host(), "acme/m:latest", 1 << 20, 23);
  Push(up.host(), "acme/n:v2", 1 << 20, 24);
  r = SyncOnce(c1, &code);
  EXPECT_EQ(code, 1) << r;
  json st = Status(c1);
  EXPECT_EQ(st["models"]["acme/m:latest"]["code"], "tag_backwards") << st;
  EXPECT_EQ(st["models"]["acme/m:latest"]["digest"], held) << st;
  EXPECT_EQ(st["models"]["acme/n:v2"]["status"], "ok") << st;
}

TEST_F(MirrorE2E, ForkedUpstreamLogHaltsTheUpstreamUntilReset) {
  std::string up_host, fork_host;
  {
    Registry up = Registry::Start(up_);
    ASSERT_TRUE(up.running());
    Push(up.host(), "acme/m:v1", 1 << 20, 31);
  }
  fs::copy(up_, tmp_ / "fork", fs::copy_options::recursive);
  Registry up = Registry::Start(up_);
  Registry fork = Registry::Start(tmp_ / "fork");
  ASSERT_TRUE(up.running() && fork.running());
  // The two copies of one log diverge by the same number of entries.
  Push(up.host(), "acme/m:v2", 1 << 20, 32);
  Push(fork.host(), "acme/m:v2", 1 << 20, 33);
  const std::string c1 = Config("m1", m1_, "http://" + up.host(), up_key_, {{"token_file", tmp_ / "up.token"}});
  int code = -1;
  json r = SyncOnce(c1, &code);
  ASSERT_EQ(code, 0) << r;
  // The same upstream, now answering from the fork: a split view.
  const std::string cf = Config("m1", m1_, "http://" + fork.host(), up_key_, {{"token_file", tmp_ / "up.token"}});
  r = SyncOnce(cf, &code);
  EXPECT_EQ(code, 1) << r;
  EXPECT_EQ(r["state"], "halted") << r;
  json st = Status(cf);
  EXPECT_EQ(st["state"], "halted") << st;
  EXPECT_EQ(st["code"], "log_split_view") << st;
  EXPECT_EQ(st["models"]["acme/m:v2"]["status"], "held") << st;
  bool evidence = false;
  for (const auto& e : fs::recursive_directory_iterator(m1_ + "/mirror/logs")) {
    evidence = evidence || e.path().parent_path().filename() == "evidence";
  }
  EXPECT_TRUE(evidence);
  // Halted until the operator acts, even against the honest copy.
  r = SyncOnce(c1, &code);
  EXPECT_EQ(code, 1) << r;
  EXPECT_EQ(r["state"], "halted") << r;
  RunResult reset = registry({"mirror", "reset", "--config", c1, "--upstream", "up"});
  ASSERT_TRUE(reset.ok()) << reset.err;
  r = SyncOnce(c1, &code);
  EXPECT_EQ(code, 0) << r;
}

TEST_F(MirrorE2E, FiltersAndPolicySelectWhatIsTaken) {
  Registry up = Registry::Start(up_);
  ASSERT_TRUE(up.running());
  ASSERT_TRUE(arca({"key", "generate", "bob", "--json"}).ok());
  Push(up.host(), "acme/m:v1", 256 << 10, 41);
  Push(up.host(), "acme/m:rc1", 256 << 10, 42);                          // tag not selected
  Push(up.host(), "acme/gpl:v1", 256 << 10, 43, 0, 0, "GPL-3.0-only");  // licence not allowed
  Push(up.host(), "acme/bob:v1", 256 << 10, 44, 0, 0, "MIT", "bob");    // signed by a key the policy does not list
  Push(up.host(), "acme/skip-me:v1", 256 << 10, 45);                     // excluded
  const std::string c1 = Config("m1", m1_, "http://" + up.host(), up_key_,
                                {{"token_file", tmp_ / "up.token"},
                                 {"tags", "v[0-9]+"},
                                 {"exclude", {"acme/skip-*"}},
                                 {"licenses", {"MIT", "Apache-2.0"}}});
  int code = -1;
  json r = SyncOnce(c1, &code);
  EXPECT_EQ(code, 1) << r;  // the policy refused one model
  json st = Status(c1);
  json models = st["models"];
  EXPECT_EQ(models["acme/m:v1"]["status"], "ok") << st;
  EXPECT_FALSE(models.contains("acme/m:rc1")) << st;
  EXPECT_FALSE(models.contains("acme/skip-me:v1")) << st;
  EXPECT_EQ(models["acme/gpl:v1"]["status"], "skipped") << st;
  EXPECT_NE(models["acme/gpl:v1"]["message"].get<std::string>().find("GPL-3.0-only"), std::string::npos) << st;
  EXPECT_EQ(models["acme/bob:v1"]["status"], "failed") << st;
  EXPECT_EQ(models["acme/bob:v1"]["code"], "policy_refused") << st;
  // Nothing of the refused or skipped bundles was fetched: only acme/m:v1's chunks.
  EXPECT_LE(r["bytes_fetched"].get<uint64_t>(), (256u << 10) + 4096) << r;
}

TEST_F(MirrorE2E, TagDeletedUpstreamIsFollowedOnlyWhenConfigured) {
  Registry up = Registry::Start(up_);
  ASSERT_TRUE(up.running());
  Push(up.host(), "acme/m:v1", 256 << 10, 51);
  Push(up.host(), "acme/m:v2", 256 << 10, 52);
  const json token = {{"token_file", tmp_ / "up.token"}};
  const std::string keep = Config("m1", m1_, "http://" + up.host(), up_key_, token);
  int code = -1;
  json r = SyncOnce(keep, &code);
  ASSERT_EQ(code, 0) << r;
  Env admin = env();
  admin["ARCA_TOKEN"] = Registry::CreateToken(up_, "*", "admin");
  RunResult rm = e2e::Run({BinaryPath("arca"), "rm", up.host() + "/acme/m:v1"}, admin);
  ASSERT_TRUE(rm.ok()) << rm.err;

  // Without follow_deletes the deletion is recorded and the mirrored tag stays.
  r = SyncOnce(keep, &code);
  EXPECT_EQ(code, 0) << r;
  json st = Status(keep);
  EXPECT_EQ(st["models"]["acme/m:v1"]["status"], "deleted-upstream") << st;
  EXPECT_EQ(st["models"]["acme/m:v2"]["status"], "ok") << st;
  {
    Registry m1 = Registry::Start(m1_, {"--anonymous-pull"});
    RunResult ls = reader({"ls", m1.host() + "/acme/m"});
    ASSERT_TRUE(ls.ok()) << ls.err;
    EXPECT_NE(ls.out.find("v1"), std::string::npos) << ls.out;
  }

  // With follow_deletes the mirror deletes it too (on the next deletion seen).
  RunResult rm2 = e2e::Run({BinaryPath("arca"), "rm", up.host() + "/acme/m:v2"}, admin);
  ASSERT_TRUE(rm2.ok()) << rm2.err;
  json follow = token;
  follow["follow_deletes"] = true;
  const std::string follows = Config("m1", m1_, "http://" + up.host(), up_key_, follow);
  r = SyncOnce(follows, &code);
  EXPECT_EQ(code, 0) << r;
  st = Status(follows);
  EXPECT_EQ(st["models"]["acme/m:v2"]["status"], "deleted-upstream") << st;
  Registry m1 = Registry::Start(m1_, {"--anonymous-pull"});
  RunResult ls = reader({"ls", m1.host() + "/acme/m"});
  ASSERT_TRUE(ls.ok()) << ls.err;
  EXPECT_EQ(ls.out.find("v2"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("v1"), std::string::npos) << ls.out;  // deleted before follow_deletes was set
  // The mirror's own log records the deletion.
  ASSERT_OK(WriteFileAtomic(home_ + "/policy.json", Policy({m1_key_}).dump()));
  RunResult audit = reader({"audit", m1.host()});
  ASSERT_TRUE(audit.ok()) << audit.err;
  EXPECT_NE(audit.out.find("deleted"), std::string::npos) << audit.out;
}

}  // namespace
}  // namespace arca::e2e
