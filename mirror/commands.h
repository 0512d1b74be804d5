// The `arca-registry mirror ...` commands, `serve --config` and `import`
// (PROTOCOL.md §5.2, §6, §8.4). Each returns the process's exit code and
// writes results to `out`, errors to `err`.
#ifndef ARCA_MIRROR_COMMANDS_H_
#define ARCA_MIRROR_COMMANDS_H_

#include <atomic>
#include <ostream>
#include <string>

#include "mirror/config.h"
#include "mirror/sync.h"
#include "registry/server.h"

namespace arca::mirror {

// Runs every upstream's schedule until `stopping` (one thread per
// upstream): a pass at once, then every interval_seconds (jittered by
// ±10%); after an unreachable pass, after min(interval, initial * 2^(k-1)).
void RunSchedule(MirrorContext& ctx, const std::atomic<bool>& stopping, std::ostream& log);

// `serve --config FILE`: serves the mirror's data directory and runs the schedule.
int MirrorServeCommand(const std::string& config_path, const std::string& listen, registry::ServerOptions options,
                       std::ostream& out, std::ostream& err);

// `mirror sync --config FILE [--once] [--upstream NAME] [--json]`. With
// --once: one pass of each upstream; exit 0 when no upstream is halted or
// unreachable and no model failed, else 1. Without: the schedule, until
// SIGINT or SIGTERM. The data directory must not be held by a running server.
int MirrorSyncCommand(const std::string& config_path, bool once, const std::string& upstream, bool json,
                      std::ostream& out, std::ostream& err);

// `mirror status --config FILE [--upstream NAME] [--json]`: exit 1 when an
// upstream is halted or a model failed.
int MirrorStatusCommand(const std::string& config_path, const std::string& upstream, bool json, std::ostream& out,
                        std::ostream& err);

// `mirror reset --config FILE --upstream NAME`: forgets the seen checkpoint of
// a halted upstream's log (keeping the evidence), so that it is trusted anew.
int MirrorResetCommand(const std::string& config_path, const std::string& upstream, std::ostream& out,
                       std::ostream& err);

// `mirror key --config FILE`: the mirror key's public key (created if absent).
int MirrorKeyCommand(const std::string& config_path, std::ostream& out, std::ostream& err);

}  // namespace arca::mirror

#endif  // ARCA_MIRROR_COMMANDS_H_
