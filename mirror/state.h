// What a mirror remembers between passes, outside the store so that
// `mirror status` can read it while the server runs (PROTOCOL.md §5.1):
//
//   DATA/mirror/logs/<origin>/checkpoint   newest verified checkpoint of each
//   DATA/mirror/logs/<origin>/tags.json    upstream log, and tag sequences
//                                          (client/log_check.h's layout)
//   DATA/mirror/logs/<origin>/evidence/    what made an upstream halt
//   DATA/mirror/upstreams/<name>.json      the last pass and every model
//
// Every file is written to a temporary name, fsynced and renamed.
#ifndef ARCA_MIRROR_STATE_H_
#define ARCA_MIRROR_STATE_H_

#include <cstdint>
#include <map>
#include <string>

#include "common/result.h"

namespace arca::mirror {

// One model (repository:tag) of an upstream.
struct ModelState {
  std::string status;   // ok, pending, failed, skipped, held, deleted-upstream
  std::string digest;   // the bundle the mirror holds for it ("sha256:..."), or empty
  std::string pending;  // the bundle being committed (status "pending"), or empty
  uint64_t sequence = 0;  // the upstream tag entry's sequence last taken
  uint64_t last_change = 0;  // when the mirror's tag last moved (Unix seconds)
  std::string code;     // last error's stable code (PROTOCOL.md §6), or empty
  std::string message;  // last error, or why it was skipped
  uint64_t error_time = 0;
  uint32_t attempts = 0;  // consecutive failed attempts
};

struct UpstreamState {
  std::string name, url, origin;
  std::string state = "never";  // ok, unreachable, halted, never
  std::string code, message;    // why it is unreachable or halted
  uint64_t checkpoint_size = 0, checkpoint_time = 0;  // the seen checkpoint
  uint64_t last_start = 0, last_end = 0, next_pass = 0;
  uint32_t retries = 0;            // consecutive unreachable passes
  uint64_t recorded_size = 0;      // checkpoint of the last type 5 entry
  std::string recorded_root;
  uint64_t bytes_fetched = 0;      // in the last pass
  uint64_t chunks_fetched = 0;
  std::map<std::string, ModelState> models;  // by "repository:tag"
};

// DATA/mirror: the mirror's state directory (also the log state dir of
// client::CheckCheckpoint, which keeps logs/<origin>/ under it).
std::string MirrorStateDir(const std::string& data_dir);

// The state of upstream `name`; a fresh one ("never") when there is none.
Result<UpstreamState> LoadUpstreamState(const std::string& data_dir, const std::string& name);
Status SaveUpstreamState(const std::string& data_dir, const UpstreamState& state);
// The same as JSON (for files, `mirror status --json` and the API).
std::string UpstreamStateJson(const UpstreamState& state, int indent = -1);

// Keeps `note` (and `why`) under logs/<origin>/evidence/ for the operator.
Status KeepEvidence(const std::string& data_dir, const std::string& origin, const std::string& note,
                    const std::string& why);
// Forgets the seen checkpoint of `origin` (keeping its evidence), so that
// the next pass trusts the upstream's log anew: `mirror reset`.
Status ForgetCheckpoint(const std::string& data_dir, const std::string& origin);

}  // namespace arca::mirror

#endif  // ARCA_MIRROR_STATE_H_
