// Store: what moves between stores. Locating many chunks at once, taking
// over packs and objects that arrive from an untrusted peer (each checked
// before it becomes visible), and checking that a bundle is complete.
#include <sys/stat.h>
#include <unistd.h>

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cerrno>
#include <unordered_set>

#include "common/crc32c.h"
#include "common/file.h"
#include "common/sha256_mb.h"
#include "format/chunker.h"
#include "format/file_index.h"
#include "store/internal/keys.h"
#include "store/internal/store_impl.h"
#include "store/store.h"

namespace arca::store {

using format::PackEntry;
using internal::DigestKey;

namespace {

constexpr size_t kMaxListedMissing = 100;

void NoteMissing(std::vector<Digest>* missing, const Digest& d) {
  if (missing && missing->size() < kMaxListedMissing) missing->push_back(d);
}

Status MissingError(std::string_view what, size_t count) {
  return FailedPreconditionError(std::string(what) + ": " + std::to_string(count) +
                                 " referenced object(s) or chunk(s) are not held");
}

// Checks every chunk of a pack held in memory: CRC-32C of the stored bytes,
// decoding, and the SHA-256 of the decoded bytes (in batches, so that the
// multi-buffer hash can work on many chunks at once).
Status VerifyPackChunks(ByteView pack, const std::vector<PackEntry>& entries) {
  constexpr uint64_t kBatchBytes = 8ull << 20;
  std::unique_ptr<uint8_t[]> buf(new uint8_t[kBatchBytes + format::kMaxChunk]);
  size_t i = 0;
  while (i < entries.size()) {
    std::vector<ByteView> views;
    std::vector<size_t> which;
    uint64_t used = 0;
    while (i < entries.size() && used < kBatchBytes) {
      const PackEntry& e = entries[i];
      ByteView stored = pack.subspan(e.offset, e.stored_len);  // Parse checked the bounds
      if (Crc32c(stored) != e.crc32c) {
        return InvalidArgumentError("chunk " + e.digest.ToString() + ": stored bytes do not match their CRC-32C");
      }
      Status s = format::DecodeChunk(e.codec, stored, buf.get() + used, e.raw_len);
      if (!s.ok()) return InvalidArgumentError("chunk " + e.digest.ToString() + ": " + std::string(s.message()));
      views.emplace_back(buf.get() + used, e.raw_len);
      which.push_back(i);
      used += e.raw_len;
      ++i;
    }
    std::vector<Digest> got(views.size());
    Sha256Batch(views, got);
    for (size_t k = 0; k < got.size(); ++k) {
      if (got[k] != entries[which[k]].digest) {
        return InvalidArgumentError("chunk " + entries[which[k]].digest.ToString() +
                                    ": content does not match its digest");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------- chunks and packs

std::vector<std::optional<ChunkLocation>> Store::FindChunks(std::span<const Digest> digests) const {
  std::vector<std::optional<ChunkLocation>> out(digests.size());
  constexpr size_t kBatch = 1024;
  for (size_t base = 0; base < digests.size(); base += kBatch) {
    size_t n = std::min(kBatch, digests.size() - base);
    std::vector<std::string> keys(n);
    std::vector<rocksdb::Slice> slices(n);
    for (size_t i = 0; i < n; ++i) {
      keys[i] = DigestKey(internal::kChunkPrefix, digests[base + i]);
      slices[i] = keys[i];
    }
    std::vector<std::string> values;
    std::vector<rocksdb::Status> st = impl_->db->MultiGet(rocksdb::ReadOptions(), slices, &values);
    for (size_t i = 0; i < n; ++i) {
      if (!st[i].ok()) continue;
      ChunkLocation loc;
      if (internal::DecodeChunkValue(values[i], digests[base + i], &loc.pack, &loc.entry).ok()) {
        out[base + i] = loc;
      }
    }
  }
  return out;
}

Result<PackInfo> Store::GetPack(const Digest& pack) const {
  std::string v;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), DigestKey(internal::kPackPrefix, pack), &v);
  if (s.IsNotFound()) return NotFoundError("pack " + pack.ToString() + " is not in the store");
  ARCA_RETURN_IF_ERROR(Impl::FromRocks(s, "read pack record"));
  if (v.size() != internal::kPackValueSize) return DataLossError("pack record of " + pack.ToString() + " is malformed");
  const uint8_t* p = reinterpret_cast<const uint8_t*>(v.data());
  return PackInfo{GetLE64(p), GetLE32(p + 8)};
}

Result<IngestResult> Store::IngestPack(const std::string& path) {
  // Whatever happens, the uploaded file does not outlive this call.
  struct Remove {
    const std::string& p;
    ~Remove() { ::unlink(p.c_str()); }
  } remove{path};

  ARCA_ASSIGN_OR_RETURN(MappedFile map, MappedFile::Open(path));
  ByteView bytes = map.bytes();
  if (bytes.size() < format::kPackHeaderSize + format::kPackTrailerSize || bytes.size() > format::kPackMaxSize) {
    return InvalidArgumentError("pack of " + std::to_string(bytes.size()) + " bytes is out of range");
  }
  ARCA_RETURN_IF_ERROR(format::CheckPackHeader(bytes.first(format::kPackHeaderSize), "pack"));
  ARCA_ASSIGN_OR_RETURN(uint64_t tail_size,
                        format::PackIndex::RequiredTailSize(bytes.last(format::kPackTrailerSize), bytes.size()));
  Result<format::PackIndex> index = format::PackIndex::Parse(bytes.last(tail_size), bytes.size());
  if (!index.ok()) return InvalidArgumentError(std::string(index.status().message()));
  ARCA_RETURN_IF_ERROR(VerifyPackChunks(bytes, index->entries));

  IngestResult result;
  result.chunks = index->entries.size();
  std::vector<Digest> digests;
  digests.reserve(index->entries.size());
  for (const PackEntry& e : index->entries) digests.push_back(e.digest);

  std::lock_guard<std::mutex> lock(impl_->ingest_mu);
  std::vector<std::optional<ChunkLocation>> held = FindChunks(digests);
  std::vector<PackEntry> fresh;
  for (size_t i = 0; i < held.size(); ++i) {
    if (!held[i]) fresh.push_back(index->entries[i]);
  }
  result.new_chunks = fresh.size();
  if (fresh.empty()) return result;

  std::string keep_path = path;
  Digest pack;
  std::vector<PackEntry> entries;
  if (fresh.size() == index->entries.size()) {
    // All new: keep the upload as it is, under its name (the SHA-256 of
    // its index, checked by Parse). It must be on disk before it is recorded.
    pack = index->name;
    ARCA_ASSIGN_OR_RETURN(UniqueFd fd, OpenForRead(path));
    if (::fsync(fd.get()) != 0) return ErrnoToStatus(errno, "fsync " + path);
    entries = std::move(index->entries);
  } else {
    // Some were held already: copy only the new chunks into a fresh pack.
    keep_path = NewTempPath("ingest");
    ARCA_ASSIGN_OR_RETURN(format::PackWriter w, format::PackWriter::Create(keep_path));
    Status s;
    for (const PackEntry& e : fresh) {
      s = w.Add(e.digest, format::Codec(e.codec), e.raw_len, bytes.subspan(e.offset, e.stored_len));
      if (!s.ok()) break;
    }
    Result<Digest> d = s.ok() ? w.Finish() : Result<Digest>(s);
    if (!d.ok()) {
      ::unlink(keep_path.c_str());
      return d.status();
    }
    pack = *d;
    entries = w.entries();
  }
  ARCA_ASSIGN_OR_RETURN(result.stored_bytes, impl_->CommitPack(*this, keep_path, pack, entries));
  result.pack = pack;
  return result;
}

// ---------------------------------------------------------------- objects

Result<ObjectKind> Store::GetObjectKind(const Digest& d) const {
  std::string v;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), DigestKey(internal::kObjectPrefix, d), &v);
  if (s.IsNotFound()) return NotFoundError("object " + d.ToString() + " is not in the store");
  ARCA_RETURN_IF_ERROR(Impl::FromRocks(s, "read object"));
  if (v.empty()) return DataLossError("object " + d.ToString() + " is malformed");
  return ObjectKind(v[0]);
}

namespace {

Status CheckObjectDigest(const Digest& d, std::string_view bytes) {
  if (Sha256Of(bytes) != d) {
    return InvalidArgumentError("object bytes hash to " + Sha256Of(bytes).ToString() + ", not " + d.ToString());
  }
  return Status::Ok();
}

}  // namespace

Result<bool> Store::PutFileIndex(const Digest& d, std::string_view bytes, std::vector<Digest>* missing) {
  ARCA_RETURN_IF_ERROR(CheckObjectDigest(d, bytes));
  Result<format::FileIndex> index = format::FileIndex::Parse(AsBytes(bytes));
  if (!index.ok()) return index.status();
  if (HasObject(d)) {
    ARCA_ASSIGN_OR_RETURN(ObjectKind kind, GetObjectKind(d));
    if (kind != ObjectKind::kFileIndex) return InvalidArgumentError("object " + d.ToString() + " is held as another kind");
    return false;
  }
  std::vector<Digest> digests;
  digests.reserve(index->chunks.size());
  for (const format::ChunkRef& c : index->chunks) digests.push_back(c.digest);
  std::vector<std::optional<ChunkLocation>> held = FindChunks(digests);
  size_t absent = 0;
  for (size_t i = 0; i < held.size(); ++i) {
    if (!held[i]) {
      ++absent;
      NoteMissing(missing, digests[i]);
    } else if (held[i]->entry.raw_len != index->chunks[i].raw_len) {
      return InvalidArgumentError("file index " + d.ToString() + ": chunk " + digests[i].ToString() + " has length " +
                                  std::to_string(index->chunks[i].raw_len) + " but the store holds it with " +
                                  std::to_string(held[i]->entry.raw_len));
    }
  }
  if (absent) return MissingError("file index " + d.ToString(), absent);
  ARCA_RETURN_IF_ERROR(Impl::FromRocks(
      impl_->db->Put(impl_->SyncWrite(), DigestKey(internal::kObjectPrefix, d),
                     std::string(1, char(ObjectKind::kFileIndex)) + std::string(bytes)),
      "write file index"));
  return true;
}

Result<bool> Store::PutManifest(const Digest& d, std::string_view bytes, std::vector<Digest>* missing) {
  ARCA_RETURN_IF_ERROR(CheckObjectDigest(d, bytes));
  Result<format::Manifest> manifest = format::Manifest::Parse(bytes);
  if (!manifest.ok()) return manifest.status();
  if (HasObject(d)) {
    ARCA_ASSIGN_OR_RETURN(ObjectKind kind, GetObjectKind(d));
    if (kind != ObjectKind::kManifest) return InvalidArgumentError("object " + d.ToString() + " is held as another kind");
    return false;
  }
  size_t absent = 0;
  for (const format::ManifestFile& f : manifest->files) {
    Result<std::string> index_bytes = GetObject(f.index, ObjectKind::kFileIndex);
    if (index_bytes.status().code() == StatusCode::kNotFound) {
      ++absent;
      NoteMissing(missing, f.index);
      continue;
    }
    if (!index_bytes.ok()) return index_bytes.status().WithContext(f.path);
    Result<format::FileIndex> index = format::FileIndex::Parse(AsBytes(*index_bytes));
    if (!index.ok()) return index.status().WithContext(f.path);
    if (index->file_size != f.size) {
      return InvalidArgumentError(f.path + ": the manifest says " + std::to_string(f.size) +
                                  " bytes but its file index says " + std::to_string(index->file_size));
    }
  }
  if (absent) return MissingError("manifest " + d.ToString(), absent);
  ARCA_RETURN_IF_ERROR(Impl::FromRocks(
      impl_->db->Put(impl_->SyncWrite(), DigestKey(internal::kObjectPrefix, d),
                     std::string(1, char(ObjectKind::kManifest)) + std::string(bytes)),
      "write manifest"));
  return true;
}

Status Store::CheckBundleComplete(const Digest& bundle, std::vector<Digest>* missing) const {
  Result<format::Manifest> manifest = GetManifest(bundle);
  if (manifest.status().code() == StatusCode::kNotFound) {
    NoteMissing(missing, bundle);
    return MissingError("bundle " + bundle.ToString(), 1);
  }
  if (!manifest.ok()) return manifest.status();
  size_t absent = 0;
  std::unordered_set<Digest, DigestHash> seen;
  std::vector<Digest> chunks;
  for (const format::ManifestFile& f : manifest->files) {
    Result<std::string> index_bytes = GetObject(f.index, ObjectKind::kFileIndex);
    if (index_bytes.status().code() == StatusCode::kNotFound) {
      ++absent;
      NoteMissing(missing, f.index);
      continue;
    }
    if (!index_bytes.ok()) return index_bytes.status().WithContext(f.path);
    Result<format::FileIndex> index = format::FileIndex::Parse(AsBytes(*index_bytes));
    if (!index.ok()) return index.status().WithContext(f.path);
    for (const format::ChunkRef& c : index->chunks) {
      if (seen.insert(c.digest).second) chunks.push_back(c.digest);
    }
  }
  std::vector<std::optional<ChunkLocation>> held = FindChunks(chunks);
  for (size_t i = 0; i < held.size(); ++i) {
    if (!held[i]) {
      ++absent;
      NoteMissing(missing, chunks[i]);
    }
  }
  if (absent) return MissingError("bundle " + bundle.ToString(), absent);
  return Status::Ok();
}

}  // namespace arca::store
