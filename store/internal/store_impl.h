// The state behind a Store, shared by store.cc (data paths) and
// maintenance.cc (fsck, gc). Private to store/.
#ifndef ARCA_STORE_INTERNAL_STORE_IMPL_H_
#define ARCA_STORE_INTERNAL_STORE_IMPL_H_

#include <rocksdb/db.h>

#include <memory>
#include <string>

#include "store/store.h"

namespace arca::store {

struct Store::Impl {
  std::unique_ptr<rocksdb::DB> db;
  std::string packs_dir;
  std::string tmp_dir;

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
