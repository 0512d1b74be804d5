#include "client/fetch.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "common/testing.h"

namespace arca::client {
namespace {

Digest D(uint8_t b) {
  Digest d;
  d.bytes.fill(b);
  return d;
}

RemoteChunk C(uint8_t pack, uint64_t offset, uint32_t stored, uint8_t id = 0) {
  RemoteChunk c;
  c.digest = D(id);
  c.pack = D(pack);
  c.offset = offset;
  c.stored = stored;
  c.raw = stored;
  return c;
}

TEST(CoalesceRangesTest, Empty) { EXPECT_TRUE(CoalesceRanges({}).empty()); }

TEST(CoalesceRangesTest, AdjacentChunksMerge) {
  std::vector<RemoteChunk> chunks = {C(1, 16, 100), C(1, 116, 50), C(1, 166, 10)};
  std::vector<PackRange> r = CoalesceRanges(chunks);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], (PackRange{D(1), 16, 160, {0, 1, 2}}));
}

TEST(CoalesceRangesTest, GapLimitIsInclusive) {
  const uint64_t gap = 64 << 10;
  std::vector<RemoteChunk> chunks = {C(1, 16, 100), C(1, 116 + gap, 10), C(1, 126 + gap + gap + 1, 10)};
  std::vector<PackRange> r = CoalesceRanges(chunks);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], (PackRange{D(1), 16, 110 + gap, {0, 1}}));
  EXPECT_EQ(r[1], (PackRange{D(1), 126 + 2 * gap + 1, 10, {2}}));
}

TEST(CoalesceRangesTest, LengthCap) {
  // 200 contiguous 128 KiB chunks: 16 MiB holds exactly 128 of them.
  std::vector<RemoteChunk> chunks;
  for (uint64_t i = 0; i < 200; ++i) chunks.push_back(C(1, 16 + i * (128 << 10), 128 << 10));
  std::vector<PackRange> r = CoalesceRanges(chunks);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].length, 16u << 20);
  EXPECT_EQ(r[0].chunks.size(), 128u);
  EXPECT_EQ(r[1].offset, 16 + 128 * (128u << 10));
  EXPECT_EQ(r[1].chunks.size(), 72u);
}

TEST(CoalesceRangesTest, PacksAreSeparateAndInputOrderDoesNotMatter) {
  std::vector<RemoteChunk> chunks = {C(2, 16, 10), C(1, 26, 10), C(2, 26, 10), C(1, 16, 10)};
  std::vector<PackRange> r = CoalesceRanges(chunks);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], (PackRange{D(1), 16, 20, {3, 1}}));
  EXPECT_EQ(r[1], (PackRange{D(2), 16, 20, {0, 2}}));
}

TEST(CoalesceRangesTest, OversizedChunkStandsAlone) {
  std::vector<RemoteChunk> chunks = {C(1, 16, 10), C(1, 26, 1000), C(1, 1026, 10)};
  std::vector<PackRange> r = CoalesceRanges(chunks, 64, 500);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[1], (PackRange{D(1), 26, 1000, {1}}));
}

// The properties every plan must have, checked on random inputs.
TEST(CoalesceRangesTest, RandomPlansCoverEveryChunkWithinLimits) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    const uint64_t max_gap = 1 + rng() % 5000, max_len = 1000 + rng() % 50000;
    std::vector<RemoteChunk> chunks;
    std::map<uint8_t, uint64_t> next;  // per pack: where the next chunk may start
    int n = int(rng() % 300);
    for (int i = 0; i < n; ++i) {
      uint8_t pack = uint8_t(rng() % 4);
      uint64_t& at = next.emplace(pack, 16).first->second;
      at += (rng() % 3 == 0) ? rng() % 8000 : 0;  // sometimes a gap (another file's chunks)
      uint32_t len = 1 + uint32_t(rng() % 3000);
      chunks.push_back(C(pack, at, len));
      at += len;
    }
    std::shuffle(chunks.begin(), chunks.end(), rng);
    std::vector<PackRange> ranges = CoalesceRanges(chunks, max_gap, max_len);
    std::multiset<size_t> covered;
    for (size_t k = 0; k < ranges.size(); ++k) {
      const PackRange& r = ranges[k];
      ASSERT_FALSE(r.chunks.empty());
      if (r.chunks.size() > 1) {
        EXPECT_LE(r.length, max_len);
      }
      uint64_t prev = 0;
      for (size_t i : r.chunks) {
        covered.insert(i);
        const RemoteChunk& c = chunks[i];
        EXPECT_EQ(c.pack, r.pack);
        EXPECT_GE(c.offset, r.offset);
        EXPECT_LE(c.offset + c.stored, r.offset + r.length);
        EXPECT_GE(c.offset, prev);
        prev = c.offset;
      }
      if (k > 0 && ranges[k - 1].pack == r.pack) {
        const PackRange& p = ranges[k - 1];
        EXPECT_GE(r.offset, p.offset + p.length);  // ascending, no overlap
        // Split only for a reason: too far apart, or merging would be too long.
        bool far = r.offset > p.offset + p.length + max_gap;
        bool long_ = r.offset + r.length - p.offset > max_len ||
                     chunks[r.chunks[0]].offset + chunks[r.chunks[0]].stored - p.offset > max_len;
        EXPECT_TRUE(far || long_);
      }
    }
    ASSERT_EQ(covered.size(), chunks.size());
    for (size_t i = 0; i < chunks.size(); ++i) EXPECT_EQ(covered.count(i), 1u);
  }
}

std::string NoFile(const Digest&) { return "file model.bin"; }

TEST(CheckLocationsTest, AcceptsAGoodAnswer) {
  Registry reg{"http", "localhost", 5000};
  LocateResult lr;
  RemoteChunk a = C(1, 16, 100, 1);
  a.codec = 0;
  RemoteChunk b = C(1, 116, 40, 2);
  b.raw = 1000;
  b.codec = 1;
  lr.chunks = {a, b};
  std::unordered_map<Digest, uint32_t, DigestHash> wanted = {{D(1), 100}, {D(2), 1000}};
  EXPECT_OK(CheckLocations(lr, wanted, reg, NoFile));
}

TEST(CheckLocationsTest, RefusesWhatDoesNotFit) {
  Registry reg{"http", "localhost", 5000};
  std::unordered_map<Digest, uint32_t, DigestHash> wanted = {{D(1), 100}};
  auto check = [&](RemoteChunk c, StatusCode code) {
    LocateResult lr;
    lr.chunks = {c};
    Status s = CheckLocations(lr, wanted, reg, NoFile);
    EXPECT_EQ(s.code(), code) << s;
  };
  RemoteChunk good = C(1, 16, 100, 1);
  check(good, StatusCode::kOk);
  RemoteChunk c = good;
  c.digest = D(9);
  check(c, StatusCode::kDataLoss);  // not asked for
  c = good;
  c.raw = 99;
  check(c, StatusCode::kDataLoss);  // raw length differs from the file index
  c = good;
  c.codec = 4;
  check(c, StatusCode::kDataLoss);
  c = good;
  c.stored = 90;
  check(c, StatusCode::kDataLoss);  // raw codec must store raw length
  c = good;
  c.codec = 1;
  c.stored = 117;
  check(c, StatusCode::kDataLoss);  // more than raw + 16
  c = good;
  c.offset = 3;
  check(c, StatusCode::kDataLoss);  // inside the pack header

  LocateResult twice;
  twice.chunks = {good, good};
  EXPECT_EQ(CheckLocations(twice, wanted, reg, NoFile).code(), StatusCode::kDataLoss);
  LocateResult silent;
  EXPECT_EQ(CheckLocations(silent, wanted, reg, NoFile).code(), StatusCode::kDataLoss);
  LocateResult missing;
  missing.missing = {D(1)};
  Status s = CheckLocations(missing, wanted, reg, NoFile);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("model.bin"), std::string_view::npos) << s;
}

}  // namespace
}  // namespace arca::client
