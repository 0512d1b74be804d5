// Materialising a bundle from the local cache into a directory, the last step
// of a pull, and remembering what was written so that the next pull of the
// same directory rewrites only what changed.
//
// Layout of a pulled directory:
//   OUT_DIR/<bundle files>
//   OUT_DIR/.arca/manifest.json  the canonical manifest bytes of the bundle
//   OUT_DIR/.arca/state.json     per file: path, size, mtime_ns, inode, digest
//   OUT_DIR/.arca/indexes/<hex>  each file index object's bytes, named by its id
//   OUT_DIR/.arca/attestations/<hex>  each envelope given to Materialize,
//                                named by the SHA-256 of its bytes
//   OUT_DIR/.arca/tmp/           files being written (emptied at the start)
//
// manifest.json, indexes/ and attestations/ are what an offline `arca verify`
// needs (LoadOffline, client/verify_dir.h); they always describe the last
// bundle written, including its envelopes and nothing else.
//
// Every file is written under .arca/tmp/, its SHA-256 checked against the
// manifest, fsynced, then renamed into place: a reader never sees a partial or
// unverified file. A file whose size, mtime and inode still match state.json
// and whose recorded digest is the manifest's is left alone (a warm pull);
// with verify_existing every existing file is re-hashed instead. Files that
// the previous pull wrote, that the new bundle no longer has and that are
// unmodified since, are removed; anything else in OUT_DIR is left alone.
#ifndef ARCA_CLIENT_WORKTREE_H_
#define ARCA_CLIENT_WORKTREE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "client/progress.h"
#include "format/file_index.h"
#include "format/manifest.h"
#include "store/store.h"

namespace arca::client {

struct MaterializeOptions {
  bool verify_existing = false;
  int threads = 1;               // decode threads per file
  Progress* progress = nullptr;  // if set: total = the bundle's bytes, advanced as files are done
};

struct MaterializeReport {
  uint64_t files_written = 0, files_unchanged = 0, files_removed = 0;
  uint64_t bytes_written = 0;
};

// What state.json records about one file.
struct FileState {
  std::string path;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t inode = 0;
  Digest digest;
  bool operator==(const FileState&) const = default;
};

// Limits on the envelopes kept in .arca/attestations/ (as the store's, per
// bundle): at most this many, each at most this large.
inline constexpr size_t kMaxOfflineEnvelopes = 256;
inline constexpr uint64_t kMaxOfflineEnvelopeBytes = 1 << 20;

// Writes the bundle into out_dir. `indexes[i]` is the parsed file index of
// `manifest.files[i]`; all chunks must be in `store`. `envelopes` (the
// bundle's DSSE envelopes, possibly none) replace .arca/attestations/.
Result<MaterializeReport> Materialize(const store::Store& store, const format::Manifest& manifest,
                                      std::string_view manifest_bytes, const std::vector<format::FileIndex>& indexes,
                                      const std::vector<std::string>& envelopes, const std::string& out_dir,
                                      const MaterializeOptions& options);

// What a pulled directory's .arca/ holds for offline verification.
struct Offline {
  std::string manifest_bytes;          // .arca/manifest.json, as written
  Digest bundle;                       // SHA-256 of manifest_bytes
  format::Manifest manifest;           // manifest_bytes, strictly parsed
  std::vector<std::string> envelopes;  // .arca/attestations/*, ordered by name
};

// Reads DIR/.arca/: NOT_FOUND if DIR has no .arca/manifest.json (not pulled
// by arca); INVALID_ARGUMENT if the manifest does not parse; RESOURCE_EXHAUSTED
// past the envelope limits; DATA_LOSS if an envelope's bytes do not hash to
// its name. Files in attestations/ not named by 64 hex digits (leftovers of an
// interrupted write) are ignored. Nothing here is trusted yet: the caller
// checks the envelopes' signatures over `bundle`.
Result<Offline> LoadOffline(const std::string& dir);

// state.json: encoding and a lenient parse (a damaged state only costs a
// rewrite, so it parses to nothing rather than failing).
std::string EncodeState(const Digest& bundle, const std::vector<FileState>& files);
std::vector<FileState> ParseState(std::string_view json);

}  // namespace arca::client

#endif  // ARCA_CLIENT_WORKTREE_H_
