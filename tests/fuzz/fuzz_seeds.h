// Seed inputs for the fuzz targets in this folder, generated in code: valid
// manifests, packs written with PackWriter, file indexes and encoded chunks.
//
// The smoke driver (fuzz_driver.cc) mutates them; arca-fuzz-seeds writes them
// to a directory that libFuzzer takes as its initial corpus. Everything here
// is deterministic: the same build gives the same seeds.
#ifndef ARCA_TESTS_FUZZ_FUZZ_SEEDS_H_
#define ARCA_TESTS_FUZZ_FUZZ_SEEDS_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace arca::fuzz {

// The names FuzzSeeds accepts: "manifest", "pack", "file_index", "codec".
std::vector<std::string_view> FuzzTargetNames();

// Valid inputs for the target `name`, in the byte form its
// LLVMFuzzerTestOneInput expects. NOT_FOUND for an unknown name; a pack seed
// that cannot be written to $TMPDIR is the I/O error.
Result<std::vector<std::string>> FuzzSeeds(std::string_view name);

// A codec target input: codec id, raw_len as u32 LE, then the stored bytes.
//   byte 0      codec id
//   bytes 1..4  raw_len, u32 little-endian
//   bytes 5..   stored bytes
std::string CodecFuzzInput(uint8_t codec, uint32_t raw_len, std::string_view stored);

}  // namespace arca::fuzz

#endif  // ARCA_TESTS_FUZZ_FUZZ_SEEDS_H_
