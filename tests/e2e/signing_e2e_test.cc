// Signatures, trust policy and offline verification end to end: a real
// `arca-registry` process, the real `arca` binary, real keys and files.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/file.h"
#include "common/testing.h"
#include "tests/e2e/process.h"

namespace arca::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Slurp(const std::string& path) {
  auto r = ReadFile(path, 1ull << 31);
  return r.ok() ? *r : std::string();
}

// One user: home, keyring, cache, policy file (ARCA_POLICY), token.
struct User {
  std::string home, token;
  Env env() const {
    return {{"HOME", home},
            {"XDG_CONFIG_HOME", home + "/.config"},
            {"XDG_CACHE_HOME", home + "/.cache"},
            {"ARCA_STORE", home + "/cache"},
            {"ARCA_KEYS_DIR", home + "/keys"},
            {"ARCA_POLICY", home + "/policy.json"},
            {"ARCA_KEY_PASSPHRASE", "correct horse " + home},
            {"ARCA_TOKEN", token}};
  }
  RunResult arca(std::vector<std::string> args) const {
    args.insert(args.begin(), BinaryPath("arca"));
    return Run(args, env());
  }
  std::string policy() const { return home + "/policy.json"; }
};

class SigningE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(BinaryPath("arca").c_str(), X_OK), 0) << "build the arca binary first";
    ASSERT_EQ(::access(BinaryPath("arca-registry").c_str(), X_OK), 0) << "build arca-registry first";
    data_ = tmp_ / "registry";
    token_ = Registry::CreateToken(data_, "acme", "push");
    ASSERT_FALSE(token_.empty());
    const std::string read_token = Registry::CreateToken(data_, "acme", "pull");
    ASSERT_FALSE(read_token.empty());
    registry_ = Registry::Start(data_);
    ASSERT_TRUE(registry_.running());
    publisher_ = User{tmp_ / "publisher", token_};
    reader_ = User{tmp_ / "reader", read_token};
    fs::create_directories(publisher_.home);
    fs::create_directories(reader_.home);
    // A small model: a multi-chunk weights file, a config, a licence.
    model_ = tmp_ / "model";
    fs::create_directories(model_);
    ASSERT_OK(WriteFileAtomic(model_ + "/weights.bin", testing::Bf16Normal(3 << 20, 0.02f, 7)));
    ASSERT_OK(WriteFileAtomic(model_ + "/config.json", "{\"dim\": 64}\n"));
    ASSERT_OK(WriteFileAtomic(model_ + "/LICENSE", "Apache License 2.0\n"));
  }

  std::string Ref(const std::string& repo_tag) const { return registry_.host() + "/" + repo_tag; }

  // Generates key `name` in the publisher's keyring (encrypted with the
  // passphrase from the environment) and returns its exported public JSON.
  json NewKey(const std::string& name) {
    RunResult r = publisher_.arca({"key", "generate", name, "--json"});
    EXPECT_TRUE(r.ok()) << r.err;
    json j = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.value("encrypted", false)) << r.out;
    RunResult e = publisher_.arca({"key", "export", name});
    EXPECT_TRUE(e.ok()) << e.err;
    return json::parse(e.out, nullptr, false);
  }

  void WritePolicy(const json& policy) {
    ASSERT_OK(WriteFileAtomic(reader_.policy(), policy.dump(2)));
  }

  testing::TempDir tmp_;
  std::string data_, token_, model_;
  Registry registry_;
  User publisher_, reader_;
};

TEST_F(SigningE2E, SignedPushPullAndOfflineVerify) {
  json alice = NewKey("alice");
  RunResult push = publisher_.arca({"push", model_, Ref("acme/model:v1"), "--sign", "alice", "--license",
                                    "Apache-2.0", "--license-file", "LICENSE", "--json"});
  ASSERT_TRUE(push.ok()) << push.err;
  WritePolicy({{"schema", "arca.policy.v1"},
               {"keys", {{"alice", alice}}},
               {"rules", {{{"repositories", "acme/*"}, {"keys", {"alice"}}, {"threshold", 1}}}}});

  RunResult pull = reader_.arca({"pull", Ref("acme/model:v1"), tmp_ / "out"});
  ASSERT_TRUE(pull.ok()) << pull.err;
  EXPECT_EQ(Slurp(tmp_ / "out/weights.bin"), Slurp(model_ + "/weights.bin"));

  // The registry lists the attestation.
  RunResult att = reader_.arca({"attestations", Ref("acme/model:v1"), "--json"});
  ASSERT_TRUE(att.ok()) << att.err;
  EXPECT_EQ(json::parse(att.out)["attestations"].size(), 1u) << att.out;

  // Offline: passes, naming the signer and the rule.
  RunResult v = reader_.arca({"verify", tmp_ / "out"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("alice"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("acme/*"), std::string::npos) << v.out;

  // One byte of the weights changed: fails, naming the file.
  {
    std::fstream f(tmp_ / "out/weights.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(2 << 20);
    char c = 0;
    f.read(&c, 1);
    f.seekp(2 << 20);
    c ^= 1;
    f.write(&c, 1);
  }
  v = reader_.arca({"verify", tmp_ / "out"});
  EXPECT_EQ(v.exit_code, 1) << v.out;
  EXPECT_NE(v.out.find("weights.bin"), std::string::npos) << v.out;

  // Pulled again: repaired, verifies again; then a file added is refused.
  ASSERT_TRUE(reader_.arca({"pull", "--verify-existing", Ref("acme/model:v1"), tmp_ / "out"}).ok());
  EXPECT_EQ(reader_.arca({"verify", tmp_ / "out"}).exit_code, 0);
  ASSERT_OK(WriteFileAtomic(tmp_ / "out/extra.py", "print('hi')\n"));
  v = reader_.arca({"verify", tmp_ / "out"});
  EXPECT_EQ(v.exit_code, 1) << v.out;
  EXPECT_NE(v.out.find("extra.py"), std::string::npos) << v.out;
  fs::remove(tmp_ / "out/extra.py");

  // The manifest kept offline edited: refused, naming the manifest.
  std::string manifest = Slurp(tmp_ / "out/.arca/manifest.json");
  std::string edited = manifest;
  edited.replace(edited.find("Apache-2.0"), 10, "Apache-2.1");
  ASSERT_OK(WriteFileAtomic(tmp_ / "out/.arca/manifest.json", edited));
  v = reader_.arca({"verify", tmp_ / "out"});
  EXPECT_EQ(v.exit_code, 1) << v.out;
  EXPECT_NE(v.out.find("manifest"), std::string::npos) << v.out;
}

TEST_F(SigningE2E, UnsignedRefusedByDefaultAcceptedOnlyWithFlag) {
  json alice = NewKey("alice");
  ASSERT_TRUE(publisher_.arca({"push", model_, Ref("acme/unsigned:v1"), "--quiet"}).ok());
  WritePolicy({{"schema", "arca.policy.v1"},
               {"keys", {{"alice", alice}}},
               {"rules", {{{"repositories", "acme/*"}, {"keys", {"alice"}}, {"threshold", 1}}}}});
  RunResult r = reader_.arca({"pull", Ref("acme/unsigned:v1"), tmp_ / "out"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unsigned"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp_ / "out/weights.bin")) << "nothing may be written for a refused bundle";

  r = reader_.arca({"pull", "--allow-unsigned", Ref("acme/unsigned:v1"), tmp_ / "out"});
  EXPECT_TRUE(r.ok()) << r.err;
  EXPECT_NE(r.err.find("warning"), std::string::npos) << "accepting unsigned must be loud: " << r.err;

  // Offline, the pulled directory is refused too, and accepted with the flag
  // only as UNVERIFIED, never as "OK".
  r = reader_.arca({"verify", tmp_ / "out"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  r = reader_.arca({"verify", "--allow-unsigned", tmp_ / "out"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("UNVERIFIED"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("verdict      OK"), std::string::npos) << r.out;

  // No policy file at all: refused, saying how to write one.
  fs::remove(reader_.policy());
  r = reader_.arca({"pull", Ref("acme/unsigned:v1"), tmp_ / "out2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("trust-policy"), std::string::npos) << r.err;
}

TEST_F(SigningE2E, ThresholdRevocationAndLicenceDenyList) {
  json k1 = NewKey("k1"), k2 = NewKey("k2"), k3 = NewKey("k3");
  ASSERT_TRUE(publisher_.arca({"push", model_, Ref("acme/model:v1"), "--sign", "k1", "--license", "Apache-2.0",
                               "--quiet"})
                  .ok());
  json policy = {{"schema", "arca.policy.v1"},
                 {"keys", {{"k1", k1}, {"k2", k2}, {"k3", k3}}},
                 {"rules", {{{"repositories", "acme/**"}, {"keys", {"k1", "k2", "k3"}}, {"threshold", 2}}}}};
  WritePolicy(policy);
  RunResult r = reader_.arca({"pull", Ref("acme/model:v1"), tmp_ / "out"});
  EXPECT_EQ(r.exit_code, 1) << "1 of 3 signatures must not satisfy a 2-of-3 rule";
  EXPECT_NE(r.err.find("2"), std::string::npos) << r.err;

  // A second key signs later: 2 of 3.
  r = publisher_.arca({"sign", Ref("acme/model:v1"), "--key", "k2"});
  ASSERT_TRUE(r.ok()) << r.err;
  r = reader_.arca({"pull", Ref("acme/model:v1"), tmp_ / "out"});
  EXPECT_TRUE(r.ok()) << r.err;
  r = reader_.arca({"verify", Ref("acme/model:v1")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  // k2 revoked: back to 1 of 2 needed, and the revoked key is named.
  policy["revoked"] = {k2["keyid"]};
  WritePolicy(policy);
  r = reader_.arca({"verify", Ref("acme/model:v1")});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("revoked"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("k2"), std::string::npos) << r.out;

  // A non-commercial licence on the deny list: refused, licence named.
  ASSERT_TRUE(publisher_.arca({"push", model_, Ref("acme/nc:v1"), "--sign", "k1", "--license", "CC-BY-NC-4.0",
                               "--quiet"})
                  .ok());
  ASSERT_TRUE(publisher_.arca({"sign", Ref("acme/nc:v1"), "--key", "k3"}).ok());
  policy.erase("revoked");
  policy["licenses"] = {{"deny", {"CC-BY-NC-4.0"}}};
  WritePolicy(policy);
  r = reader_.arca({"pull", Ref("acme/nc:v1"), tmp_ / "nc"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("CC-BY-NC-4.0"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp_ / "nc/weights.bin"));
}

TEST_F(SigningE2E, UnknownKeyAndWrongPassphrase) {
  json alice = NewKey("alice");
  NewKey("mallory");
  ASSERT_TRUE(publisher_.arca({"push", model_, Ref("acme/model:v1"), "--sign", "mallory", "--quiet"}).ok());
  WritePolicy({{"schema", "arca.policy.v1"},
               {"keys", {{"alice", alice}}},
               {"rules", {{{"repositories", "acme/*"}, {"keys", {"alice"}}, {"threshold", 1}}}}});
  RunResult r = reader_.arca({"verify", Ref("acme/model:v1")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("unknown"), std::string::npos) << r.out;

  // The wrong passphrase signs nothing and uploads nothing.
  Env env = publisher_.env();
  env["ARCA_KEY_PASSPHRASE"] = "wrong";
  std::vector<std::string> args = {BinaryPath("arca"), "push", model_, Ref("acme/other:v1"), "--sign", "alice"};
  r = e2e::Run(args, env);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("passphrase"), std::string::npos) << r.err;
  EXPECT_FALSE(reader_.arca({"verify", "--allow-unsigned", Ref("acme/other:v1")}).ok());
}

TEST_F(SigningE2E, LineageFollowsBaseModelsByDigest) {
  json alice = NewKey("alice");
  RunResult base = publisher_.arca({"push", model_, Ref("acme/base:v1"), "--sign", "alice", "--json"});
  ASSERT_TRUE(base.ok()) << base.err;
  std::string base_digest = json::parse(base.out)["digest"];
  ASSERT_OK(WriteFileAtomic(model_ + "/config.json", "{\"dim\": 64, \"finetuned\": true}\n"));
  RunResult ft = publisher_.arca({"push", model_, Ref("acme/ft:v1"), "--base-model", base_digest, "--quiet"});
  ASSERT_TRUE(ft.ok()) << ft.err;
  WritePolicy({{"schema", "arca.policy.v1"},
               {"keys", {{"alice", alice}}},
               {"rules", {{{"repositories", "acme/*"}, {"keys", {"alice"}}, {"threshold", 1}}}}});
  RunResult r = reader_.arca({"lineage", Ref("acme/ft:v1"), "--json"});
  ASSERT_TRUE(r.ok()) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j["bundles"].size(), 2u) << r.out;
  EXPECT_FALSE(j["bundles"][0]["verified"].get<bool>()) << "the fine-tune is unsigned";
  EXPECT_EQ(j["bundles"][1]["digest"], base_digest);
  EXPECT_TRUE(j["bundles"][1]["verified"].get<bool>()) << r.out;
}

}  // namespace
}  // namespace arca::e2e
