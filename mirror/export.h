// `arca export` (PROTOCOL.md §8.1, §8.3): pulls each reference into the local
// cache exactly as a pull verifies it (trust policy and transparency log,
// every chunk checked on arrival), then writes an air-gap archive front to
// back: info, one checkpoint per log origin, consistency records from a base
// archive's checkpoints, publish and tag entries with inclusion proofs, tags,
// manifests and file indexes, attestations, and packs of the chunks' stored
// bytes (never recompressed). With --since BASE, whatever BASE holds is left
// out and the header names BASE's archive id.
#ifndef ARCA_MIRROR_EXPORT_H_
#define ARCA_MIRROR_EXPORT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "client/store_commands.h"
#include "client/trust.h"
#include "common/digest.h"
#include "common/result.h"

namespace arca::mirror {

// Export packs are closed once their chunk data passes this size.
inline constexpr uint64_t kExportPackTarget = 64ull << 20;

struct ExportOptions {
  std::vector<std::string> refs;  // HOST[:PORT]/namespace/name:tag
  std::string output;             // a file, or "-" for standard output
  std::string since;              // a base archive, or empty
  client::TrustOptions trust;
};

struct ExportReport {
  Digest archive_id;
  std::string output;
  std::vector<std::string> refs;  // resolved: ref -> digest, as "ref@sha256:..."
  uint64_t records = 0, bytes = 0;
  uint64_t chunks_written = 0, chunks_left_out = 0;
  uint64_t objects_written = 0, objects_left_out = 0;
  uint64_t pack_bytes = 0;  // bytes of pack records
  uint64_t packs = 0;
  std::optional<Digest> base;
};

// What a base archive holds, as an incremental export leaves it out.
struct BaseArchive {
  Digest id;
  std::set<Digest> objects;       // manifests and file indexes
  std::set<std::string> attestations;  // bundle hex + ":" + envelope hex
  std::set<Digest> chunks;        // in its packs
  std::map<std::string, std::string> checkpoints;  // origin -> the signed note
};

// Reads `path` front to back, checking framing, digests and the trailer
// chain, and collects what it holds. Pack bodies are staged under `tmp_dir`
// one at a time to read their indexes, then removed.
Result<BaseArchive> ReadBaseArchive(const std::string& path, const std::string& tmp_dir);

// The origin of a signed checkpoint note: its first line (no signature
// check; the caller opens the note with a key before trusting it).
std::string NoteOrigin(std::string_view note);

// The whole export; progress and warnings on `err`.
Result<ExportReport> ExportArchive(const client::StoreOptions& so, const ExportOptions& eo, std::ostream& err);

// The CLI: runs ExportArchive and prints a summary (or one JSON object).
int ExportCommand(const client::StoreOptions& so, const ExportOptions& eo, std::ostream& out, std::ostream& err);

}  // namespace arca::mirror

#endif  // ARCA_MIRROR_EXPORT_H_
