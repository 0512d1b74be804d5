// The client's side of the transparency log (signing/LOG.md): checking that
// what a registry serves is in its append-only log, and remembering what was
// seen so that a registry that rolls back, forks (split view) or freezes is
// caught.
//
// State, per log (by origin: two registries serving the same log share it,
// which is how a split view between them shows), under LogStateDir():
//   logs/<origin, %-escaped>/checkpoint   the newest verified signed note
//   logs/<origin, %-escaped>/tags.json    {"repo:tag": newest sequence seen}
// Written atomically, and only after every check of a contact passed.
#ifndef ARCA_CLIENT_LOG_CHECK_H_
#define ARCA_CLIENT_LOG_CHECK_H_

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "client/remote.h"
#include "common/digest.h"
#include "common/result.h"
#include "signing/log_entry.h"
#include "signing/note.h"
#include "signing/policy.h"

namespace arca::client {

// $ARCA_STATE_DIR, else $XDG_STATE_HOME/arca, else ~/.local/state/arca.
std::string LogStateDir();
// "YYYY-MM-DDTHH:MM:SSZ" for Unix seconds `t` (checkpoint and entry times).
std::string FormatUtc(uint64_t t);

// LogStateDir()/logs/<origin, %-escaped>: where a log's state lives.
std::string LogStatePath(std::string_view origin);
// The same under another state directory (a mirror's DATA/mirror).
std::string LogStatePathUnder(const std::string& state_dir, std::string_view origin);

// One entry with its proof of inclusion in `size` leaves.
struct IncludedEntry {
  uint64_t index = 0;
  std::string entry;  // raw bytes
  std::vector<Digest> proof;
};

// What a verified contact established.
struct LogEvidence {
  std::string checkpoint;        // the signed note
  signing::SignedCheckpoint opened;
  std::string key_name;          // the policy log key that signed it
  IncludedEntry publish;
  std::optional<IncludedEntry> tag;
  uint64_t tag_sequence = 0;
};

// Why CheckCheckpoint refused (for a mirror, which halts an upstream on some).
enum class LogFailure { kNone, kNoLog, kBadSignature, kStale, kRollback, kSplitView, kNotIncluded, kTagBackwards };

// A checkpoint that passed steps 1 and 2 below.
struct CheckedCheckpoint {
  std::string note;  // the signed note
  signing::SignedCheckpoint opened;
  std::string key_name;          // the policy log key that signed it
  bool newer_than_seen = false;  // larger than the remembered one (or none was)
};

// Steps 1 and 2 of CheckLog, with the state under `state_dir` (LogStateDir()
// for the client). Remembers nothing. *failure (if given) says which check
// failed; kNone for errors that are not refusals (the network).
Result<CheckedCheckpoint> CheckCheckpoint(Remote& remote, const signing::LogPolicy& logs,
                                          const std::string& state_dir, LogFailure* failure);
// Step 2 alone, for any source of checkpoints (a registry, an archive):
// `checkpoint` (opened under `key`) against the newest checkpoint of its log
// remembered under `state_dir`. Fewer entries is refused as a rollback; the
// same size with another root, or a consistency proof from `proof_of(seen
// size, new size)` that fails, as a split view (*failure says which; `who`
// names the source in messages). An UNAVAILABLE proof is passed on as is.
// Returns whether `checkpoint` is newer than the one seen (or none was).
using ConsistencyProofFn = std::function<Result<std::vector<Digest>>(uint64_t from, uint64_t to)>;
Result<bool> CheckAgainstSeen(const std::string& state_dir, const signing::SignedCheckpoint& checkpoint,
                              const signing::NoteVerifier& key, const std::string& who,
                              const ConsistencyProofFn& proof_of, LogFailure* failure);
// Remembers `cp` as the newest checkpoint seen of its log, if it is.
Status RememberCheckpoint(const CheckedCheckpoint& cp, const std::string& state_dir);
// Step 3 of CheckLog against a checked checkpoint; remembers the tag's
// sequence. An entry newer than the checkpoint (a tag moved since it was
// signed) is FAILED_PRECONDITION: a fresher checkpoint may hold it.
Result<LogEvidence> CheckEntries(Remote& remote, const CheckedCheckpoint& cp, const Digest& bundle,
                                 const std::optional<std::pair<std::string, std::string>>& tag,
                                 const std::string& state_dir, LogFailure* failure = nullptr);

// Verifies, against the policy's log keys:
//   1. the registry's latest checkpoint is signed by one of them, and is not
//      older than logs.max_age_seconds;
//   2. it is consistent with the newest checkpoint this client saw of that
//      log (a smaller tree, or a proof that fails, is refused as a rollback
//      or split view);
//   3. `bundle`'s publish entry is included in it, and, when `tag` is set,
//      the tag's latest entry is too, names `bundle`, and its sequence
//      number did not go backwards.
// Then remembers the checkpoint and the tag's sequence. PERMISSION_DENIED
// with a message saying which check failed; UNAVAILABLE when the registry
// has no log and the policy requires one.
Result<LogEvidence> CheckLog(Remote& remote, const signing::LogPolicy& logs, const Digest& bundle,
                             const std::optional<std::pair<std::string, std::string>>& tag);

// A self-contained proof file (`arca proof`), checkable with no network:
//
//   arca-log-proof v1
//   bundle sha256:<hex>
//   publish <index> <base64 entry>
//   <hex proof hash>                  (one line each)
//   [tag <index> <base64 entry>
//    <hex proof hash>...]
//   checkpoint
//   <the signed note, verbatim, to the end of the file>
std::string FormatProof(const LogEvidence& e, const Digest& bundle);

struct OfflineProof {
  Digest bundle;
  signing::SignedCheckpoint checkpoint;
  signing::LogEntry publish;
  std::optional<signing::LogEntry> tag;
};

// Parses and checks a proof file against `log_key` (a note verifier key):
// the checkpoint's signature, each entry's inclusion, that the publish entry
// names the proof's bundle, and (when given) that the bundle is `expected`.
Result<OfflineProof> VerifyProof(std::string_view text, const std::string& log_key,
                                 const std::optional<Digest>& expected);

}  // namespace arca::client

#endif  // ARCA_CLIENT_LOG_CHECK_H_
