// Encoding and strict parsing of file index objects.
#include "format/file_index.h"

#include <cstring>

#include "format/chunker.h"

namespace arca::format {

namespace {
constexpr size_t kHeader = 24;
constexpr size_t kEntry = 36;
}  // namespace

std::string FileIndex::Encode() const {
  std::string out(kFileIndexMagic, 8);
  AppendLE64(&out, file_size);
  AppendLE32(&out, uint32_t(chunks.size()));
  AppendLE32(&out, 0);
  out.reserve(kHeader + kEntry * chunks.size());
  for (const ChunkRef& c : chunks) {
    out.append(reinterpret_cast<const char*>(c.digest.bytes.data()), 32);
    AppendLE32(&out, c.raw_len);
  }
  return out;
}

Result<FileIndex> FileIndex::Parse(ByteView b) {
  if (b.size() < kHeader) return InvalidArgumentError("file index is shorter than its header");
  if (std::memcmp(b.data(), kFileIndexMagic, 7) != 0) return InvalidArgumentError("not a file index (bad magic)");
  if (b[7] != kFileIndexMagic[7]) {
    return UnimplementedError(std::string("file index version '") + char(b[7]) + "' is not supported");
  }
  FileIndex fi;
  fi.file_size = GetLE64(b.data() + 8);
  uint64_t count = GetLE32(b.data() + 16);
  if (GetLE32(b.data() + 20) != 0) return InvalidArgumentError("file index reserved field is not zero");
  if (b.size() != kHeader + kEntry * count) {
    return InvalidArgumentError("file index of " + std::to_string(count) + " chunks must be " +
                                std::to_string(kHeader + kEntry * count) + " bytes, is " +
                                std::to_string(b.size()));
  }
  fi.chunks.reserve(count);
  uint64_t total = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t* p = b.data() + kHeader + kEntry * i;
    ChunkRef c{Digest::FromBytes(p), GetLE32(p + 32)};
    if (c.raw_len == 0 || c.raw_len > kMaxChunk) {
      return InvalidArgumentError("file index chunk " + std::to_string(i) + " has length " +
                                  std::to_string(c.raw_len) + ", outside 1.." + std::to_string(kMaxChunk));
    }
    total += c.raw_len;
    fi.chunks.push_back(c);
  }
  if (total != fi.file_size) {
    return InvalidArgumentError("file index chunk lengths add up to " + std::to_string(total) +
                                ", not the file size " + std::to_string(fi.file_size));
  }
  return fi;
}

}  // namespace arca::format
