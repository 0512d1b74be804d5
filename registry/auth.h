// Bearer tokens and what they allow (docs/API.md "Authentication and scopes").
//
// A token is "arca_" followed by 43 characters of unpadded base64url (32
// random bytes). The registry never stores a token, only its SHA-256, in
// DIR/tokens.json (mode 0600, replaced atomically):
//
//   {"tokens": [{"id": "1a2b3c4d", "sha256": "<64 hex>", "namespace": "acme",
//                "scope": "push", "created": "2026-01-02T03:04:05Z"}]}
//
// `id` is the first 8 hex characters of the hash: enough to name a token in
// `token list` and in logs, useless for guessing it.
#ifndef ARCA_REGISTRY_AUTH_H_
#define ARCA_REGISTRY_AUTH_H_

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace arca::registry {

// Ordered: each scope allows everything the ones before it allow.
enum class Scope : uint8_t { kPull = 1, kPush = 2, kAdmin = 3 };

std::string_view ScopeName(Scope s);  // "pull", "push", "admin"
Result<Scope> ParseScope(std::string_view name);

// A token's namespace: one bundle-name component ("acme") or "*" for all.
Status ValidateTokenNamespace(std::string_view ns);

struct TokenInfo {
  std::string id;                   // first 8 hex of sha256
  std::array<uint8_t, 32> sha256{};  // of the whole token text
  std::string ns;
  Scope scope = Scope::kPull;
  std::string created;  // RFC 3339 UTC
};

// Creates a token for `ns` with `scope`, adds its hash to the file at `path`
// (created if missing, mode 0600) and returns the token text, which exists
// nowhere else afterwards. Safe against a concurrent `token create`: the
// read-modify-write holds an flock on "<path>.lock".
Result<std::string> CreateToken(const std::string& path, std::string_view ns, Scope scope,
                                TokenInfo* info = nullptr);

// Reads the token file; a missing file is an empty list.
Result<std::vector<TokenInfo>> ReadTokenFile(const std::string& path);

// What a request needs: a scope, and for tag writes the namespace written to.
struct Access {
  Scope scope = Scope::kPull;
  std::string_view ns;  // empty: any namespace will do (reads, uploads)
};

// The server's view of the token file: looks up presented tokens, re-reading
// the file whenever its inode, size or mtime changes (a stat per lookup), so
// that new and revoked tokens take effect without a restart. Thread-safe.
class TokenStore {
 public:
  explicit TokenStore(std::string path) : path_(std::move(path)) {}

  // The token matching `token`, or nullopt if none does. Hashes are compared
  // in constant time. An unreadable or malformed file is an error (the
  // server then refuses every token rather than trust a stale list).
  Result<std::optional<TokenInfo>> Find(std::string_view token);

 private:
  Status ReloadIfChanged();  // requires mu_

  std::string path_;
  std::mutex mu_;
  std::vector<TokenInfo> tokens_;
  bool loaded_ = false;
  ino_t inode_ = 0;
  off_t size_ = -1;
  timespec mtime_{};
};

// Decides whether a request may go ahead. `token` is the token that was
// presented and found (nullptr if none was sent). Reads need a token unless
// `anonymous_pull`. UNAUTHENTICATED when a token is needed and absent;
// PERMISSION_DENIED when its scope or namespace falls short.
Status CheckAccess(const TokenInfo* token, const Access& need, bool anonymous_pull);

// The token in an "Authorization: Bearer <token>" header value, or
// INVALID_ARGUMENT for any other form.
Result<std::string_view> ParseBearer(std::string_view header);

}  // namespace arca::registry

#endif  // ARCA_REGISTRY_AUTH_H_
