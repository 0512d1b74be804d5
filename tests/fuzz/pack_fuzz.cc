// Fuzz target for pack reading (FORMAT.md §3): PackIndex::Parse on the whole
// input and on just its tail, and VerifyPackBytes, which checks the header
// and decodes every chunk. Any input must give a Status, never a crash.
//
// The index digest (SHA-256) and each chunk's CRC-32C would stop almost every
// mutation at the first check, so the target runs twice: on the input as it
// is, then on a copy whose index digest and CRCs are recomputed wherever the
// trailer and entries place them inside the input. The second run lets
// mutations of the index and of the stored bytes reach the entry rules and
// the decoders.
//
// Built with libFuzzer when ARCA_FUZZ=ON (clang), else linked with
// fuzz_driver.cc into a bounded smoke test that ctest runs.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "common/digest.h"
#include "format/chunker.h"
#include "format/pack.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using arca::ByteView;
using arca::format::kPackEntrySize;
using arca::format::kPackHeaderSize;
using arca::format::kPackTrailerSize;

// Parse must agree with itself whether given the whole pack or only the
// bytes RequiredTailSize asks for; a parsed index must describe chunks that
// tile [16, index_offset) within the pack.
void CheckIndex(ByteView pack) {
  arca::Result<arca::format::PackIndex> whole = arca::format::PackIndex::Parse(pack, pack.size());
  if (pack.size() >= kPackTrailerSize) {
    arca::Result<uint64_t> need =
        arca::format::PackIndex::RequiredTailSize(pack.subspan(pack.size() - kPackTrailerSize), pack.size());
    if (need.ok()) {
      FUZZ_CHECK(*need <= pack.size(), "tail of %llu bytes asked of a %zu-byte pack",
                 static_cast<unsigned long long>(*need), pack.size());
      arca::Result<arca::format::PackIndex> tail =
          arca::format::PackIndex::Parse(pack.subspan(pack.size() - *need), pack.size());
      FUZZ_CHECK(tail.ok() == whole.ok(), "tail parse %s, whole parse %s", tail.status().ToString().c_str(),
                 whole.status().ToString().c_str());
    } else {
      FUZZ_CHECK(!whole.ok(), "Parse accepted a trailer RequiredTailSize refused: %s",
                 need.status().ToString().c_str());
    }
  }
  if (!whole.ok()) return;
  uint64_t at = kPackHeaderSize;
  for (const arca::format::PackEntry& e : whole->entries) {
    FUZZ_CHECK(e.offset == at, "entry at %llu, want %llu", static_cast<unsigned long long>(e.offset),
               static_cast<unsigned long long>(at));
    FUZZ_CHECK(e.raw_len >= 1 && e.raw_len <= arca::format::kMaxChunk, "raw_len %u out of range", e.raw_len);
    at += e.stored_len;
  }
  FUZZ_CHECK(at == whole->index_offset && at <= pack.size(), "chunks end at %llu, index at %llu",
             static_cast<unsigned long long>(at), static_cast<unsigned long long>(whole->index_offset));
}

void Check(ByteView pack) {
  CheckIndex(pack);
  const arca::Status verified = arca::format::VerifyPackBytes(pack);
  if (verified.ok()) {
    FUZZ_CHECK(arca::format::PackIndex::Parse(pack, pack.size()).ok(), "verified pack has no valid index");
  }
}

// Recomputes the CRC-32C of every entry whose stored bytes lie inside the
// pack, then the index digest. Returns false if the trailer does not place an
// index inside the input (nothing to fix).
bool FixChecksums(std::vector<uint8_t>& p) {
  if (p.size() < kPackHeaderSize + kPackTrailerSize) return false;
  uint8_t* trailer = p.data() + p.size() - kPackTrailerSize;
  const uint64_t index_offset = arca::GetLE64(trailer);
  const uint64_t count = arca::GetLE32(trailer + 8);
  const uint64_t room = p.size() - kPackTrailerSize;
  if (index_offset > room || count > (room - index_offset) / kPackEntrySize) return false;
  uint8_t* index = p.data() + index_offset;
  for (uint64_t i = 0; i < count; ++i) {
    uint8_t* e = index + i * kPackEntrySize;
    const uint64_t offset = arca::GetLE64(e + 32);
    const uint64_t stored_len = arca::GetLE32(e + 40);
    if (offset > p.size() || stored_len > p.size() - offset) continue;
    arca::PutLE32(e + 52, arca::Crc32c(ByteView(p.data() + offset, stored_len)));
  }
  const arca::Digest d = arca::Sha256Of(ByteView(index, count * kPackEntrySize));
  std::copy(d.bytes.begin(), d.bytes.end(), trailer + 16);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Check(ByteView(data, size));
  std::vector<uint8_t> fixed(data, data + size);
  if (FixChecksums(fixed)) Check(ByteView(fixed.data(), fixed.size()));
  return 0;
}
