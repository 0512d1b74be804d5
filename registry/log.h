// The registry's transparency log (signing/LOG.md): an append-only Merkle
// tree of log entries (signing/log_entry.h) in a RocksDB database of its own,
// DATA/log/, with the registry's log key in DATA/keys/log.key (its verifier
// key, public, copied to DATA/keys/log.verifier) and a signed checkpoint
// after every append.
//
// Keys of DATA/log/ (integers big-endian):
//   "e" u64 index            -> entry bytes
//   "l" 32-byte leaf hash    -> u64 index (the first leaf with that hash)
//   "n" u8 level u64 index   -> 32-byte hash of a complete subtree
//   "p" 32-byte bundle       -> u64 index of its publish entry
//   "t" repository ":" tag   -> u64 sequence, u64 index of its latest entry
//   "m:size"                 -> u64 number of entries
//   "m:origin"               -> the log's origin line (fixed at creation)
//   "m:checkpoint"           -> the latest signed checkpoint note
// One append is one synced WriteBatch holding its entries, their nodes, the
// indexes above, the new size and the new checkpoint: after a crash the log
// is at the size before or after it, never between.
//
// Thread-safe: appends are serialised by a mutex; reads see a consistent
// size because the size is read once per call. The log key is held in
// memory for the process's life (the server signs unattended, so the key
// file is not encrypted; it is mode 0600).
#ifndef ARCA_REGISTRY_LOG_H_
#define ARCA_REGISTRY_LOG_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/result.h"
#include "signing/merkle.h"
#include "signing/keys.h"
#include "signing/log_entry.h"
#include "signing/note.h"

namespace arca::registry {

struct TagHead {
  uint64_t sequence = 0;
  uint64_t index = 0;
};

class TransparencyLog {
 public:
  // Opens DATA/log/ and DATA/keys/log.key, creating both when absent; a new
  // log takes `origin` (empty: "arca-registry-" and 16 hex digits of the key
  // id), an existing one keeps its own. Signs a checkpoint for the empty log.
  static Result<std::unique_ptr<TransparencyLog>> Open(const std::string& data_dir, const std::string& origin);
  ~TransparencyLog();
  TransparencyLog(const TransparencyLog&) = delete;
  TransparencyLog& operator=(const TransparencyLog&) = delete;

  const std::string& origin() const { return origin_; }
  // The verifier key clients put in their trust policy.
  const std::string& verifier_key() const { return verifier_key_; }
  uint64_t size() const;
  // The latest signed checkpoint (a signed note).
  std::string checkpoint() const;
  // The latest checkpoint, re-signed at `now` (same tree, durably) when it
  // is more than `max_age` seconds old, so that an idle log does not look
  // frozen to clients that bound a checkpoint's age.
  Result<std::string> FreshCheckpoint(uint64_t now, uint64_t max_age);

  // Appends `entries` (tag entries get their sequence number here: one more
  // than the tag's last, which must be the entry's own if non-zero) durably
  // and signs a checkpoint at `now`. Returns the index of the first.
  Result<uint64_t> Append(std::span<const signing::LogEntry> entries, uint64_t now);

  Result<std::string> Entry(uint64_t index) const;
  // Entries [start, end), end clipped to the size.
  Result<std::vector<std::string>> Entries(uint64_t start, uint64_t end) const;
  Result<uint64_t> IndexOfLeaf(const Digest& leaf_hash) const;
  Result<Digest> LeafHash(uint64_t index) const;
  Result<std::vector<Digest>> InclusionProof(uint64_t index, uint64_t size) const;
  Result<std::vector<Digest>> ConsistencyProof(uint64_t size1, uint64_t size2) const;
  Result<Digest> Root(uint64_t size) const;
  std::optional<uint64_t> PublishIndex(const Digest& bundle) const;
  std::optional<TagHead> Tag(const std::string& repository, const std::string& tag) const;
  // Every tag the log has an entry for, as "repository:tag" with its head,
  // in name order.
  Result<std::vector<std::pair<std::string, TagHead>>> Tags() const;

 private:
  struct Impl;
  explicit TransparencyLog(std::unique_ptr<Impl> impl);
  Result<std::string> SignAt(uint64_t size, const Digest& root, uint64_t now) const;

  std::unique_ptr<Impl> impl_;
  std::string origin_;
  std::string verifier_key_;
  mutable std::mutex append_mu_;
};

}  // namespace arca::registry

#endif  // ARCA_REGISTRY_LOG_H_
