#include "signing/policy.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/file.h"
#include "common/testing.h"
#include "signing/keyfile.h"

namespace arca::signing {
namespace {

using nlohmann::json;

// A naive reference matcher (plain backtracking) to cross-check GlobMatch.
bool NaiveGlob(std::string_view p, std::string_view n) {
  if (p.empty()) return n.empty();
  if (p.substr(0, 2) == "**") {
    for (size_t k = 0; k <= n.size(); ++k) {
      if (NaiveGlob(p.substr(2), n.substr(k))) return true;
    }
    return false;
  }
  if (p[0] == '*') {
    for (size_t k = 0; k <= n.size(); ++k) {
      if (NaiveGlob(p.substr(1), n.substr(k))) return true;
      if (k < n.size() && n[k] == '/') break;
    }
    return false;
  }
  return !n.empty() && p[0] == n[0] && NaiveGlob(p.substr(1), n.substr(1));
}

TEST(Glob, Semantics) {
  EXPECT_TRUE(GlobMatch("qwen/*", "qwen/qwen2"));
  EXPECT_FALSE(GlobMatch("qwen/*", "qwen/a/b"));
  EXPECT_FALSE(GlobMatch("qwen/*", "qwen"));
  EXPECT_FALSE(GlobMatch("qwen/*", "qwenx/a"));
  EXPECT_TRUE(GlobMatch("acme/**", "acme/a/b/c"));
  EXPECT_TRUE(GlobMatch("acme/**", "acme/a"));
  EXPECT_FALSE(GlobMatch("acme/**", "acme"));
  EXPECT_TRUE(GlobMatch("**", "a/b"));
  EXPECT_TRUE(GlobMatch("*", "a"));
  EXPECT_FALSE(GlobMatch("*", "a/b"));
  EXPECT_TRUE(GlobMatch("*/llama-*", "meta/llama-3"));
  EXPECT_TRUE(GlobMatch("exact/name", "exact/name"));
  EXPECT_FALSE(GlobMatch("exact/name", "exact/name2"));
}

TEST(Glob, AgreesWithNaiveReference) {
  const std::vector<std::string> patterns = {"*", "**", "a/*", "a/**", "*/b", "**/b", "a*b", "a**b", "*a*", "**a**",
                                             "a/*/c", "a/**/c", "*-*", "x"};
  const std::vector<std::string> names = {"a", "b", "ab", "a/b", "a/c", "a/b/c", "a/x/y/c", "axb", "a/b/b",
                                          "x", "c-d", "c/d-e", "aab", "ba"};
  for (const auto& p : patterns) {
    for (const auto& n : names) EXPECT_EQ(GlobMatch(p, n), NaiveGlob(p, n)) << p << " ~ " << n;
  }
  // Many stars do not blow up.
  std::string p;
  for (int i = 0; i < 100; ++i) p += "*a";
  EXPECT_FALSE(GlobMatch(p + "b", std::string(200, 'a')));
}

TEST(Glob, ValidatePattern) {
  EXPECT_OK(ValidatePattern("qwen/*"));
  EXPECT_OK(ValidatePattern("**"));
  for (const char* bad : {"", "Qwen/*", "a//b", "/a", "a/", "a/***", "a b", "a?"}) {
    EXPECT_EQ(ValidatePattern(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(License, ParseExpressions) {
  EXPECT_OK(ParseLicenseExpression("MIT"));
  EXPECT_OK(ParseLicenseExpression("Apache-2.0 OR MIT"));
  EXPECT_OK(ParseLicenseExpression("(MIT AND BSD-3-Clause) OR GPL-2.0-only WITH Classpath-exception-2.0"));
  EXPECT_OK(ParseLicenseExpression("LicenseRef-llama3"));
  EXPECT_OK(ParseLicenseExpression("DocumentRef-spdx:LicenseRef-x"));
  EXPECT_OK(ParseLicenseExpression("apache-2.0 or mit"));  // operators case-insensitive
  auto e = ParseLicenseExpression("A AND B AND C OR D");
  ASSERT_OK(e);
  EXPECT_EQ((*e)->kind, LicenseExpr::Kind::kOr);
  ASSERT_EQ((*e)->children.size(), 2u);
  EXPECT_EQ((*e)->children[0]->kind, LicenseExpr::Kind::kAnd);
  EXPECT_EQ((*e)->children[0]->children.size(), 3u);  // n-ary, not nested
  for (const char* bad : {"", "MIT AND", "AND MIT", "(MIT", "MIT)", "MIT MIT", "(A OR B) WITH e", "MIT WITH",
                          "a:b", "MIT;rm", "MIT OR OR BSD"}) {
    Result<std::unique_ptr<LicenseExpr>> r = ParseLicenseExpression(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ParseLicenseExpression(std::string(100, '(') + "MIT" + std::string(100, ')')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_OK(ParseLicenseExpression(std::string(kMaxLicenseDepth, '(') + "MIT" + std::string(kMaxLicenseDepth, ')')));
  EXPECT_EQ(ParseLicenseExpression(std::string(kMaxLicenseExpressionBytes + 1, 'a')).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(License, Decisions) {
  const LicensePolicy deny_nc{{}, {"CC-BY-NC-4.0", "CC-BY-NC-SA-4.0"}};
  const LicensePolicy allow{{"Apache-2.0", "MIT"}, {}};
  const std::string where = "policy rule 'x/*'";

  LicenseDecision d = DecideLicense(&deny_nc, "CC-BY-NC-4.0", where);
  EXPECT_FALSE(d.accepted);
  EXPECT_EQ(d.text, "licence CC-BY-NC-4.0 is on the deny list of policy rule 'x/*'");
  EXPECT_TRUE(DecideLicense(&deny_nc, "Apache-2.0", where).accepted);
  EXPECT_FALSE(DecideLicense(&deny_nc, "cc-by-nc-4.0", where).accepted);  // ids are case-insensitive

  // OR: any acceptable branch suffices; AND: every part must be acceptable.
  EXPECT_TRUE(DecideLicense(&deny_nc, "CC-BY-NC-4.0 OR MIT", where).accepted);
  d = DecideLicense(&deny_nc, "CC-BY-NC-4.0 AND MIT", where);
  EXPECT_FALSE(d.accepted);
  EXPECT_NE(d.text.find("CC-BY-NC-4.0 is on the deny list"), std::string::npos) << d.text;
  d = DecideLicense(&deny_nc, "CC-BY-NC-4.0 OR CC-BY-NC-SA-4.0", where);
  EXPECT_FALSE(d.accepted);
  EXPECT_NE(d.text.find("CC-BY-NC-SA-4.0"), std::string::npos) << d.text;
  EXPECT_TRUE(DecideLicense(&allow, "(GPL-3.0-only AND MIT) OR Apache-2.0", where).accepted);
  EXPECT_FALSE(DecideLicense(&allow, "(GPL-3.0-only OR BSD-2-Clause) AND MIT", where).accepted);
  // WITH is judged by the licence it modifies.
  EXPECT_TRUE(DecideLicense(&allow, "Apache-2.0 WITH LLVM-exception", where).accepted);
  EXPECT_FALSE(DecideLicense(&deny_nc, "CC-BY-NC-4.0 WITH Some-exception", where).accepted);

  d = DecideLicense(&allow, "GPL-3.0-only", where);
  EXPECT_FALSE(d.accepted);
  EXPECT_EQ(d.text, "licence GPL-3.0-only is not on the allow list of policy rule 'x/*'");

  // No licence: refused under an allow list, accepted with a note otherwise.
  EXPECT_FALSE(DecideLicense(&allow, "", where).accepted);
  d = DecideLicense(&deny_nc, "", where);
  EXPECT_TRUE(d.accepted);
  EXPECT_NE(d.text.find("states no licence"), std::string::npos);
  EXPECT_TRUE(DecideLicense(nullptr, "", where).accepted);
  EXPECT_TRUE(DecideLicense(nullptr, "Whatever-1.0", where).accepted);
  // Unparsable: refused, saying so.
  d = DecideLicense(nullptr, "MIT AND", where);
  EXPECT_FALSE(d.accepted);
  EXPECT_NE(d.text.find("licence expression"), std::string::npos) << d.text;
}

class PolicyParse : public ::testing::Test {
 protected:
  json KeyJson(const KeyPair& kp) { return json::parse(ExportPublicKey("ignored", kp.public_key)); }
  json Good() {
    return json{{"schema", "arca.policy.v1"},
                {"keys", {{"alice", KeyJson(a_)}, {"bob", KeyJson(b_)}, {"carol", KeyJson(c_)}}},
                {"revoked", json::array({KeyId(r_.public_key).Hex()})},
                {"licenses", {{"deny", {"CC-BY-NC-4.0"}}}},
                {"rules", json::array({json{{"repositories", "qwen/*"}, {"keys", {"alice", "bob", "carol"}},
                                            {"threshold", 2}},
                                       json{{"repositories", "local/**"}, {"unsigned", "accept"}},
                                       json{{"repositories", "**"}, {"keys", {"alice"}},
                                            {"licenses", {{"allow", {"MIT"}}}}}})}};
  }
  void ExpectError(const json& j, std::string_view why) {
    Result<Policy> p = ParsePolicy(j.dump(), "policy test.json");
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << j.dump();
    EXPECT_NE(p.status().message().find(why), std::string::npos) << p.status();
    EXPECT_NE(p.status().message().find("test.json"), std::string::npos) << p.status();
  }
  KeyPair a_ = GenerateKeyPair(), b_ = GenerateKeyPair(), c_ = GenerateKeyPair(), r_ = GenerateKeyPair();
};

TEST_F(PolicyParse, GoodPolicy) {
  Result<Policy> p = ParsePolicy(Good().dump());
  ASSERT_OK(p);
  EXPECT_EQ(p->keys.size(), 3u);
  EXPECT_EQ(p->keys.at("bob").pub, b_.public_key);
  EXPECT_TRUE(p->IsRevoked(KeyId(r_.public_key)));
  EXPECT_FALSE(p->IsRevoked(KeyId(a_.public_key)));
  ASSERT_EQ(p->rules.size(), 3u);
  EXPECT_EQ(p->rules[0].threshold, 2);
  EXPECT_EQ(p->rules[1].unsigned_mode, UnsignedMode::kAccept);
  EXPECT_EQ(p->rules[1].threshold, 0);
  EXPECT_EQ(p->rules[2].threshold, 1);  // default
  EXPECT_EQ(p->Match("qwen/qwen2")->repositories, "qwen/*");
  EXPECT_EQ(p->Match("local/x/y")->repositories, "local/**");
  EXPECT_EQ(p->Match("qwen/a/b")->repositories, "**");  // first match, in order
  EXPECT_EQ(p->FindKeyById(KeyId(c_.public_key))->name, "carol");
  EXPECT_EQ(p->FindKeyById(KeyId(r_.public_key)), nullptr);
  EXPECT_EQ(p->LicensesFor(p->rules[0])->deny, std::vector<std::string>{"CC-BY-NC-4.0"});
  EXPECT_EQ(p->LicensesFor(p->rules[2])->allow, std::vector<std::string>{"MIT"});
  EXPECT_EQ(p->rules[0].Label(), "policy rule 'qwen/*'");
}

TEST_F(PolicyParse, HostilePolicies) {
  {
    json j = Good();
    j["rules"][0]["keys"].push_back("mallory");
    ExpectError(j, "key 'mallory' is not defined");
  }
  {
    json j = Good();
    j["rules"][0]["threshold"] = 0;
    ExpectError(j, "\"threshold\" 0 must be between 1 and 3");
  }
  {
    json j = Good();
    j["rules"][0]["threshold"] = 4;
    ExpectError(j, "\"threshold\" 4 must be between 1 and 3");
  }
  {
    json j = Good();
    j["rules"][0]["threshold"] = "2";
    ExpectError(j, "not an integer");
  }
  {
    json j = Good();
    j["rules"][0]["keys"] = {"alice", "alice"};
    ExpectError(j, "listed twice");
  }
  {
    json j = Good();
    j["rules"][0]["repos"] = "x";
    ExpectError(j, "rules[0]: unknown field \"repos\"");
  }
  {
    json j = Good();
    j["extra"] = 1;
    ExpectError(j, "unknown field \"extra\"");
  }
  {
    json j = Good();
    j["schema"] = "arca.policy.v2";
    ExpectError(j, "schema");
  }
  {
    json j = Good();
    j["rules"][0]["unsigned"] = "maybe";
    ExpectError(j, "\"unsigned\"");
  }
  {
    json j = Good();
    j["rules"][0].erase("keys");
    j["rules"][0].erase("threshold");
    ExpectError(j, "\"keys\" is missing or empty");
  }
  {
    json j = Good();
    j["rules"] = json::array();
    ExpectError(j, "\"rules\" must be a non-empty array");
  }
  {
    json j = Good();
    j["rules"][0]["repositories"] = "Qwen/*";
    ExpectError(j, "rules[0]: \"repositories\"");
  }
  {
    json j = Good();
    j["revoked"] = {"sha256:abc"};
    ExpectError(j, "is not a key id");
  }
  {
    json j = Good();
    j["keys"]["alice"]["keyid"] = KeyId(b_.public_key).Hex();
    ExpectError(j, "keys.alice: \"keyid\"");
  }
  {
    json j = Good();
    j["keys"]["dup"] = KeyJson(a_);
    ExpectError(j, "same public key");
  }
  {
    json j = Good();
    j["keys"]["bad name"] = KeyJson(r_);
    ExpectError(j, "key name");
  }
  {
    json j = Good();
    j["licenses"]["deny"] = {"MIT OR GPL-3.0-only"};
    ExpectError(j, "not a single SPDX licence id");
  }
  {
    json j = Good();
    j["licenses"] = {{"allow", {"MIT"}}, {"deny", {"mit"}}};
    ExpectError(j, "both the allow and the deny list");
  }
  {
    json j = Good();
    j["licenses"]["warn"] = {"MIT"};
    ExpectError(j, "\"licenses\": unknown field \"warn\"");
  }
  ExpectError(json::array(), "not a JSON object");
  Result<Policy> p = ParsePolicy("{\"schema\":", "policy test.json");
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePolicy(std::string(kMaxPolicyBytes + 1, ' ')).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PolicyParse, LoadFromFile) {
  testing::TempDir tmp;
  Result<Policy> missing = LoadPolicy(tmp / "policy.json");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("docs/trust-policy.md"), std::string::npos) << missing.status();
  ASSERT_OK(WriteFileAtomic(tmp / "policy.json", Good().dump(2)));
  Result<Policy> p = LoadPolicy(tmp / "policy.json");
  ASSERT_OK(p);
  EXPECT_EQ(p->path, tmp / "policy.json");
  ASSERT_OK(WriteFileAtomic(tmp / "bad.json", "{\"schema\":\"arca.policy.v1\",\"rules\":[{}]}"));
  Result<Policy> bad = LoadPolicy(tmp / "bad.json");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find(tmp / "bad.json"), std::string::npos) << bad.status();
}

TEST(DefaultPaths, PolicyPathHonoursEnvironment) {
  const char* saved = std::getenv("ARCA_POLICY");
  const std::string value = saved ? saved : "";
  ::setenv("ARCA_POLICY", "/p.json", 1);
  EXPECT_EQ(DefaultPolicyPath(), "/p.json");
  ::unsetenv("ARCA_POLICY");
  EXPECT_NE(DefaultPolicyPath().find("arca/policy.json"), std::string::npos);
  if (saved) ::setenv("ARCA_POLICY", value.c_str(), 1);
}

// The examples in docs/trust-policy.md are valid policies, and example 2
// decides as the text says.
TEST(PolicyDocs, ExamplesParse) {
  const std::string path = std::string(ARCA_SOURCE_DIR) + "/docs/trust-policy.md";
  Result<std::string> doc = ReadFile(path, 1 << 20);
  ASSERT_OK(doc);
  std::vector<Policy> examples;
  size_t pos = 0;
  while ((pos = doc->find("```json\n", pos)) != std::string::npos) {
    pos += 8;
    const size_t end = doc->find("```", pos);
    ASSERT_NE(end, std::string::npos);
    Result<Policy> p = ParsePolicy(doc->substr(pos, end - pos), "docs example " + std::to_string(examples.size() + 1));
    ASSERT_OK(p);
    examples.push_back(std::move(p).value());
    pos = end;
  }
  ASSERT_EQ(examples.size(), 4u);
  ASSERT_TRUE(examples[3].logs.has_value());
  EXPECT_EQ(examples[3].logs->keys.size(), 1u);
  EXPECT_TRUE(examples[3].logs->require);
  EXPECT_EQ(examples[3].logs->max_age_seconds, 604800u);
  EXPECT_EQ(examples[0].Match("other/model"), nullptr);
  const Policy& two = examples[1];
  ASSERT_NE(two.Match("qwen/qwen2"), nullptr);
  EXPECT_TRUE(two.IsRevoked(two.keys.at("bob").keyid));
  EXPECT_FALSE(DecideLicense(two.LicensesFor(*two.Match("qwen/qwen2")), "CC-BY-NC-4.0", "x").accepted);
  EXPECT_TRUE(DecideLicense(two.LicensesFor(*two.Match("qwen/qwen2")), "CC-BY-NC-4.0 OR Apache-2.0", "x").accepted);
  EXPECT_EQ(examples[2].Match("local/exp/1")->unsigned_mode, UnsignedMode::kAccept);
  EXPECT_EQ(examples[2].Match("acme/x")->repositories, "**");
}

TEST(PolicyLogsTest, LogKeysAreParsedStrictly) {
  const std::string vkey = "arca-registry-2520656d3288a6c8+989427ce+BDZS+cvPl3DI9R976G0BLnmUfY4NRMHrVFrTuSvYB1YO";
  auto with_logs = [](const std::string& logs) {
    return "{\"schema\":\"arca.policy.v1\",\"rules\":[{\"repositories\":\"**\",\"keys\":[],"
           "\"unsigned\":\"accept\"}],\"logs\":" + logs + "}";
  };
  Result<Policy> p = ParsePolicy(with_logs("{\"keys\":[\"" + vkey + "\"],\"require\":false,\"max_age_seconds\":60}"));
  ASSERT_OK(p);
  ASSERT_TRUE(p->logs);
  EXPECT_EQ(p->logs->keys.at(0).name, "arca-registry-2520656d3288a6c8");
  EXPECT_FALSE(p->logs->require);
  EXPECT_EQ(p->logs->max_age_seconds, 60u);
  EXPECT_FALSE(ParsePolicy(with_logs("{\"keys\":[]}")).ok());
  EXPECT_FALSE(ParsePolicy(with_logs("{\"keys\":[\"not a key\"]}")).ok());
  EXPECT_FALSE(ParsePolicy(with_logs("{\"keys\":[\"" + vkey + "\"],\"require\":\"yes\"}")).ok());
  EXPECT_FALSE(ParsePolicy(with_logs("{\"keys\":[\"" + vkey + "\"],\"witnesses\":[]}")).ok());
  EXPECT_FALSE(ParsePolicy(with_logs("[]")).ok());
}

}  // namespace
}  // namespace arca::signing
