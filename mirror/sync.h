// One pass of a mirror over one upstream (PROTOCOL.md §3): check the
// upstream's checkpoint against the one seen before, list what the filters
// select, and bring each model in exactly as a pull does (trust policy, log
// inclusion and tag sequence, every chunk verified on arrival and every file
// rehashed) before committing it through the registry's own logged path with
// the mirror's countersignature and a type 5 log entry.
//
// A model that fails keeps its mirrored tag and is recorded with a stable
// code (§6); the pass goes on with the next. An upstream whose log is badly
// signed, stale, rolled back or forked is halted: nothing from it changes.
#ifndef ARCA_MIRROR_SYNC_H_
#define ARCA_MIRROR_SYNC_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "client/fetch.h"
#include "client/log_check.h"
#include "common/result.h"
#include "mirror/bandwidth.h"
#include "mirror/config.h"
#include "mirror/state.h"
#include "registry/server.h"
#include "signing/keys.h"
#include "signing/verify.h"

namespace arca::mirror {

// What every pass of one mirror shares.
struct MirrorContext {
  registry::Server* server = nullptr;  // the mirror's own registry (store and log)
  const MirrorConfig* config = nullptr;
  signing::KeyPair key;                // the mirror key (countersignatures)
  TokenBucket* total = nullptr;        // the config's total bandwidth limit (may be unlimited)
};

struct PassResult {
  std::string state;  // ok, unreachable, halted
  uint64_t models = 0, updated = 0, failed = 0, skipped = 0, unchanged = 0;
  uint64_t bytes_fetched = 0, chunks_fetched = 0, chunks_held = 0;
  double seconds = 0;
};

// Runs one pass over `upstream`, writing its state file after every model.
// Progress lines go to `log` (the server's stderr). Never throws; an error
// Status only for local failures (the store, the state files).
Result<PassResult> SyncUpstream(MirrorContext& ctx, const UpstreamConfig& upstream, TokenBucket* upstream_bucket,
                                std::ostream& log);

// A bundle that passed every check of PROTOCOL.md §3.2 steps 1-7 (or §8.4
// steps 1-6 for an import): its objects, envelopes, log evidence and policy
// verdict, with every chunk already in the store.
struct VerifiedModel {
  std::string repository, tag;
  const client::FetchedBundle& bundle;
  const std::vector<std::string>& envelopes;  // the upstream's, kept verbatim
  const client::LogEvidence& log;             // publish and tag entries in the upstream checkpoint
  const signing::VerifyReport& trust;
  Digest policy_digest;                       // SHA-256 of the policy file applied
  std::string source;                         // upstream URL or "archive:sha256:<id>"
};

// Rehashes every file from the store (§3.2 step 8), then commits (§3.3):
// file indexes and manifest, the envelopes and the mirror's countersignature
// (each logged), the tag (logged), and a type 5 entry naming the upstream
// checkpoint. On failure *code is the model's stable code (PROTOCOL.md §6).
Status CommitVerified(MirrorContext& ctx, const VerifiedModel& v, std::string* code);

// Opens the config's data directory without listening (for `mirror sync`
// and `import`). FAILED_PRECONDITION saying to stop the server when a
// running one holds it.
Result<std::unique_ptr<registry::Server>> OpenMirrorData(const MirrorConfig& config);

// Opens the mirror key named by the config (creating it) and returns a context.
Result<MirrorContext> OpenMirror(registry::Server* server, const MirrorConfig* config);

}  // namespace arca::mirror

#endif  // ARCA_MIRROR_SYNC_H_
