// Store maintenance: fsck (rehash and cross-check everything) and gc (remove
// what no ref reaches).
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/file.h"
#include "format/file_index.h"
#include "store/internal/keys.h"
#include "store/internal/store_impl.h"
#include "store/store.h"

namespace arca::store {

namespace fs = std::filesystem;
using format::PackEntry;
using internal::DigestKey;

namespace {

using DigestSet = std::unordered_set<Digest, DigestHash>;

// Pack files on disk, by digest (from their names). Names that are not
// "<64 hex>.pack" are reported in *odd.
std::map<Digest, std::string> ListPackFiles(const std::string& packs_dir, std::vector<std::string>* odd) {
  std::map<Digest, std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(packs_dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::string name = it->path().filename().string();
    Result<Digest> d = name.size() == 69 && name.substr(64) == ".pack" ? Digest::Parse("sha256:" + name.substr(0, 64))
                                                                       : Result<Digest>(InvalidArgumentError("name"));
    if (!d.ok()) {
      odd->push_back(it->path().string());
      continue;
    }
    out[*d] = it->path().string();
  }
  return out;
}

template <typename F>
void ForEachWithPrefix(rocksdb::DB* db, char prefix, F fn) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(std::string(1, prefix)); it->Valid() && it->key()[0] == prefix; it->Next()) {
    fn(it->key().ToString().substr(1), it->value().ToString());
  }
}

Digest KeyDigest(const std::string& k) { return Digest::FromBytes(reinterpret_cast<const uint8_t*>(k.data())); }

}  // namespace

FsckReport Store::Fsck() const {
  FsckReport r;
  rocksdb::DB* db = impl_->db.get();
  std::vector<std::string> odd;
  std::map<Digest, std::string> files = ListPackFiles(impl_->packs_dir, &odd);
  for (const std::string& o : odd) r.problems.push_back("unexpected file in packs/: " + o);

  // Pack records.
  std::map<Digest, uint64_t> records;
  ForEachWithPrefix(db, internal::kPackPrefix, [&](const std::string& k, const std::string& v) {
    Digest d = KeyDigest(k);
    if (k.size() != 32 || v.size() != internal::kPackValueSize) {
      r.problems.push_back("pack record " + d.ToString() + " is malformed");
      return;
    }
    records[d] = GetLE64(reinterpret_cast<const uint8_t*>(v.data()));
  });

  // Every pack file: whole digest, index, every chunk decoded and verified.
  std::map<Digest, std::map<Digest, PackEntry>> pack_entries;
  for (const auto& [digest, path] : files) {
    ++r.packs;
    if (!records.count(digest)) {
      r.orphans.push_back(path);
      continue;
    }
    Result<MappedFile> m = MappedFile::Open(path);
    if (!m.ok()) {
      r.problems.push_back("pack " + digest.ToString() + ": " + m.status().ToString());
      continue;
    }
    r.bytes_checked += m->size();
    if (m->size() != records[digest]) {
      r.problems.push_back("pack " + digest.ToString() + ": size " + std::to_string(m->size()) + " differs from its record (" +
                           std::to_string(records[digest]) + ")");
    }
    Status s = format::VerifyPackBytes(m->bytes());
    if (!s.ok()) {
      r.problems.push_back("pack " + digest.ToString() + ": " + std::string(s.message()));
    }
    Result<format::PackIndex> idx = format::PackIndex::Parse(m->bytes(), m->size());
    if (idx.ok() && idx->name != digest) {
      r.problems.push_back("pack " + digest.ToString() + " (" + path + "): its index does not match its name");
    }
    if (idx.ok()) {
      auto& map = pack_entries[digest];
      for (const PackEntry& e : idx->entries) map[e.digest] = e;
    }
  }
  for (const auto& [digest, size] : records) {
    if (!files.count(digest)) r.problems.push_back("pack " + digest.ToString() + " is recorded but its file is missing");
  }

  // Chunk records point at a pack that holds them, as recorded.
  DigestSet chunks;
  ForEachWithPrefix(db, internal::kChunkPrefix, [&](const std::string& k, const std::string& v) {
    ++r.chunks;
    Digest d = KeyDigest(k);
    chunks.insert(d);
    Digest pack;
    PackEntry e;
    if (k.size() != 32 || !internal::DecodeChunkValue(v, d, &pack, &e).ok()) {
      r.problems.push_back("chunk record " + d.ToString() + " is malformed");
      return;
    }
    auto p = pack_entries.find(pack);
    if (p == pack_entries.end()) {
      if (files.count(pack) && records.count(pack)) return;  // pack unreadable: already reported
      r.problems.push_back("chunk " + d.ToString() + ": its pack " + pack.ToString() + " is missing");
      return;
    }
    auto it = p->second.find(d);
    if (it == p->second.end() || it->second.offset != e.offset || it->second.stored_len != e.stored_len ||
        it->second.raw_len != e.raw_len || it->second.codec != e.codec || it->second.crc32c != e.crc32c) {
      r.problems.push_back("chunk " + d.ToString() + ": record does not match pack " + pack.ToString());
    }
  });

  // Objects: digest, kind, parse, references.
  DigestSet manifests, indexes, attestations;
  std::vector<std::pair<Digest, std::string>> to_check;
  ForEachWithPrefix(db, internal::kObjectPrefix, [&](const std::string& k, const std::string& v) {
    ++r.objects;
    Digest d = KeyDigest(k);
    if (v.empty()) {
      r.problems.push_back("object " + d.ToString() + " is empty");
      return;
    }
    std::string_view body(v.data() + 1, v.size() - 1);
    r.bytes_checked += body.size();
    if (Sha256Of(body) != d) {
      r.problems.push_back("object " + d.ToString() + " is corrupt (digest mismatch)");
      return;
    }
    if (v[0] == char(ObjectKind::kManifest)) manifests.insert(d);
    else if (v[0] == char(ObjectKind::kFileIndex)) indexes.insert(d);
    else if (v[0] == char(ObjectKind::kAttestation)) attestations.insert(d);
    else if (v[0] != char(ObjectKind::kBlob)) r.problems.push_back("object " + d.ToString() + " has unknown kind");
    to_check.emplace_back(d, v);
  });
  for (const auto& [d, v] : to_check) {
    std::string_view body(v.data() + 1, v.size() - 1);
    if (v[0] == char(ObjectKind::kFileIndex)) {
      Result<format::FileIndex> fi = format::FileIndex::Parse(AsBytes(body));
      if (!fi.ok()) {
        r.problems.push_back("file index " + d.ToString() + ": " + std::string(fi.status().message()));
        continue;
      }
      for (const format::ChunkRef& c : fi->chunks) {
        if (!chunks.count(c.digest)) {
          r.problems.push_back("file index " + d.ToString() + ": chunk " + c.digest.ToString() + " is missing");
          break;
        }
      }
    } else if (v[0] == char(ObjectKind::kManifest)) {
      Result<format::Manifest> m = format::Manifest::Parse(body);
      if (!m.ok()) {
        r.problems.push_back("manifest " + d.ToString() + ": " + std::string(m.status().message()));
        continue;
      }
      for (const auto& f : m->files) {
        if (!indexes.count(f.index)) {
          r.problems.push_back("manifest " + d.ToString() + ": file index of " + f.path + " is missing");
        }
      }
    }
  }
  // Attestation index records: each names a held manifest and a held
  // attestation object; each attestation object is indexed at least once.
  DigestSet indexed;
  ForEachWithPrefix(db, internal::kAttestationPrefix, [&](const std::string& k, const std::string& v) {
    ++r.attestations;
    if (k.size() != 64 || !v.empty()) {
      r.problems.push_back("attestation index record " + HexEncode(AsBytes(k)) + " is malformed");
      return;
    }
    Digest subject = KeyDigest(k);
    Digest envelope = Digest::FromBytes(reinterpret_cast<const uint8_t*>(k.data()) + 32);
    indexed.insert(envelope);
    if (!manifests.count(subject)) {
      r.problems.push_back("attestation " + envelope.ToString() + ": its subject bundle " + subject.ToString() +
                           " is missing");
    }
    if (!attestations.count(envelope)) {
      r.problems.push_back("attestation " + envelope.ToString() + " of bundle " + subject.ToString() +
                           " is indexed but its object is missing or of another kind");
    }
  });
  for (const Digest& d : attestations) {
    if (!indexed.count(d)) r.problems.push_back("attestation " + d.ToString() + " is attached to no bundle");
  }
  for (const auto& [name, d] : ListRefs()) {
    ++r.refs;
    if (!manifests.count(d)) r.problems.push_back("ref " + name + ": bundle " + d.ToString() + " is missing");
  }
  return r;
}

Result<GcReport> Store::Gc() {
  GcReport r;
  rocksdb::DB* db = impl_->db.get();
  // Mark.
  DigestSet live_objects, live_chunks;
  for (const auto& [name, bundle] : ListRefs()) {
    ARCA_ASSIGN_OR_RETURN(format::Manifest m, GetManifest(bundle));
    live_objects.insert(bundle);
    for (const auto& f : m.files) {
      ARCA_ASSIGN_OR_RETURN(std::string bytes, GetObject(f.index, ObjectKind::kFileIndex));
      ARCA_ASSIGN_OR_RETURN(format::FileIndex fi, format::FileIndex::Parse(AsBytes(bytes)));
      live_objects.insert(f.index);
      for (const auto& c : fi.chunks) live_chunks.insert(c.digest);
    }
    ARCA_ASSIGN_OR_RETURN(std::vector<Digest> attached, ListAttestations(bundle));
    live_objects.insert(attached.begin(), attached.end());
  }
  // Sweep records in one batch.
  rocksdb::WriteBatch batch;
  ForEachWithPrefix(db, internal::kObjectPrefix, [&](const std::string& k, const std::string&) {
    if (!live_objects.count(KeyDigest(k))) {
      batch.Delete(std::string(1, internal::kObjectPrefix) + k);
      ++r.objects_removed;
    }
  });
  // Index records of attestations whose subject is gone go with it.
  ForEachWithPrefix(db, internal::kAttestationPrefix, [&](const std::string& k, const std::string&) {
    if (k.size() != 64 || !live_objects.count(KeyDigest(k))) {
      batch.Delete(std::string(1, internal::kAttestationPrefix) + k);
    }
  });
  std::unordered_map<Digest, uint64_t, DigestHash> live_per_pack;
  ForEachWithPrefix(db, internal::kChunkPrefix, [&](const std::string& k, const std::string& v) {
    Digest d = KeyDigest(k), pack;
    PackEntry e;
    if (!live_chunks.count(d) || !internal::DecodeChunkValue(v, d, &pack, &e).ok()) {
      batch.Delete(std::string(1, internal::kChunkPrefix) + k);
      ++r.chunks_removed;
      return;
    }
    ++live_per_pack[pack];
  });
  std::vector<std::pair<Digest, uint64_t>> dead_packs;
  ForEachWithPrefix(db, internal::kPackPrefix, [&](const std::string& k, const std::string& v) {
    Digest d = KeyDigest(k);
    if (live_per_pack.count(d)) return;
    batch.Delete(std::string(1, internal::kPackPrefix) + k);
    dead_packs.emplace_back(d, v.size() >= 8 ? GetLE64(reinterpret_cast<const uint8_t*>(v.data())) : 0);
  });
  ARCA_RETURN_IF_ERROR(Impl::FromRocks(db->Write(impl_->SyncWrite(), &batch), "gc"));
  // Only after the records are gone: delete files (a crash here leaves
  // orphans, which the next gc removes).
  for (const auto& [d, size] : dead_packs) {
    std::error_code ec;
    if (fs::remove(PackPath(d), ec)) {
      ++r.packs_removed;
      r.bytes_freed += size;
    }
  }
  std::vector<std::string> odd;
  for (const auto& [d, path] : ListPackFiles(impl_->packs_dir, &odd)) {
    std::string v;
    if (db->Get(rocksdb::ReadOptions(), DigestKey(internal::kPackPrefix, d), &v).IsNotFound()) {
      std::error_code ec;
      uint64_t size = fs::file_size(path, ec);
      if (fs::remove(path, ec)) {
        ++r.packs_removed;
        r.bytes_freed += size;
      }
    }
  }
  // A pack is "partial" when it has live chunks but fewer than it holds.
  ForEachWithPrefix(db, internal::kPackPrefix, [&](const std::string& k, const std::string& v) {
    auto it = live_per_pack.find(KeyDigest(k));
    if (it != live_per_pack.end() && v.size() == internal::kPackValueSize &&
        it->second < GetLE32(reinterpret_cast<const uint8_t*>(v.data()) + 8)) {
      ++r.packs_kept_partial;
    }
  });
  return r;
}

}  // namespace arca::store
