// Content-defined chunking with a normalised gear rolling hash (FORMAT.md §1).
//
// The chunker is a pure function of the bytes: the same file cuts the same way
// on every machine. Thread-safe (the gear table is built once, immutably).
#ifndef ARCA_FORMAT_CHUNKER_H_
#define ARCA_FORMAT_CHUNKER_H_

#include <array>
#include <cstdint>
#include <vector>

#include "common/bytes.h"

namespace arca::format {

inline constexpr uint32_t kMinChunk = 8 * 1024;
inline constexpr uint32_t kNormalChunk = 48 * 1024;
inline constexpr uint32_t kMaxChunk = 128 * 1024;
inline constexpr uint64_t kMaskSmall = 0xFFFF800000000000ull;  // top 17 bits
inline constexpr uint64_t kMaskLarge = 0xFFFE000000000000ull;  // top 15 bits

// G[i] = first 8 bytes (little-endian) of SHA-256("arca-gear-v1" || u8(i)).
const std::array<uint64_t, 256>& GearTable();

// Length of the chunk that starts at data[0]: in [1, kMaxChunk], and equal to
// data.size() when the rest of the data is the last chunk. 0 for empty data.
uint32_t NextChunkLength(ByteView data);

// Cuts all of `data` into chunks; returns their lengths in order.
std::vector<uint32_t> ChunkLengths(ByteView data);

}  // namespace arca::format

#endif  // ARCA_FORMAT_CHUNKER_H_
