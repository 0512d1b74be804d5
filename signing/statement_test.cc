#include "signing/statement.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/testing.h"
#include "signing/dsse.h"

namespace arca::signing {
namespace {

format::Manifest Sample() {
  format::Manifest m;
  m.meta.name = "acme/tiny";
  m.meta.version = "1.0";
  m.meta.publisher = "Acme";
  m.meta.created = "2026-01-01T00:00:00Z";
  m.meta.license = {"Apache-2.0", "LICENSE"};
  m.meta.provenance.source = "https://example.org/tiny";
  m.meta.provenance.revision = "abc123";
  m.meta.provenance.base_models = {Sha256Of(std::string_view("base"))};
  m.meta.provenance.datasets = {"roneneldan/TinyStories"};
  m.files.push_back({"LICENSE", 3, Sha256Of(std::string_view("lic")), Sha256Of(std::string_view("i1")), "text/plain"});
  m.files.push_back({"model.gguf", 4, Sha256Of(std::string_view("gguf")), Sha256Of(std::string_view("i2")),
                     "application/octet-stream"});
  return m;
}

TEST(Statement, BundleStatementGolden) {
  const format::Manifest m = Sample();
  ASSERT_OK(m.Validate());
  const Digest d = m.BundleDigest();
  const std::string want =
      "{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicate\":{\"license\":{\"file\":\"LICENSE\","
      "\"file_digest\":\"" + Sha256Of(std::string_view("lic")).ToString() +
      "\",\"spdx\":\"Apache-2.0\"},\"name\":\"acme/tiny\",\"provenance\":{\"base_models\":[\"" +
      Sha256Of(std::string_view("base")).ToString() +
      "\"],\"datasets\":[\"roneneldan/TinyStories\"],\"revision\":\"abc123\",\"source\":\"https://example.org/tiny\"},"
      "\"publisher\":\"Acme\",\"version\":\"1.0\"},\"predicateType\":\"urn:arca:predicate:bundle:v1\","
      "\"subject\":[{\"digest\":{\"sha256\":\"" + d.Hex() + "\"},\"name\":\"acme/tiny\"}]}";
  EXPECT_EQ(BundleStatement(m, d), want);

  Result<Statement> st = ParseStatement(want);
  ASSERT_OK(st);
  ASSERT_EQ(st->subjects.size(), 1u);
  EXPECT_EQ(st->subjects[0].name, "acme/tiny");
  EXPECT_EQ(st->subjects[0].digest, d);
  EXPECT_EQ(st->predicate_type, kBundlePredicateType);
  EXPECT_EQ(st->predicate_json, BundlePredicate(m));
}

TEST(Statement, MinimalManifestOmitsEmptyFields) {
  format::Manifest m;
  m.meta.name = "a";
  ASSERT_OK(m.Validate());
  EXPECT_EQ(BundlePredicate(m), "{\"name\":\"a\"}");
  // A licence without a file carries no file digest.
  m.meta.license.spdx = "MIT";
  EXPECT_EQ(BundlePredicate(m), "{\"license\":{\"spdx\":\"MIT\"},\"name\":\"a\"}");
}

TEST(Statement, GenericStatement) {
  const Digest d = Sha256Of(std::string_view("x"));
  Result<std::string> s = GenericStatement("acme/tiny", d, "https://slsa.dev/provenance/v1",
                                           "{ \"buildDefinition\": {\"b\": [1, 2]}, \"a\": null }");
  ASSERT_OK(s);
  Result<Statement> st = ParseStatement(*s);
  ASSERT_OK(st);
  EXPECT_EQ(st->predicate_type, "https://slsa.dev/provenance/v1");
  EXPECT_EQ(st->predicate_json, "{\"a\":null,\"buildDefinition\":{\"b\":[1,2]}}");
  EXPECT_EQ(st->subjects[0].digest, d);

  EXPECT_EQ(GenericStatement("n", d, "t", "[1]").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GenericStatement("n", d, "t", "{").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GenericStatement("n", d, "", "{}").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GenericStatement("", d, "t", "{}").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GenericStatement("n", d, "t", "{\"a\":\"" + std::string(kMaxPredicateBytes, 'x') + "\"}").status().code(),
            StatusCode::kResourceExhausted);
  std::string deep = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_EQ(GenericStatement("n", d, "t", deep).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(GenericStatement("n\xff", d, "t", "{}").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GenericStatement("n", d, "t\xc3", "{}").status().code(), StatusCode::kInvalidArgument);
  // Invalid UTF-8 is rejected by the parse, never thrown at dump time.
  EXPECT_EQ(GenericStatement("n", d, "t", "{\"a\":\"\xff\"}").status().code(), StatusCode::kInvalidArgument);
}

TEST(Statement, ParseIsStrict) {
  const format::Manifest m = Sample();
  const nlohmann::json good = nlohmann::json::parse(BundleStatement(m, m.BundleDigest()));
  auto expect = [](const nlohmann::json& j, std::string_view why) {
    Result<Statement> st = ParseStatement(j.dump());
    EXPECT_EQ(st.status().code(), StatusCode::kInvalidArgument) << j.dump();
    EXPECT_NE(st.status().message().find(why), std::string::npos) << st.status();
  };
  {
    nlohmann::json j = good;
    j["_type"] = "https://in-toto.io/Statement/v0.1";
    expect(j, "_type");
  }
  {
    nlohmann::json j = good;
    j["subject"] = nlohmann::json::array();
    expect(j, "\"subject\" is empty");
  }
  {
    nlohmann::json j = good;
    j["subject"] = "x";
    expect(j, "not an array");
  }
  {
    nlohmann::json j = good;
    j["subject"][0]["digest"]["sha256"] = std::string(64, 'A');
    expect(j, "lower-case hex");
  }
  {
    nlohmann::json j = good;
    j["subject"][0]["digest"].erase("sha256");
    j["subject"][0]["digest"]["sha512"] = "ab";
    expect(j, "missing \"sha256\"");
  }
  {
    nlohmann::json j = good;
    j["subject"][0].erase("name");
    expect(j, "missing \"name\"");
  }
  {
    nlohmann::json j = good;
    j["predicate"] = "x";
    expect(j, "\"predicate\" is not an object");
  }
  {
    nlohmann::json j = good;
    j.erase("predicateType");
    expect(j, "predicateType");
  }
  {
    nlohmann::json j = good;
    j["extra"] = true;
    expect(j, "unknown field \"extra\"");
  }
  {
    nlohmann::json j = good;
    for (size_t i = 0; i < kMaxSubjects; ++i) j["subject"].push_back(good["subject"][0]);
    expect(j, "more than");
  }
  EXPECT_EQ(ParseStatement("nope").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseStatement(std::string(kMaxStatementBytes + 1, ' ')).status().code(), StatusCode::kInvalidArgument);
  // Other digest algorithms beside sha256 are allowed.
  nlohmann::json j = good;
  j["subject"][0]["digest"]["sha512"] = "00";
  EXPECT_OK(ParseStatement(j.dump()));
}

TEST(Statement, SignStatementVerifies) {
  const format::Manifest m = Sample();
  KeyPair kp = GenerateKeyPair();
  const std::string statement = BundleStatement(m, m.BundleDigest());
  const std::string env = SignStatement(statement, kp);
  Result<VerifiedEnvelope> v =
      VerifyEnvelope(env, kInTotoPayloadType, TrustedKeys{{KeyId(kp.public_key).Hex(), kp.public_key}});
  ASSERT_OK(v);
  EXPECT_EQ(v->payload, statement);
  Result<Envelope> parsed = ParseEnvelope(env);
  ASSERT_OK(parsed);
  ASSERT_EQ(parsed->signatures.size(), 1u);
  EXPECT_OK(VerifyEnvelopeSignature(*parsed, parsed->signatures[0], kp.public_key));
  parsed->payload += " ";
  EXPECT_EQ(VerifyEnvelopeSignature(*parsed, parsed->signatures[0], kp.public_key).code(),
            StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace arca::signing
