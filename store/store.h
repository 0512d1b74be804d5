// The content-addressed store: packs of chunks, objects and refs under one
// directory, indexed in RocksDB. The registry keeps its data in one; every
// client keeps its cache in one.
//
// On disk (see store/README.md):
//   DIR/db/                 RocksDB: chunk locations, pack records, objects, refs
//   DIR/packs/ab/<hex>.pack immutable pack files named by their SHA-256
//   DIR/tmp/                packs being written; emptied on open
//
// Crash safety: a pack is written under tmp/, fsynced, renamed into packs/,
// and only then are its chunks recorded, in one RocksDB WriteBatch. A
// bundle's file indexes, manifest and ref are committed together in one
// WriteBatch once all its chunks are recorded. A crash at any point leaves
// at worst an unreferenced pack file, which fsck reports and gc removes.
//
// Thread-safety: all methods may be called from several threads. One process
// at a time opens a store (RocksDB's lock file enforces it).
#ifndef ARCA_STORE_STORE_H_
#define ARCA_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"
#include "common/result.h"
#include "format/builder.h"
#include "format/manifest.h"
#include "format/pack.h"

namespace arca::store {

// What an object is; stored with it and checked when it is read back.
enum class ObjectKind : uint8_t { kFileIndex = 'F', kManifest = 'M', kBlob = 'B', kAttestation = 'A' };

// Bounds on the attestations attached to one bundle (docs/store.md).
inline constexpr size_t kMaxAttestationBytes = 1 << 20;  // one envelope, as uploaded
inline constexpr size_t kMaxAttestationsPerSubject = 256;

// Where a chunk lives.
struct ChunkLocation {
  Digest pack;
  format::PackEntry entry;
};

struct AddResult {
  Digest bundle;
  format::BuiltBundle built;  // manifest, indexes and build stats
  uint64_t new_packs = 0;
  uint64_t new_pack_bytes = 0;  // bytes of pack files written
};

struct FsckReport {
  uint64_t packs = 0, chunks = 0, objects = 0, refs = 0, attestations = 0, bytes_checked = 0;
  std::vector<std::string> problems;  // one line each, naming the object
  std::vector<std::string> orphans;   // unreferenced pack files (harmless; gc removes)
  bool ok() const { return problems.empty(); }
};

// What IngestPack did with an uploaded pack.
struct IngestResult {
  std::optional<Digest> pack;  // the pack as stored; none when nothing was new
  uint64_t chunks = 0;      // in the upload
  uint64_t new_chunks = 0;  // recorded by this call
  uint64_t stored_bytes = 0;  // size of the pack file kept (0 if none)
};

// A pack record.
struct PackInfo {
  uint64_t size = 0;
  uint32_t chunks = 0;
};

struct GcReport {
  uint64_t objects_removed = 0, chunks_removed = 0, packs_removed = 0, bytes_freed = 0;
  uint64_t packs_kept_partial = 0;  // packs with some live chunks (not rewritten)
};

class Store {
 public:
  // Opens (creating if needed) the store in `dir`.
  static Result<std::unique_ptr<Store>> Open(const std::string& dir);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& dir() const { return dir_; }

  // --- chunks ---
  bool HasChunk(const Digest& d) const;
  Result<ChunkLocation> FindChunk(const Digest& d) const;
  // Reads, decodes and verifies a file's chunks in order, calling `sink` with
  // each chunk's bytes; consecutive chunks of one pack are read with one
  // read. `threads` > 1 decodes in parallel. `verify_chunks` false skips
  // each chunk's CRC-32C and SHA-256 (decoding is still checked): only for a
  // caller that hashes the whole file itself, which covers every byte.
  Status ReadChunks(const std::vector<format::ChunkRef>& chunks, int threads,
                    const std::function<Status(ByteView)>& sink, bool verify_chunks = true) const;

  // Looks up many chunks at once; nullopt for those not held.
  std::vector<std::optional<ChunkLocation>> FindChunks(std::span<const Digest> digests) const;

  // --- packs ---
  Result<PackInfo> GetPack(const Digest& pack) const;
  // A fresh path under tmp/ for a file that will become a pack.
  std::string NewTempPath(std::string_view what) const;
  // Takes over the complete pack file at `path` (normally under tmp/) from an
  // untrusted source: checks header, index, and every chunk (CRC-32C,
  // decoding, SHA-256), then records the chunks the store does not hold yet.
  // If some chunks were already held, the new ones are first copied into a
  // fresh pack, so that every chunk is stored once even when two uploads
  // race. On any failure nothing is recorded. `path` is removed in all cases.
  // INVALID_ARGUMENT names the first bad chunk.
  Result<IngestResult> IngestPack(const std::string& path);

  // --- objects ---
  Result<std::string> GetObject(const Digest& d, ObjectKind kind) const;
  bool HasObject(const Digest& d) const;
  // Kind of a held object, or NOT_FOUND.
  Result<ObjectKind> GetObjectKind(const Digest& d) const;
  // Stores a file index received from elsewhere, after checking that
  // `bytes` hash to `d`, parse strictly, and that every chunk is held with
  // the stated raw length. FAILED_PRECONDITION lists missing chunks in
  // *missing (when given, up to 100). Returns true if it was new.
  Result<bool> PutFileIndex(const Digest& d, std::string_view bytes,
                            std::vector<Digest>* missing = nullptr);
  // Stores a manifest received from elsewhere, after checking the digest,
  // a strict parse, and that every file's index is held and states the
  // file's size. FAILED_PRECONDITION lists missing indexes in *missing.
  Result<bool> PutManifest(const Digest& d, std::string_view bytes,
                           std::vector<Digest>* missing = nullptr);
  // Checks that a bundle is complete: the manifest, every file index, every
  // chunk (records only; contents are checked by fsck and on every read).
  // FAILED_PRECONDITION lists what is missing in *missing (up to 100).
  Status CheckBundleComplete(const Digest& bundle, std::vector<Digest>* missing = nullptr) const;

  // --- attestations: envelopes attached to a bundle (its "subject") ---
  // Stores `envelope` verbatim as an object of kind kAttestation (its digest
  // is the SHA-256 of these bytes) and indexes it under `subject`. The store
  // does not look inside: callers check the envelope's structure and that it
  // names `subject`. One envelope may be attached to several subjects.
  // Returns true if it was new for this subject. Errors:
  //   FAILED_PRECONDITION  `subject` is not a held manifest
  //   RESOURCE_EXHAUSTED   envelope over kMaxAttestationBytes, or the subject
  //                        already has kMaxAttestationsPerSubject
  //   INVALID_ARGUMENT     empty envelope, or its digest is held as another kind
  Result<bool> PutAttestation(const Digest& subject, std::string_view envelope);
  // Digests of the envelopes attached to `subject`, in digest order (at most
  // kMaxAttestationsPerSubject); empty if none. Read each with
  // GetObject(d, ObjectKind::kAttestation).
  Result<std::vector<Digest>> ListAttestations(const Digest& subject) const;

  // --- refs: names ("org/model:tag") bound to bundle digests ---
  Status SetRef(const std::string& name, const Digest& d);
  Result<Digest> GetRef(const std::string& name) const;
  Status DeleteRef(const std::string& name);
  std::vector<std::pair<std::string, Digest>> ListRefs() const;

  // --- bundles ---
  // Builds the directory into the store and binds `ref` to it (if not empty).
  // `progress`, if given, is called as content is processed.
  Result<AddResult> AddDirectory(const std::string& dir, const format::Metadata& meta,
                                 const std::string& ref, int threads,
                                 format::ProgressFn progress = nullptr);
  // Reads and strictly parses a stored manifest.
  Result<format::Manifest> GetManifest(const Digest& bundle) const;
  // Writes the bundle's files under out_dir (created if missing). Each file is
  // written to a temporary name, verified, and renamed into place; nothing is
  // written outside out_dir (paths are validated, symlinked directories
  // refused). Existing files with the same name are replaced.
  Status Checkout(const Digest& bundle, const std::string& out_dir, int threads) const;

  // --- maintenance ---
  // Rehashes every pack, chunk and object; checks every reference.
  FsckReport Fsck() const;
  // Removes what no ref reaches: objects, chunk records, packs with no live
  // chunk, orphan pack files. Attestations live as long as their subject
  // bundle does.
  Result<GcReport> Gc();

  // Path of a pack file (whether or not it exists).
  std::string PackPath(const Digest& pack) const;

  // Collects chunks that the caller has already verified (a pull checks each
  // chunk as it arrives) into packs, sealing one whenever it passes
  // `target` bytes: fsync, rename, record its chunks in one batch. Chunks the
  // store already holds are skipped. Not thread-safe; one per producer.
  class PackSink {
   public:
    explicit PackSink(Store* store, uint64_t target = format::kPackTargetSize);
    ~PackSink();  // an unsealed pack is discarded
    PackSink(const PackSink&) = delete;
    PackSink& operator=(const PackSink&) = delete;
    // The caller vouches that `stored` decodes with `codec` to `raw_len`
    // bytes whose SHA-256 is `d`.
    Status Add(const Digest& d, format::Codec codec, uint32_t raw_len, ByteView stored);
    Status Seal();
    uint64_t packs() const { return packs_; }
    uint64_t pack_bytes() const { return pack_bytes_; }

   private:
    Store* store_;
    uint64_t target_;
    std::unique_ptr<format::PackWriter> writer_;
    std::string tmp_path_;
    uint64_t packs_ = 0, pack_bytes_ = 0;
  };

  // The state behind the store; defined in store/internal/ (private to store/).
  struct Impl;

 private:
  Store(std::string dir, std::unique_ptr<Impl> impl);
  std::string dir_;
  std::unique_ptr<Impl> impl_;
};

// Validates a ref name: "<bundle name>:<tag>", tag = [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.
Status ValidateRefName(const std::string& name);

}  // namespace arca::store

#endif  // ARCA_STORE_STORE_H_
