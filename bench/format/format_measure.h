// Single-threaded costs of the format's stages on one data set: chunking,
// hashing (the whole-file digest and the chunk digests), encoding, decoding,
// and the compression ratio against plain zstd -1 on the same chunks.
#ifndef ARCA_BENCH_FORMAT_FORMAT_MEASURE_H_
#define ARCA_BENCH_FORMAT_FORMAT_MEASURE_H_

#include <array>
#include <cstdint>
#include <string>

#include "common/bytes.h"

namespace arca::bench {

// Medians over runs; throughputs in MB/s (10^6 bytes) of the given clock.
struct StageRates {
  double chunk = 0;       // ChunkLengths
  double sha_file = 0;    // Sha256Of over the whole data (OpenSSL, one stream)
  double sha_batch = 0;   // Sha256Batch over the chunks, ~4 MiB batches as the builder
  double encode = 0;      // EncodeChunk over every chunk
  double decode = 0;      // DecodeChunk over every chunk
  double zstd1 = 0;       // plain ZSTD_compressCCtx level 1 over every chunk
};

struct FormatRow {
  uint64_t bytes = 0;
  uint64_t chunks = 0;
  StageRates cpu;   // thread CPU time
  StageRates wall;  // wall time
  double ratio = 0;        // raw / stored with EncodeChunk's choice
  double zstd1_ratio = 0;  // raw / plain zstd -1 frames, chunk by chunk
  // raw / stored when every chunk is forced to raw, zstd, bg2, bg4.
  std::array<double, 4> forced_ratio{};
  std::array<uint64_t, 4> codec_chunks{};  // chunks by codec chosen
  bool decoded_ok = false;                 // decoded bytes equal the input
};

// Measures every stage `runs` times. Small inputs are processed repeatedly
// within a run so that each timed section covers at least ~64 MB.
FormatRow MeasureFormat(ByteView data, int runs);

}  // namespace arca::bench

#endif  // ARCA_BENCH_FORMAT_FORMAT_MEASURE_H_
