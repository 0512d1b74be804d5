// Every endpoint of docs/API.md on its happy path, against a real server.
// Hostile requests are in server_hostile_test.cc.
#include "registry/server.h"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <atomic>
#include <cstdio>
#include <set>

#include "common/crc32c.h"
#include "format/codec.h"
#include "registry/test_server.h"

namespace arca::registry::testing {
namespace {

json Json(const httplib::Result& r) { return json::parse(r->body, nullptr, false); }

json DigestsBody(const std::vector<Digest>& ds) {
  json list = json::array();
  for (const Digest& d : ds) list.push_back(d.ToString());
  return {{"digests", list}};
}

// Every distinct chunk of a bundle.
std::vector<Digest> BundleChunks(store::Store& st, const store::AddResult& added) {
  std::set<Digest> seen;
  for (const format::ManifestFile& f : added.built.manifest.files) {
    auto bytes = st.GetObject(f.index, store::ObjectKind::kFileIndex);
    EXPECT_OK(bytes);
    auto index = format::FileIndex::Parse(AsBytes(*bytes));
    EXPECT_OK(index);
    for (const format::ChunkRef& c : index->chunks) seen.insert(c.digest);
  }
  return {seen.begin(), seen.end()};
}

TEST_F(RegistryTest, WhoIsThis) {
  StartServer(/*anonymous_pull=*/true);
  auto r = cli_->Get("/v1/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  json j = Json(r);
  EXPECT_EQ(j["registry"], "arca");
  EXPECT_EQ(j["api"], 1);
  EXPECT_EQ(j["anonymous_pull"], true);
}

TEST_F(RegistryTest, PushPullAndTagABundle) {
  StartServer();
  store::AddResult added = AddBundle("acme/llama", 1);
  std::vector<Digest> chunks = BundleChunks(*client_store_, added);
  ASSERT_GT(chunks.size(), 2u);

  // Nothing is held yet.
  auto r = cli_->Post("/v1/chunks/missing", Bearer(pull_), DigestsBody(chunks).dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json(r)["missing"].size(), chunks.size());

  ASSERT_NO_FATAL_FAILURE(PushBundle(added));

  r = cli_->Post("/v1/chunks/missing", Bearer(pull_), DigestsBody(chunks).dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(Json(r)["missing"], json::array());

  // Locate one held and one absent chunk, in request order.
  Digest absent = Sha256Of(std::string_view("absent"));
  r = cli_->Post("/v1/chunks/locate", Bearer(pull_), DigestsBody({chunks[1], absent, chunks[0]}).dump(),
                 "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json loc = Json(r);
  ASSERT_EQ(loc["chunks"].size(), 2u);
  EXPECT_EQ(loc["chunks"][0]["digest"], chunks[1].ToString());
  EXPECT_EQ(loc["chunks"][1]["digest"], chunks[0].ToString());
  EXPECT_EQ(loc["missing"], json::array({absent.ToString()}));

  // The located bytes, read as a range, pass the checks a client makes.
  const json& c = loc["chunks"][0];
  uint64_t offset = c["offset"], stored = c["stored"];
  httplib::Headers h = Bearer(pull_);
  h.emplace("Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + stored - 1));
  r = cli_->Get("/v1/packs/" + c["pack"].get<std::string>(), h);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 206);
  ASSERT_EQ(r->body.size(), stored);
  format::PackEntry e;
  e.digest = chunks[1];
  e.offset = offset;
  e.stored_len = uint32_t(stored);
  e.raw_len = c["raw"];
  e.codec = c["codec"];
  e.crc32c = c["crc32c"];
  std::vector<uint8_t> raw(e.raw_len);
  EXPECT_OK(format::DecodePackChunk(e, AsBytes(r->body), raw.data()));

  // Objects come back with their kind.
  r = cli_->Get("/v1/objects/" + added.bundle.ToString(), Bearer(pull_));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, added.built.manifest_bytes);
  EXPECT_EQ(r->get_header_value("Arca-Object-Kind"), "manifest");
  const Digest& index = added.built.manifest.files[0].index;
  r = cli_->Head("/v1/objects/" + index.ToString(), Bearer(pull_));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Arca-Object-Kind"), "file-index");
  EXPECT_EQ(r->get_header_value("Content-Length"),
            std::to_string(client_store_->GetObject(index, store::ObjectKind::kFileIndex)->size()));

  // Uploading an object again is harmless: 200 instead of 201.
  r = PutObject(added.bundle, added.built.manifest_bytes, "manifest", push_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json(r), json({{"digest", added.bundle.ToString()}, {"kind", "manifest"}}));

  // Tag it, then move the tag to a second version.
  json tag = {{"digest", added.bundle.ToString()}};
  r = cli_->Put("/v1/tags/acme/llama:v1", Bearer(push_), tag.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json(r), json({{"repository", "acme/llama"}, {"tag", "v1"}, {"digest", added.bundle.ToString()},
                           {"previous", nullptr}}));

  store::AddResult second = AddBundle("acme/llama", 2);
  ASSERT_NO_FATAL_FAILURE(PushBundle(second));
  r = cli_->Put("/v1/tags/acme/llama:v1", Bearer(push_), json({{"digest", second.bundle.ToString()}}).dump(),
                "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json(r)["previous"], added.bundle.ToString());
  r = cli_->Put("/v1/tags/acme/llama:v0", Bearer(push_), tag.dump(), "application/json");
  ASSERT_EQ(r->status, 200) << r->body;

  r = cli_->Get("/v1/tags/acme/llama:v1", Bearer(pull_));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json(r), json({{"repository", "acme/llama"}, {"tag", "v1"}, {"digest", second.bundle.ToString()}}));

  r = cli_->Get("/v1/tags/acme/llama", Bearer(pull_));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json(r), json({{"repository", "acme/llama"},
                           {"tags", {{{"tag", "v0"}, {"digest", added.bundle.ToString()}},
                                     {{"tag", "v1"}, {"digest", second.bundle.ToString()}}}}}));

  // Deleting needs admin, and answers with what the tag pointed to.
  r = cli_->Delete("/v1/tags/acme/llama:v1", Bearer(admin_));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json(r)["digest"], second.bundle.ToString());
  r = cli_->Get("/v1/tags/acme/llama:v1", Bearer(pull_));
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(ErrorCode(r), "not_found");
  EXPECT_EQ(Json(r)["error"]["message"], "tag acme/llama:v1 does not exist");

  // The server's store is consistent afterwards.
  store::FsckReport fsck = server_->store().Fsck();
  EXPECT_TRUE(fsck.ok()) << fsck.problems.front();
}

TEST_F(RegistryTest, RepositoriesAreListedAndFiltered) {
  StartServer(/*anonymous_pull=*/true);
  store::AddResult added = AddBundle("acme/llama", 3, 100 << 10);
  ASSERT_NO_FATAL_FAILURE(PushBundle(added));
  json tag = {{"digest", added.bundle.ToString()}};
  for (const char* ref : {"acme/llama:v1", "acme/llama:v2", "acme/qwen-small:v1", "other/llama:latest"}) {
    auto r = cli_->Put(std::string("/v1/tags/") + ref, Bearer(admin_), tag.dump(), "application/json");
    ASSERT_EQ(r->status, 200) << ref << " " << r->body;
  }
  auto list = [&](const std::string& query) { return Json(cli_->Get("/v1/repositories" + query)); };
  EXPECT_EQ(list(""), json({{"repositories",
                             {{{"name", "acme/llama"}, {"tags", 2}},
                              {{"name", "acme/qwen-small"}, {"tags", 1}},
                              {{"name", "other/llama"}, {"tags", 1}}}}}));
  EXPECT_EQ(list("?namespace=acme&q=qwen"),
            json({{"repositories", {{{"name", "acme/qwen-small"}, {"tags", 1}}}}}));
  EXPECT_EQ(list("?q=llama")["repositories"].size(), 2u);
  EXPECT_EQ(list("?namespace=nobody")["repositories"], json::array());
  auto r = cli_->Get("/v1/tags/nobody/none");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(ErrorCode(r), "not_found");
}

TEST_F(RegistryTest, PackReadsWholeHeadAndRanges) {
  StartServer();
  std::vector<std::string> chunks = {std::string(1000, 'a'), std::string(2000, 'b'), std::string(3000, 'c')};
  std::string pack = MakePack(chunks);
  auto up = UploadPack(pack, push_);
  ASSERT_TRUE(up);
  ASSERT_EQ(up->status, 201) << up->body;
  json j = Json(up);
  EXPECT_EQ(j["pack"], PackName(pack).ToString());
  EXPECT_EQ(j["chunks"], 3);
  EXPECT_EQ(j["new_chunks"], 3);
  EXPECT_EQ(j["stored_bytes"], pack.size());
  const std::string url = "/v1/packs/" + PackName(pack).ToString();

  auto r = cli_->Get(url, Bearer(pull_));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, pack);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/octet-stream");

  r = cli_->Head(url, Bearer(pull_));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Length"), std::to_string(pack.size()));
  EXPECT_TRUE(r->body.empty());

  auto ranged = [&](const std::string& range) {
    httplib::Headers h = Bearer(pull_);
    h.emplace("Range", range);
    return cli_->Get(url, h);
  };
  r = ranged("bytes=16-1015");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, chunks[0]);
  EXPECT_EQ(r->get_header_value("Content-Range"), "bytes 16-1015/" + std::to_string(pack.size()));

  r = ranged("bytes=-56");  // the trailer
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, pack.substr(pack.size() - 56));

  r = ranged("bytes=0-7, 1016-1019");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_NE(r->get_header_value("Content-Type").find("multipart/byteranges"), std::string::npos);
  EXPECT_NE(r->body.find("ARCAPAK1"), std::string::npos);
  EXPECT_NE(r->body.find("bbbb"), std::string::npos);

  r = cli_->Get("/v1/packs/" + Sha256Of(std::string_view("no such pack")).ToString(), Bearer(pull_));
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(ErrorCode(r), "not_found");
}

TEST_F(RegistryTest, PackWhoseChunksAreAllHeldStoresNothing) {
  StartServer();
  std::string pack = MakePack({"one chunk", "another chunk"});
  ASSERT_EQ(UploadPack(pack, push_)->status, 201);
  auto r = UploadPack(pack, push_);
  ASSERT_EQ(r->status, 201);
  EXPECT_EQ(Json(r), json({{"pack", ""}, {"chunks", 2}, {"new_chunks", 0}, {"stored_bytes", 0}}));
}

TEST_F(RegistryTest, ConcurrentOverlappingUploadsStoreEachChunkOnce) {
  StartServer();
  std::vector<std::string> chunks;
  for (int i = 0; i < 6; ++i) chunks.push_back(::arca::testing::RandomBytes(50000, 100 + i));
  // Two packs sharing chunks 2 and 3, each uploaded from its own connection,
  // several rounds so that the uploads really overlap.
  for (int round = 0; round < 4; ++round) {
    std::vector<std::string> a, b;
    for (int i = 0; i < 4; ++i) a.push_back(chunks[i] + char('0' + round));
    for (int i = 2; i < 6; ++i) b.push_back(chunks[i] + char('0' + round));
    std::string pa = MakePack(a), pb = MakePack(b);
    std::atomic<uint64_t> new_chunks{0};
    auto upload = [&](const std::string& pack) {
      auto r = NewClient()->Post("/v1/packs", Bearer(push_), pack, "application/octet-stream");
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 201) << r->body;
      new_chunks += Json(r)["new_chunks"].get<uint64_t>();
    };
    std::thread ta(upload, std::cref(pa)), tb(upload, std::cref(pb));
    ta.join();
    tb.join();
    EXPECT_EQ(new_chunks, 6u) << "round " << round;
  }
  store::FsckReport fsck = server_->store().Fsck();
  EXPECT_TRUE(fsck.ok()) << fsck.problems.front();
  EXPECT_EQ(fsck.chunks, 24u);
}

TEST_F(RegistryTest, NewTokensWorkWithoutRestart) {
  StartServer();
  auto r = cli_->Get("/v1/repositories", Bearer(pull_));
  ASSERT_EQ(r->status, 200);
  std::string fresh = *CreateToken(tmp_ / "data/tokens.json", "newco", Scope::kPull);
  r = cli_->Get("/v1/repositories", Bearer(fresh));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
}

TEST_F(RegistryTest, BusyPortIsAnError) {
  StartServer();
  ServerOptions o;
  o.port = server_->port();
  auto second = Server::Create(tmp_ / "data2", o);
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  ExpectAlive();
}

// Writes a self-signed certificate and its key (PEM) for 127.0.0.1.
void WriteSelfSignedCert(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  ASSERT_GT(X509_sign(cert, key, EVP_sha256()), 0);
  FILE* f = std::fopen(cert_path.c_str(), "w");
  PEM_write_X509(f, cert);
  std::fclose(f);
  f = std::fopen(key_path.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
}

TEST_F(RegistryTest, ServesHttpsWithCertificateAndKey) {
  ASSERT_NO_FATAL_FAILURE(WriteSelfSignedCert(tmp_ / "cert.pem", tmp_ / "key.pem"));
  ServerOptions o;
  o.tls_cert = tmp_ / "cert.pem";
  o.tls_key = tmp_ / "key.pem";
  auto s = Server::Create(tmp_ / "data", o);
  ASSERT_OK(s);
  EXPECT_TRUE((*s)->tls());
  std::thread t([&] { EXPECT_OK((*s)->Run()); });
  httplib::SSLClient cli("127.0.0.1", (*s)->port());
  cli.enable_server_certificate_verification(false);  // self-signed
  auto r = cli.Get("/v1/tags/acme/llama:v1", Bearer(pull_));
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(ErrorCode(r), "not_found");
  (*s)->Stop();
  t.join();
  s->reset();  // closes the store for the next Create

  // A key that does not load is an error, not a crash.
  o.tls_key = o.tls_cert;
  EXPECT_EQ(Server::Create(tmp_ / "data", o).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RegistryTest, StopBeforeRunStillStopsAndClosesThePort) {
  ServerOptions o;
  auto s = Server::Create(tmp_ / "data2", o);
  ASSERT_OK(s);
  const int port = (*s)->port();
  (*s)->Stop();
  std::thread t([&] { EXPECT_OK((*s)->Run()); });
  t.join();  // returns instead of serving forever
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(1);
  cli.set_read_timeout(1);
  auto r = cli.Get("/v1/");
  // Refused, not accepted and then left unanswered (a read timeout).
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), httplib::Error::Connection) << httplib::to_string(r.error());
}

}  // namespace
}  // namespace arca::registry::testing
