// Fuzz target for DecodeChunk (FORMAT.md §2), the one decoder that writes
// into a caller's buffer. Input layout (fuzz_seeds.h, CodecFuzzInput):
//   byte 0      codec id (any byte: unknown ids must be refused)
//   bytes 1..4  raw_len, u32 little-endian, taken mod kMaxChunk + 1
//   bytes 5..   stored bytes
// The output buffer is a heap block of exactly raw_len bytes followed by a
// guard block, so a write past raw_len is caught by AddressSanitizer where it
// runs and by the guard bytes everywhere. A chunk that decodes must survive
// being encoded again with the same codec and decoded back.
//
// Built with libFuzzer when ARCA_FUZZ=ON (clang), else linked with
// fuzz_driver.cc into a bounded smoke test that ctest runs.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "format/chunker.h"
#include "format/codec.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

constexpr size_t kGuardBytes = 64;
constexpr uint8_t kGuard = 0xA5;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using arca::format::kMaxChunk;
  if (size < 5) return 0;
  const uint8_t codec = data[0];
  const uint32_t raw_len = arca::GetLE32(data + 1) % (kMaxChunk + 1);
  const arca::ByteView stored(data + 5, size - 5);

  // Separate allocations: ASan reports a write past `out` exactly; the guard
  // catches short overruns without it.
  std::unique_ptr<uint8_t[]> out(new uint8_t[raw_len + kGuardBytes]);
  std::memset(out.get(), 0, raw_len);
  std::memset(out.get() + raw_len, kGuard, kGuardBytes);
  const arca::Status s = arca::format::DecodeChunk(codec, stored, out.get(), raw_len);
  for (size_t i = 0; i < kGuardBytes; ++i) {
    FUZZ_CHECK(out[raw_len + i] == kGuard, "DecodeChunk wrote %zu bytes past raw_len %u (codec %u, status %s)",
               i + 1, raw_len, codec, s.ToString().c_str());
  }
  if (!s.ok()) return 0;

  FUZZ_CHECK(codec <= arca::format::kMaxCodecId, "codec %u decoded", codec);
  const arca::ByteView raw(out.get(), raw_len);
  if (codec == uint8_t(arca::format::Codec::kRaw)) {
    FUZZ_CHECK(std::memcmp(raw.data(), stored.data(), raw_len) == 0, "raw chunk decoded to other bytes");
  }
  std::string again;
  const arca::format::Codec c = arca::format::EncodeChunkAs(arca::format::Codec(codec), raw, &again);
  std::unique_ptr<uint8_t[]> back(new uint8_t[raw_len]);
  const arca::Status s2 = arca::format::DecodeChunk(uint8_t(c), arca::AsBytes(again), back.get(), raw_len);
  FUZZ_CHECK(s2.ok(), "re-encoded chunk (codec %u) does not decode: %s", unsigned(c), s2.ToString().c_str());
  FUZZ_CHECK(std::memcmp(back.get(), raw.data(), raw_len) == 0, "re-encoded chunk decodes to other bytes");
  return 0;
}
