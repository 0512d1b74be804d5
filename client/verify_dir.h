// Offline verification of a pulled directory's bytes: does DIR still hold
// exactly the files a manifest lists? The engine of `arca verify DIR`; the
// signatures over the manifest are checked by the caller, not here.
//
// Every byte is re-read (the directory may have changed since the pull, so
// state.json's stat cache proves nothing) and checked against the chunk
// digests of the file's index, cut at the index's lengths. No whole-file
// SHA-256 is computed: the signed manifest binds each file's index digest, the
// index binds every chunk's digest and length in order, and the lengths add up
// to the file size, so a file whose chunks all match is the signed file. This
// lets chunks be hashed independently, many at a time (common/sha256_mb.h) and
// on several threads, where one whole-file SHA-256 stream is ~0.35 GB/s.
#ifndef ARCA_CLIENT_VERIFY_DIR_H_
#define ARCA_CLIENT_VERIFY_DIR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "client/progress.h"
#include "common/digest.h"
#include "common/result.h"
#include "format/manifest.h"

namespace arca::client {

// Returns the bytes of the file index object `id`, at most `max_bytes` of
// them (RESOURCE_EXHAUSTED past that). The caller checks that they hash to
// `id`. Called from one thread at a time.
using IndexSource = std::function<Result<std::string>(const Digest& id, uint64_t max_bytes)>;

// Reads DIR/.arca/indexes/<64 hex> (written by Materialize).
IndexSource DirIndexSource(const std::string& dir);

enum class FileVerdict {
  kOk,           // every chunk matches
  kMissing,      // no such file (or a directory on its path is missing)
  kWrongSize,    // a regular file of another size
  kChanged,      // right size, but a chunk's digest differs
  kNotRegular,   // a symlink, directory, device...; or a parent is not a real directory
  kUnreadable,   // exists but cannot be opened or read (e.g. permission denied)
};
std::string_view FileVerdictName(FileVerdict v);

struct FileCheck {
  std::string path;  // as in the manifest
  FileVerdict verdict = FileVerdict::kOk;
  uint64_t size = 0;              // the manifest's size
  uint64_t actual_size = 0;       // kWrongSize: the size found
  uint64_t first_bad_offset = 0;  // kChanged: start of the first chunk that differs
  std::string detail;             // empty when ok; otherwise what was found, for people
};

// At most this many extra files are listed; extra_files_total counts all.
inline constexpr size_t kMaxListedExtraFiles = 1000;

struct DirCheck {
  std::vector<FileCheck> files;          // one per manifest file, in manifest order
  std::vector<std::string> extra_files;  // in DIR, outside .arca/, not in the bundle; sorted
  uint64_t extra_files_total = 0;
  uint64_t bytes_hashed = 0;  // bytes read and hashed

  // Whether every bundle file is intact (extra files are the caller's call).
  bool files_ok() const;
  size_t bad_files() const;
};

struct VerifyDirOptions {
  int threads = 2;               // hashing threads, >= 1
  Progress* progress = nullptr;  // if set: total = the bundle's bytes, advanced as bytes are checked
};

// Checks DIR against `manifest` (see the file comment), file by file. Errors
// (rather than verdicts) when the bundle's own metadata is bad or absent: an
// index object missing, not hashing to the manifest's `index` digest, not
// parsing, or not of the manifest's size (each names the file and object);
// DIR not a directory; threads < 1. Files are opened under DIR without
// following any symlink (O_NOFOLLOW at every component) and read with pread,
// so a file truncated while being read is reported, never a crash.
Result<DirCheck> VerifyDirectory(const std::string& dir, const format::Manifest& manifest,
                                 const IndexSource& indexes, const VerifyDirOptions& options);

}  // namespace arca::client

#endif  // ARCA_CLIENT_VERIFY_DIR_H_
