#include "registry/ranges.h"

#include <gtest/gtest.h>

#include "common/testing.h"

namespace arca::registry {
namespace {

TEST(CheckRangesTest, AcceptsAscendingRangesInsideTheFile) {
  EXPECT_OK(CheckRanges({}, 100, 64));
  EXPECT_OK(CheckRanges({{0, 99}}, 100, 64));
  EXPECT_OK(CheckRanges({{0, 0}, {1, 1}, {50, -1}}, 100, 64));
  EXPECT_OK(CheckRanges({{-1, 10}}, 100, 64));     // the last 10 bytes
  EXPECT_OK(CheckRanges({{-1, 1000}}, 100, 64));   // a suffix longer than the file is all of it
  EXPECT_OK(CheckRanges({{0, 9}, {-1, 10}}, 100, 64));
}

TEST(CheckRangesTest, RefusesRangesOutsideOutOfOrderOrTooMany) {
  const ByteRanges bad[] = {
      {{0, 100}},            // last byte past the end
      {{100, -1}},           // starts at the end
      {{-1, 0}},             // empty suffix
      {{-1, -1}},            // "-"
      {{10, 5}},             // backwards
      {{10, 20}, {20, 30}},  // overlapping
      {{50, 60}, {0, 10}},   // descending
      {{0, 9}, {-1, 95}},    // suffix overlapping
  };
  for (const ByteRanges& r : bad) {
    Status s = CheckRanges(r, 100, 64);
    EXPECT_EQ(s.code(), StatusCode::kOutOfRange) << r.front().first << "-" << r.front().second;
  }
  EXPECT_EQ(CheckRanges({{0, 0}}, 0, 64).code(), StatusCode::kOutOfRange);
  ByteRanges many;
  for (int i = 0; i < 65; ++i) many.push_back({i, i});
  EXPECT_EQ(CheckRanges(many, 100, 64).code(), StatusCode::kOutOfRange);
  many.pop_back();
  EXPECT_OK(CheckRanges(many, 100, 64));
}

}  // namespace
}  // namespace arca::registry
