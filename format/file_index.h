// File index objects (FORMAT.md §4): a file's chunks, in order.
#ifndef ARCA_FORMAT_FILE_INDEX_H_
#define ARCA_FORMAT_FILE_INDEX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/result.h"

namespace arca::format {

inline constexpr char kFileIndexMagic[8] = {'A', 'R', 'C', 'A', 'F', 'I', 'X', '1'};

struct ChunkRef {
  Digest digest;
  uint32_t raw_len = 0;
  bool operator==(const ChunkRef&) const = default;
};

// Layout: magic[8] | file_size u64 | count u32 | zero u32 | count x (digest[32] | raw_len u32)
struct FileIndex {
  uint64_t file_size = 0;
  std::vector<ChunkRef> chunks;

  std::string Encode() const;
  // Strict parse (see FORMAT.md §4); INVALID_ARGUMENT names what is wrong.
  static Result<FileIndex> Parse(ByteView bytes);
  bool operator==(const FileIndex&) const = default;
};

}  // namespace arca::format

#endif  // ARCA_FORMAT_FILE_INDEX_H_
