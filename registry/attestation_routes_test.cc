// PUT and GET /v1/attestations/<bundle>: the happy path against a real
// server, and every refusal the API documents (each leaves nothing behind).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "registry/internal/attestation.h"
#include "registry/test_server.h"
#include "signing/dsse.h"
#include "signing/keys.h"

namespace arca::registry::testing {
namespace {

class AttestationRoutesTest : public RegistryTest {
 protected:
  // An in-toto Statement v1 about `subjects`.
  static std::string Statement(const std::vector<Digest>& subjects) {
    json subject = json::array();
    for (const Digest& d : subjects) subject.push_back({{"name", "bundle"}, {"digest", {{"sha256", d.Hex()}}}});
    return json{{"_type", internal::kStatementV1Type},
                {"subject", subject},
                {"predicateType", "https://arca.dev/approval/v1"},
                {"predicate", {{"approved", true}}}}
        .dump();
  }

  std::string Sign(const std::string& payload, std::string_view type = internal::kInTotoPayloadType) {
    return signing::SignEnvelope(type, payload, key_.secret_key, signing::KeyId(key_.public_key).Hex());
  }

  httplib::Result Put(const Digest& bundle, const std::string& envelope, const std::string& token) {
    return cli_->Put("/v1/attestations/" + bundle.ToString(), Bearer(token), envelope, "application/json");
  }

  httplib::Result Get(const Digest& bundle, const std::string& token) {
    return cli_->Get("/v1/attestations/" + bundle.ToString(), token.empty() ? httplib::Headers{} : Bearer(token));
  }

  // The envelopes listed for `bundle` (fails the test on anything but a 200).
  std::vector<std::string> Listed(const Digest& bundle) {
    auto r = Get(bundle, pull_);
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no response");
    std::vector<std::string> out;
    if (!r || r->status != 200) return out;
    const json body = json::parse(r->body);
    for (const json& a : body["attestations"]) {
      std::string envelope = a["envelope"];
      EXPECT_EQ(a["digest"], Sha256Of(envelope).ToString());
      out.push_back(envelope);
    }
    return out;
  }

  // Expects `r` to be an error with `status` and `code` whose message
  // contains `says`.
  static void ExpectRefused(const httplib::Result& r, int status, const std::string& code,
                            const std::string& says = "") {
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(ErrorCode(r), code) << r->body;
    json j = json::parse(r->body, nullptr, false);
    if (!says.empty() && !j.is_discarded()) {
      EXPECT_NE(j["error"]["message"].get<std::string>().find(says), std::string::npos) << r->body;
    }
  }

  signing::KeyPair key_ = signing::GenerateKeyPair();
};

TEST_F(AttestationRoutesTest, AttachListAndVerify) {
  StartServer();
  store::AddResult a = AddBundle("acme/llama", 1);
  store::AddResult b = AddBundle("acme/qwen", 2);
  PushBundle(a);
  PushBundle(b);
  EXPECT_TRUE(Listed(a.bundle).empty());

  const std::string first = Sign(Statement({a.bundle}));
  auto r = Put(a.bundle, first, push_);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(json::parse(r->body), (json{{"digest", Sha256Of(first).ToString()}, {"created", true}}));
  r = Put(a.bundle, first, push_);  // again: harmless
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["created"], false);

  // One statement about both bundles, attached to each.
  const std::string both = Sign(Statement({b.bundle, a.bundle}));
  ASSERT_EQ(Put(a.bundle, both, admin_)->status, 201);
  ASSERT_EQ(Put(b.bundle, both, push_)->status, 201);

  std::vector<std::string> listed = Listed(a.bundle);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_TRUE((listed[0] == first && listed[1] == both) || (listed[0] == both && listed[1] == first));
  EXPECT_EQ(Listed(b.bundle), std::vector<std::string>{both});
  // Kept verbatim: what comes back verifies against the signer's key.
  signing::TrustedKeys trusted = {{signing::KeyId(key_.public_key).Hex(), key_.public_key}};
  for (const std::string& e : listed) EXPECT_OK(signing::VerifyEnvelope(e, internal::kInTotoPayloadType, trusted));
  // The envelope is also an object of its own kind.
  auto o = cli_->Get("/v1/objects/" + Sha256Of(first).ToString(), Bearer(pull_));
  ASSERT_EQ(o->status, 200);
  EXPECT_EQ(o->get_header_value("Arca-Object-Kind"), "attestation");
  EXPECT_EQ(o->body, first);
  // Reads accept a token of any namespace, like every other read.
  std::string other_pull = *CreateToken(tmp_ / "data/tokens.json", "other", Scope::kPull);
  EXPECT_EQ(Get(a.bundle, other_pull)->status, 200);
  ExpectRefused(Get(a.bundle, ""), 401, "unauthorized");
  EXPECT_TRUE(server_->store().Fsck().ok());
}

TEST_F(AttestationRoutesTest, AnonymousPullReadsThem) {
  StartServer(/*anonymous_pull=*/true);
  store::AddResult a = AddBundle("acme/llama", 1);
  PushBundle(a);
  ASSERT_EQ(Put(a.bundle, Sign(Statement({a.bundle})), push_)->status, 201);
  auto r = Get(a.bundle, "");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["attestations"].size(), 1u);
  ExpectRefused(Put(a.bundle, Sign(Statement({a.bundle}) + " "), ""), 401, "unauthorized");
}

TEST_F(AttestationRoutesTest, WritersAreChecked) {
  StartServer();
  store::AddResult a = AddBundle("acme/llama", 1);
  PushBundle(a);
  const std::string envelope = Sign(Statement({a.bundle}));
  ExpectRefused(Put(a.bundle, envelope, ""), 401, "unauthorized");
  ExpectRefused(Put(a.bundle, envelope, pull_), 403, "denied", "needs push");
  std::string other_push = *CreateToken(tmp_ / "data/tokens.json", "other", Scope::kPush);
  ExpectRefused(Put(a.bundle, envelope, other_push), 403, "denied", "not acme");
  EXPECT_TRUE(Listed(a.bundle).empty());
  ExpectAlive();
}

TEST_F(AttestationRoutesTest, UnknownBundlesAreRefused) {
  StartServer();
  store::AddResult a = AddBundle("acme/llama", 1);
  PushBundle(a);
  const Digest unknown = Sha256Of(std::string_view("no such bundle"));
  ExpectRefused(Put(unknown, Sign(Statement({unknown})), push_), 404, "manifest_unknown", unknown.ToString());
  ExpectRefused(Get(unknown, pull_), 404, "manifest_unknown");
  // A file index is held, but it is not a bundle.
  const Digest index = a.built.manifest.files[0].index;
  ExpectRefused(Put(index, Sign(Statement({index})), push_), 404, "manifest_unknown");
  ExpectRefused(Get(index, pull_), 404, "manifest_unknown");
  // Not a digest at all.
  auto r = cli_->Put("/v1/attestations/sha256:xyz", Bearer(push_), "{}", "application/json");
  ExpectRefused(r, 400, "bad_request", "not a digest");
  ExpectAlive();
}

TEST_F(AttestationRoutesTest, JunkIsRefusedWithAReason) {
  StartServer();
  store::AddResult a = AddBundle("acme/llama", 1);
  store::AddResult b = AddBundle("acme/qwen", 2);
  PushBundle(a);
  PushBundle(b);
  const std::string statement = Statement({a.bundle});
  const std::string payload = signing::Base64Encode(AsBytes(statement));
  const std::string keyid = signing::KeyId(key_.public_key).Hex();
  auto envelope = [&](const json& j) { return j.dump(); };
  const json good = json::parse(Sign(statement));
  struct Case {
    std::string what, body, says;
  };
  std::vector<Case> cases = {
      {"junk", "not json at all", "not valid JSON"},
      {"array", "[]", "not a JSON object"},
      {"wrong subject", Sign(Statement({b.bundle})), "no subject has digest sha256 " + a.bundle.Hex()},
      {"wrong payload type", Sign(statement, "application/json"), "payloadType"},
      {"no signatures", envelope({{"payload", payload}, {"payloadType", good["payloadType"]}, {"signatures", json::array()}}),
       "\"signatures\" is empty"},
      {"signature without keyid",
       envelope({{"payload", payload}, {"payloadType", good["payloadType"]}, {"signatures", {{{"sig", "AAAA"}}}}}),
       "missing \"keyid\""},
      {"empty keyid",
       envelope({{"payload", payload}, {"payloadType", good["payloadType"]},
                 {"signatures", {{{"keyid", ""}, {"sig", "AAAA"}}}}}),
       "\"keyid\" is empty"},
      {"unknown field", envelope({{"payload", payload}, {"payloadType", good["payloadType"]},
                                  {"signatures", good["signatures"]}, {"extra", 1}}),
       "unknown field \"extra\""},
      {"truncated base64",
       envelope({{"payload", payload.substr(0, payload.size() - 1)}, {"payloadType", good["payloadType"]},
                 {"signatures", good["signatures"]}}),
       "payload"},
      {"repeated key", "{\"payload\":\"" + payload + "\",\"payloadType\":\"application/vnd.in-toto+json\"," +
                           "\"payloadType\":\"x\",\"signatures\":" + good["signatures"].dump() + "}",
       "repeats the key \"payloadType\""},
      {"not a statement", Sign("{\"_type\":\"https://in-toto.io/Statement/v0.1\",\"subject\":[],\"predicateType\":\"x\"}"),
       "\"_type\""},
      {"payload not JSON", Sign("hello"), "not valid JSON"},
      {"subject without digest",
       Sign(json{{"_type", internal::kStatementV1Type}, {"subject", {{{"name", "x"}}}}, {"predicateType", "x"}}.dump()),
       "subject[0]"},
      {"no predicateType",
       Sign(json{{"_type", internal::kStatementV1Type}, {"subject", {{{"digest", {{"sha256", a.bundle.Hex()}}}}}}}
                .dump()),
       "predicateType"},
  };
  ASSERT_FALSE(keyid.empty());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ExpectRefused(Put(a.bundle, c.body, push_), 400, "attestation_invalid", c.says);
  }
  EXPECT_TRUE(Listed(a.bundle).empty());
  EXPECT_TRUE(server_->store().Fsck().ok());
  ExpectAlive();
}

TEST_F(AttestationRoutesTest, SizeAndCountAreBounded) {
  StartServer();
  store::AddResult a = AddBundle("acme/llama", 1);
  PushBundle(a);
  // Over 1 MiB: refused from the headers, before the body is read.
  std::string response = RawExchange("PUT /v1/attestations/" + a.bundle.ToString() +
                                     " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + push_ +
                                     "\r\nContent-Type: application/json\r\nContent-Length: 1048577\r\n\r\n");
  EXPECT_EQ(response.compare(0, 12, "HTTP/1.1 413"), 0) << response;
  // Without a length.
  response = RawExchange("PUT /v1/attestations/" + a.bundle.ToString() +
                         " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + push_ +
                         "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(response.compare(0, 12, "HTTP/1.1 411"), 0) << response;
  // A statement padded to just under the limit is fine.
  json padded = json::parse(Statement({a.bundle}));
  padded["predicate"]["padding"] = std::string(700 << 10, 'p');
  auto r = Put(a.bundle, Sign(padded.dump()), push_);
  ASSERT_EQ(r->status, 201) << r->body;

  for (size_t i = 1; i < store::kMaxAttestationsPerSubject; ++i) {
    json s = json::parse(Statement({a.bundle}));
    s["predicate"]["n"] = i;
    r = Put(a.bundle, Sign(s.dump()), push_);
    ASSERT_EQ(r->status, 201) << i << ": " << r->body;
  }
  json s = json::parse(Statement({a.bundle}));
  s["predicate"]["n"] = -1;
  ExpectRefused(Put(a.bundle, Sign(s.dump()), push_), 409, "too_many_attestations");
  EXPECT_EQ(Listed(a.bundle).size(), store::kMaxAttestationsPerSubject);
  ExpectAlive();
}

}  // namespace
}  // namespace arca::registry::testing
