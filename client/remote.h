// A typed client of the registry HTTP API (docs/API.md).
//
// One Remote holds one HTTP connection (kept alive between requests) and is
// not thread-safe: parallel transfers give each worker its own Remote built
// from the same Endpoint (see ForEachOnConnections).
//
// Every request is retried with exponential backoff and jitter on connection
// errors and on 5xx answers; never on 4xx. The registry's JSON errors become
// a Status carrying its message ("registry localhost:5000 said: ..."); 401
// and 403 say how to log in. Nothing the registry sends is trusted: objects
// are hashed against the digest they were asked for, bodies are bounded, and
// chunk locations are left for the caller to verify.
#ifndef ARCA_CLIENT_REMOTE_H_
#define ARCA_CLIENT_REMOTE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client/reference.h"
#include "common/digest.h"
#include "common/result.h"

namespace httplib {
class Client;
}

namespace arca::client {

// How to reach a registry: address, token, TLS trust.
struct Endpoint {
  Registry registry;
  std::string token;    // empty: send none
  std::string ca_cert;  // PEM file of trusted CAs (ARCA_CA_CERT); empty: the system's
  int timeout_seconds = 0;  // connect and idle-read timeout; 0: 10 s to connect, 120 s to read
};

// The endpoint for `registry` with the token from ARCA_TOKEN or the
// credentials file and the CA file from ARCA_CA_CERT.
Result<Endpoint> EndpointFor(const Registry& registry);

struct RetryPolicy {
  int attempts = 5;
  std::chrono::milliseconds initial_delay{200};
  std::chrono::milliseconds max_delay{5000};
};

struct PingInfo {
  int api = 0;
  bool anonymous_pull = false;
};

// A chunk's place in a registry pack, as `locate` reports it (unverified).
struct RemoteChunk {
  Digest digest;
  Digest pack;
  uint64_t offset = 0;
  uint32_t stored = 0;
  uint32_t raw = 0;
  uint8_t codec = 0;
  uint32_t crc32c = 0;
};

struct LocateResult {
  std::vector<RemoteChunk> chunks;  // in request order, without the missing
  std::vector<Digest> missing;
};

struct PackUploadResult {
  std::optional<Digest> pack;  // as stored; none when every chunk was already held
  uint64_t chunks = 0, new_chunks = 0, stored_bytes = 0;
};

struct TagInfo {
  std::string tag;
  Digest digest;
};

struct RepositoryInfo {
  std::string name;
  uint64_t tags = 0;
};

// Reports transfer progress in bytes; negative when a failed attempt's bytes
// are taken back before a retry. Called from the thread doing the transfer.
using ByteCounter = std::function<void(int64_t delta)>;

class Remote {
 public:
  explicit Remote(Endpoint endpoint, RetryPolicy retry = {});
  ~Remote();
  Remote(const Remote&) = delete;
  Remote& operator=(const Remote&) = delete;

  const Endpoint& endpoint() const { return endpoint_; }

  Result<PingInfo> Ping();
  // The subset of `digests` the registry lacks, in order. Any count: sent in
  // batches of at most 65 536.
  Result<std::vector<Digest>> Missing(std::span<const Digest> digests);
  Result<LocateResult> Locate(std::span<const Digest> digests);
  // Reads bytes [offset, offset + length) of a registry pack into *out.
  Status GetPackRange(const Digest& pack, uint64_t offset, uint64_t length, std::string* out,
                      const ByteCounter& progress = nullptr);
  // Whether this endpoint may upload packs: an empty upload that the
  // registry refuses as an invalid pack once it has accepted the token.
  // UNAUTHENTICATED or PERMISSION_DENIED (with the registry's message)
  // otherwise. A registry answers a refused token before reading a body, so
  // asking first gives its message rather than a broken connection halfway
  // through a 64 MiB upload.
  Status CheckCanUpload();
  // Uploads the pack file at `path`, streaming it from disk.
  Result<PackUploadResult> UploadPack(const std::string& path, const ByteCounter& progress = nullptr);
  // PUTs an object; `kind` is "file-index" or "manifest". True if it was new.
  Result<bool> PutObject(const Digest& digest, std::string_view kind, std::string_view bytes);
  // GETs an object of at most `max_bytes` and checks that it hashes to `digest`.
  Result<std::string> GetObject(const Digest& digest, uint64_t max_bytes);
  Result<Digest> GetTag(const std::string& repository, const std::string& tag);
  // Sets the tag; returns what it pointed to before, if anything.
  Result<std::optional<Digest>> PutTag(const std::string& repository, const std::string& tag, const Digest& digest);
  // Deletes the tag; returns what it pointed to.
  Result<Digest> DeleteTag(const std::string& repository, const std::string& tag);
  Result<std::vector<TagInfo>> ListTags(const std::string& repository);
  // `ns` and `query` may be empty (no filter).
  Result<std::vector<RepositoryInfo>> ListRepositories(const std::string& ns, const std::string& query);
  // Attaches a DSSE envelope to the bundle `bundle` (docs/API.md); returns
  // the envelope's digest as the registry stored it, checked against ours.
  Result<Digest> PutAttestation(const Digest& bundle, std::string_view envelope);
  // The bundle's attestations, verbatim, each checked against the digest the
  // registry lists it under; at most store::kMaxAttestationsPerSubject of at
  // most store::kMaxAttestationBytes each. No signature is checked here.
  Result<std::vector<std::string>> GetAttestations(const Digest& bundle);

  // --- the transparency log (docs/API.md); nothing here is verified ---
  // The latest signed checkpoint note; NOT_FOUND when the registry has no log.
  Result<std::string> GetCheckpoint();
  // The entry at `index` (raw bytes) with the tag's sequence for tag lookups.
  struct LogLookup {
    uint64_t index = 0;
    uint64_t sequence = 0;
    std::string entry;
  };
  Result<LogLookup> GetLogBundle(const Digest& bundle);
  Result<LogLookup> GetLogTag(const std::string& repository, const std::string& tag);
  Result<std::vector<Digest>> GetInclusionProof(uint64_t index, uint64_t size);
  Result<std::vector<Digest>> GetConsistencyProof(uint64_t from, uint64_t to);
  // Records a key event (docs/API.md POST /v1/log/keys); returns the answer body.
  Result<std::string> PostLogKey(const std::string& body);
  // Entries from `start`, at most 1000 (fewer at the end of the log).
  Result<std::vector<std::string>> GetLogEntries(uint64_t start, uint64_t end);

 private:
  struct Response;
  // One attempt of a request; sets *retry when the failure is transient.
  using Attempt = std::function<Status(Response*, bool* retry)>;
  Status WithRetries(std::string_view what, const Attempt& attempt, Response* out);
  // `max_answer` bounds a successful answer's body (default kMaxJsonAnswer).
  Status Call(std::string_view method, const std::string& path, const std::string& body, Response* out,
              std::initializer_list<int> ok_statuses = {200}, uint64_t max_answer = 0);
  httplib::Client& client();
  void ResetClient();

  Endpoint endpoint_;
  RetryPolicy retry_;
  std::unique_ptr<httplib::Client> client_;
};

// Turns an error answer into a Status: the registry's message (from the JSON
// body {"error": {"code", "message"}} when there is one), with advice for
// 401/403. `retry` tells whether the failure is worth retrying (5xx).
Status StatusFromHttp(int http_status, std::string_view body, const Registry& registry, bool* retry);

// Runs fn(remote, worker, item) for every item in [0, n) on up to `jobs`
// threads, each with its own Remote (its own connection). Stops handing out
// items after the first failure and returns that failure.
Status ForEachOnConnections(const Endpoint& endpoint, int jobs, size_t n,
                            const std::function<Status(Remote&, int worker, size_t item)>& fn);

}  // namespace arca::client

#endif  // ARCA_CLIENT_REMOTE_H_
