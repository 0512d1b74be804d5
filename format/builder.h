// Turning a directory into a bundle: walk, chunk, hash, encode, hand chunks to
// a sink, and produce the file indexes and the manifest (FORMAT.md).
//
// The builder owns no storage: the caller's ChunkSink decides what is new and
// keeps it (the store packs it; tests can keep it in memory).
#ifndef ARCA_FORMAT_BUILDER_H_
#define ARCA_FORMAT_BUILDER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/digest.h"
#include "common/result.h"
#include "format/codec.h"
#include "format/file_index.h"
#include "format/manifest.h"

namespace arca::format {

struct ChunkSink {
  // Whether the chunk is already stored (then it is not encoded or added).
  // Called from worker threads: must be thread-safe.
  std::function<bool(const Digest&)> has_chunk;
  // Adds a new chunk. Called from one thread at a time, in file order, at
  // most once per digest per build.
  std::function<Status(const Digest&, Codec, uint32_t raw_len, ByteView stored)> add_chunk;
};

struct BuildStats {
  uint64_t files = 0;
  uint64_t raw_bytes = 0;        // all bytes of all files
  uint64_t chunks = 0;           // chunks of all files, with repeats
  uint64_t unique_chunks = 0;    // distinct chunks in the bundle
  uint64_t new_chunks = 0;       // chunks handed to add_chunk
  uint64_t new_raw_bytes = 0;    // raw bytes of those
  uint64_t new_stored_bytes = 0; // their stored (encoded) bytes
  uint64_t codec_chunks[4] = {0, 0, 0, 0};  // new chunks by codec id
};

struct BuiltBundle {
  Manifest manifest;
  std::string manifest_bytes;             // canonical
  Digest digest;                          // SHA-256 of manifest_bytes
  std::vector<std::string> file_indexes;  // encoded, one per manifest file
  BuildStats stats;
};

// Called now and then (from the building thread) with the bytes of file
// content processed so far and the bundle's total.
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

struct BuildOptions {
  int threads = 1;      // cores to use; 1 = everything on the calling thread
  ProgressFn progress;  // optional
};

// Lists the regular files under `dir` as sorted bundle paths. Refuses
// symlinks, devices and invalid names with a message naming the entry; skips
// the reserved top-level ".arca" folder.
Result<std::vector<std::string>> ListBundleFiles(const std::string& dir);

// Builds the bundle for `dir` with metadata `meta`.
Result<BuiltBundle> BuildBundle(const std::string& dir, const Metadata& meta,
                                const BuildOptions& options, const ChunkSink& sink);

// Digests of the chunks seen so far in one build (to count unique chunks and
// hand each to the sink once).
using ChunkSet = std::unordered_set<Digest, DigestHash>;

// Chunks, hashes and encodes one in-memory file; used by BuildBundle and by
// benchmarks. Adds to *stats and *seen. Returns the file index.
// `progress_base`/`progress_total` place this file's progress within a bundle.
Result<FileIndex> BuildFile(ByteView data, const BuildOptions& options, const ChunkSink& sink,
                            BuildStats* stats, ChunkSet* seen, Digest* file_digest,
                            uint64_t progress_base = 0, uint64_t progress_total = 0);

}  // namespace arca::format

#endif  // ARCA_FORMAT_BUILDER_H_
