// Hostile and mistaken requests: each gets the documented status and JSON
// error, leaves nothing behind, and the server keeps serving afterwards.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "registry/server.h"
#include "registry/test_server.h"

namespace arca::registry::testing {
namespace {

json Json(const httplib::Result& r) { return json::parse(r->body, nullptr, false); }

// The status code of a raw HTTP response ("HTTP/1.1 413 ...").
int RawStatus(const std::string& response) {
  if (response.compare(0, 9, "HTTP/1.1 ") != 0 || response.size() < 12) return -1;
  return std::stoi(response.substr(9, 3));
}

std::string RawBody(const std::string& response) {
  size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

bool TmpIsEmpty(const std::string& store_dir) {
  return std::filesystem::is_empty(store_dir + "/tmp");
}

TEST_F(RegistryTest, OversizedPackIsRefusedBeforeItsBodyIsRead) {
  StartServer();
  // Only the headers are sent: the answer must come without the body.
  std::string response = RawExchange(
      "POST /v1/packs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + push_ +
      "\r\nContent-Type: application/octet-stream\r\nContent-Length: 300000000000\r\n\r\n");
  EXPECT_EQ(RawStatus(response), 413) << response;
  EXPECT_NE(response.find("Connection: close"), std::string::npos);
  EXPECT_EQ(json::parse(RawBody(response))["error"]["code"], "too_large");
  ExpectAlive();
}

TEST_F(RegistryTest, OversizedJsonAndObjectsAreRefused) {
  StartServer();
  auto r = cli_->Post("/v1/chunks/missing", Bearer(pull_), std::string(300 << 10, ' '), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(ErrorCode(r), "too_large");
  std::string big(300 << 10, 'x');
  r = PutObject(Sha256Of(big), big, "manifest", push_);
  EXPECT_EQ(r->status, 413);
  ExpectAlive();
}

TEST_F(RegistryTest, UploadWithoutContentLengthIsRefused) {
  StartServer();
  std::string pack = MakePack({"abc"});
  // Without a length, httplib sends the body chunked.
  auto r = cli_->Post(
      "/v1/packs", Bearer(push_),
      [&](size_t offset, httplib::DataSink& sink) {
        if (offset == 0) sink.write(pack.data(), pack.size());
        sink.done();
        return true;
      },
      "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 411);
  EXPECT_EQ(ErrorCode(r), "length_required");
  std::string response = RawExchange("PUT /v1/tags/acme/x:v1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                     push_ + "\r\n\r\n");
  EXPECT_EQ(RawStatus(response), 411) << response;
  EXPECT_FALSE(server_->store().HasChunk(Sha256Of(std::string_view("abc"))));
  ExpectAlive();
}

TEST_F(RegistryTest, MalformedJsonIsABadRequest) {
  StartServer();
  for (const std::string& body : std::vector<std::string>{"{", "[1,2]", "{\"digests\": \"x\"}", "{\"digests\": [1]}", "{\"digests\": [\"sha256:00\"]}",
                           std::string(100000, '[') + std::string(100000, ']'), std::string("\xff\xfe", 2)}) {
    auto r = cli_->Post("/v1/chunks/locate", Bearer(pull_), body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << body.substr(0, 40);
    EXPECT_EQ(ErrorCode(r), "bad_request");
  }
  auto r = cli_->Put("/v1/tags/acme/x:v1", Bearer(push_), "{\"digest\": 5}", "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(ErrorCode(r), "bad_request");
  // Too many digests.
  json many = {{"digests", json::array()}};
  for (int i = 0; i < 1001; ++i) many["digests"].push_back(Sha256Of(std::to_string(i)).ToString());
  r = cli_->Post("/v1/chunks/missing", Bearer(pull_), many.dump(), "application/json");
  EXPECT_EQ(r->status, 413);
  ExpectAlive();
}

TEST_F(RegistryTest, BadDigestsAreBadRequests) {
  StartServer();
  const std::string upper = "sha256:" + std::string(64, 'A');
  for (const std::string& path : std::vector<std::string>{"/v1/packs/sha256:xyz", "/v1/packs/" + upper, "/v1/objects/md5:abc",
                                  "/v1/objects/sha256:" + std::string(63, '0')}) {
    auto r = cli_->Get(path, Bearer(pull_));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << path;
    EXPECT_EQ(ErrorCode(r), "bad_request") << path;
  }
  auto r = PutObject(Digest{}, "x", "file-index", push_);  // the zero digest is well-formed...
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(ErrorCode(r), "digest_mismatch");  // ...but not that of "x"
  r = cli_->Put("/v1/objects/sha256:nope?kind=manifest", Bearer(push_), "x", "application/octet-stream");
  EXPECT_EQ(ErrorCode(r), "bad_request");
  r = PutObject(Sha256Of(std::string_view("x")), "x", "blob", push_);
  EXPECT_EQ(ErrorCode(r), "bad_request");
  r = PutObject(Sha256Of(std::string_view("x")), "x", "manifest", push_);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(ErrorCode(r), "invalid_object");
  ExpectAlive();
}

TEST_F(RegistryTest, TraversalInNamesAndTagsIsRefused) {
  StartServer();
  store::AddResult added = AddBundle("acme/llama", 7, 50 << 10);
  ASSERT_NO_FATAL_FAILURE(PushBundle(added));
  const std::string body = json({{"digest", added.bundle.ToString()}}).dump();
  for (const char* path : {"/v1/tags/../x:v1", "/v1/tags/%2e%2e/x:v1", "/v1/tags/acme/%2e%2e/%2e%2e/etc:v1",
                           "/v1/tags/acme/llama:..", "/v1/tags/acme/llama:.hidden", "/v1/tags/acme/llama:a%2fb",
                           "/v1/tags/acme/llama:v1%00x", "/v1/tags/acme//llama:v1", "/v1/tags/ACME/llama:v1",
                           "/v1/tags/acme/llama:", "/v1/tags/llama:v1", "/v1/tags/acme/llama:v1:v2",
                           "/v1/tags/acme/ll%0d%0aama:v1"}) {
    auto r = cli_->Put(path, Bearer(admin_), body, "application/json");
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 400) << path << " " << r->body;
    EXPECT_EQ(ErrorCode(r), "bad_request") << path;
  }
  for (const char* path : {"/v1/packs/..%2f..%2fetc%2fpasswd", "/v1/objects/%2e%2e", "/v1/tags/%2e%2e"}) {
    auto r = cli_->Get(path, Bearer(admin_));
    ASSERT_TRUE(r) << path;
    EXPECT_TRUE(r->status == 400 || r->status == 404) << path << " " << r->status;
    EXPECT_EQ(r->body.find("/tmp"), std::string::npos) << r->body;
  }
  EXPECT_TRUE(server_->store().ListRefs().empty());
  // A very long path is refused, not a crash.
  auto r = cli_->Get("/v1/tags/acme/" + std::string(7000, 'a') + ":v1", Bearer(admin_));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  ExpectAlive();
}

TEST_F(RegistryTest, LyingPacksAreRefusedAndNothingIsStored) {
  StartServer();
  std::string good = "good chunk", bad = "bad chunk";
  // A chunk stored under another chunk's digest.
  std::string lying = MakePack({good, bad}, {Sha256Of(good), Sha256Of(std::string_view("something else"))});
  auto r = UploadPack(lying, push_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(ErrorCode(r), "invalid_pack");
  EXPECT_NE(Json(r)["error"]["message"].get<std::string>().find(Sha256Of(std::string_view("something else")).ToString()),
            std::string::npos)
      << r->body;

  // A stored byte flipped after the CRC was computed.
  std::string flipped = MakePack({good, bad});
  flipped[format::kPackHeaderSize + good.size() + 1] ^= 0x20;
  r = UploadPack(flipped, push_);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(ErrorCode(r), "invalid_pack");

  // Truncated, empty, and not a pack at all.
  for (const std::string& junk : std::vector<std::string>{flipped.substr(0, flipped.size() - 1), std::string(), std::string(1000, 'x')}) {
    r = UploadPack(junk, push_);
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(ErrorCode(r), "invalid_pack");
  }
  EXPECT_FALSE(server_->store().HasChunk(Sha256Of(good)));
  EXPECT_FALSE(server_->store().HasChunk(Sha256Of(bad)));
  EXPECT_TRUE(TmpIsEmpty(tmp_ / "data/store"));
  EXPECT_EQ(server_->store().Fsck().packs, 0u);
  ExpectAlive();
}

TEST_F(RegistryTest, ObjectsAndTagsReferringToAbsentDataAreConflicts) {
  StartServer();
  store::AddResult added = AddBundle("acme/llama", 8, 50 << 10);
  // The manifest before its file indexes, a file index before its chunks.
  auto r = PutObject(added.bundle, added.built.manifest_bytes, "manifest", push_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(ErrorCode(r), "missing_objects");
  json conflict = Json(r);
  std::set<std::string> missing;
  for (const auto& m : conflict["missing"]) missing.insert(m.get<std::string>());
  std::set<std::string> indexes;
  for (const auto& f : added.built.manifest.files) indexes.insert(f.index.ToString());
  EXPECT_EQ(missing, indexes) << r->body;

  const Digest& index = added.built.manifest.files[0].index;
  r = PutObject(index, *client_store_->GetObject(index, store::ObjectKind::kFileIndex), "file-index", push_);
  EXPECT_EQ(r->status, 409);
  EXPECT_FALSE(Json(r)["missing"].empty());

  // A tag to a bundle that is not held, and to something that is no manifest.
  r = cli_->Put("/v1/tags/acme/llama:v1", Bearer(push_), json({{"digest", added.bundle.ToString()}}).dump(),
                "application/json");
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(Json(r)["missing"], json::array({added.bundle.ToString()}));
  ASSERT_NO_FATAL_FAILURE(PushBundle(added));
  r = cli_->Put("/v1/tags/acme/llama:v1", Bearer(push_), json({{"digest", index.ToString()}}).dump(),
                "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(ErrorCode(r), "invalid_object");
  EXPECT_TRUE(server_->store().ListRefs().empty());
  ExpectAlive();
}

TEST_F(RegistryTest, TokensScopesAndNamespaces) {
  StartServer();
  store::AddResult added = AddBundle("acme/llama", 9, 50 << 10);
  std::string pack = ClientPacks().front();
  const std::string tag_body = json({{"digest", added.bundle.ToString()}}).dump();

  // No token, an unknown one, a malformed header.
  auto r = cli_->Get("/v1/tags/acme/llama:v1");
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(ErrorCode(r), "unauthorized");
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer realm=\"arca\"");
  r = cli_->Get("/v1/repositories", Bearer("arca_" + std::string(43, 'A')));
  EXPECT_EQ(r->status, 401);
  r = cli_->Get("/v1/repositories", {{"Authorization", "Basic Zm9vOmJhcg=="}});
  EXPECT_EQ(r->status, 401);
  r = UploadPack(pack, "");
  EXPECT_EQ(r->status, 401);

  // A pull token cannot upload or tag.
  r = UploadPack(pack, pull_);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(ErrorCode(r), "denied");
  ASSERT_NO_FATAL_FAILURE(PushBundle(added));
  r = cli_->Put("/v1/tags/acme/llama:v1", Bearer(pull_), tag_body, "application/json");
  EXPECT_EQ(r->status, 403);

  // A push token tags its own namespace only, and cannot delete.
  r = cli_->Put("/v1/tags/other/llama:v1", Bearer(push_), tag_body, "application/json");
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(ErrorCode(r), "denied");
  r = cli_->Put("/v1/tags/acme/llama:v1", Bearer(push_), tag_body, "application/json");
  EXPECT_EQ(r->status, 200);
  r = cli_->Delete("/v1/tags/acme/llama:v1", Bearer(push_));
  EXPECT_EQ(r->status, 403);
  std::string other_admin = *CreateToken(tmp_ / "data/tokens.json", "other", Scope::kAdmin);
  r = cli_->Delete("/v1/tags/acme/llama:v1", Bearer(other_admin));
  EXPECT_EQ(r->status, 403);
  // Reads are for any valid token; the namespace limits tag writes only.
  r = cli_->Get("/v1/tags/acme/llama:v1", Bearer(other_admin));
  EXPECT_EQ(r->status, 200);
  r = cli_->Delete("/v1/tags/acme/llama:v1", Bearer(admin_));
  EXPECT_EQ(r->status, 200);
  ExpectAlive();
}

TEST_F(RegistryTest, AnonymousPullAllowsReadsOnly) {
  StartServer(/*anonymous_pull=*/true);
  store::AddResult added = AddBundle("acme/llama", 10, 50 << 10);
  ASSERT_NO_FATAL_FAILURE(PushBundle(added));
  auto r = cli_->Get("/v1/objects/" + added.bundle.ToString());
  EXPECT_EQ(r->status, 200);
  r = cli_->Post("/v1/chunks/missing", "{\"digests\": []}", "application/json");
  EXPECT_EQ(r->status, 200);
  // A token that is sent must still be valid.
  r = cli_->Get("/v1/objects/" + added.bundle.ToString(), Bearer("arca_" + std::string(43, 'x')));
  EXPECT_EQ(r->status, 401);
  // Writes still need one.
  r = cli_->Put("/v1/tags/acme/llama:v1", json({{"digest", added.bundle.ToString()}}).dump(), "application/json");
  EXPECT_EQ(r->status, 401);
  r = cli_->Post("/v1/packs", ClientPacks().front(), "application/octet-stream");
  EXPECT_EQ(r->status, 401);
}

TEST_F(RegistryTest, BadRangesAre416WithAJsonBody) {
  StartServer();
  std::string pack = MakePack({std::string(100, 'a'), std::string(100, 'b')});
  ASSERT_EQ(UploadPack(pack, push_)->status, 201);
  const std::string url = "/v1/packs/" + PackName(pack).ToString();
  std::string many = "bytes=";
  for (int i = 0; i < 65; ++i) many += (i ? "," : "") + std::to_string(i) + "-" + std::to_string(i);
  for (const std::string& range : std::vector<std::string>{"bytes=10-20,15-30", "bytes=50-60,0-10", "bytes=0-" + std::to_string(pack.size()),
                                   "bytes=" + std::to_string(pack.size()) + "-", "bytes=-0", "bytes=-", many, std::string("bytes=x-y"), std::string("lines=1-2")}) {
    httplib::Headers h = Bearer(pull_);
    h.emplace("Range", range);
    auto r = cli_->Get(url, h);
    ASSERT_TRUE(r) << range;
    EXPECT_EQ(r->status, 416) << range;
    EXPECT_EQ(ErrorCode(r), "bad_range") << range;
  }
  // Range is ignored where there is no pack: JSON comes back whole.
  httplib::Headers h = Bearer(pull_);
  h.emplace("Range", "bytes=0-3");
  auto r = cli_->Get("/v1/repositories", h);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json(r)["repositories"], json::array());
  ExpectAlive();
}

TEST_F(RegistryTest, UnknownRoutesAreJson404s) {
  StartServer();
  for (const char* path : {"/", "/v2/", "/v1/nothing", "/v1/packs"}) {
    auto r = cli_->Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(ErrorCode(r), "not_found") << path;
  }
  auto r = cli_->Patch("/v1/tags/acme/x:v1", "{}", "application/json");
  EXPECT_EQ(r->status, 404);
  ExpectAlive();
}

TEST_F(RegistryTest, UnroutedBodiesAreNotRead) {
  StartServer();
  std::string response = RawExchange("POST /v1/nothing HTTP/1.1\r\nHost: x\r\nContent-Length: 200000000\r\n\r\n");
  EXPECT_EQ(RawStatus(response), 404) << response;
  EXPECT_EQ(json::parse(RawBody(response))["error"]["code"], "not_found");
  ExpectAlive();
}

TEST_F(RegistryTest, ServerFaultsSayOnlyInternalError) {
  StartServer();
  // A broken token file: the server refuses to guess, and says nothing of it.
  ASSERT_OK(WriteFileAtomic(tmp_ / "data/tokens.json", "{\"tokens\": [", 0600));
  auto r = cli_->Get("/v1/repositories", Bearer(pull_));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}");
  EXPECT_FALSE(r->get_header_value("Arca-Request-Id").empty());
  ExpectAlive();
}

TEST_F(RegistryTest, StopBeforeRunReturnsAtOnce) {
  ServerOptions o;
  o.limits = TestLimits();
  auto s = Server::Create(tmp_ / "data2", o);
  ASSERT_OK(s);
  (*s)->Stop();
  EXPECT_OK((*s)->Run());
}

}  // namespace
}  // namespace arca::registry::testing
