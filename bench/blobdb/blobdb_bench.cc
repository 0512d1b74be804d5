// Pack files vs RocksDB's integrated BlobDB as the home of chunk bytes.
//
// The store keeps stored chunks in pack files and only their locations in
// RocksDB. The alternative the issue asks us to weigh is to put each stored
// chunk in RocksDB as a value, with BlobDB (enable_blob_files) keeping large
// values out of the LSM tree. This program measures both on the same data:
// write N MiB of 64 KiB chunks (durably: pack fsync / WAL sync at the end),
// read them all back, and read one 8 MiB run of consecutive chunks (what a
// pull's ranged request needs).
#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/file.h"
#include "common/testing.h"
#include "format/pack.h"

namespace {

using Clock = std::chrono::steady_clock;
double Secs(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

struct Row {
  double write_mbs, read_mbs, run_ms;
};

Row Packs(const std::string& dir, const std::vector<std::string>& chunks) {
  auto t = Clock::now();
  std::vector<arca::format::PackEntry> entries;
  std::vector<std::string> paths;
  std::unique_ptr<arca::format::PackWriter> w;
  int n = 0;
  uint64_t total = 0;
  for (const auto& c : chunks) {
    if (!w) {
      paths.push_back(dir + "/p" + std::to_string(n++));
      w = std::make_unique<arca::format::PackWriter>(std::move(*arca::format::PackWriter::Create(paths.back())));
    }
    (void)w->Add(arca::Sha256Of(c), arca::format::Codec::kRaw, uint32_t(c.size()), arca::AsBytes(c));
    total += c.size();
    if (w->size() >= arca::format::kPackTargetSize) {
      for (auto e : w->entries()) entries.push_back(e);
      (void)w->Finish();
      w.reset();
    }
  }
  if (w) {
    for (auto e : w->entries()) entries.push_back(e);
    (void)w->Finish();
  }
  double wt = Secs(t);
  // Read every chunk with its own pread (worst case: no run merging).
  t = Clock::now();
  std::string buf(1 << 20, '\0');
  size_t pi = 0, in_pack = 0;
  int fd = ::open(paths[0].c_str(), O_RDONLY);
  uint64_t per_pack = entries.size() / paths.size() + 1;
  (void)per_pack;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0 && entries[i].offset < entries[i - 1].offset) {
      ::close(fd);
      fd = ::open(paths[++pi].c_str(), O_RDONLY);
    }
    (void)arca::PreadAll(fd, std::span<uint8_t>(reinterpret_cast<uint8_t*>(buf.data()), entries[i].stored_len),
                         entries[i].offset, "pack");
    ++in_pack;
  }
  double rt = Secs(t);
  // One 8 MiB run: a single pread.
  t = Clock::now();
  std::string run(8 << 20, '\0');
  (void)arca::PreadAll(fd, std::span<uint8_t>(reinterpret_cast<uint8_t*>(run.data()), run.size()), 16, "pack");
  double run_ms = Secs(t) * 1e3;
  ::close(fd);
  return {total / wt / 1e6, total / rt / 1e6, run_ms};
}

Row Blob(const std::string& dir, const std::vector<std::string>& chunks) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.enable_blob_files = true;
  o.min_blob_size = 4096;
  o.blob_file_size = 256ull << 20;
  rocksdb::DB* raw = nullptr;
  rocksdb::DB::Open(o, dir, &raw);
  std::unique_ptr<rocksdb::DB> db(raw);
  auto t = Clock::now();
  uint64_t total = 0;
  std::vector<std::string> keys;
  rocksdb::WriteBatch batch;
  for (size_t i = 0; i < chunks.size(); ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "c%08zu", i);  // in pack order, as a pack would keep them
    keys.push_back(key);
    batch.Put(key, chunks[i]);
    total += chunks[i].size();
    if (batch.GetDataSize() >= (64u << 20)) {
      rocksdb::WriteOptions w;
      w.sync = true;
      db->Write(w, &batch);
      batch.Clear();
    }
  }
  rocksdb::WriteOptions w;
  w.sync = true;
  db->Write(w, &batch);
  db->Flush(rocksdb::FlushOptions());
  double wt = Secs(t);
  t = Clock::now();
  std::string v;
  for (const auto& k : keys) db->Get(rocksdb::ReadOptions(), k, &v);
  double rt = Secs(t);
  // An 8 MiB run: 128 consecutive values through an iterator.
  t = Clock::now();
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  uint64_t got = 0;
  for (it->Seek(keys[0]); it->Valid() && got < (8u << 20); it->Next()) got += it->value().size();
  double run_ms = Secs(t) * 1e3;
  return {total / wt / 1e6, total / rt / 1e6, run_ms};
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = argc > 1 ? std::stoul(argv[1]) : 512;
  int runs = argc > 2 ? std::stoi(argv[2]) : 3;
  std::string base = std::filesystem::temp_directory_path() / ("arca-blobdb-bench-" + std::to_string(::getpid()));
  std::vector<std::string> chunks;
  for (size_t i = 0; i < mib * 16; ++i) chunks.push_back(arca::testing::RandomBytes(65536, i + 1));
  std::vector<Row> p, b;
  for (int r = 0; r < runs; ++r) {
    std::filesystem::remove_all(base);
    std::filesystem::create_directories(base + "/packs");
    p.push_back(Packs(base + "/packs", chunks));
    b.push_back(Blob(base + "/blobdb", chunks));
  }
  std::filesystem::remove_all(base);
  auto med = [](std::vector<Row> v, double Row::*f) {
    std::sort(v.begin(), v.end(), [f](const Row& x, const Row& y) { return x.*f < y.*f; });
    return v[v.size() / 2].*f;
  };
  std::printf("chunk home, %zu MiB of 64 KiB chunks, median of %d runs (page cache warm for reads)\n\n", mib, runs);
  std::printf("| backend | write MB/s (durable) | read every chunk MB/s | one 8 MiB run (ms) |\n");
  std::printf("|---|---:|---:|---:|\n");
  std::printf("| pack files + pread | %.0f | %.0f | %.2f |\n", med(p, &Row::write_mbs), med(p, &Row::read_mbs),
              med(p, &Row::run_ms));
  std::printf("| RocksDB BlobDB values | %.0f | %.0f | %.2f |\n", med(b, &Row::write_mbs), med(b, &Row::read_mbs),
              med(b, &Row::run_ms));
  return 0;
}
