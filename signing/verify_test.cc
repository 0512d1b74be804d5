#include "signing/verify.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/testing.h"
#include "signing/dsse.h"
#include "signing/keyfile.h"
#include "signing/statement.h"

namespace arca::signing {
namespace {

using nlohmann::json;
using Outcome = SignatureCheck::Outcome;

format::Manifest Sample(const std::string& name = "qwen/tiny", const std::string& spdx = "Apache-2.0") {
  format::Manifest m;
  m.meta.name = name;
  m.meta.version = "1.0";
  m.meta.publisher = "Acme";
  m.meta.license = {spdx, "LICENSE"};
  m.meta.provenance.source = "https://example.org/tiny";
  m.meta.provenance.revision = "abc123";
  m.meta.provenance.base_models = {Sha256Of(std::string_view("base"))};
  m.files.push_back({"LICENSE", 3, Sha256Of(std::string_view("lic")), Sha256Of(std::string_view("i1")), "text/plain"});
  m.files.push_back({"model.gguf", 4, Sha256Of(std::string_view("gguf")), Sha256Of(std::string_view("i2")),
                     "application/octet-stream"});
  return m;
}

bool Contains(const std::vector<std::string>& v, std::string_view what) {
  for (const std::string& s : v) {
    if (s.find(what) != std::string::npos) return true;
  }
  return false;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += s + "\n";
  return out;
}

class VerifyBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const json pol = {
        {"schema", "arca.policy.v1"},
        {"keys", {{"alice", Pub(alice_)}, {"bob", Pub(bob_)}, {"carol", Pub(carol_)}, {"rex", Pub(rex_)}}},
        {"revoked", {KeyId(rex_.public_key).Hex()}},
        {"licenses", {{"deny", {"CC-BY-NC-4.0", "CC-BY-NC-SA-4.0"}}}},
        {"rules", json::array({
                      json{{"repositories", "qwen/*"}, {"keys", {"alice", "bob", "carol", "rex"}}, {"threshold", 2}},
                      json{{"repositories", "local/**"}, {"unsigned", "accept"}},
                      json{{"repositories", "solo/*"}, {"keys", {"alice"}}},
                      json{{"repositories", "strict/*"}, {"keys", {"alice"}},
                           {"licenses", {{"allow", {"MIT"}}}}},
                  })}};
    Result<Policy> p = ParsePolicy(pol.dump(), "policy test.json");
    ASSERT_OK(p);
    policy_ = std::move(p).value();
    policy_.path = "test.json";
  }

  static json Pub(const KeyPair& kp) { return json::parse(ExportPublicKey("k", kp.public_key)); }

  static Evidence Make(const format::Manifest& m, std::vector<std::string> envelopes = {}) {
    Evidence ev;
    ev.name = m.meta.name;
    ev.manifest_bytes = m.Canonical();
    ev.bundle_digest = m.BundleDigest();
    ev.envelopes = std::move(envelopes);
    return ev;
  }
  static std::string SignBundle(const format::Manifest& m, const KeyPair& kp) {
    return SignStatement(BundleStatement(m, m.BundleDigest()), kp);
  }

  VerifyReport Run(const Evidence& ev, VerifyOptions opts = {}) {
    Result<VerifyReport> r = VerifyBundle(policy_, ev, opts);
    EXPECT_OK(r);
    if (!r.ok()) return VerifyReport();
    return std::move(r).value();
  }

  const SignatureCheck* Find(const VerifyReport& r, Outcome o) {
    for (const SignatureCheck& c : r.signatures) {
      if (c.outcome == o) return &c;
    }
    return nullptr;
  }

  KeyPair alice_ = GenerateKeyPair(), bob_ = GenerateKeyPair(), carol_ = GenerateKeyPair();
  KeyPair rex_ = GenerateKeyPair();      // in the policy, revoked
  KeyPair mallory_ = GenerateKeyPair();  // not in the policy
  Policy policy_;
  format::Manifest m_ = Sample();
};

TEST_F(VerifyBundleTest, TwoOfThreeSatisfied) {
  VerifyReport r = Run(Make(m_, {SignBundle(m_, alice_), SignBundle(m_, bob_)}));
  EXPECT_TRUE(r.ok) << Join(r.failures);
  EXPECT_EQ(r.rule, "qwen/*");
  EXPECT_EQ(r.threshold, 2);
  EXPECT_EQ(r.counted, 2);
  EXPECT_EQ(r.signers, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(r.manifest, m_);
  EXPECT_NE(r.license_decision.find("Apache-2.0"), std::string::npos);
  const std::string text = FormatReport(r);
  EXPECT_NE(text.find("policy rule 'qwen/*'"), std::string::npos) << text;
  EXPECT_NE(text.find("key alice"), std::string::npos) << text;
  EXPECT_NE(text.find("key bob"), std::string::npos) << text;
  EXPECT_NE(text.find(Sha256Of(std::string_view("base")).ToString()), std::string::npos) << text;  // lineage
  EXPECT_NE(text.find("OK"), std::string::npos) << text;
  const json j = json::parse(ReportJson(r));
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["counted"], 2);
  EXPECT_EQ(j["signatures"][0]["outcome"], "counted");
  EXPECT_EQ(j["bundle_digest"], m_.BundleDigest().ToString());
}

TEST_F(VerifyBundleTest, TwoOfThreeUnsatisfied) {
  VerifyReport r = Run(Make(m_, {SignBundle(m_, alice_)}));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.counted, 1);
  EXPECT_TRUE(Contains(r.failures, "policy rule 'qwen/*' requires 2 of alice, bob, carol, rex; 1 signed (alice)"))
      << Join(r.failures);
  EXPECT_NE(FormatReport(r).find("REFUSED"), std::string::npos);
}

TEST_F(VerifyBundleTest, SameKeyTwiceCountsOnce) {
  // Two envelopes by alice.
  VerifyReport r = Run(Make(m_, {SignBundle(m_, alice_), SignBundle(m_, alice_)}));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.counted, 1);
  // One envelope carrying alice's signature twice.
  json env = json::parse(SignBundle(m_, alice_));
  env["signatures"].push_back(env["signatures"][0]);
  r = Run(Make(m_, {env.dump()}));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.counted, 1);
  EXPECT_EQ(r.signatures.size(), 2u);
}

TEST_F(VerifyBundleTest, TamperedManifestRejected) {
  Evidence ev = Make(m_, {SignBundle(m_, alice_), SignBundle(m_, bob_)});
  format::Manifest changed = m_;
  changed.meta.license.spdx = "MIT";
  ev.manifest_bytes = changed.Canonical();  // a valid manifest, but not the one named
  VerifyReport r = Run(ev);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.failures, "manifest does not match digest " + m_.BundleDigest().ToString())) << Join(r.failures);

  // Flip one byte.
  ev.manifest_bytes = m_.Canonical();
  ev.manifest_bytes[10] ^= 1;
  r = Run(ev);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.failures, "manifest does not match digest")) << Join(r.failures);
}

TEST_F(VerifyBundleTest, TamperedPayloadRejected) {
  // The statement is changed to claim another licence; the signature was over the original.
  json env = json::parse(SignBundle(m_, alice_));
  json st = json::parse(*Base64Decode(env["payload"].get<std::string>()));
  st["predicate"]["license"]["spdx"] = "MIT";
  env["payload"] = Base64Encode(AsBytes(st.dump()));
  VerifyReport r = Run(Make(m_, {env.dump(), SignBundle(m_, bob_)}));
  EXPECT_FALSE(r.ok);
  const SignatureCheck* c = Find(r, Outcome::kBadSignature);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->key_name, "alice");
  EXPECT_TRUE(Contains(r.failures, "envelope 0: the signature by key alice")) << Join(r.failures);
  EXPECT_TRUE(Contains(r.failures, "does not verify")) << Join(r.failures);
}

TEST_F(VerifyBundleTest, TamperedSignatureRejected) {
  json env = json::parse(SignBundle(m_, bob_));
  std::string sig = *Base64Decode(env["signatures"][0]["sig"].get<std::string>());
  sig[0] ^= 0x80;
  env["signatures"][0]["sig"] = Base64Encode(AsBytes(sig));
  VerifyReport r = Run(Make(m_, {SignBundle(m_, alice_), env.dump()}));
  EXPECT_FALSE(r.ok);
  ASSERT_NE(Find(r, Outcome::kBadSignature), nullptr);
  EXPECT_TRUE(Contains(r.failures, "envelope 1: the signature by key bob")) << Join(r.failures);
}

TEST_F(VerifyBundleTest, UnknownKeyRejectedNamingIt) {
  VerifyReport r = Run(Make(m_, {SignBundle(m_, alice_), SignBundle(m_, mallory_)}));
  EXPECT_FALSE(r.ok);
  const SignatureCheck* c = Find(r, Outcome::kUnknownKey);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->keyid_hex, KeyId(mallory_.public_key).Hex());
  EXPECT_TRUE(Contains(r.failures, "unknown keyid " + KeyId(mallory_.public_key).Hex())) << Join(r.failures);
}

TEST_F(VerifyBundleTest, RevokedKeyRejectedNamingIt) {
  VerifyReport r = Run(Make(m_, {SignBundle(m_, alice_), SignBundle(m_, rex_)}));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.counted, 1);
  const SignatureCheck* c = Find(r, Outcome::kRevoked);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->key_name, "rex");
  EXPECT_TRUE(Contains(r.failures, "key rex")) << Join(r.failures);
  EXPECT_TRUE(Contains(r.failures, "revoked by policy test.json")) << Join(r.failures);
  // Once the threshold is met by others, the revoked signature is a warning.
  r = Run(Make(m_, {SignBundle(m_, alice_), SignBundle(m_, rex_), SignBundle(m_, carol_)}));
  EXPECT_TRUE(r.ok) << Join(r.failures);
  EXPECT_TRUE(Contains(r.warnings, "revoked")) << Join(r.warnings);
}

TEST_F(VerifyBundleTest, WrongSubjectNotCounted) {
  format::Manifest other = Sample("qwen/other");
  // alice signed another bundle; the envelope is presented for this one.
  VerifyReport r = Run(Make(m_, {SignBundle(other, alice_), SignBundle(m_, bob_)}));
  EXPECT_FALSE(r.ok);
  ASSERT_NE(Find(r, Outcome::kWrongSubject), nullptr);
  EXPECT_TRUE(Contains(r.failures, "not qwen/tiny@" + m_.BundleDigest().ToString())) << Join(r.failures);
  // The right digest under another name is not this bundle's signature either.
  const std::string renamed = SignStatement(
      *GenericStatement("qwen/evil", m_.BundleDigest(), kBundlePredicateType, BundlePredicate(m_)), alice_);
  r = Run(Make(m_, {renamed, SignBundle(m_, bob_)}));
  EXPECT_FALSE(r.ok);
  ASSERT_NE(Find(r, Outcome::kWrongSubject), nullptr);
}

TEST_F(VerifyBundleTest, PredicateMismatchNamesField) {
  json pred = json::parse(BundlePredicate(m_));
  pred["license"]["spdx"] = "MIT";
  const std::string env = SignStatement(
      *GenericStatement(m_.meta.name, m_.BundleDigest(), kBundlePredicateType, pred.dump()), carol_);
  VerifyReport r = Run(Make(m_, {SignBundle(m_, alice_), SignBundle(m_, bob_), env}));
  EXPECT_FALSE(r.ok);  // even though alice and bob meet the threshold
  EXPECT_TRUE(Contains(r.failures, "field license.spdx is \"MIT\" in the signed predicate but \"Apache-2.0\""))
      << Join(r.failures);
}

TEST_F(VerifyBundleTest, LicenceOnDenyListRefused) {
  format::Manifest nc = Sample("qwen/nc", "CC-BY-NC-4.0");
  VerifyReport r = Run(Make(nc, {SignBundle(nc, alice_), SignBundle(nc, bob_)}));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.counted, 2);
  EXPECT_TRUE(Contains(r.failures, "licence CC-BY-NC-4.0 is on the deny list of the policy's global licence lists"))
      << Join(r.failures);
  // OR with an acceptable alternative passes; AND does not.
  format::Manifest either = Sample("qwen/either", "CC-BY-NC-4.0 OR Apache-2.0");
  EXPECT_TRUE(Run(Make(either, {SignBundle(either, alice_), SignBundle(either, bob_)})).ok);
  format::Manifest both = Sample("qwen/both", "CC-BY-NC-4.0 AND Apache-2.0");
  EXPECT_FALSE(Run(Make(both, {SignBundle(both, alice_), SignBundle(both, bob_)})).ok);
  // A rule's own lists override the global ones.
  format::Manifest apache = Sample("strict/x", "Apache-2.0");
  r = Run(Make(apache, {SignBundle(apache, alice_)}));
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.failures, "licence Apache-2.0 is not on the allow list of policy rule 'strict/*'"))
      << Join(r.failures);
}

TEST_F(VerifyBundleTest, UnsignedRefusedByDefault) {
  VerifyReport r = Run(Make(m_));
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.unsigned_accepted);
  EXPECT_TRUE(Contains(r.failures, "qwen/tiny is unsigned")) << Join(r.failures);

  VerifyOptions allow;
  allow.allow_unsigned = true;
  r = Run(Make(m_), allow);
  EXPECT_TRUE(r.ok) << Join(r.failures);
  EXPECT_TRUE(r.unsigned_accepted);
  EXPECT_TRUE(Contains(r.warnings, "UNSIGNED BUNDLE ACCEPTED")) << Join(r.warnings);
  EXPECT_NE(FormatReport(r).find("WARNING"), std::string::npos);

  // allow_unsigned does not excuse a bad signature: the bundle is not unsigned.
  r = Run(Make(m_, {SignBundle(m_, mallory_)}), allow);
  EXPECT_FALSE(r.ok);

  // A rule that says "unsigned": "accept".
  format::Manifest local = Sample("local/dev/model");
  r = Run(Make(local));
  EXPECT_TRUE(r.ok) << Join(r.failures);
  EXPECT_TRUE(r.unsigned_accepted);
  EXPECT_TRUE(Contains(r.warnings, "\"unsigned\": \"accept\"")) << Join(r.warnings);
}

TEST_F(VerifyBundleTest, NameAndRuleChecks) {
  Evidence ev = Make(m_, {SignBundle(m_, alice_), SignBundle(m_, bob_)});
  ev.name = "qwen/other";
  VerifyReport r = Run(ev);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.failures, "asked for qwen/other but the manifest names qwen/tiny")) << Join(r.failures);

  format::Manifest nowhere = Sample("nowhere/x");
  r = Run(Make(nowhere, {SignBundle(nowhere, alice_)}));
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.failures, "no rule in policy test.json matches nowhere/x")) << Join(r.failures);
  ASSERT_EQ(r.signatures.size(), 1u);
  EXPECT_EQ(r.signatures[0].outcome, Outcome::kValidNotInRule);

  // An empty name means "the manifest's own".
  ev.name.clear();
  EXPECT_TRUE(Run(ev).ok);
}

TEST_F(VerifyBundleTest, ValidKeyNotInRuleDoesNotCount) {
  format::Manifest solo = Sample("solo/x");
  VerifyReport r = Run(Make(solo, {SignBundle(solo, bob_)}));
  EXPECT_FALSE(r.ok);
  ASSERT_NE(Find(r, Outcome::kValidNotInRule), nullptr);
  EXPECT_TRUE(Contains(r.failures, "policy rule 'solo/*' does not list this key")) << Join(r.failures);
  EXPECT_TRUE(Run(Make(solo, {SignBundle(solo, alice_)})).ok);
}

TEST_F(VerifyBundleTest, OtherAttestationsListedNotCounted) {
  const std::string approval = SignStatement(
      *GenericStatement(m_.meta.name, m_.BundleDigest(), "https://example.org/approval/v1", "{\"ok\":true}"), carol_);
  VerifyReport r = Run(Make(m_, {SignBundle(m_, alice_), approval}));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.counted, 1);
  ASSERT_EQ(r.attestations.size(), 1u);
  EXPECT_NE(r.attestations[0].find("https://example.org/approval/v1 signed by key carol"), std::string::npos);
  r = Run(Make(m_, {SignBundle(m_, alice_), approval, SignBundle(m_, bob_)}));
  EXPECT_TRUE(r.ok) << Join(r.failures);
  EXPECT_NE(FormatReport(r).find("approval"), std::string::npos);
}

TEST_F(VerifyBundleTest, OtherAttestationByAnUnknownKeyIsListedWithoutAWarning) {
  // A mirror's countersignature, by a key the reader's policy does not list.
  const std::string countersig = SignStatement(
      *GenericStatement(m_.meta.name, m_.BundleDigest(), "urn:arca:predicate:mirror:v1", "{\"mirror\":\"m\"}"),
      mallory_);
  VerifyReport r = Run(Make(m_, {SignBundle(m_, alice_), SignBundle(m_, bob_), countersig}));
  EXPECT_TRUE(r.ok) << Join(r.failures);
  EXPECT_TRUE(r.warnings.empty()) << Join(r.warnings);
  ASSERT_EQ(r.attestations.size(), 1u);
  EXPECT_NE(r.attestations[0].find("urn:arca:predicate:mirror:v1 signed by unknown keyid " +
                                   KeyId(mallory_.public_key).Hex() + " (not checked)"),
            std::string::npos)
      << r.attestations[0];
  // A bundle signature by an unknown key still warns.
  r = Run(Make(m_, {SignBundle(m_, alice_), SignBundle(m_, bob_), SignBundle(m_, mallory_)}));
  EXPECT_TRUE(r.ok) << Join(r.failures);
  EXPECT_TRUE(Contains(r.warnings, "unknown keyid")) << Join(r.warnings);
}

TEST_F(VerifyBundleTest, MalformedEnvelopesReported) {
  json wrong_type = json::parse(SignBundle(m_, alice_));
  wrong_type["payloadType"] = "text/plain";
  const std::string not_statement = SignEnvelope(kInTotoPayloadType, "{\"x\":1}", alice_.secret_key,
                                                 KeyId(alice_.public_key).Hex());
  VerifyReport r = Run(Make(m_, {"garbage", wrong_type.dump(), not_statement}));
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.signatures.size(), 3u);
  for (const SignatureCheck& c : r.signatures) EXPECT_EQ(c.outcome, Outcome::kMalformed) << c.detail;
  EXPECT_TRUE(Contains(r.failures, "envelope 0 is malformed")) << Join(r.failures);
  EXPECT_TRUE(Contains(r.failures, "payloadType \"text/plain\"")) << Join(r.failures);
  EXPECT_TRUE(Contains(r.failures, "envelope 2: the in-toto statement is malformed")) << Join(r.failures);
}

TEST_F(VerifyBundleTest, UnusableInputIsAnError) {
  Evidence ev = Make(m_);
  ev.envelopes.assign(kMaxEnvelopesPerBundle + 1, "{}");
  EXPECT_EQ(VerifyBundle(policy_, ev, {}).status().code(), StatusCode::kInvalidArgument);
  ev = Make(m_);
  ev.manifest_bytes.assign(format::kMaxManifestBytes + 1, ' ');
  EXPECT_EQ(VerifyBundle(policy_, ev, {}).status().code(), StatusCode::kInvalidArgument);
  // Bytes that match the digest but are no manifest: a report, not a crash.
  ev.manifest_bytes = "not a manifest";
  ev.bundle_digest = Sha256Of(std::string_view("not a manifest"));
  VerifyReport r = Run(ev);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.failures, "is not a valid manifest")) << Join(r.failures);
  EXPECT_NE(FormatReport(r).find("REFUSED"), std::string::npos);
  EXPECT_NO_THROW(json::parse(ReportJson(r)));
}

TEST_F(VerifyBundleTest, ReportIsSafeToPrint) {
  format::Manifest m = m_;
  m.meta.publisher = "Evil\x1b[2J\xc2\x9b";
  VerifyReport r = Run(Make(m, {SignBundle(m, alice_), SignBundle(m, bob_)}));
  EXPECT_TRUE(r.ok) << Join(r.failures);
  const std::string text = FormatReport(r);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos);
  EXPECT_NE(text.find("Evil?[2J?"), std::string::npos) << text;
}

}  // namespace
}  // namespace arca::signing
