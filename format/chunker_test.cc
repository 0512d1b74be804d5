#include "format/chunker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "common/digest.h"
#include "common/testing.h"

namespace arca::format {
namespace {

// A literal transcription of FORMAT.md §1, one byte at a time.
std::vector<uint32_t> ReferenceChunkLengths(ByteView data) {
  const auto& g = GearTable();
  std::vector<uint32_t> out;
  size_t start = 0;
  while (start < data.size()) {
    uint64_t h = 0;
    size_t cut = data.size() - start;  // the rest, if no cut is found
    for (size_t i = 0; start + i < data.size(); ++i) {
      h = (h << 1) + g[data[start + i]];
      size_t n = i + 1;
      if (n < kMinChunk) continue;
      if (n == kMaxChunk) { cut = n; break; }
      uint64_t mask = n < kNormalChunk ? kMaskSmall : kMaskLarge;
      if ((h & mask) == 0) { cut = n; break; }
    }
    out.push_back(uint32_t(cut));
    start += cut;
  }
  return out;
}

TEST(ChunkerTest, GearTableIsTheSpecifiedOne) {
  // Golden values: first 8 bytes of SHA-256("arca-gear-v1" || 0x00) etc.
  const auto& g = GearTable();
  EXPECT_NE(g[0], g[1]);
  std::string seed = "arca-gear-v1";
  seed.push_back('\x07');
  EXPECT_EQ(g[7], GetLE64(Sha256Of(seed).bytes.data()));
}

TEST(ChunkerTest, FastMatchesReferenceOnManyInputs) {
  std::vector<std::string> inputs;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    inputs.push_back(testing::RandomBytes(size_t(seed * 97531) % (3 << 20), seed));
  }
  inputs.push_back(std::string(1 << 20, '\0'));                        // forces max-size cuts
  inputs.push_back(testing::Bf16Normal(700000, 0.02f, 3));             // weights-like
  std::string text;
  while (text.size() < (1 << 20)) text += "the quick brown fox jumps over the lazy dog " + std::to_string(text.size());
  inputs.push_back(text);
  for (size_t n : {0, 1, 8191, 8192, 8193, 49151, 49152, 131071, 131072, 131073, 262144}) {
    inputs.push_back(testing::RandomBytes(n, n + 5));
  }
  for (const std::string& in : inputs) {
    ByteView v = AsBytes(in);
    std::vector<uint32_t> fast = ChunkLengths(v);
    EXPECT_EQ(fast, ReferenceChunkLengths(v)) << "input of " << in.size() << " bytes";
    EXPECT_EQ(std::accumulate(fast.begin(), fast.end(), uint64_t(0)), in.size());
    for (size_t i = 0; i < fast.size(); ++i) {
      EXPECT_LE(fast[i], kMaxChunk);
      if (i + 1 < fast.size()) {
        EXPECT_GE(fast[i], kMinChunk);
      }
    }
  }
}

TEST(ChunkerTest, AverageChunkIsAbout64KiB) {
  std::string data = testing::RandomBytes(64 << 20, 42);
  std::vector<uint32_t> lens = ChunkLengths(AsBytes(data));
  double avg = double(data.size()) / lens.size();
  EXPECT_GT(avg, 56 * 1024);
  EXPECT_LT(avg, 72 * 1024);
}

// A one-byte insertion near the start of a 512 MiB file changes only the
// chunks around it: every later boundary is found again.
TEST(ChunkerTest, InsertionChangesOnlyNearbyChunks) {
  std::string data = testing::RandomBytes(512ull << 20, 7);
  std::vector<uint32_t> before = ChunkLengths(AsBytes(data));
  data.insert(data.begin() + 1000, 'x');
  std::vector<uint32_t> after = ChunkLengths(AsBytes(data));
  // Compare the sets of chunk end offsets after the insertion point.
  auto ends = [](const std::vector<uint32_t>& lens, int64_t shift_after, int64_t shift) {
    std::vector<uint64_t> out;
    uint64_t off = 0;
    for (uint32_t l : lens) {
      off += l;
      out.push_back(int64_t(off) > shift_after ? off + shift : off);
    }
    return out;
  };
  std::vector<uint64_t> a = ends(before, 1000, 1), b = ends(after, 0, 0);
  size_t differing = 0;
  std::vector<uint64_t> common;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(common));
  differing = b.size() - common.size();
  EXPECT_LE(differing, 2u) << "of " << b.size() << " chunks";
  EXPECT_GT(b.size(), 7000u);
}

}  // namespace
}  // namespace arca::format
