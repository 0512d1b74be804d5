// Fuzz target for FileIndex::Parse (FORMAT.md §4). Any input must give a
// Status, never a crash or an allocation beyond what the input's size
// allows. An input that parses must be the index's only encoding: Encode()
// gives back the input, and the chunk lengths are in range and add up.
//
// Built with libFuzzer when ARCA_FUZZ=ON (clang), else linked with
// fuzz_driver.cc into a bounded smoke test that ctest runs.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "format/chunker.h"
#include "format/file_index.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using arca::format::FileIndex;
  arca::Result<FileIndex> fi = FileIndex::Parse(arca::ByteView(data, size));
  if (!fi.ok()) return 0;

  const std::string encoded = fi->Encode();
  FUZZ_CHECK(arca::AsBytes(encoded).size() == size &&
                 std::equal(encoded.begin(), encoded.end(), reinterpret_cast<const char*>(data)),
             "Encode() differs from the parsed bytes (got %zu bytes, want %zu)", encoded.size(), size);
  uint64_t total = 0;
  for (const arca::format::ChunkRef& c : fi->chunks) {
    FUZZ_CHECK(c.raw_len >= 1 && c.raw_len <= arca::format::kMaxChunk, "chunk length %u out of range", c.raw_len);
    total += c.raw_len;
  }
  FUZZ_CHECK(total == fi->file_size, "chunk lengths add up to %llu, file size is %llu",
             static_cast<unsigned long long>(total), static_cast<unsigned long long>(fi->file_size));
  arca::Result<FileIndex> again = FileIndex::Parse(arca::AsBytes(encoded));
  FUZZ_CHECK(again.ok() && *again == *fi, "Parse(Encode()) does not round-trip");
  return 0;
}
