// End-to-end costs through a real store: ingest (Store::AddDirectory of a
// directory holding one data file, into a fresh store each run), read-back
// (Store::ReadChunks of the file's chunks, warm page cache), and the bytes a
// second version adds to a store that holds the first.
//
// Everything is written under a work directory the caller owns and removes.
#ifndef ARCA_BENCH_FORMAT_STORE_MEASURE_H_
#define ARCA_BENCH_FORMAT_STORE_MEASURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "bench/format/datasets.h"
#include "common/result.h"

namespace arca::bench {

// Medians over runs; MB/s of 10^6 bytes of the data file.
struct ThreadRates {
  int threads = 0;
  double wall = 0;         // wall time
  double process_cpu = 0;  // process CPU time (all threads, user + system)
};

struct StoreRow {
  uint64_t bytes = 0;
  std::vector<ThreadRates> ingest;      // AddDirectory
  std::vector<ThreadRates> read;        // ReadChunks, sink only counts bytes
  std::vector<ThreadRates> read_sha;    // ReadChunks, sink feeds the file's SHA-256
  uint64_t pack_bytes = 0;              // pack files written (index and trailers included)
  double pack_ratio = 0;                // bytes / pack_bytes
  // One-thread ingest split, medians: the whole-file SHA-256 (timed on its
  // own on the same bytes, right after each ingest) and the rest.
  double ingest1_seconds = 0;
  double file_sha_seconds = 0;
  double file_sha_mbps = 0;
  bool verified = false;  // read-back bytes hash to the manifest's file digest
};

// Ingests `data` (as file `file_name`) with each thread count, `runs` times
// each, then reads it back.
Result<StoreRow> MeasureStore(const Dataset& data, const std::string& file_name,
                              const std::string& work_dir, int runs,
                              const std::vector<int>& threads_list);

struct V2Row {
  uint64_t ideal_bytes = 0;       // rewritten + inserted bytes
  uint64_t new_raw_bytes = 0;     // BuildStats.new_raw_bytes
  uint64_t new_stored_bytes = 0;  // BuildStats.new_stored_bytes
  uint64_t new_chunks = 0;
  uint64_t chunks = 0;
  uint64_t new_pack_bytes = 0;
  ThreadRates ingest;  // of v2 into the store holding v1
};

// Adds v1, then v2 (same file name) to a fresh store, `runs` times.
Result<V2Row> MeasureV2(const Dataset& v1, const Dataset& v2, const V2Edit& edit,
                        const std::string& work_dir, int runs, int threads);

}  // namespace arca::bench

#endif  // ARCA_BENCH_FORMAT_STORE_MEASURE_H_
