// Air-gap archives end to end (mirror/PROTOCOL.md §8): `arca export` from a
// real registry, `arca-registry import` into another data directory, then
// that registry served and pulled from with a policy that trusts only the
// publisher's key and the importing registry's own log. Incremental exports
// carry only what the base lacks and import only after it; truncated,
// tampered, wrongly signed and base-less archives are refused with the
// reason and leave the registry unchanged.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "common/file.h"
#include "common/testing.h"
#include "store/store.h"
#include "tests/e2e/process.h"

namespace arca::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string Slurp(const std::string& path) {
  Result<std::string> r = ReadFile(path, 256 << 20);
  return r.ok() ? *r : std::string();
}

// A record of an archive: type, where its body starts, its length.
struct Rec {
  uint8_t type;
  size_t body;
  uint64_t length;
};

std::vector<Rec> Records(const std::string& a) {
  std::vector<Rec> out;
  size_t at = 48;
  while (at + 16 <= a.size()) {
    uint64_t length = 0;
    std::memcpy(&length, a.data() + at + 8, 8);
    out.push_back({uint8_t(a[at]), at + 16, length});
    at += 16 + length + 32;
  }
  return out;
}

class ArchiveE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(BinaryPath("arca").c_str(), X_OK), 0) << "build the arca binary first";
    ASSERT_EQ(::access(BinaryPath("arca-registry").c_str(), X_OK), 0) << "build arca-registry first";
    home_ = tmp_ / "home";
    fs::create_directories(home_);
    src_ = tmp_ / "source";
    token_ = Registry::CreateToken(src_, "acme", "push");
    ASSERT_FALSE(token_.empty());
    RunResult vk = e2e::Run({BinaryPath("arca-registry"), "log-key", "--data", src_});
    ASSERT_TRUE(vk.ok()) << vk.err;
    src_log_key_ = Trim(vk.out);
    model_ = tmp_ / "model";
    fs::create_directories(model_);
    ASSERT_OK(WriteFileAtomic(model_ + "/weights.bin", testing::RandomBytes(2 << 20, 7)));
    ASSERT_OK(WriteFileAtomic(model_ + "/LICENSE", "MIT\n"));
    // One key for the whole suite: generating one (Argon2id) takes seconds.
    if (!fs::exists(suite_->path() + "/keys")) {
      Env e = env(policy_, token_);
      e["ARCA_KEYS_DIR"] = suite_->path() + "/keys";
      ASSERT_TRUE(e2e::Run({BinaryPath("arca"), "key", "generate", "alice", "--json"}, e).ok());
    }
    fs::copy(suite_->path() + "/keys", home_ + "/keys", fs::copy_options::recursive);
    RunResult pub = arca({"key", "export", "alice"});
    ASSERT_TRUE(pub.ok()) << pub.err;
    alice_ = json::parse(pub.out);
    policy_ = home_ + "/policy.json";
    WritePolicy(policy_, {{"alice", alice_}}, src_log_key_);
  }

  static void WritePolicy(const std::string& path, const json& keys, const std::string& log_key) {
    json names = json::array();
    for (auto& [name, k] : keys.items()) names.push_back(name);
    json policy = {{"schema", "arca.policy.v1"},
                   {"keys", keys},
                   {"rules", {{{"repositories", "acme/*"}, {"keys", names}, {"threshold", 1}}}}};
    if (!log_key.empty()) policy["logs"] = {{"keys", {log_key}}};
    ASSERT_OK(WriteFileAtomic(path, policy.dump()));
  }

  Env env(const std::string& policy, const std::string& token) const {
    return {{"HOME", home_},
            {"XDG_CONFIG_HOME", home_ + "/.config"},
            {"XDG_STATE_HOME", home_ + "/.state"},
            {"ARCA_STATE_DIR", ""},
            {"ARCA_STORE", home_ + "/cache"},
            {"ARCA_KEYS_DIR", home_ + "/keys"},
            {"ARCA_POLICY", policy},
            {"ARCA_KEY_PASSPHRASE", "pw"},
            {"ARCA_TOKEN", token}};
  }
  RunResult arca(std::vector<std::string> args, const std::string& policy = "", const std::string& token = "") const {
    args.insert(args.begin(), BinaryPath("arca"));
    return e2e::Run(args, env(policy.empty() ? policy_ : policy, token.empty() ? token_ : token));
  }
  void Push(const std::string& host, const std::string& ref, const std::string& salt,
            const std::string& key = "alice") {
    ASSERT_OK(WriteFileAtomic(model_ + "/config.json", "{\"salt\": \"" + salt + "\"}\n"));
    RunResult r = arca({"push", model_, host + "/" + ref, "--sign", key, "--license", "MIT", "--quiet"});
    ASSERT_TRUE(r.ok()) << r.err;
  }
  // `arca export ... --json`; the parsed summary.
  json Export(const std::vector<std::string>& args, const std::string& policy = "") {
    std::vector<std::string> a = {"export"};
    a.insert(a.end(), args.begin(), args.end());
    a.push_back("--json");
    RunResult r = arca(a, policy);
    EXPECT_TRUE(r.ok()) << r.err;
    return r.ok() ? json::parse(r.out) : json();
  }
  RunResult Import(const std::string& archive, const std::string& data, const std::string& policy = "") {
    return e2e::Run({BinaryPath("arca-registry"), "import", archive, "--data", data, "--policy",
                     policy.empty() ? policy_ : policy, "--log-key", src_log_key_});
  }
  // The data directory holds no tag, no staged file, and checks clean.
  static void ExpectUnchanged(const std::string& data) {
    const std::string tmp = data + "/store/tmp";
    if (fs::exists(tmp)) {
      EXPECT_TRUE(fs::is_empty(tmp)) << "staging files left in " << tmp;
    }
    if (!fs::exists(data + "/store")) return;
    Result<std::unique_ptr<store::Store>> s = store::Store::Open(data + "/store");
    ASSERT_OK(s.status());
    EXPECT_TRUE((*s)->ListRefs().empty());
    store::FsckReport f = (*s)->Fsck();
    EXPECT_TRUE(f.ok()) << (f.problems.empty() ? "" : f.problems[0]);
    EXPECT_EQ(f.chunks, 0u);
  }

  static void SetUpTestSuite() { suite_ = new testing::TempDir(); }
  static void TearDownTestSuite() {
    delete suite_;
    suite_ = nullptr;
  }

  static testing::TempDir* suite_;
  testing::TempDir tmp_;
  std::string home_, src_, token_, src_log_key_, model_, policy_;
  json alice_;
};

testing::TempDir* ArchiveE2E::suite_ = nullptr;

TEST_F(ArchiveE2E, RoundTripIntoAnEmptyRegistryThenPull) {
  std::string archive = tmp_ / "v1.arca";
  {
    Registry reg = Registry::Start(src_);
    ASSERT_TRUE(reg.running());
    Push(reg.host(), "acme/m:v1", "1");
    json e = Export({reg.host() + "/acme/m:v1", "-o", archive});
    EXPECT_GT(e["chunks_written"].get<uint64_t>(), 0u);
    EXPECT_EQ(e["chunks_left_out"].get<uint64_t>(), 0u);
    // A policy without the log's key cannot export.
    WritePolicy(home_ + "/nolog.json", {{"alice", alice_}}, "");
    RunResult r = arca({"export", reg.host() + "/acme/m:v1", "-o", tmp_ / "x.arca"}, home_ + "/nolog.json");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("\"logs\""), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(tmp_ / "x.arca"));
  }
  const std::string dst = tmp_ / "dest";
  RunResult r = Import(archive, dst);
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_NE(r.out.find("acme/m:v1  updated"), std::string::npos) << r.out;
  // Twice: nothing changes.
  r = Import(archive, dst);
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_NE(r.out.find("acme/m:v1  unchanged"), std::string::npos) << r.out;
  EXPECT_NE(Slurp(dst + "/mirror/imports.json").find("archive"), std::string::npos);

  RunResult vk = e2e::Run({BinaryPath("arca-registry"), "log-key", "--data", dst});
  ASSERT_TRUE(vk.ok()) << vk.err;
  const std::string pull_policy = home_ + "/dest-policy.json";
  WritePolicy(pull_policy, {{"alice", alice_}}, Trim(vk.out));
  const std::string pull_token = Registry::CreateToken(dst, "*", "pull");
  ASSERT_FALSE(pull_token.empty());
  Registry dreg = Registry::Start(dst);
  ASSERT_TRUE(dreg.running());
  // The running server holds the data directory.
  r = Import(archive, dst);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("stop the server first"), std::string::npos) << r.err;
  RunResult p = arca({"pull", dreg.host() + "/acme/m:v1", tmp_ / "out"}, pull_policy, pull_token);
  ASSERT_TRUE(p.ok()) << p.err;
  for (const char* f : {"weights.bin", "LICENSE", "config.json"}) {
    EXPECT_EQ(Slurp(tmp_ / "out/" + f), Slurp(model_ + "/" + f)) << f;
  }
}

TEST_F(ArchiveE2E, IncrementalCarriesOnlyTheNewChunksAndNeedsItsBase) {
  const std::string a1 = tmp_ / "v1.arca", full = tmp_ / "v2-full.arca", inc = tmp_ / "v2-inc.arca";
  json jfull, jinc;
  {
    Registry reg = Registry::Start(src_);
    Push(reg.host(), "acme/m:v1", "1");
    Export({reg.host() + "/acme/m:v1", "-o", a1});
    ASSERT_OK(WriteFileAtomic(model_ + "/extra.txt", "a small new file\n"));
    Push(reg.host(), "acme/m:v2", "2");
    jfull = Export({reg.host() + "/acme/m:v2", "-o", full});
    jinc = Export({reg.host() + "/acme/m:v2", "-o", inc, "--since", a1});
  }
  ASSERT_TRUE(jinc.is_object() && jfull.is_object());
  EXPECT_LT(jinc["pack_bytes"].get<uint64_t>() * 10, jfull["pack_bytes"].get<uint64_t>()) << jinc << jfull;
  EXPECT_GT(jinc["chunks_left_out"].get<uint64_t>(), 0u);
  EXPECT_LT(fs::file_size(inc) * 10, fs::file_size(full));

  // Without its base: refused, saying which archive to import first.
  const std::string dst = tmp_ / "dest";
  RunResult r = Import(inc, dst);
  EXPECT_EQ(r.exit_code, 1);
  const std::string base_id = Slurp(a1).empty() ? "" : jinc["base"].get<std::string>();
  EXPECT_NE(r.err.find("import archive " + base_id + " first"), std::string::npos) << r.err;
  ExpectUnchanged(dst);

  r = Import(a1, dst);
  ASSERT_TRUE(r.ok()) << r.err;
  r = Import(inc, dst);
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_NE(r.out.find("acme/m:v2  updated"), std::string::npos) << r.out;
  // The older archive is a smaller tree now: refused as a replay.
  r = Import(a1, dst);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--since the archive last imported"), std::string::npos) << r.err;
  Result<std::unique_ptr<store::Store>> s = store::Store::Open(dst + "/store");
  ASSERT_OK(s.status());
  EXPECT_TRUE((*s)->GetRef("acme/m:v2").ok());
  EXPECT_TRUE((*s)->CheckBundleComplete(*(*s)->GetRef("acme/m:v2")).ok());
  EXPECT_TRUE((*s)->Fsck().ok());
}

TEST_F(ArchiveE2E, TruncatedAndTamperedArchivesAreRefused) {
  const std::string archive = tmp_ / "v1.arca";
  {
    Registry reg = Registry::Start(src_);
    Push(reg.host(), "acme/m:v1", "1");
    Export({reg.host() + "/acme/m:v1", "-o", archive});
  }
  const std::string good = Slurp(archive);
  ASSERT_GT(good.size(), 1u << 20);
  const std::vector<Rec> recs = Records(good);
  size_t pack_at = 0, object_at = 0;
  for (const Rec& rec : recs) {
    if (rec.type == 8 && !pack_at) pack_at = rec.body + rec.length / 2;
    if (rec.type == 6 && !object_at) object_at = rec.body + 1;
  }
  ASSERT_GT(pack_at, 0u);
  ASSERT_GT(object_at, 0u);
  const std::string dst = tmp_ / "dest";
  const std::string bad = tmp_ / "bad.arca";
  for (size_t cut : {size_t(20), size_t(48 + 10), recs[1].body + 3, pack_at, good.size() - 41, good.size() - 1}) {
    ASSERT_OK(WriteFileAtomic(bad, good.substr(0, cut)));
    RunResult r = Import(bad, dst);
    EXPECT_EQ(r.exit_code, 1) << "cut at " << cut;
    EXPECT_NE(r.err.find("truncated"), std::string::npos) << "cut at " << cut << ": " << r.err;
    ExpectUnchanged(dst);
  }
  // A flipped byte: in a pack body, in a manifest or index object, anywhere.
  for (size_t at : {pack_at, object_at, size_t(5), recs[1].body + 7, good.size() / 3, good.size() - 20}) {
    std::string t = good;
    t[at] = char(t[at] ^ 0x40);
    ASSERT_OK(WriteFileAtomic(bad, t));
    RunResult r = Import(bad, dst);
    EXPECT_EQ(r.exit_code, 1) << "flip at " << at;
    EXPECT_NE(r.err.find("import refused"), std::string::npos) << r.err;
    EXPECT_TRUE(r.err.find("record") != std::string::npos || r.err.find("header") != std::string::npos) << r.err;
    ExpectUnchanged(dst);
  }
  // Bytes after the trailer.
  ASSERT_OK(WriteFileAtomic(bad, good + "x"));
  EXPECT_EQ(Import(bad, dst).exit_code, 1);
  ExpectUnchanged(dst);
  // The intact archive still imports.
  RunResult r = Import(archive, dst);
  EXPECT_TRUE(r.ok()) << r.err;
}

TEST_F(ArchiveE2E, UnknownPublisherIsRefusedByThePolicy) {
  ASSERT_TRUE(arca({"key", "generate", "mallory", "--json"}).ok());
  RunResult pub = arca({"key", "export", "mallory"});
  ASSERT_TRUE(pub.ok());
  const std::string both = home_ + "/both.json";
  WritePolicy(both, {{"alice", alice_}, {"mallory", json::parse(pub.out)}}, src_log_key_);
  const std::string archive = tmp_ / "m.arca";
  {
    Registry reg = Registry::Start(src_);
    Push(reg.host(), "acme/m:v1", "1", "mallory");
    // The exporter's own policy refuses it too.
    RunResult r = arca({"export", reg.host() + "/acme/m:v1", "-o", tmp_ / "no.arca"});
    EXPECT_EQ(r.exit_code, 1);
    Export({reg.host() + "/acme/m:v1", "-o", archive}, both);
  }
  const std::string dst = tmp_ / "dest";
  RunResult r = Import(archive, dst);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("trust policy refuses acme/m:v1"), std::string::npos) << r.err;
  ExpectUnchanged(dst);
  // Checkpoints signed by a log the import was not told about are refused.
  const std::string other = tmp_ / "other";
  RunResult vk = e2e::Run({BinaryPath("arca-registry"), "log-key", "--data", other});
  ASSERT_TRUE(vk.ok());
  r = e2e::Run({BinaryPath("arca-registry"), "import", archive, "--data", dst, "--policy", both, "--log-key",
                Trim(vk.out)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not signed by a configured log key"), std::string::npos) << r.err;
  ExpectUnchanged(dst);
  r = Import(archive, dst, both);
  EXPECT_TRUE(r.ok()) << r.err;
}

}  // namespace
}  // namespace arca::e2e
