// `arca-registry import` (PROTOCOL.md §8.4): takes an air-gap archive into a
// registry's data directory. Every record is checked in the order §8.4 gives
// (framing, checkpoints and their consistency with the ones seen before, log
// entries, tags and their sequences, objects, the trust policy per bundle,
// packs staged and verified whole, the trailer, completeness) and the first
// failure refuses the archive, naming the record and the reason, with the
// registry unchanged. Only then are the packs ingested and each tag committed
// as a sync commits a model (mirror/sync.h CommitVerified), with source
// "archive:sha256:<id>"; then the checkpoints and tag sequences seen are
// remembered and DATA/mirror/imports.json gets a line.
#ifndef ARCA_MIRROR_IMPORT_H_
#define ARCA_MIRROR_IMPORT_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"
#include "common/result.h"
#include "mirror/sync.h"

namespace arca::mirror {

// Checkpoints may be at most this far in the future (PROTOCOL.md §3.1).
inline constexpr uint64_t kMaxCheckpointSkewSeconds = 300;
// Objects and envelopes are held in memory until the trailer checked out.
inline constexpr uint64_t kMaxImportMetadataBytes = 2ull << 30;

struct ImportOptions {
  std::string archive;                          // the .arca file
  std::string policy;                           // the trust policy file (absolute)
  std::vector<std::string> log_keys;            // verifier keys of the logs accepted
  std::vector<std::string> repositories{"**"};  // globs over the repository names taken
  uint64_t max_checkpoint_age_seconds = 0;      // 0: no limit
};

struct ImportReport {
  Digest archive_id;
  std::optional<Digest> base;
  std::vector<std::string> updated, unchanged, skipped;  // "repository:tag"
  uint64_t packs = 0, chunks = 0, new_chunks = 0;
  bool already_imported = false;  // the id was in imports.json before
};

// Imports `io.archive` into the registry of ctx.server. A refusal is
// PERMISSION_DENIED (or DATA_LOSS for a damaged archive, FAILED_PRECONDITION
// for a missing base) whose message names the record; the registry is then
// unchanged. Progress lines go to `log`.
Result<ImportReport> ImportArchive(MirrorContext& ctx, const ImportOptions& io, std::ostream& log);

// Whether DATA/mirror/imports.json records archive `id`.
Result<bool> ArchiveImported(const std::string& data_dir, const Digest& id);

struct ImportCommandOptions {
  std::string archive;
  std::string config;  // a mirror config with an "import" section, or
  std::string data;    // the data directory, with policy and log keys
  std::string policy;
  std::vector<std::string> log_keys;
  std::optional<uint64_t> max_age_seconds;
  bool json = false;
};

// The CLI: opens the data directory (refusing one a running server holds),
// imports, prints a summary or one JSON object. 0 imported, 1 refused or
// failed, 2 bad usage.
int ImportCommand(const ImportCommandOptions& o, std::ostream& out, std::ostream& err);

}  // namespace arca::mirror

#endif  // ARCA_MIRROR_IMPORT_H_
