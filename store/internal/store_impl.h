// The state behind a Store, shared by store.cc (data paths) and
// maintenance.cc (fsck, gc). Private to store/.
#ifndef ARCA_STORE_INTERNAL_STORE_IMPL_H_
#define ARCA_STORE_INTERNAL_STORE_IMPL_H_

#include <rocksdb/db.h>

#include <memory>
#include <mutex>
#include <vector>
#include <string>

#include "store/store.h"

namespace arca::store {

struct Store::Impl {
  std::unique_ptr<rocksdb::DB> db;
  std::string packs_dir;
  std::string tmp_dir;
  // Serialises the last step of IngestPack (which chunks are new, then
  // record them), so that two racing uploads store each chunk once.
  std::mutex ingest_mu;
  // Serialises PutAttestation's count-then-write, so that racing uploads
  // cannot pass kMaxAttestationsPerSubject.
  std::mutex attestation_mu;

  // Renames a finished pack from tmp_path to its place, fsyncs the
  // directory, and records the pack and its entries in one batch. Returns
  // the pack file's size. The temporary file is removed on failure.
  Result<uint64_t> CommitPack(const Store& store, const std::string& tmp_path, const Digest& pack,
                              const std::vector<format::PackEntry>& entries);

  // Status from a RocksDB status, with context.
  static Status FromRocks(const rocksdb::Status& s, std::string_view what);
  rocksdb::WriteOptions SyncWrite() const {
    rocksdb::WriteOptions w;
    w.sync = true;
    return w;
  }
};

}  // namespace arca::store

#endif  // ARCA_STORE_INTERNAL_STORE_IMPL_H_
