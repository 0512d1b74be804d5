// The registry's HTTP server: every endpoint of docs/API.md over a
// store::Store, with bearer-token auth (registry/auth.h).
//
// A data directory holds the store in DIR/store/ and the token hashes in
// DIR/tokens.json. Requests run on a pool of `threads` threads; the store is
// thread-safe, and the few read-modify-write steps of the API (moving or
// deleting a tag and reporting what it pointed to) are serialised here.
//
// Usage: Create (opens, binds) -> port() -> Run (blocks) ... Stop from any
// thread. Nothing a client sends is trusted: sizes are checked before bodies
// are read, names and digests are validated before they reach the store, and
// error bodies never carry internal details (those go to stderr, tagged with
// the request id that the response carries in "Arca-Request-Id").
#ifndef ARCA_REGISTRY_SERVER_H_
#define ARCA_REGISTRY_SERVER_H_

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/result.h"
#include "registry/auth.h"
#include "registry/errors.h"
#include "registry/log.h"
#include "store/store.h"

namespace arca::registry {

// docs/API.md "Limits". Tests lower them.
struct Limits {
  uint64_t pack_bytes = 256ull << 20;
  uint64_t object_bytes = 64ull << 20;
  uint64_t manifest_bytes = 16ull << 20;
  uint64_t json_bytes = 16ull << 20;
  uint64_t attestation_bytes = 1ull << 20;  // never above store::kMaxAttestationBytes
  size_t digests_per_request = 65536;
  size_t ranges_per_request = 64;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;                // 0: any free port; port() tells which
  int threads = 16;            // requests served at once
  bool anonymous_pull = false; // reads need no token
  std::string tls_cert;        // PEM files: both set for HTTPS, neither for HTTP
  std::string tls_key;
  std::string log_origin;      // a new log's origin line (empty: derived from its key)
  bool listen = true;          // false: open the data directory only, for local writers (no HTTP; Run fails)
  Limits limits;
};

class Server {
 public:
  // Opens (creating if needed) DIR/store, and binds the listening socket.
  static Result<std::unique_ptr<Server>> Create(const std::string& data_dir, const ServerOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const { return port_; }
  bool tls() const { return !options_.tls_cert.empty(); }

  // Serves until Stop(). Returns once in-flight requests have finished.
  Status Run();
  // Makes Run() return. Callable from any thread, at any time, repeatedly;
  // a Stop() before Run() makes Run() return at once.
  void Stop();

  // The store being served (for tests and maintenance in the same process).
  store::Store& store() { return *store_; }
  // The transparency log (signing/LOG.md), in DATA/log/.
  TransparencyLog& log() { return *log_; }
  const std::string& data_dir() const { return data_dir_; }

  // --- writing as the registry does for the API, for writers inside the
  // process (the mirror, import): the same checks, locks and log entries ---
  // Moves tag repository:tag to the bundle `d`, which must be complete in
  // the store (FAILED_PRECONDITION otherwise), and logs the move (a publish
  // entry first if the bundle was never logged). Returns what the tag named
  // before. If the log cannot take it, the tag is put back.
  Result<std::optional<Digest>> SetTag(const std::string& repository, const std::string& tag, const Digest& d);
  // Deletes the tag and logs it; NOT_FOUND if there is none. Returns what it named.
  Result<Digest> DeleteTag(const std::string& repository, const std::string& tag);
  // Checks `envelope` as PUT /v1/attestations does (INVALID_ARGUMENT), stores
  // it under `bundle` and logs it when new. True if it was new.
  Result<bool> AttachAttestation(const Digest& bundle, std::string_view envelope);
  // Appends `entries` to the log (used for mirror entries, type 5).
  Status AppendLog(const std::vector<signing::LogEntry>& entries) { return LogEvents(entries); }

 private:
  using Request = httplib::Request;
  using Response = httplib::Response;
  using ContentReader = httplib::ContentReader;

  Server(std::string data_dir, ServerOptions options, std::unique_ptr<store::Store> store);
  void InstallRoutes();
  void InstallHandlers();

  // --- shared steps (server.cc) ---
  // The token check for `need`; on failure the error response is written and
  // false returned.
  bool Authorize(const Request& req, Response& res, const Access& need);
  // Writes `body` as JSON with `status`.
  void ReplyJson(Response& res, int status, const std::string& body);
  // Writes the error response (and logs a 5xx's detail with a request id).
  void ReplyError(const Request& req, Response& res, const ApiError& e);
  // Checks Content-Length (411 if absent, 413 over `limit`) and reads the
  // whole body; nullopt after writing the error response.
  std::optional<std::string> ReadBody(const Request& req, Response& res, const ContentReader& reader,
                                      uint64_t limit);
  // Removes the data directory's path from a message meant for a client.
  std::string Scrub(std::string message) const;

  // --- endpoints: chunks, packs, objects (blob_routes.cc) ---
  void HandleChunksQuery(const Request& req, Response& res, const ContentReader& reader, bool locate);
  void HandleGetPack(const Request& req, Response& res);
  void HandleUploadPack(const Request& req, Response& res, const ContentReader& reader);
  void HandlePutObject(const Request& req, Response& res, const ContentReader& reader);
  void HandleGetObject(const Request& req, Response& res);

  // --- endpoints: attestations (attestation_routes.cc) ---
  void HandlePutAttestation(const Request& req, Response& res, const ContentReader& reader);
  void HandleGetAttestations(const Request& req, Response& res);

  // --- the transparency log (log_routes.cc) ---
  // Appends `entries` to the log. A failure is logged with its detail and
  // returned; the caller answers 500.
  Status LogEvents(const std::vector<signing::LogEntry>& entries);
  // At start: appends the entries a crash may have kept out of the log (a
  // tag set or moved in the store whose log entry was never written).
  Status ReconcileLog();
  // The entries for tag repository:tag now at `digest`: the bundle's publish
  // entry first if it has none yet (with the key ids its attestations name),
  // then the tag entry (its sequence number is given by the log).
  std::vector<signing::LogEntry> PublishAndTagEntries(const std::string& repository, const std::string& tag,
                                                      const Digest& digest, const std::optional<Digest>& previous);
  void HandleLogCheckpoint(const Request& req, Response& res);
  void HandleLogEntries(const Request& req, Response& res);
  void HandleLogInclusion(const Request& req, Response& res);
  void HandleLogConsistency(const Request& req, Response& res);
  void HandleLogBundle(const Request& req, Response& res);
  void HandleLogTag(const Request& req, Response& res);
  void HandleLogKey(const Request& req, Response& res, const ContentReader& reader);

  // --- endpoints: tags and repositories (tag_routes.cc) ---
  void HandleGetTag(const Request& req, Response& res);
  void HandlePutTag(const Request& req, Response& res, const ContentReader& reader);
  void HandleDeleteTag(const Request& req, Response& res, const ContentReader& reader);
  void HandleListRepository(const Request& req, Response& res);
  void HandleRepositories(const Request& req, Response& res);

  const std::string data_dir_;
  const ServerOptions options_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<TransparencyLog> log_;
  TokenStore tokens_;
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;
  std::mutex tag_mu_;  // makes "read old tag, write new" one step
  std::atomic<uint64_t> next_request_id_{1};
  std::atomic<bool> stop_requested_{false}, run_started_{false}, run_finished_{false};
};

}  // namespace arca::registry

#endif  // ARCA_REGISTRY_SERVER_H_
