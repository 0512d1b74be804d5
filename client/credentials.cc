// Reading and writing the credentials file.
#include "client/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "common/file.h"

namespace arca::client {

using Json = nlohmann::json;

namespace {

constexpr uint64_t kMaxCredentialsBytes = 1 << 20;

// mkdir -p with mode 0700 for the directories it creates.
Status MakePrivateDirs(const std::string& dir) {
  std::string cur;
  size_t start = 0;
  while (start <= dir.size()) {
    size_t end = dir.find('/', start);
    if (end == std::string::npos) end = dir.size();
    cur = dir.substr(0, end);
    if (!cur.empty() && ::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoToStatus(errno, "create directory " + cur);
    }
    start = end + 1;
  }
  return Status::Ok();
}

}  // namespace

std::string DefaultCredentialsPath() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/arca/credentials.json";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.config/arca/credentials.json";
  return ".arca-credentials.json";
}

Status ValidateToken(std::string_view token) {
  if (token.empty()) return InvalidArgumentError("the token is empty");
  if (token.size() > 4096) return InvalidArgumentError("the token is longer than 4096 characters");
  for (char c : token) {
    if (c <= 0x20 || c >= 0x7f) {
      return InvalidArgumentError("the token contains a space or a non-printable character; paste it exactly as "
                                  "`arca-registry token create` printed it");
    }
  }
  return Status::Ok();
}

Result<Credentials> Credentials::Load(const std::string& path) {
  Credentials c;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return c;
    return ErrnoToStatus(errno, "open " + path);
  }
  UniqueFd owned(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoToStatus(errno, "stat " + path);
  if (!S_ISREG(st.st_mode)) return FailedPreconditionError(path + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", unsigned(st.st_mode & 0777));
    return PermissionDeniedError("credentials file " + path + " has mode " + mode +
                                 ", so other users may read your tokens; refusing to use it. Run `chmod 600 " +
                                 path + "` (and consider replacing the tokens)");
  }
  if (uint64_t(st.st_size) > kMaxCredentialsBytes) return ResourceExhaustedError(path + " is larger than 1 MiB");
  std::string bytes(size_t(st.st_size), '\0');
  ARCA_RETURN_IF_ERROR(PreadAll(fd, std::span<uint8_t>(reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()),
                                0, path));
  Json j = Json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  auto bad = [&] {
    return InvalidArgumentError(path + " is not a valid credentials file; fix it or remove it and `arca login` again");
  };
  if (!j.is_object()) return bad();
  auto regs = j.find("registries");
  if (regs == j.end()) return c;
  if (!regs->is_object()) return bad();
  for (const auto& [registry, entry] : regs->items()) {
    if (!entry.is_object() || !entry.contains("token") || !entry["token"].is_string()) return bad();
    c.tokens_[registry] = entry["token"].get<std::string>();
  }
  return c;
}

Status Credentials::Save(const std::string& path) const {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (!dir.empty()) ARCA_RETURN_IF_ERROR(MakePrivateDirs(dir));
  Json regs = Json::object();
  for (const auto& [registry, token] : tokens_) regs[registry] = Json{{"token", token}};
  std::string text = Json{{"registries", regs}}.dump(2) + "\n";
  return WriteFileAtomic(path, text, 0600);
}

std::optional<std::string> Credentials::Get(const std::string& registry) const {
  auto it = tokens_.find(registry);
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

void Credentials::Set(const std::string& registry, std::string token) { tokens_[registry] = std::move(token); }

bool Credentials::Remove(const std::string& registry) { return tokens_.erase(registry) > 0; }

Result<std::optional<std::string>> TokenFor(const std::string& registry) {
  if (const char* t = std::getenv("ARCA_TOKEN"); t && *t) {
    Status s = ValidateToken(t);
    if (!s.ok()) return s.WithContext("ARCA_TOKEN");
    return std::optional<std::string>(t);
  }
  ARCA_ASSIGN_OR_RETURN(Credentials c, Credentials::Load(DefaultCredentialsPath()));
  return c.Get(registry);
}

}  // namespace arca::client
