// Test fixture for registry tests: a real Server on 127.0.0.1 (any free
// port) in this process, an httplib client, tokens, and a separate client
// store in which test bundles are built.
#ifndef ARCA_REGISTRY_TEST_SERVER_H_
#define ARCA_REGISTRY_TEST_SERVER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/file.h"
#include "common/testing.h"
#include "format/pack.h"
#include "registry/auth.h"
#include "registry/server.h"
#include "store/store.h"

namespace arca::registry::testing {

// A pack's name: the SHA-256 of its index (format/FORMAT.md §3).
inline Digest PackName(const std::string& pack) {
  auto index = format::PackIndex::Parse(AsBytes(pack), pack.size());
  return index.ok() ? index->name : Digest{};
}

using ::arca::testing::TempDir;
using nlohmann::json;

class RegistryTest : public ::testing::Test {
 protected:
  // Limits small enough to exceed cheaply; the rest as in production.
  static Limits TestLimits() {
    Limits l;
    l.pack_bytes = 8 << 20;
    l.object_bytes = 1 << 20;
    l.manifest_bytes = 256 << 10;
    l.json_bytes = 256 << 10;
    l.digests_per_request = 1000;
    return l;
  }

  void SetUp() override {
    ASSERT_OK(MakeDirs(tmp_ / "data"));
    admin_ = *CreateToken(tmp_ / "data/tokens.json", "*", Scope::kAdmin);
    push_ = *CreateToken(tmp_ / "data/tokens.json", "acme", Scope::kPush);
    pull_ = *CreateToken(tmp_ / "data/tokens.json", "acme", Scope::kPull);
    auto st = store::Store::Open(tmp_ / "client");
    ASSERT_OK(st);
    client_store_ = std::move(*st);
  }

  void TearDown() override { StopServer(); }

  void StartServer(bool anonymous_pull = false) {
    ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.threads = 8;
    o.anonymous_pull = anonymous_pull;
    o.limits = TestLimits();
    auto s = Server::Create(tmp_ / "data", o);
    ASSERT_OK(s);
    server_ = std::move(*s);
    ASSERT_GT(server_->port(), 0);
    thread_ = std::thread([this] { EXPECT_OK(server_->Run()); });
    cli_ = NewClient();
  }

  void StopServer() {
    if (!server_) return;
    server_->Stop();
    thread_.join();
    cli_.reset();
    server_.reset();
  }

  std::unique_ptr<httplib::Client> NewClient() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    c->set_read_timeout(10, 0);
    return c;
  }

  static httplib::Headers Bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }

  // Whether the server still answers.
  void ExpectAlive() {
    auto r = NewClient()->Get("/v1/");
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 200);
  }

  // The "code" of an error response (empty when the body is not one).
  static std::string ErrorCode(const httplib::Result& r) {
    if (!r) return "<no response: " + httplib::to_string(r.error()) + ">";
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.contains("error")) return "<not an error body: " + r->body.substr(0, 200) + ">";
    return j["error"]["code"].get<std::string>();
  }

  // --- content ---

  // Builds a small model directory into the client store; returns the result.
  store::AddResult AddBundle(const std::string& name, uint64_t seed, size_t bytes = 600 << 10) {
    std::string dir = tmp_ / ("model-" + std::to_string(seed));
    std::filesystem::create_directories(dir);
    EXPECT_OK(WriteFileAtomic(dir + "/model.bin", ::arca::testing::RandomBytes(bytes, seed)));
    EXPECT_OK(WriteFileAtomic(dir + "/config.json", "{\"seed\": " + std::to_string(seed) + "}"));
    format::Metadata meta;
    meta.name = name;
    auto added = client_store_->AddDirectory(dir, meta, "", 1);
    EXPECT_OK(added);
    return *added;
  }

  // The bytes of every pack file in the client store.
  std::vector<std::string> ClientPacks() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(tmp_ / "client/packs")) {
      if (e.is_regular_file()) out.push_back(*ReadFile(e.path().string(), 1 << 30));
    }
    return out;
  }

  // A pack of raw-coded chunks. `digests`, when given, replaces each
  // chunk's digest (to make a lying pack).
  std::string MakePack(const std::vector<std::string>& chunks, const std::vector<Digest>& digests = {}) {
    std::string path = tmp_ / ("pack-" + std::to_string(packs_made_++));
    auto w = format::PackWriter::Create(path);
    EXPECT_OK(w);
    for (size_t i = 0; i < chunks.size(); ++i) {
      Digest d = i < digests.size() ? digests[i] : Sha256Of(chunks[i]);
      EXPECT_OK(w->Add(d, format::Codec::kRaw, uint32_t(chunks[i].size()), AsBytes(chunks[i])));
    }
    EXPECT_OK(w->Finish());
    return *ReadFile(path, 1 << 30);
  }

  httplib::Result UploadPack(const std::string& pack, const std::string& token) {
    return cli_->Post("/v1/packs", Bearer(token), pack, "application/octet-stream");
  }

  httplib::Result PutObject(const Digest& d, const std::string& bytes, const std::string& kind,
                            const std::string& token) {
    return cli_->Put("/v1/objects/" + d.ToString() + "?kind=" + kind, Bearer(token), bytes,
                     "application/octet-stream");
  }

  // Uploads every pack, file index and the manifest of `added`.
  void PushBundle(const store::AddResult& added) {
    for (const std::string& pack : ClientPacks()) {
      auto r = UploadPack(pack, push_);
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 201) << r->body;
    }
    for (const format::ManifestFile& f : added.built.manifest.files) {
      auto bytes = client_store_->GetObject(f.index, store::ObjectKind::kFileIndex);
      ASSERT_OK(bytes);
      auto r = PutObject(f.index, *bytes, "file-index", push_);
      ASSERT_TRUE(r);
      ASSERT_TRUE(r->status == 201 || r->status == 200) << r->body;
    }
    auto r = PutObject(added.bundle, added.built.manifest_bytes, "manifest", push_);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->status == 201 || r->status == 200) << r->body;
  }

  // Sends `request` on a fresh connection as raw bytes and returns the
  // response (headers and Content-Length bytes of body; or whatever came
  // before the connection closed or 5 s passed).
  std::string RawExchange(const std::string& request) const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(server_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return "<connect failed>";
    }
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
      out.append(buf, size_t(n));
      size_t end = out.find("\r\n\r\n");
      size_t at = out.find("Content-Length: ");
      if (end != std::string::npos && at != std::string::npos && at < end &&
          out.size() >= end + 4 + std::stoull(out.substr(at + 16))) {
        break;
      }
    }
    ::close(fd);
    return out;
  }

  TempDir tmp_;
  std::string admin_, push_, pull_;  // tokens: * admin, acme push, acme pull
  std::unique_ptr<store::Store> client_store_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> cli_;
  int packs_made_ = 0;
};

}  // namespace arca::registry::testing

#endif  // ARCA_REGISTRY_TEST_SERVER_H_
