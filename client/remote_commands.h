// The small registry commands: login, logout, ls, inspect, tag, rm. Each
// prints its result to `out` (human lines, or one JSON object with
// so.json), problems to `err`, and returns the exit code: 0 success,
// 1 failure, 2 bad usage (a malformed reference or registry address).
#ifndef ARCA_CLIENT_REMOTE_COMMANDS_H_
#define ARCA_CLIENT_REMOTE_COMMANDS_H_

#include <istream>
#include <ostream>
#include <string>

#include "client/reference.h"
#include "client/remote.h"
#include "client/store_commands.h"

namespace arca::client {

struct LoginOptions {
  std::string registry;  // HOST[:PORT]
  std::string token;
  bool token_stdin = false;  // read the token from `in` instead
};

// A publisher's text made safe for a terminal: C0 and C1 control characters
// (which include escape sequences) become '?'.
std::string SafeText(std::string_view s);
// A reference's bundle digest: its @digest, else what its tag names.
Result<Digest> ResolveDigest(Remote& remote, const Reference& ref);

int LoginCommand(const StoreOptions& so, const LoginOptions& lo, std::istream& in, std::ostream& out,
                 std::ostream& err);
int LogoutCommand(const StoreOptions& so, const std::string& registry, std::ostream& out, std::ostream& err);
// `where` is HOST[:PORT] or HOST[:PORT]/namespace (repositories with tag
// counts) or HOST[:PORT]/namespace/name (that repository's tags). `filter`
// keeps repositories whose name contains it.
int ListCommand(const StoreOptions& so, const std::string& where, const std::string& filter, std::ostream& out,
                std::ostream& err);
int InspectCommand(const StoreOptions& so, const std::string& ref, std::ostream& out, std::ostream& err);
// Points NEW_TAG (a tag of the same repository, or a full reference on the
// same registry) at what SRC_REF names.
int TagCommand(const StoreOptions& so, const std::string& src, const std::string& new_tag, std::ostream& out,
               std::ostream& err);
int RemoveTagCommand(const StoreOptions& so, const std::string& ref, std::ostream& out, std::ostream& err);

}  // namespace arca::client

#endif  // ARCA_CLIENT_REMOTE_COMMANDS_H_
