// Per-chunk codecs (FORMAT.md §2): raw, zstd, and zstd over byte planes.
//
// Encoding picks the codec from a cheap entropy estimate; decoding accepts any
// valid codec and never writes or allocates past the declared raw length.
// Both are thread-safe: each thread keeps its own zstd contexts.
#ifndef ARCA_FORMAT_CODEC_H_
#define ARCA_FORMAT_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"

namespace arca::format {

enum class Codec : uint8_t { kRaw = 0, kZstd = 1, kBytePlanes2 = 2, kBytePlanes4 = 3 };
inline constexpr uint8_t kMaxCodecId = 3;

std::string_view CodecName(Codec c);  // "raw", "zstd", "bg2", "bg4"

// The zstd level for whole chunks (codec zstd).
inline constexpr int kZstdLevel = 1;
// The zstd level for byte planes: almost no match search, Huffman-coded
// literals (see codec.cc).
inline constexpr int kZstdPlaneLevel = -1000;
// A plane whose estimated order-0 entropy is above this many bits per byte is
// stored raw without trying zstd.
inline constexpr double kRawEntropyBits = 7.9;

// Encodes one chunk (at most kMaxChunk bytes). Replaces *stored with the
// stored bytes and returns the codec chosen. `force` (tests, benchmarks)
// skips the choice and uses that codec.
Codec EncodeChunk(ByteView raw, std::string* stored);
Codec EncodeChunkAs(Codec force, ByteView raw, std::string* stored);

// Decodes `stored` into out[0..raw_len). `raw_len` must be at most kMaxChunk.
// Malformed input (unknown codec, lengths that do not add up, a frame that
// inflates to anything but the expected length) is INVALID_ARGUMENT.
Status DecodeChunk(uint8_t codec, ByteView stored, uint8_t* out, uint32_t raw_len);

}  // namespace arca::format

#endif  // ARCA_FORMAT_CODEC_H_
