// The registry's transparency log on RocksDB: key layout and crash rule in
// log.h; tree algorithms in signing/merkle.h.
#include "registry/log.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>

#include "common/file.h"
#include "signing/keyfile.h"

namespace arca::registry {
namespace {

std::string U64Be(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) s[size_t(i)] = char(v & 0xff);
  return s;
}

uint64_t ReadU64Be(std::string_view s, size_t at = 0) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | uint8_t(s[at + i]);
  return v;
}

std::string Raw(const Digest& d) { return std::string(reinterpret_cast<const char*>(d.bytes.data()), 32); }

std::string EntryKey(uint64_t index) { return "e" + U64Be(index); }
std::string LeafKey(const Digest& h) { return "l" + Raw(h); }
std::string NodeKey(int level, uint64_t index) { return "n" + std::string(1, char(level)) + U64Be(index); }
std::string PublishKey(const Digest& bundle) { return "p" + Raw(bundle); }
std::string TagKey(const std::string& repository, const std::string& tag) { return "t" + repository + ":" + tag; }
constexpr const char* kSizeKey = "m:size";
constexpr const char* kOriginKey = "m:origin";
constexpr const char* kCheckpointKey = "m:checkpoint";

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  const std::string msg = "log: " + std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return NotFoundError(msg);
  if (s.IsCorruption()) return DataLossError(msg);
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return UnavailableError(msg + " (is another arca-registry using this data directory?)");
  }
  return InternalError(msg);
}

}  // namespace

struct TransparencyLog::Impl {
  std::unique_ptr<rocksdb::DB> db;
  signing::KeyPair key;
  uint64_t size = 0;                 // guarded by append_mu_ for writes
  signing::merkle::CompactRange range;       // the right edge at `size`; append_mu_
  std::string checkpoint;            // guarded by checkpoint_mu
  uint64_t checkpoint_time = 0;      // its timestamp; append_mu_
  mutable std::mutex checkpoint_mu;

  Result<std::optional<std::string>> Get(const std::string& db_key) const {
    std::string v;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), db_key, &v);
    if (s.IsNotFound()) return std::optional<std::string>();
    ARCA_RETURN_IF_ERROR(FromRocks(s, "read"));
    return std::optional<std::string>(std::move(v));
  }

  signing::merkle::NodeReader reader() const {
    return [this](int level, uint64_t index) -> Result<Digest> {
      ARCA_ASSIGN_OR_RETURN(std::optional<std::string> v, Get(NodeKey(level, index)));
      if (!v || v->size() != 32) {
        return DataLossError("log: node " + std::to_string(level) + "/" + std::to_string(index) +
                             " is missing or damaged");
      }
      return Digest::FromBytes(reinterpret_cast<const uint8_t*>(v->data()));
    };
  }
};

TransparencyLog::TransparencyLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TransparencyLog::~TransparencyLog() = default;

Result<std::unique_ptr<TransparencyLog>> TransparencyLog::Open(const std::string& data_dir,
                                                               const std::string& origin) {
  auto impl = std::make_unique<Impl>();
  const std::string key_dir = data_dir + "/keys";
  if (!std::filesystem::exists(key_dir + "/log.key")) {
    ARCA_RETURN_IF_ERROR(signing::GenerateKey(key_dir, "log", std::nullopt).status());
  }
  ARCA_ASSIGN_OR_RETURN(impl->key, signing::LoadSecretKey(key_dir, "log", nullptr));

  ARCA_RETURN_IF_ERROR(MakeDirs(data_dir + "/log"));
  rocksdb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  options.max_open_files = 128;
  {
    // Appends look up keys that are almost never there (is this leaf or
    // bundle already logged?): a Bloom filter answers most of them from
    // memory (bench/log: 46,000 vs 17,000 appends/s near a million entries).
    rocksdb::BlockBasedTableOptions t;
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  }
  rocksdb::DB* db = nullptr;
  ARCA_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, data_dir + "/log", &db), "open " + data_dir + "/log"));
  impl->db.reset(db);

  std::unique_ptr<TransparencyLog> log(new TransparencyLog(std::move(impl)));
  Impl& in = *log->impl_;
  ARCA_ASSIGN_OR_RETURN(std::optional<std::string> stored_origin, in.Get(kOriginKey));
  if (stored_origin) {
    log->origin_ = *stored_origin;
  } else {
    log->origin_ = origin.empty() ? "arca-registry-" + signing::KeyId(in.key.public_key).Hex().substr(0, 16) : origin;
    if (!signing::IsValidKeyName(log->origin_)) {
      return InvalidArgumentError("log origin \"" + log->origin_ +
                                  "\" is not a valid note key name (no spaces, '+' or control characters)");
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    ARCA_RETURN_IF_ERROR(FromRocks(in.db->Put(wo, kOriginKey, log->origin_), "write origin"));
  }
  signing::NoteVerifier v;
  v.name = log->origin_;
  v.type = signing::NoteSignatureType::kCosignatureV1;
  v.key = in.key.public_key;
  ARCA_ASSIGN_OR_RETURN(log->verifier_key_, signing::FormatVerifierKey(v));
  // For `arca-registry log-key`, which must work while the server holds the database.
  ARCA_RETURN_IF_ERROR(WriteFileAtomic(key_dir + "/log.verifier", log->verifier_key_ + "\n"));

  ARCA_ASSIGN_OR_RETURN(std::optional<std::string> size, in.Get(kSizeKey));
  in.size = size && size->size() == 8 ? ReadU64Be(*size) : 0;
  ARCA_ASSIGN_OR_RETURN(in.range, signing::merkle::CompactRange::Restore(in.size, in.reader()));
  ARCA_ASSIGN_OR_RETURN(std::optional<std::string> cp, in.Get(kCheckpointKey));
  if (cp) {
    Result<signing::SignedCheckpoint> opened = signing::OpenCheckpoint(*cp, v);
    if (!opened.ok()) return opened.status().WithContext("log: the stored checkpoint does not verify with log.key");
    in.checkpoint = *cp;
    in.checkpoint_time = opened->timestamp;
  } else {
    // Kept, so that its time bounds the next one's even across restarts.
    in.checkpoint_time = uint64_t(::time(nullptr));
    ARCA_ASSIGN_OR_RETURN(in.checkpoint, log->SignAt(in.size, in.range.Root(), in.checkpoint_time));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    ARCA_RETURN_IF_ERROR(FromRocks(in.db->Put(wo, kCheckpointKey, in.checkpoint), "write checkpoint"));
  }
  return log;
}

Result<std::string> TransparencyLog::SignAt(uint64_t size, const Digest& root, uint64_t now) const {
  signing::Checkpoint c;
  c.origin = origin_;
  c.size = size;
  c.root_hash = root;
  return signing::SignCheckpoint(c, impl_->key, now);
}

uint64_t TransparencyLog::size() const {
  std::lock_guard<std::mutex> lock(append_mu_);
  return impl_->size;
}

std::string TransparencyLog::checkpoint() const {
  std::lock_guard<std::mutex> lock(impl_->checkpoint_mu);
  return impl_->checkpoint;
}

Result<std::string> TransparencyLog::FreshCheckpoint(uint64_t now, uint64_t max_age) {
  std::lock_guard<std::mutex> lock(append_mu_);
  Impl& in = *impl_;
  if (now <= in.checkpoint_time + max_age) return checkpoint();
  ARCA_ASSIGN_OR_RETURN(std::string cp, SignAt(in.size, in.range.Root(), now));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  ARCA_RETURN_IF_ERROR(FromRocks(in.db->Put(wo, kCheckpointKey, cp), "store the checkpoint"));
  in.checkpoint_time = now;
  std::lock_guard<std::mutex> cp_lock(in.checkpoint_mu);
  in.checkpoint = cp;
  return cp;
}

Result<uint64_t> TransparencyLog::Append(std::span<const signing::LogEntry> entries, uint64_t now) {
  std::lock_guard<std::mutex> lock(append_mu_);
  Impl& in = *impl_;
  const uint64_t first = in.size;
  signing::merkle::CompactRange range = in.range;
  rocksdb::WriteBatch batch;
  // Tags and publishes this batch has already moved, so that two entries for
  // the same tag in one batch get consecutive numbers.
  std::map<std::string, TagHead> tags;
  std::map<Digest, uint64_t> published;
  std::set<Digest> leaves;
  for (size_t i = 0; i < entries.size(); ++i) {
    signing::LogEntry e = entries[i];
    const uint64_t index = first + i;
    if (e.type == signing::LogEntryType::kTag) {
      const std::string key = TagKey(e.repository, e.tag);
      TagHead head;
      if (auto it = tags.find(key); it != tags.end()) {
        head = it->second;
      } else if (std::optional<TagHead> h = Tag(e.repository, e.tag)) {
        head = *h;
      }
      if (e.sequence != 0 && e.sequence != head.sequence + 1) {
        return FailedPreconditionError("log: tag " + e.repository + ":" + e.tag + " entry numbered " +
                                       std::to_string(e.sequence) + ", expected " + std::to_string(head.sequence + 1));
      }
      e.sequence = head.sequence + 1;
      tags[key] = TagHead{e.sequence, index};
      batch.Put(key, U64Be(e.sequence) + U64Be(index));
    }
    if (e.type == signing::LogEntryType::kPublish && e.bundle && !published.count(*e.bundle) &&
        !PublishIndex(*e.bundle)) {
      published[*e.bundle] = index;
      batch.Put(PublishKey(*e.bundle), U64Be(index));
    }
    ARCA_ASSIGN_OR_RETURN(std::string bytes, e.Encode());
    const Digest leaf = signing::merkle::HashLeaf(bytes);
    batch.Put(EntryKey(index), bytes);
    if (leaves.insert(leaf).second && !IndexOfLeaf(leaf).ok()) batch.Put(LeafKey(leaf), U64Be(index));
    ARCA_RETURN_IF_ERROR(range.Append(leaf, [&](int level, uint64_t node, const Digest& h) -> Status {
      batch.Put(NodeKey(level, node), Raw(h));
      return Status::Ok();
    }));
  }
  const uint64_t size = first + entries.size();
  // LOG.md §7: a checkpoint is never timestamped before the one before it,
  // even if the clock steps back.
  now = std::max(now, in.checkpoint_time);
  ARCA_ASSIGN_OR_RETURN(std::string cp, SignAt(size, range.Root(), now));
  batch.Put(kSizeKey, U64Be(size));
  batch.Put(kCheckpointKey, cp);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  ARCA_RETURN_IF_ERROR(FromRocks(in.db->Write(wo, &batch), "append"));
  in.size = size;
  in.range = std::move(range);
  in.checkpoint_time = now;
  std::lock_guard<std::mutex> cp_lock(in.checkpoint_mu);
  in.checkpoint = std::move(cp);
  return first;
}

Result<std::string> TransparencyLog::Entry(uint64_t index) const {
  if (index >= size()) return OutOfRangeError("log: no entry " + std::to_string(index));
  ARCA_ASSIGN_OR_RETURN(std::optional<std::string> v, impl_->Get(EntryKey(index)));
  if (!v) return DataLossError("log: entry " + std::to_string(index) + " is missing");
  return std::move(*v);
}

Result<std::vector<std::string>> TransparencyLog::Entries(uint64_t start, uint64_t end) const {
  const uint64_t n = size();
  end = std::min(end, n);
  if (start >= end) return OutOfRangeError("log: no entries in [" + std::to_string(start) + ", " + std::to_string(end) + ")");
  std::vector<std::string> out;
  out.reserve(size_t(end - start));
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  it->Seek(EntryKey(start));
  for (uint64_t i = start; i < end; ++i, it->Next()) {
    if (!it->Valid() || it->key().ToString() != EntryKey(i)) {
      ARCA_RETURN_IF_ERROR(FromRocks(it->status(), "read entries"));
      return DataLossError("log: entry " + std::to_string(i) + " is missing");
    }
    out.push_back(it->value().ToString());
  }
  return out;
}

Result<uint64_t> TransparencyLog::IndexOfLeaf(const Digest& leaf_hash) const {
  ARCA_ASSIGN_OR_RETURN(std::optional<std::string> v, impl_->Get(LeafKey(leaf_hash)));
  if (!v || v->size() != 8) return NotFoundError("log: no entry with leaf hash " + leaf_hash.Hex());
  return ReadU64Be(*v);
}

Result<Digest> TransparencyLog::LeafHash(uint64_t index) const {
  ARCA_ASSIGN_OR_RETURN(std::string e, Entry(index));
  return signing::merkle::HashLeaf(e);
}

Result<std::vector<Digest>> TransparencyLog::InclusionProof(uint64_t index, uint64_t size) const {
  if (size > this->size()) return OutOfRangeError("log: size " + std::to_string(size) + " is beyond the log");
  return signing::merkle::InclusionProof(index, size, impl_->reader());
}

Result<std::vector<Digest>> TransparencyLog::ConsistencyProof(uint64_t size1, uint64_t size2) const {
  if (size2 > size()) return OutOfRangeError("log: size " + std::to_string(size2) + " is beyond the log");
  return signing::merkle::ConsistencyProof(size1, size2, impl_->reader());
}

Result<Digest> TransparencyLog::Root(uint64_t size) const {
  if (size > this->size()) return OutOfRangeError("log: size " + std::to_string(size) + " is beyond the log");
  return signing::merkle::Root(size, impl_->reader());
}

std::optional<uint64_t> TransparencyLog::PublishIndex(const Digest& bundle) const {
  Result<std::optional<std::string>> v = impl_->Get(PublishKey(bundle));
  if (!v.ok() || !*v || (*v)->size() != 8) return std::nullopt;
  return ReadU64Be(**v);
}

std::optional<TagHead> TransparencyLog::Tag(const std::string& repository, const std::string& tag) const {
  Result<std::optional<std::string>> v = impl_->Get(TagKey(repository, tag));
  if (!v.ok() || !*v || (*v)->size() != 16) return std::nullopt;
  return TagHead{ReadU64Be(**v, 0), ReadU64Be(**v, 8)};
}

Result<std::vector<std::pair<std::string, TagHead>>> TransparencyLog::Tags() const {
  std::vector<std::pair<std::string, TagHead>> out;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("t"); it->Valid() && it->key().starts_with("t"); it->Next()) {
    const std::string v = it->value().ToString();
    if (v.size() != 16) return DataLossError("log: tag record " + it->key().ToString().substr(1) + " is damaged");
    out.emplace_back(it->key().ToString().substr(1), TagHead{ReadU64Be(v, 0), ReadU64Be(v, 8)});
  }
  ARCA_RETURN_IF_ERROR(FromRocks(it->status(), "list tags"));
  return out;
}

}  // namespace arca::registry
