// The registry client against the real registry server, run in this process
// on loopback (registry/test_server.h): error mapping from the server's own
// JSON errors, retries of 5xx answers and of refused connections (and no
// retries of 4xx), bearer tokens over IPv6, streamed pack uploads, object
// size limits, and a fetch that meets a chunk damaged on the registry's disk.
//
// The server is honest, so two checks of a hostile registry are not made
// here: an object whose bytes do not hash to its digest (the registry's
// store verifies every object it serves) and a pack answer that ignores the
// Range header (the registry always honours it on packs).
#include "client/remote.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "client/fetch.h"
#include "common/file.h"
#include "common/testing.h"
#include "format/codec.h"
#include "format/pack.h"
#include "registry/server.h"
#include "registry/test_server.h"
#include "store/store.h"

namespace arca::client {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const RetryPolicy kFastRetry{5, std::chrono::milliseconds(1), std::chrono::milliseconds(4)};
// A retry under this policy waits at least a second, so a call that fails in
// less made exactly one attempt.
const RetryPolicy kSlowRetry{5, std::chrono::milliseconds(2000), std::chrono::milliseconds(2000)};
// Many quick retries: a window of about a second for the server to recover.
const RetryPolicy kPatientRetry{400, std::chrono::milliseconds(2), std::chrono::milliseconds(5)};

// A real registry::Server over a temp data dir, with tokens (admin_, push_
// and pull_ for namespace "acme"); no anonymous pull unless asked.
class RemoteTest : public registry::testing::RegistryTest {
 protected:
  // Like StartServer(), on `host` and `port` (0: any free one). Not an
  // assertion: a host without IPv6 skips rather than fails.
  Status StartOn(const std::string& host, int port) {
    registry::ServerOptions o;
    o.host = host;
    o.port = port;
    o.threads = 8;
    o.limits = TestLimits();
    Result<std::unique_ptr<registry::Server>> s = registry::Server::Create(tmp_ / "data", o);
    if (!s.ok()) return s.status();
    server_ = std::move(*s);
    thread_ = std::thread([this] { EXPECT_OK(server_->Run()); });
    if (host == "127.0.0.1") cli_ = NewClient();
    return Status::Ok();
  }

  Endpoint At(const std::string& token, const std::string& host = "127.0.0.1") const {
    return Endpoint{Registry{"http", host, uint16_t(server_->port())}, token, ""};
  }

  std::string Address() const { return "127.0.0.1:" + std::to_string(server_->port()); }

  // Uploads `pack` through the client with the push token; the pack's name.
  Digest Upload(const std::string& pack) {
    const std::string path = tmp_ / ("upload-" + std::to_string(uploads_++) + ".pack");
    EXPECT_OK(WriteFileAtomic(path, pack));
    Remote remote(At(push_), kFastRetry);
    Result<PackUploadResult> r = remote.UploadPack(path);
    EXPECT_OK(r);
    if (!r.ok() || !r->pack) return Digest{};
    return *r->pack;
  }

  // The server answers 500 for a pack whose file no longer matches its
  // record (HandleGetPack): what a registry with a damaged disk does, and the
  // one easy way to get a 5xx from a real server. Every 5xx carries the next
  // Arca-Request-Id, so the ids of two probes tell how many 5xx the server
  // gave in between.
  uint64_t ProbeServerError(const Digest& pack) {
    httplib::Result r = NewClient()->Get("/v1/packs/" + pack.ToString(), Bearer(pull_));
    if (!r || r->status != 500 || !r->has_header("Arca-Request-Id")) {
      ADD_FAILURE() << "expected a 500 with a request id, got " << (r ? std::to_string(r->status) : "no answer");
      return 0;
    }
    return std::stoull(r->get_header_value("Arca-Request-Id"));
  }

  int uploads_ = 0;
};

using FetchTest = RemoteTest;

TEST(StatusFromHttpTest, MapsStatusesAndAdvice) {
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

// 401, 403, 404, 409 and 400 as the server sends them, each after a single
// attempt.
TEST_F(RemoteTest, MapsTheRegistrysErrorsWithoutRetrying) {
  StartServer();
  const Digest absent = Sha256Of(std::string_view("absent"));
  const auto start = Clock::now();

  Status s = Remote(At(""), kSlowRetry).GetTag("acme/llama", "v1").status();
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s;
  EXPECT_NE(s.message().find("registry " + Address() + " said: "), std::string_view::npos) << s;
  EXPECT_NE(s.message().find("[unauthorized]"), std::string_view::npos) << s;
  EXPECT_NE(s.message().find("arca login " + Address()), std::string_view::npos) << s;
  s = Remote(At("not-a-token"), kSlowRetry).GetTag("acme/llama", "v1").status();
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s;
  EXPECT_NE(s.message().find("not an arca token"), std::string_view::npos) << s;
  Result<std::string> stranger = registry::CreateToken(tmp_ / "other-tokens.json", "acme", registry::Scope::kPull);
  ASSERT_OK(stranger);
  s = Remote(At(*stranger), kSlowRetry).GetTag("acme/llama", "v1").status();
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s;
  EXPECT_NE(s.message().find("unknown token"), std::string_view::npos) << s;

  Remote puller(At(pull_), kSlowRetry);
  Remote pusher(At(push_), kSlowRetry);
  s = puller.PutTag("acme/llama", "v1", absent).status();  // a pull token cannot write
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s;
  EXPECT_NE(s.message().find("[denied]"), std::string_view::npos) << s;
  EXPECT_NE(s.message().find("arca login " + Address()), std::string_view::npos) << s;
  s = pusher.PutTag("other/llama", "v1", absent).status();  // nor an acme token elsewhere
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s;

  s = puller.GetTag("acme/llama", "v9").status();
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s;
  EXPECT_NE(s.message().find("registry " + Address() + " said: tag acme/llama:v9 does not exist [not_found]"),
            std::string_view::npos)
      << s;

  s = pusher.PutTag("acme/llama", "v1", absent).status();  // a tag only names a held bundle
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("[missing_objects]"), std::string_view::npos) << s;
  EXPECT_NE(s.message().find("1 missing, e.g. " + absent.ToString()), std::string_view::npos) << s;

  s = pusher.PutObject(Sha256Of(std::string_view("x")), "bogus", "x").status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  s = pusher.PutObject(Sha256Of(std::string_view("x")), "manifest", "y").status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("[digest_mismatch]"), std::string_view::npos) << s;

  EXPECT_LT(Clock::now() - start, 1s) << "a 4xx answer was retried";
}

TEST_F(RemoteTest, RetriesServerErrorsUntilTheyPass) {
  StartServer();
  const std::string pack = MakePack({::arca::testing::RandomBytes(5000, 1), ::arca::testing::RandomBytes(5000, 2)});
  const Digest name = Upload(pack);
  ASSERT_EQ(name, registry::testing::PackName(pack));
  const std::string path = server_->store().PackPath(name);
  ASSERT_OK(WriteFileAtomic(path, pack.substr(0, pack.size() - 1)));  // every GET of it is now a 500
  uint64_t last = ProbeServerError(name);

  Remote remote(At(pull_), kPatientRetry);
  std::string got;
  Status s;
  std::thread client([&] { s = remote.GetPackRange(name, 0, 100, &got); });
  // Until the client has met a 500: a probe's id then skips the client's.
  for (const auto deadline = Clock::now() + 5s;;) {
    std::this_thread::sleep_for(1ms);
    uint64_t id = ProbeServerError(name);
    if (id > last + 1) break;
    last = id;
    if (id == 0 || Clock::now() > deadline) {
      ADD_FAILURE() << "the client never met a 500";
      break;
    }
  }
  EXPECT_OK(WriteFileAtomic(path, pack));  // repaired: the next attempt succeeds
  client.join();
  ASSERT_OK(s);
  EXPECT_EQ(got, pack.substr(0, 100));
}

TEST_F(RemoteTest, GivesUpAfterTheLastAttempt) {
  StartServer();
  const std::string pack = MakePack({::arca::testing::RandomBytes(5000, 3)});
  const Digest name = Upload(pack);
  ASSERT_OK(WriteFileAtomic(server_->store().PackPath(name), pack.substr(0, pack.size() - 1)));
  const uint64_t before = ProbeServerError(name);

  Remote remote(At(pull_), kFastRetry);
  std::string got;
  Status s = remote.GetPackRange(name, 0, 100, &got);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("internal error [internal]"), std::string_view::npos) << s;
  EXPECT_NE(s.message().find("gave up after 5 attempts"), std::string_view::npos) << s;
  EXPECT_EQ(ProbeServerError(name) - before - 1, 5u) << "5xx answers the client received";
}

TEST_F(RemoteTest, ConnectionErrorsAreRetriedUntilTheRegistryIsBack) {
  StartServer();
  // Answered once, so that it is serving: a Server stopped before its accept
  // loop starts keeps its listening socket open (httplib's stop() does
  // nothing until then), and the port would still accept connections.
  ASSERT_NO_FATAL_FAILURE(ExpectAlive());
  const int port = server_->port();
  const Endpoint ep = At(pull_);
  StopServer();  // nothing listens on the port now

  Status s = Remote(ep, RetryPolicy{2, std::chrono::milliseconds(1), std::chrono::milliseconds(1)}).Ping().status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("cannot connect"), std::string_view::npos) << s;
  EXPECT_NE(s.message().find("gave up after 2 attempts"), std::string_view::npos) << s;

  // The same server comes back on the same port while the client retries
  // (a few refused connections, then the registry answers).
  Remote remote(ep, RetryPolicy{100, std::chrono::milliseconds(5), std::chrono::milliseconds(20)});
  Result<PingInfo> ping = UnknownError("not run");
  std::thread client([&] { ping = remote.Ping(); });
  std::this_thread::sleep_for(30ms);
  Status restarted = StartOn("127.0.0.1", port);
  client.join();
  ASSERT_OK(restarted);
  ASSERT_OK(ping);
  EXPECT_EQ(ping->api, 1);
  EXPECT_FALSE(ping->anonymous_pull);
}

TEST_F(RemoteTest, Ipv6AndBearerToken) {
  Status started = StartOn("::1", 0);
  if (!started.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << started;
  Endpoint ep = At("", "::1");
  EXPECT_EQ(ep.registry.Url().rfind("http://[::1]:", 0), 0u);
  EXPECT_EQ(Remote(ep, kFastRetry).GetTag("acme/llama", "v1").status().code(), StatusCode::kUnauthenticated);
  ep.token = pull_;
  Remote remote(ep, kFastRetry);
  ASSERT_OK(remote.Ping());
  // The token is accepted: the answer is about the tag, not about who asks.
  Status s = remote.GetTag("acme/llama", "v1").status();
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s;
}

TEST_F(RemoteTest, PushesABundleAndReadsItBack) {
  StartServer(/*anonymous_pull=*/true);
  store::AddResult added = AddBundle("acme/llama", 7);
  Remote pusher(At(push_), kFastRetry);
  Result<PingInfo> ping = pusher.Ping();
  ASSERT_OK(ping);
  EXPECT_EQ(ping->api, 1);
  EXPECT_TRUE(ping->anonymous_pull);
  ASSERT_OK(pusher.CheckCanUpload());
  EXPECT_EQ(Remote(At(pull_), kFastRetry).CheckCanUpload().code(), StatusCode::kPermissionDenied);

  for (const auto& e : std::filesystem::recursive_directory_iterator(tmp_ / "client/packs")) {
    if (e.is_regular_file()) ASSERT_OK(pusher.UploadPack(e.path().string()));
  }
  for (const format::ManifestFile& f : added.built.manifest.files) {
    Result<std::string> bytes = client_store_->GetObject(f.index, store::ObjectKind::kFileIndex);
    ASSERT_OK(bytes);
    ASSERT_OK(pusher.PutObject(f.index, "file-index", *bytes));
  }
  Result<bool> fresh = pusher.PutObject(added.bundle, "manifest", added.built.manifest_bytes);
  ASSERT_OK(fresh);
  EXPECT_TRUE(*fresh);
  fresh = pusher.PutObject(added.bundle, "manifest", added.built.manifest_bytes);
  ASSERT_OK(fresh);
  EXPECT_FALSE(*fresh);

  Remote reader(At(""), kFastRetry);  // anonymous
  Result<std::string> manifest = reader.GetObject(added.bundle, 1 << 20);
  ASSERT_OK(manifest);
  EXPECT_EQ(*manifest, added.built.manifest_bytes);
  EXPECT_EQ(reader.GetObject(added.bundle, 3).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(reader.GetObject(Sha256Of(std::string_view("other")), 100).status().code(), StatusCode::kNotFound);

  Result<std::optional<Digest>> previous = pusher.PutTag("acme/llama", "v1", added.bundle);
  ASSERT_OK(previous);
  EXPECT_FALSE(previous->has_value());
  Result<Digest> tag = reader.GetTag("acme/llama", "v1");
  ASSERT_OK(tag);
  EXPECT_EQ(*tag, added.bundle);
  Result<std::vector<TagInfo>> tags = reader.ListTags("acme/llama");
  ASSERT_OK(tags);
  ASSERT_EQ(tags->size(), 1u);
  EXPECT_EQ((*tags)[0].tag, "v1");
  Result<std::vector<RepositoryInfo>> repos = reader.ListRepositories("acme", "");
  ASSERT_OK(repos);
  ASSERT_EQ(repos->size(), 1u);
  EXPECT_EQ((*repos)[0].name, "acme/llama");
  EXPECT_EQ(pusher.DeleteTag("acme/llama", "v1").status().code(), StatusCode::kPermissionDenied);
  Result<Digest> deleted = Remote(At(admin_), kFastRetry).DeleteTag("acme/llama", "v1");
  ASSERT_OK(deleted);
  EXPECT_EQ(*deleted, added.bundle);
  EXPECT_EQ(reader.GetTag("acme/llama", "v1").status().code(), StatusCode::kNotFound);
}

TEST_F(RemoteTest, UploadPackStreamsTheFile) {
  StartServer();
  std::vector<std::string> chunks;
  // 3 MiB of the largest chunks: several of the client's 1 MiB upload blocks.
  for (int i = 0; i < 24; ++i) chunks.push_back(::arca::testing::RandomBytes(128 << 10, uint64_t(10 + i)));
  const std::string data = MakePack(chunks);
  ASSERT_OK(WriteFileAtomic(tmp_ / "p.pack", data));

  Remote remote(At(push_), kFastRetry);
  int64_t counted = 0;
  Result<PackUploadResult> r = remote.UploadPack(tmp_ / "p.pack", [&](int64_t d) { counted += d; });
  ASSERT_OK(r);
  EXPECT_EQ(counted, int64_t(data.size()));
  ASSERT_TRUE(r->pack.has_value());
  EXPECT_EQ(*r->pack, registry::testing::PackName(data));
  EXPECT_EQ(r->chunks, 24u);
  EXPECT_EQ(r->new_chunks, 24u);
  EXPECT_EQ(r->stored_bytes, data.size());
  // A pack of new chunks is kept as uploaded: every byte arrived.
  Result<std::string> stored = ReadFile(server_->store().PackPath(*r->pack), 1 << 30);
  ASSERT_OK(stored);
  EXPECT_TRUE(*stored == data);
  for (const std::string& c : chunks) EXPECT_TRUE(server_->store().HasChunk(Sha256Of(c)));

  // Again: nothing is new, nothing is kept.
  r = remote.UploadPack(tmp_ / "p.pack");
  ASSERT_OK(r);
  EXPECT_FALSE(r->pack.has_value());
  EXPECT_EQ(r->new_chunks, 0u);
}

// A pack with `n` chunks in the codecs EncodeChunk picks, and its index.
struct TestPack {
  std::string bytes;
  std::vector<format::PackEntry> entries;
};

TestPack MakeCodedPack(const std::string& dir, int n) {
  const std::string path = dir + "/coded.pack";
  Result<format::PackWriter> w = format::PackWriter::Create(path);
  EXPECT_OK(w);
  for (int i = 0; i < n; ++i) {
    std::string raw = ::arca::testing::RandomBytes(20000, uint64_t(i)) + std::string(20000, char(i));
    std::string stored;
    format::Codec codec = format::EncodeChunk(AsBytes(raw), &stored);
    EXPECT_OK(w->Add(Sha256Of(raw), codec, uint32_t(raw.size()), AsBytes(stored)));
  }
  TestPack p;
  p.entries = w->entries();
  EXPECT_OK(w->Finish());
  p.bytes = *ReadFile(path, 1 << 30);
  return p;
}

TEST_F(FetchTest, VerifiesEveryChunkAndKeepsWhatWasVerified) {
  StartServer();
  TestPack pack = MakeCodedPack(tmp_.path(), 6);
  const Digest name = Upload(pack.bytes);
  ASSERT_EQ(name, registry::testing::PackName(pack.bytes));

  // Where the registry says the chunks are, in pack order.
  std::vector<Digest> digests;
  for (const format::PackEntry& e : pack.entries) digests.push_back(e.digest);
  Result<LocateResult> located = Remote(At(pull_), kFastRetry).Locate(digests);
  ASSERT_OK(located);
  ASSERT_TRUE(located->missing.empty());
  std::vector<RemoteChunk> chunks = located->chunks;
  ASSERT_EQ(chunks.size(), 6u);
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].digest, digests[i]);
    EXPECT_EQ(chunks[i].pack, name);
  }

  // The registry's disk damages chunk 3 (same size: the server serves it).
  const std::string path = server_->store().PackPath(name);
  std::string damaged = pack.bytes;
  damaged[chunks[3].offset + 5] ^= 1;
  ASSERT_OK(WriteFileAtomic(path, damaged));

  // One chunk per range, one connection: ranges 0-2 arrive before the bad one.
  std::vector<PackRange> ranges = CoalesceRanges(chunks, 0, 1);
  ASSERT_EQ(ranges.size(), 6u);
  Result<std::unique_ptr<store::Store>> st = store::Store::Open(tmp_ / "fetched");
  ASSERT_OK(st);
  FetchStats stats;
  Status s = FetchRanges(At(pull_), st->get(), chunks, ranges, 1, nullptr,
                         [](const Digest&) { return std::string("file weights.bin"); }, &stats);
  ASSERT_EQ(s.code(), StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find(digests[3].ToString()), std::string_view::npos) << s;
  EXPECT_NE(s.message().find("weights.bin"), std::string_view::npos) << s;
  EXPECT_EQ(stats.chunks, 3u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ((*st)->HasChunk(digests[i]), i < 3) << i;

  // Repaired: a second fetch of what is still missing completes the set.
  ASSERT_OK(WriteFileAtomic(path, pack.bytes));
  std::vector<RemoteChunk> rest(chunks.begin() + 3, chunks.end());
  FetchStats stats2;
  ASSERT_OK(FetchRanges(At(pull_), st->get(), rest, CoalesceRanges(rest), 2, nullptr,
                        [](const Digest&) { return std::string(); }, &stats2));
  EXPECT_EQ(stats2.chunks, 3u);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE((*st)->HasChunk(digests[i])) << i;
}

TEST_F(FetchTest, RangeBeyondThePackIsOutOfRange) {
  StartServer();
  const std::string pack = MakePack({::arca::testing::RandomBytes(5000, 4)});
  const Digest name = Upload(pack);
  Remote remote(At(pull_), kSlowRetry);
  std::string out;
  Status s = remote.GetPackRange(name, pack.size(), 10, &out);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange) << s;
  s = remote.GetPackRange(Sha256Of(std::string_view("no such pack")), 0, 10, &out);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s;
}

}  // namespace
}  // namespace arca::client
