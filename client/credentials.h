// Registry tokens on the user's machine: `arca login` and `arca logout`.
//
// Tokens live in $XDG_CONFIG_HOME/arca/credentials.json (default
// ~/.config/arca/credentials.json), keyed by the registry's "host:port":
//
//   {"registries": {"localhost:5000": {"token": "..."}}}
//
// The file is created with mode 0600 (its directory 0700) and replaced
// atomically. A credentials file that group or others may read is refused,
// with a message saying to chmod 600 it: a token is a password. ARCA_TOKEN,
// when set, is used for every registry instead of the file.
#ifndef ARCA_CLIENT_CREDENTIALS_H_
#define ARCA_CLIENT_CREDENTIALS_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace arca::client {

// $XDG_CONFIG_HOME/arca/credentials.json, else ~/.config/arca/credentials.json.
std::string DefaultCredentialsPath();

// The tokens of one credentials file. A plain value; not thread-safe.
class Credentials {
 public:
  // Reads `path`; a missing file gives empty credentials. PERMISSION_DENIED
  // when the file is readable or writable by group or others.
  static Result<Credentials> Load(const std::string& path);
  // Writes atomically with mode 0600, creating the directory (0700).
  Status Save(const std::string& path) const;

  std::optional<std::string> Get(const std::string& registry) const;
  void Set(const std::string& registry, std::string token);
  // Whether there was a token to remove.
  bool Remove(const std::string& registry);
  size_t size() const { return tokens_.size(); }

 private:
  std::map<std::string, std::string> tokens_;  // registry address -> token
};

// Checks that a token can go into an HTTP header: 1..4096 printable ASCII
// characters, no spaces.
Status ValidateToken(std::string_view token);

// The token to send to `registry` ("host:port"): $ARCA_TOKEN if set, else
// the stored one, else none. Fails only if the credentials file is unsafe or
// unreadable.
Result<std::optional<std::string>> TokenFor(const std::string& registry);

}  // namespace arca::client

#endif  // ARCA_CLIENT_CREDENTIALS_H_
