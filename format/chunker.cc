// The fast chunker. It is equivalent to the byte-by-byte rule of FORMAT.md §1
// (chunker_test.cc checks it against a literal transcription of that rule):
//  - h only depends on the last 64 bytes (older bytes are shifted out), so
//    hashing may start 64 bytes before kMinChunk instead of at 0;
//  - the mask only changes at kNormalChunk, so the loop is split in two.
#include "format/chunker.h"

#include <algorithm>
#include <string>

#include "common/digest.h"

namespace arca::format {

const std::array<uint64_t, 256>& GearTable() {
  static const std::array<uint64_t, 256> table = [] {
    std::array<uint64_t, 256> t{};
    for (int i = 0; i < 256; ++i) {
      std::string seed = "arca-gear-v1";
      seed.push_back(char(i));
      t[i] = GetLE64(Sha256Of(seed).bytes.data());
    }
    return t;
  }();
  return table;
}

uint32_t NextChunkLength(ByteView data) {
  const size_t n = data.size();
  if (n <= kMinChunk) return uint32_t(n);
  const uint64_t* g = GearTable().data();
  const uint8_t* p = data.data();
  const size_t limit = std::min<size_t>(n, kMaxChunk);
  const size_t normal = std::min<size_t>(limit, kNormalChunk);

  uint64_t h = 0;
  size_t i = kMinChunk - 64;
  for (; i < kMinChunk - 1; ++i) h = (h << 1) + g[p[i]];
  // Position i gives a chunk of length i + 1.
  for (; i < normal - 1; ++i) {
    h = (h << 1) + g[p[i]];
    if ((h & kMaskSmall) == 0) return uint32_t(i + 1);
  }
  for (; i < limit - 1; ++i) {
    h = (h << 1) + g[p[i]];
    if ((h & kMaskLarge) == 0) return uint32_t(i + 1);
  }
  return uint32_t(limit);
}

std::vector<uint32_t> ChunkLengths(ByteView data) {
  std::vector<uint32_t> out;
  out.reserve(data.size() / (64 * 1024) + 1);
  size_t off = 0;
  while (off < data.size()) {
    uint32_t len = NextChunkLength(data.subspan(off));
    out.push_back(len);
    off += len;
  }
  return out;
}

}  // namespace arca::format
