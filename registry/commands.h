// The `arca-registry` subcommands, called by main.cc once flags are parsed.
// Each returns the process exit code (0 ok, 1 failure) and writes results to
// `out`, errors to `err`.
#ifndef ARCA_REGISTRY_COMMANDS_H_
#define ARCA_REGISTRY_COMMANDS_H_

#include <atomic>
#include <functional>
#include <ostream>
#include <string>

#include "common/result.h"
#include "registry/server.h"

namespace arca::registry {

struct ListenAddress {
  std::string host;
  int port = 0;
};

// "HOST:PORT", "[V6]:PORT" or ":PORT" (all interfaces); port 0 = any free one.
Result<ListenAddress> ParseListenAddress(const std::string& text);

// Serves until SIGINT or SIGTERM. Prints one line once listening:
// "arca-registry listening on http://HOST:PORT (data DIR)".
// `background`, if given, runs on a thread of its own once the server
// listens (the mirror's schedule); at shutdown `stopping` becomes true and the
// server waits for it to return.
using BackgroundTask = std::function<void(Server& server, const std::atomic<bool>& stopping)>;
int ServeCommand(const std::string& data_dir, const std::string& listen, ServerOptions options, std::ostream& out,
                 std::ostream& err, const BackgroundTask& background = nullptr);

// Prints a new token (the only time it is ever shown).
int TokenCreateCommand(const std::string& data_dir, const std::string& ns, const std::string& scope,
                       std::ostream& out, std::ostream& err);

// Prints id, namespace, scope and creation time of every token.
int TokenListCommand(const std::string& data_dir, std::ostream& out, std::ostream& err);

// Prints the log's verifier key (the line trust policies list under
// "logs"."keys"), creating the log and its key if the data directory has none.
int LogKeyCommand(const std::string& data_dir, const std::string& origin, std::ostream& out, std::ostream& err);

}  // namespace arca::registry

#endif  // ARCA_REGISTRY_COMMANDS_H_
