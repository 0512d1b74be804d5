// The transparency log end to end: real `arca-registry` processes, the real
// `arca` binary, a trust policy that lists the registry's log key. A client
// that saw a newer log catches a registry restored from an older copy
// (rollback) and two registries forked from the same data that diverged
// (split view); a tampered entry or checkpoint is caught by pull and audit;
// a tag whose sequence goes backwards is refused; a pulled directory's log
// proof checks offline.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <rocksdb/db.h>
#include <unistd.h>

#include <filesystem>

#include "common/file.h"
#include "common/testing.h"
#include "tests/e2e/process.h"

namespace arca::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Slurp(const std::string& path) {
  Result<std::string> r = ReadFile(path, 1 << 20);
  return r.ok() ? *r : std::string();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

class LogE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(BinaryPath("arca").c_str(), X_OK), 0) << "build the arca binary first";
    ASSERT_EQ(::access(BinaryPath("arca-registry").c_str(), X_OK), 0) << "build arca-registry first";
    home_ = tmp_ / "home";
    fs::create_directories(home_);
    data_ = tmp_ / "registry";
    token_ = Registry::CreateToken(data_, "acme", "push");
    ASSERT_FALSE(token_.empty());
    RunResult vk = e2e::Run({BinaryPath("arca-registry"), "log-key", "--data", data_});
    ASSERT_TRUE(vk.ok()) << vk.err;
    log_key_ = Trim(vk.out);
    model_ = tmp_ / "model";
    fs::create_directories(model_);
    ASSERT_OK(WriteFileAtomic(model_ + "/weights.bin", testing::RandomBytes(400 << 10, 3)));
    ASSERT_OK(WriteFileAtomic(model_ + "/LICENSE", "MIT\n"));
    ASSERT_TRUE(arca({"key", "generate", "alice", "--json"}).ok());
    RunResult pub = arca({"key", "export", "alice"});
    ASSERT_TRUE(pub.ok());
    json policy = {{"schema", "arca.policy.v1"},
                   {"keys", {{"alice", json::parse(pub.out)}}},
                   {"rules", {{{"repositories", "acme/*"}, {"keys", {"alice"}}, {"threshold", 1}}}},
                   {"logs", {{"keys", {log_key_}}}}};
    ASSERT_OK(WriteFileAtomic(home_ + "/policy.json", policy.dump()));
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
  // Pushes the model (changed by `salt`) signed as `ref` on `host`.
  void Push(const std::string& host, const std::string& ref, const std::string& salt) {
    ASSERT_OK(WriteFileAtomic(model_ + "/config.json", "{\"salt\": \"" + salt + "\"}\n"));
    RunResult r = arca({"push", model_, host + "/" + ref, "--sign", "alice", "--license", "MIT", "--quiet"});
    ASSERT_TRUE(r.ok()) << r.err;
  }
  RunResult Pull(const std::string& host, const std::string& ref, const std::string& out) {
    return arca({"pull", host + "/" + ref, tmp_ / out});
  }
  // Copies a stopped registry's data directory.
  static void Copy(const std::string& from, const std::string& to) {
    fs::copy(from, to, fs::copy_options::recursive);
  }

  testing::TempDir tmp_;
  std::string home_, data_, token_, log_key_, model_;
};

TEST_F(LogE2E, PullChecksTheLogAndVerifyChecksItOffline) {
  Registry reg = Registry::Start(data_);
  ASSERT_TRUE(reg.running());
  Push(reg.host(), "acme/m:v1", "1");
  RunResult r = Pull(reg.host(), "acme/m:v1", "out");
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_NE(r.err.find("included"), std::string::npos) << r.err;
  ASSERT_TRUE(fs::exists(tmp_ / "out/.arca/log-proof.txt"));

  // Offline, with the proof the pull kept; and with an explicit key and proof.
  RunResult v = arca({"verify", tmp_ / "out"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("included in log"), std::string::npos) << v.out;
  v = arca({"verify", reg.host() + "/acme/m:v1"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("included in log"), std::string::npos) << v.out;
  RunResult p = arca({"proof", reg.host() + "/acme/m:v1", "-o", tmp_ / "proof.txt"});
  ASSERT_TRUE(p.ok()) << p.err;
  v = arca({"verify", tmp_ / "out", "--proof", tmp_ / "proof.txt", "--log-key", log_key_});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;

  // A proof with one byte of its checkpoint changed is refused.
  std::string proof = *ReadFile(tmp_ / "proof.txt", 1 << 20);
  std::string bad = proof;
  const size_t at = bad.find("checkpoint\n") + 11;
  bad[at] = bad[at] == 'a' ? 'b' : 'a';
  ASSERT_OK(WriteFileAtomic(tmp_ / "bad-proof.txt", bad));
  v = arca({"verify", tmp_ / "out", "--proof", tmp_ / "bad-proof.txt", "--log-key", log_key_});
  EXPECT_EQ(v.exit_code, 1) << v.out;
  EXPECT_NE(v.out.find("log proof"), std::string::npos) << v.out;

  // A policy that trusts another log key refuses the registry's checkpoint.
  RunResult other = e2e::Run({BinaryPath("arca-registry"), "log-key", "--data", tmp_ / "other"});
  ASSERT_TRUE(other.ok());
  json policy = json::parse(*ReadFile(home_ + "/policy.json", 1 << 20));
  policy["logs"]["keys"] = {Trim(other.out)};
  ASSERT_OK(WriteFileAtomic(home_ + "/policy.json", policy.dump()));
  r = Pull(reg.host(), "acme/m:v1", "out2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not signed by a log key your policy trusts"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp_ / "out2/weights.bin"));

  // The audit recomputes the tree and lists the history.
  policy["logs"]["keys"] = {log_key_};
  ASSERT_OK(WriteFileAtomic(home_ + "/policy.json", policy.dump()));
  RunResult a = arca({"audit", reg.host(), "--json"});
  ASSERT_TRUE(a.ok()) << a.err;
  json j = json::parse(a.out);
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_EQ(j["entries"].size(), 3u) << a.out;  // attestation, publish, tag
}

TEST_F(LogE2E, RollbackToAnOlderCopyIsCaught) {
  {
    Registry reg = Registry::Start(data_);
    Push(reg.host(), "acme/m:v1", "1");
  }
  Copy(data_, tmp_ / "old");
  {
    Registry reg = Registry::Start(data_);
    Push(reg.host(), "acme/m:v2", "2");
    ASSERT_TRUE(Pull(reg.host(), "acme/m:v2", "out").ok());  // the client sees the newer log
  }
  Registry old = Registry::Start(tmp_ / "old");
  RunResult r = Pull(old.host(), "acme/m:v1", "out-old");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("rolled back"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp_ / "out-old/weights.bin"));
  RunResult a = arca({"audit", old.host()});
  EXPECT_EQ(a.exit_code, 1);
  EXPECT_NE(a.err.find("rolled back"), std::string::npos) << a.err;
}

TEST_F(LogE2E, SplitViewBetweenTwoForksIsCaught) {
  {
    Registry reg = Registry::Start(data_);
    Push(reg.host(), "acme/m:v1", "1");
  }
  Copy(data_, tmp_ / "fork");
  Registry a = Registry::Start(data_);
  Registry b = Registry::Start(tmp_ / "fork");
  Push(a.host(), "acme/m:v2", "a");  // the same log, diverging
  Push(b.host(), "acme/m:v2", "b");
  ASSERT_TRUE(Pull(a.host(), "acme/m:v2", "out-a").ok());
  RunResult r = Pull(b.host(), "acme/m:v2", "out-b");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("split view"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp_ / "out-b/weights.bin"));
  // The audit of the fork fails too; the first registry still passes.
  EXPECT_EQ(arca({"audit", b.host()}).exit_code, 1);
  EXPECT_TRUE(arca({"audit", a.host()}).ok());
}

TEST_F(LogE2E, TamperedEntryOrCheckpointIsCaught) {
  {
    Registry reg = Registry::Start(data_);
    Push(reg.host(), "acme/m:v1", "1");
  }
  // Change the publish entry's stored bytes (index 1) and, separately, the
  // stored checkpoint's root, behind the registry's back.
  auto tamper = [&](const std::string& dir, const std::string& key, auto edit) {
    rocksdb::DB* db = nullptr;
    rocksdb::Options o;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir + "/log", &db).ok());
    std::string v;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), key, &v).ok()) << key;
    edit(v);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, v).ok());
    delete db;
  };
  Copy(data_, tmp_ / "tampered-entry");
  Copy(data_, tmp_ / "tampered-checkpoint");
  tamper(tmp_ / "tampered-entry", std::string("e") + std::string(7, '\0') + '\x01',
         [](std::string& v) { v[9] ^= 1; });  // the entry's time
  tamper(tmp_ / "tampered-checkpoint", "m:checkpoint", [](std::string& v) {
    const size_t line2 = v.find('\n', v.find('\n') + 1) + 1;  // the root hash line
    v[line2] = v[line2] == 'A' ? 'B' : 'A';
  });

  Registry e = Registry::Start(tmp_ / "tampered-entry");
  ASSERT_TRUE(e.running()) << Slurp(tmp_ / "tampered-entry.log");
  RunResult r = Pull(e.host(), "acme/m:v1", "out-e");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not in the signed log"), std::string::npos) << r.err;
  RunResult a = arca({"audit", e.host()});
  EXPECT_EQ(a.exit_code, 1);
  EXPECT_NE(a.err.find("tampered"), std::string::npos) << a.err;

  // A registry whose stored checkpoint no longer verifies refuses to serve.
  Registry c = Registry::Start(tmp_ / "tampered-checkpoint");
  EXPECT_FALSE(c.running());
  EXPECT_NE(Slurp(tmp_ / "tampered-checkpoint.log").find("checkpoint"), std::string::npos);

  // A client given a checkpoint file whose signature no longer verifies
  // (here: its root changed) refuses it, naming the file.
  Registry ok = Registry::Start(data_);
  RunResult proof = arca({"proof", ok.host() + "/acme/m:v1", "-o", tmp_ / "p.txt"});
  ASSERT_TRUE(proof.ok()) << proof.err;
  std::string text = *ReadFile(tmp_ / "p.txt", 1 << 20);
  std::string cp = text.substr(text.find("checkpoint\n") + 11);
  const size_t line2 = cp.find('\n', cp.find('\n') + 1) + 1;
  cp[line2] = cp[line2] == 'A' ? 'B' : 'A';
  ASSERT_OK(WriteFileAtomic(tmp_ / "bad-checkpoint.txt", cp));
  a = arca({"audit", ok.host(), "--from-checkpoint", tmp_ / "bad-checkpoint.txt"});
  EXPECT_EQ(a.exit_code, 1);
  EXPECT_NE(a.err.find("bad-checkpoint.txt"), std::string::npos) << a.err;
}

TEST_F(LogE2E, TagSequenceGoingBackwardsIsRefused) {
  Registry reg = Registry::Start(data_);
  Push(reg.host(), "acme/m:latest", "1");
  Push(reg.host(), "acme/m:latest", "2");
  ASSERT_TRUE(Pull(reg.host(), "acme/m:latest", "out").ok());
  // This client saw a later move of the tag (#5) than the registry now
  // shows (#2): the registry is serving an old binding.
  std::string state;
  for (const auto& e : fs::recursive_directory_iterator(home_ + "/.state")) {
    if (e.path().filename() == "tags.json") state = e.path();
  }
  ASSERT_FALSE(state.empty());
  json tags = json::parse(*ReadFile(state, 1 << 20));
  ASSERT_EQ(tags["acme/m:latest"].get<uint64_t>(), 2u);
  tags["acme/m:latest"] = 5;
  ASSERT_OK(WriteFileAtomic(state, tags.dump()));
  RunResult r = Pull(reg.host(), "acme/m:latest", "out2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("went backwards"), std::string::npos) << r.err;
}

TEST_F(LogE2E, KeyEventsAreLoggedForAuditors) {
  Registry reg = Registry::Start(data_);
  Push(reg.host(), "acme/m:v1", "1");
  // A push token may not speak for the registry; an admin token for '*' may.
  RunResult r = arca({"key", "revoke", "alice", reg.host(), "--reason", "laptop stolen"});
  EXPECT_EQ(r.exit_code, 1);
  Env admin = env();
  admin["ARCA_TOKEN"] = Registry::CreateToken(data_, "*", "admin");
  std::vector<std::string> announce = {BinaryPath("arca"), "key", "announce", "alice", reg.host()};
  r = e2e::Run(announce, admin);
  ASSERT_TRUE(r.ok()) << r.err;
  std::vector<std::string> revoke = {BinaryPath("arca"), "key", "revoke", "alice", reg.host(), "--reason",
                                     "laptop stolen"};
  r = e2e::Run(revoke, admin);
  ASSERT_TRUE(r.ok()) << r.err;
  RunResult a = arca({"audit", reg.host()});
  ASSERT_TRUE(a.ok()) << a.err;
  EXPECT_NE(a.out.find("key added"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("key revoked"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("laptop stolen"), std::string::npos) << a.out;
  // --namespace keeps the model's entries, not the registry-wide key events.
  a = arca({"audit", reg.host(), "--namespace", "acme", "--json"});
  ASSERT_TRUE(a.ok()) << a.err;
  EXPECT_EQ(json::parse(a.out)["entries"].size(), 3u) << a.out;
}

TEST_F(LogE2E, StaleCheckpointIsRefusedAsAFreeze) {
  Registry reg = Registry::Start(data_);
  Push(reg.host(), "acme/m:v1", "1");
  // The registry re-signs an idle checkpoint only after a minute; a policy
  // that accepts nothing older than a second sees this one as frozen.
  json policy = json::parse(Slurp(home_ + "/policy.json"));
  policy["logs"]["max_age_seconds"] = 1;
  ASSERT_OK(WriteFileAtomic(home_ + "/policy.json", policy.dump()));
  ::sleep(2);
  RunResult r = Pull(reg.host(), "acme/m:v1", "out");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("frozen"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp_ / "out/weights.bin"));
}

}  // namespace
}  // namespace arca::e2e
