// Packs (FORMAT.md §3): stored chunks back to back, then an index and trailer.
//
// PackWriter streams a pack to a file while hashing it; PackIndex parses and
// checks the index of a pack that was read back; DecodePackChunk turns one
// stored chunk into verified raw bytes.
#ifndef ARCA_FORMAT_PACK_H_
#define ARCA_FORMAT_PACK_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/digest.h"
#include "common/file.h"
#include "common/result.h"
#include "format/codec.h"

namespace arca::format {

inline constexpr char kPackMagic[8] = {'A', 'R', 'C', 'A', 'P', 'A', 'K', '1'};
inline constexpr uint32_t kPackVersion = 1;
inline constexpr size_t kPackHeaderSize = 16;
inline constexpr size_t kPackEntrySize = 56;
inline constexpr size_t kPackTrailerSize = 56;
// Writers close a pack once its chunk data passes this size.
inline constexpr uint64_t kPackTargetSize = 64ull << 20;
// Readers refuse larger packs.
inline constexpr uint64_t kPackMaxSize = 1ull << 30;

// One index entry (56 bytes on disk):
//   digest[32] | offset u64 | stored_len u32 | raw_len u32 | codec u8 | zero[3] | crc32c u32
struct PackEntry {
  Digest digest;          // SHA-256 of the raw chunk
  uint64_t offset = 0;    // of the stored bytes within the pack
  uint32_t stored_len = 0;
  uint32_t raw_len = 0;
  uint8_t codec = 0;
  uint32_t crc32c = 0;    // CRC-32C of the stored bytes
};

// Writes one pack file. Not thread-safe. Usage: Create, Add..., Finish.
// The file is written at `path` as given; the caller chooses a temporary name
// and renames it to its digest when Finish succeeds.
class PackWriter {
 public:
  static Result<PackWriter> Create(const std::string& path);
  PackWriter(PackWriter&&) = default;
  PackWriter& operator=(PackWriter&&) = default;

  // Appends a stored chunk. The caller vouches that `digest` is the SHA-256
  // of the chunk's raw bytes and that stored decodes with `codec`.
  Status Add(const Digest& digest, Codec codec, uint32_t raw_len, ByteView stored);

  // Bytes written so far (header and chunk data).
  uint64_t size() const { return offset_; }
  size_t count() const { return entries_.size(); }
  const std::vector<PackEntry>& entries() const { return entries_; }

  // Writes index and trailer, fsyncs, closes; returns the pack's name (the
  // SHA-256 of its index, FORMAT.md §3).
  Result<Digest> Finish();

 private:
  PackWriter() = default;
  Status Write(ByteView b);

  std::string path_;
  UniqueFd fd_;
  uint64_t offset_ = 0;
  std::vector<PackEntry> entries_;
  std::string buffer_;  // coalesces small writes
};

// The parsed index of a pack.
struct PackIndex {
  std::vector<PackEntry> entries;  // in offset order
  uint64_t index_offset = 0;       // end of chunk data
  Digest name;                     // SHA-256 of the index: the pack's name (FORMAT.md §3)

  // Parses and checks the index given the pack's last bytes. `tail` must be
  // the final `tail.size()` bytes of a pack of `pack_size` bytes; it must
  // cover index and trailer (use RequiredTailSize on the trailer first).
  static Result<PackIndex> Parse(ByteView tail, uint64_t pack_size);
  // From the 56-byte trailer: how many bytes from the end hold index+trailer.
  static Result<uint64_t> RequiredTailSize(ByteView trailer, uint64_t pack_size);
  // Reads and parses the index of the pack file at `path`.
  static Result<PackIndex> ReadFromFile(int fd, uint64_t pack_size, const std::string& what);
};

// Checks the stored bytes' CRC-32C, decodes them into out[0..e.raw_len) and
// checks the digest. DATA_LOSS names the chunk if anything does not match.
Status DecodePackChunk(const PackEntry& e, ByteView stored, uint8_t* out);

// Checks a whole pack held in memory: header, index, and every chunk decoded
// and verified. The first problem found is returned; a bad chunk is named.
Status VerifyPackBytes(ByteView pack);

// Checks the 16-byte header: magic, version, flags.
Status CheckPackHeader(ByteView header, const std::string& what);

// Serialises entries (for tests and hostile-input construction).
std::string EncodePackIndex(const std::vector<PackEntry>& entries);

}  // namespace arca::format

#endif  // ARCA_FORMAT_PACK_H_
