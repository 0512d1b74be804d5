// Each stage is timed on its own, back to back within a run, on the calling
// thread; the chunk list from the chunking stage feeds the others.
#include "bench/format/format_measure.h"

#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench/format/timing.h"
#include "common/digest.h"
#include "common/sha256_mb.h"
#include "format/chunker.h"
#include "format/codec.h"

namespace arca::bench {

namespace {

constexpr uint64_t kMinTimedBytes = 64ull << 20;
constexpr uint64_t kBuilderBatchBytes = 4ull << 20;  // as format/builder.cc

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

struct Samples {
  std::vector<double> cpu, wall;
  void Add(const Elapsed& e, double bytes) {
    cpu.push_back(MBps(bytes, e.thread_cpu));
    wall.push_back(MBps(bytes, e.wall));
  }
};

// Times `reps` calls of fn.
template <class Fn>
Elapsed Time(int reps, Fn fn) {
  Stopwatch sw;
  for (int r = 0; r < reps; ++r) fn();
  return sw.Read();
}

}  // namespace

FormatRow MeasureFormat(ByteView data, int runs) {
  FormatRow row;
  row.bytes = data.size();
  if (data.empty()) return row;
  const int reps = int(std::max<uint64_t>(1, (kMinTimedBytes + data.size() - 1) / data.size()));
  const double timed_bytes = double(data.size()) * reps;

  std::vector<ByteView> chunks;
  for (size_t off = 0; off < data.size();) {
    size_t len = format::NextChunkLength(data.subspan(off));
    chunks.push_back(data.subspan(off, len));
    off += len;
  }
  row.chunks = chunks.size();
  // Builder-sized batches of chunks for Sha256Batch.
  std::vector<std::pair<size_t, size_t>> batches;  // [first, last)
  for (size_t i = 0; i < chunks.size();) {
    size_t j = i;
    uint64_t bytes = 0;
    while (j < chunks.size() && bytes < kBuilderBatchBytes) bytes += chunks[j++].size();
    batches.emplace_back(i, j);
    i = j;
  }

  std::vector<std::string> stored(chunks.size());
  std::vector<format::Codec> codecs(chunks.size());
  std::vector<Digest> digests(chunks.size());
  std::vector<uint8_t> decoded(format::kMaxChunk);
  std::string zframe(ZSTD_compressBound(format::kMaxChunk), '\0');
  std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx(ZSTD_createCCtx());

  Samples chunk, sha_file, sha_batch, encode, decode, zstd1;
  uint64_t stored_total = 0, zstd_total = 0;
  volatile size_t sink = 0;  // keeps results alive
  for (int run = 0; run < runs; ++run) {
    chunk.Add(Time(reps, [&] { sink = sink + format::ChunkLengths(data).size(); }), timed_bytes);
    sha_file.Add(Time(reps, [&] { sink = sink + Sha256Of(data).bytes[0]; }), timed_bytes);
    sha_batch.Add(Time(reps,
                       [&] {
                         for (auto [first, last] : batches) {
                           Sha256Batch(std::span<const ByteView>(chunks).subspan(first, last - first),
                                       std::span<Digest>(digests).subspan(first, last - first));
                         }
                       }),
                  timed_bytes);
    encode.Add(Time(reps,
                    [&] {
                      stored_total = 0;
                      for (size_t i = 0; i < chunks.size(); ++i) {
                        codecs[i] = format::EncodeChunk(chunks[i], &stored[i]);
                        stored_total += stored[i].size();
                      }
                    }),
               timed_bytes);
    bool ok = true;
    decode.Add(Time(reps,
                    [&] {
                      for (size_t i = 0; i < chunks.size(); ++i) {
                        Status s = format::DecodeChunk(uint8_t(codecs[i]), AsBytes(stored[i]),
                                                       decoded.data(), uint32_t(chunks[i].size()));
                        ok = ok && s.ok();
                      }
                    }),
               timed_bytes);
    zstd1.Add(Time(reps,
                   [&] {
                     zstd_total = 0;
                     for (ByteView c : chunks) {
                       size_t n = ZSTD_compressCCtx(cctx.get(), zframe.data(), zframe.size(),
                                                    c.data(), c.size(), 1);
                       zstd_total += ZSTD_isError(n) ? c.size() : n;
                     }
                   }),
              timed_bytes);
    if (run == 0) {
      // Check outside the timed loops: decoded bytes and chunk digests.
      for (size_t i = 0; i < chunks.size() && ok; ++i) {
        ok = format::DecodeChunk(uint8_t(codecs[i]), AsBytes(stored[i]), decoded.data(),
                                 uint32_t(chunks[i].size()))
                 .ok() &&
             std::memcmp(decoded.data(), chunks[i].data(), chunks[i].size()) == 0 &&
             digests[i] == Sha256Of(chunks[i]);
      }
      row.decoded_ok = ok;
    }
  }
  for (format::Codec c : codecs) ++row.codec_chunks[uint8_t(c)];
  row.ratio = double(data.size()) / double(stored_total);
  row.zstd1_ratio = double(data.size()) / double(zstd_total);
  for (uint8_t id = 0; id <= format::kMaxCodecId; ++id) {
    uint64_t total = 0;
    std::string out;
    for (ByteView c : chunks) {
      format::EncodeChunkAs(format::Codec(id), c, &out);
      total += out.size();
    }
    row.forced_ratio[id] = double(data.size()) / double(total);
  }

  auto fill = [](StageRates* r, const Samples& ch, const Samples& sf, const Samples& sb,
                 const Samples& en, const Samples& de, const Samples& z, bool cpu) {
    auto pick = [cpu](const Samples& s) { return Median(cpu ? s.cpu : s.wall); };
    *r = {pick(ch), pick(sf), pick(sb), pick(en), pick(de), pick(z)};
  };
  fill(&row.cpu, chunk, sha_file, sha_batch, encode, decode, zstd1, true);
  fill(&row.wall, chunk, sha_file, sha_batch, encode, decode, zstd1, false);
  return row;
}

}  // namespace arca::bench
