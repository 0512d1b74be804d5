#include "registry/auth.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/file.h"
#include "format/manifest.h"

namespace arca::registry {
namespace {

constexpr std::string_view kTokenPrefix = "arca_";
constexpr size_t kTokenRandomBytes = 32;
constexpr size_t kTokenTextSize = 5 + 43;   // prefix + unpadded base64url of 32 bytes
constexpr uint64_t kMaxTokenFile = 16 << 20;

std::array<uint8_t, 32> HashToken(std::string_view token) {
  Digest d = Sha256Of(token);
  return d.bytes;
}

std::string NowRfc3339() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<std::vector<TokenInfo>> ParseTokenFile(std::string_view text, const std::string& path) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto bad = [&](const std::string& why) { return InvalidArgumentError(path + ": " + why); };
  if (j.is_discarded() || !j.is_object() || !j.contains("tokens") || !j["tokens"].is_array()) {
    return bad("not a token file (expected {\"tokens\": [...]})");
  }
  std::vector<TokenInfo> out;
  for (const nlohmann::json& t : j["tokens"]) {
    if (!t.is_object()) return bad("a token entry is not an object");
    for (const char* key : {"id", "sha256", "namespace", "scope", "created"}) {
      if (!t.contains(key) || !t[key].is_string()) return bad(std::string("a token entry lacks \"") + key + "\"");
    }
    TokenInfo info;
    info.id = t["id"].get<std::string>();
    info.ns = t["namespace"].get<std::string>();
    info.created = t["created"].get<std::string>();
    if (!HexDecode(t["sha256"].get<std::string>(), info.sha256)) return bad("token " + info.id + ": bad sha256");
    Result<Scope> scope = ParseScope(t["scope"].get<std::string>());
    if (!scope.ok()) return bad("token " + info.id + ": " + std::string(scope.status().message()));
    info.scope = *scope;
    Status ns = ValidateTokenNamespace(info.ns);
    if (!ns.ok()) return bad("token " + info.id + ": " + std::string(ns.message()));
    out.push_back(std::move(info));
  }
  return out;
}

std::string EncodeTokenFile(const std::vector<TokenInfo>& tokens) {
  nlohmann::json list = nlohmann::json::array();
  for (const TokenInfo& t : tokens) {
    list.push_back({{"id", t.id},
                    {"sha256", HexEncode(t.sha256)},
                    {"namespace", t.ns},
                    {"scope", ScopeName(t.scope)},
                    {"created", t.created}});
  }
  return nlohmann::json{{"tokens", list}}.dump(2) + "\n";
}

// An exclusive flock held for the life of the object.
class FileLock {
 public:
  static Result<FileLock> Acquire(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoToStatus(errno, "open " + path);
    FileLock lock(fd);
    if (::flock(fd, LOCK_EX) != 0) return ErrnoToStatus(errno, "lock " + path);
    return lock;
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  UniqueFd fd_;  // closing it releases the lock
};

}  // namespace

std::string_view ScopeName(Scope s) {
  switch (s) {
    case Scope::kPull: return "pull";
    case Scope::kPush: return "push";
    case Scope::kAdmin: return "admin";
  }
  return "?";
}

Result<Scope> ParseScope(std::string_view name) {
  if (name == "pull") return Scope::kPull;
  if (name == "push") return Scope::kPush;
  if (name == "admin") return Scope::kAdmin;
  return InvalidArgumentError("scope must be pull, push or admin, not \"" + std::string(name) + "\"");
}

Status ValidateTokenNamespace(std::string_view ns) {
  if (ns == "*") return Status::Ok();
  if (ns.find('/') != std::string_view::npos || !format::ValidateBundleName(ns).ok()) {
    return InvalidArgumentError("namespace \"" + std::string(ns) +
                                "\" must be \"*\" or one name component such as \"acme\"");
  }
  return Status::Ok();
}

Result<std::string> CreateToken(const std::string& path, std::string_view ns, Scope scope, TokenInfo* info) {
  ARCA_RETURN_IF_ERROR(ValidateTokenNamespace(ns));
  if (sodium_init() < 0) return InternalError("libsodium failed to initialise");
  uint8_t random[kTokenRandomBytes];
  randombytes_buf(random, sizeof random);
  char b64[64];
  sodium_bin2base64(b64, sizeof b64, random, sizeof random, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(random, sizeof random);
  std::string token = std::string(kTokenPrefix) + b64;
  sodium_memzero(b64, sizeof b64);

  TokenInfo t;
  t.sha256 = HashToken(token);
  t.id = HexEncode(t.sha256).substr(0, 8);
  t.ns = std::string(ns);
  t.scope = scope;
  t.created = NowRfc3339();

  ARCA_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(path + ".lock"));
  ARCA_ASSIGN_OR_RETURN(std::vector<TokenInfo> tokens, ReadTokenFile(path));
  tokens.push_back(t);
  ARCA_RETURN_IF_ERROR(WriteFileAtomic(path, EncodeTokenFile(tokens), 0600));
  if (info) *info = t;
  return token;
}

Result<std::vector<TokenInfo>> ReadTokenFile(const std::string& path) {
  Result<std::string> text = ReadFile(path, kMaxTokenFile);
  if (!text.ok() && text.status().code() == StatusCode::kNotFound) return std::vector<TokenInfo>{};
  if (!text.ok()) return text.status();
  return ParseTokenFile(*text, path);
}

Result<std::optional<TokenInfo>> TokenStore::Find(std::string_view token) {
  // Hash outside the lock; only the list needs it.
  std::array<uint8_t, 32> want = HashToken(token);
  std::lock_guard<std::mutex> lock(mu_);
  ARCA_RETURN_IF_ERROR(ReloadIfChanged());
  std::optional<TokenInfo> found;
  // Compare against every entry in constant time, so that timing reveals
  // neither how much of a hash matched nor (much) where a match was.
  for (const TokenInfo& t : tokens_) {
    if (sodium_memcmp(t.sha256.data(), want.data(), want.size()) == 0 && !found) found = t;
  }
  return found;
}

Status TokenStore::ReloadIfChanged() {
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) {
    if (errno != ENOENT) return ErrnoToStatus(errno, "stat " + path_);
    // No file: no tokens.
    tokens_.clear();
    loaded_ = true;
    inode_ = 0;
    size_ = -1;
    return Status::Ok();
  }
  bool same = loaded_ && st.st_ino == inode_ && st.st_size == size_ && st.st_mtim.tv_sec == mtime_.tv_sec &&
              st.st_mtim.tv_nsec == mtime_.tv_nsec;
  if (same) return Status::Ok();
  Result<std::vector<TokenInfo>> tokens = ReadTokenFile(path_);
  if (!tokens.ok()) {
    // Fail closed: a stale list could still hold a revoked token.
    tokens_.clear();
    loaded_ = false;
    return tokens.status();
  }
  tokens_ = std::move(*tokens);
  loaded_ = true;
  inode_ = st.st_ino;
  size_ = st.st_size;
  mtime_ = st.st_mtim;
  return Status::Ok();
}

Status CheckAccess(const TokenInfo* token, const Access& need, bool anonymous_pull) {
  if (!token) {
    if (need.scope == Scope::kPull && anonymous_pull) return Status::Ok();
    return UnauthenticatedError("this needs a token (Authorization: Bearer arca_...)");
  }
  if (token->scope < need.scope) {
    return PermissionDeniedError("token " + token->id + " has scope " + std::string(ScopeName(token->scope)) +
                                 "; this needs " + std::string(ScopeName(need.scope)));
  }
  if (!need.ns.empty() && token->ns != "*" && token->ns != need.ns) {
    return PermissionDeniedError("token " + token->id + " is for namespace " + token->ns + ", not " +
                                 std::string(need.ns));
  }
  return Status::Ok();
}

Result<std::string_view> ParseBearer(std::string_view header) {
  constexpr std::string_view kBearer = "Bearer ";
  if (header.substr(0, kBearer.size()) != kBearer) {
    return InvalidArgumentError("the Authorization header must be \"Bearer <token>\"");
  }
  std::string_view token = header.substr(kBearer.size());
  if (token.size() != kTokenTextSize || token.substr(0, kTokenPrefix.size()) != kTokenPrefix) {
    return InvalidArgumentError("that is not an arca token");
  }
  return token;
}

}  // namespace arca::registry
