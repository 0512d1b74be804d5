// The registry client against a small in-process fake registry: retries,
// error mapping, verification of what comes back, and a fetch that meets a
// corrupt chunk.
#include "client/remote.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "client/fetch.h"
#include "common/file.h"
#include "common/testing.h"
#include "format/codec.h"
#include "format/pack.h"
#include "store/store.h"

namespace arca::client {
namespace {

using arca::testing::TempDir;

// An HTTP server on 127.0.0.1 with a free port, stopped by the destructor.
class FakeRegistry {
 public:
  explicit FakeRegistry(std::string host = "127.0.0.1") : host_(std::move(host)) {
    port_ = server_.bind_to_any_port(host_);
    if (port_ < 0) return;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeRegistry() {
    if (port_ < 0) return;
    server_.stop();
    thread_.join();
  }
  bool ok() const { return port_ > 0; }
  httplib::Server& server() { return server_; }
  Endpoint endpoint() const { return Endpoint{Registry{"http", host_, uint16_t(port_)}, "", ""}; }

 private:
  std::string host_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

const RetryPolicy kFastRetry{5, std::chrono::milliseconds(1), std::chrono::milliseconds(4)};

void JsonError(httplib::Response& res, int status, const std::string& code, const std::string& message) {
  res.status = status;
  res.set_content("{\"error\":{\"code\":\"" + code + "\",\"message\":\"" + message + "\"}}", "application/json");
}

TEST(RemoteTest, StatusFromHttp) {
  Registry reg{"http", "localhost", 5000};
  bool retry = false;
  Status s = StatusFromHttp(404, R"({"error":{"code":"not_found","message":"tag acme/x:v9 does not exist"}})", reg,
                            &retry);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("registry localhost:5000 said: tag acme/x:v9 does not exist"), std::string_view::npos);
  EXPECT_FALSE(retry);

  s = StatusFromHttp(401, R"({"error":{"code":"unauthorized","message":"no token"}})", reg, &retry);
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("arca login localhost:5000"), std::string_view::npos) << s;
  s = StatusFromHttp(403, R"({"error":{"code":"denied","message":"scope pull"}})", reg, &retry);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("arca login"), std::string_view::npos) << s;

  s = StatusFromHttp(409, R"({"error":{"code":"missing_objects","message":"absent"},"missing":["sha256:ab"]})", reg,
                     &retry);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("1 missing, e.g. sha256:ab"), std::string_view::npos) << s;

  s = StatusFromHttp(503, "", reg, &retry);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(retry);
  s = StatusFromHttp(500, "<html>oops</html>", reg, &retry);
  EXPECT_TRUE(retry);

  // Terminal escapes from a hostile registry do not reach the user's terminal.
  s = StatusFromHttp(400, "{\"error\":{\"code\":\"bad_request\",\"message\":\"a\\u001b[2Jb\"}}", reg, &retry);
  EXPECT_EQ(s.message().find('\x1b'), std::string_view::npos) << s;
}

TEST(RemoteTest, RetriesServerErrorsButNotClientErrors) {
  FakeRegistry reg;
  std::atomic<int> hits{0}, missing_hits{0};
  reg.server().Get("/v1/", [&](const httplib::Request&, httplib::Response& res) {
    if (++hits <= 2) return JsonError(res, 503, "unavailable", "busy");
    res.set_content(R"({"registry":"arca","api":1,"anonymous_pull":true})", "application/json");
  });
  reg.server().Post("/v1/chunks/missing", [&](const httplib::Request&, httplib::Response& res) {
    ++missing_hits;
    JsonError(res, 400, "bad_request", "bad digest");
  });
  Remote remote(reg.endpoint(), kFastRetry);
  Result<PingInfo> p = remote.Ping();
  ASSERT_OK(p);
  EXPECT_EQ(p->api, 1);
  EXPECT_TRUE(p->anonymous_pull);
  EXPECT_EQ(hits.load(), 3);

  Digest d;
  Result<std::vector<Digest>> m = remote.Missing(std::vector<Digest>{d});
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(missing_hits.load(), 1);
}

TEST(RemoteTest, Ipv6AndBearerToken) {
  FakeRegistry reg("::1");
  if (!reg.ok()) GTEST_SKIP() << "no IPv6 loopback here";
  std::string auth;
  reg.server().Get("/v1/", [&](const httplib::Request& req, httplib::Response& res) {
    auth = req.get_header_value("Authorization");
    res.set_content(R"({"registry":"arca","api":1})", "application/json");
  });
  Endpoint ep = reg.endpoint();
  ep.token = "secret-token";
  EXPECT_EQ(ep.registry.Url().rfind("http://[::1]:", 0), 0u);
  Remote remote(ep, kFastRetry);
  ASSERT_OK(remote.Ping());
  EXPECT_EQ(auth, "Bearer secret-token");
}

TEST(RemoteTest, GivesUpAfterTheLastAttempt) {
  FakeRegistry reg;
  std::atomic<int> hits{0};
  reg.server().Get("/v1/", [&](const httplib::Request&, httplib::Response& res) {
    ++hits;
    JsonError(res, 500, "internal", "internal error");
  });
  Remote remote(reg.endpoint(), kFastRetry);
  Status s = remote.Ping().status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("gave up after 5 attempts"), std::string_view::npos) << s;
  EXPECT_EQ(hits.load(), 5);
}

TEST(RemoteTest, ConnectionRefusedIsUnavailable) {
  Endpoint ep;
  {
    FakeRegistry reg;
    ep = reg.endpoint();
  }  // stopped: nothing listens on the port now
  Remote remote(ep, RetryPolicy{2, std::chrono::milliseconds(1), std::chrono::milliseconds(1)});
  Status s = remote.Ping().status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("cannot connect"), std::string_view::npos) << s;
}

TEST(RemoteTest, GetObjectChecksTheDigest) {
  FakeRegistry reg;
  const std::string good = "hello", bad = "jello";
  reg.server().Get(R"(/v1/objects/(.*))", [&](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.matches[1] == Sha256Of(good).ToString() ? good : bad, "application/octet-stream");
  });
  Remote remote(reg.endpoint(), kFastRetry);
  Result<std::string> ok = remote.GetObject(Sha256Of(good), 100);
  ASSERT_OK(ok);
  EXPECT_EQ(*ok, good);
  EXPECT_EQ(remote.GetObject(Sha256Of("other"), 100).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(remote.GetObject(Sha256Of(good), 3).status().code(), StatusCode::kResourceExhausted);
}

TEST(RemoteTest, UploadPackStreamsTheFile) {
  FakeRegistry reg;
  TempDir dir;
  const std::string data = arca::testing::RandomBytes(3 << 20, 1);
  ASSERT_OK(WriteFileAtomic(dir / "p.pack", data));
  std::string received;
  std::string length_header;
  reg.server().Post("/v1/packs", [&](const httplib::Request& req, httplib::Response& res) {
    received = req.body;
    length_header = req.get_header_value("Content-Length");
    res.status = 201;
    res.set_content(R"({"pack":")" + Sha256Of(req.body).ToString() + R"(","chunks":3,"new_chunks":2,"stored_bytes":9})",
                    "application/json");
  });
  Remote remote(reg.endpoint(), kFastRetry);
  int64_t counted = 0;
  Result<PackUploadResult> r = remote.UploadPack(dir / "p.pack", [&](int64_t d) { counted += d; });
  ASSERT_OK(r);
  EXPECT_EQ(received, data);
  EXPECT_EQ(length_header, std::to_string(data.size()));
  EXPECT_EQ(counted, int64_t(data.size()));
  EXPECT_EQ(r->pack, Sha256Of(data));
  EXPECT_EQ(r->new_chunks, 2u);
}

// A pack with `n` chunks, written through PackWriter, and its index.
struct TestPack {
  std::string bytes;
  Digest digest;
  std::vector<format::PackEntry> entries;
};

TestPack MakePack(const std::string& dir, int n) {
  const std::string path = dir + "/test.pack";
  Result<format::PackWriter> w = format::PackWriter::Create(path);
  EXPECT_OK(w);
  for (int i = 0; i < n; ++i) {
    std::string raw = arca::testing::RandomBytes(20000, uint64_t(i)) + std::string(20000, char(i));
    std::string stored;
    format::Codec codec = format::EncodeChunk(AsBytes(raw), &stored);
    EXPECT_OK(w->Add(Sha256Of(raw), codec, uint32_t(raw.size()), AsBytes(stored)));
  }
  TestPack p;
  p.entries = w->entries();
  Result<Digest> d = w->Finish();
  EXPECT_OK(d);
  p.digest = *d;
  p.bytes = *ReadFile(path, 1 << 30);
  return p;
}

TEST(FetchTest, VerifiesEveryChunkAndKeepsWhatWasVerified) {
  TempDir dir;
  TestPack pack = MakePack(dir.path(), 6);
  std::string served = pack.bytes;
  served[pack.entries[3].offset + 5] ^= 1;  // chunk 3 is damaged on the way

  FakeRegistry reg;
  reg.server().Get(R"(/v1/packs/(.*))", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(served, "application/octet-stream");  // httplib answers Range requests with 206
  });
  std::vector<RemoteChunk> chunks;
  for (const format::PackEntry& e : pack.entries) {
    chunks.push_back(RemoteChunk{e.digest, pack.digest, e.offset, e.stored_len, e.raw_len, e.codec, e.crc32c});
  }
  // One chunk per range, one connection: ranges 0-2 arrive before the bad one.
  std::vector<PackRange> ranges = CoalesceRanges(chunks, 0, 1);
  ASSERT_EQ(ranges.size(), 6u);

  Result<std::unique_ptr<store::Store>> st = store::Store::Open(dir / "store");
  ASSERT_OK(st);
  FetchStats stats;
  Status s = FetchRanges(reg.endpoint(), st->get(), chunks, ranges, 1, nullptr,
                         [](const Digest&) { return std::string("file weights.bin"); }, &stats);
  ASSERT_EQ(s.code(), StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find(pack.entries[3].digest.ToString()), std::string_view::npos) << s;
  EXPECT_NE(s.message().find("weights.bin"), std::string_view::npos) << s;
  EXPECT_EQ(stats.chunks, 3u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ((*st)->HasChunk(pack.entries[i].digest), i < 3) << i;

  // Repaired: a second fetch of what is still missing completes the set.
  served = pack.bytes;
  std::vector<RemoteChunk> rest(chunks.begin() + 3, chunks.end());
  FetchStats stats2;
  ASSERT_OK(FetchRanges(reg.endpoint(), st->get(), rest, CoalesceRanges(rest), 2, nullptr,
                        [](const Digest&) { return std::string(); }, &stats2));
  EXPECT_EQ(stats2.chunks, 3u);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE((*st)->HasChunk(pack.entries[i].digest)) << i;
}

TEST(FetchTest, RangeIgnoredIsAnError) {
  FakeRegistry reg;
  reg.server().Get(R"(/v1/packs/(.*))", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_header("Content-Type", "application/octet-stream");
    res.body = std::string(100, 'x');
  });
  Remote remote(reg.endpoint(), kFastRetry);
  std::string out;
  Status s = remote.GetPackRange(Digest(), 16, 10, &out);
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace arca::client
