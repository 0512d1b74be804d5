// Test helpers: status assertions, deterministic data, temporary directories.
#ifndef ARCA_COMMON_TESTING_H_
#define ARCA_COMMON_TESTING_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "common/result.h"
#include "common/status.h"

#define ASSERT_OK(expr)                                  \
  do {                                                   \
    const ::arca::Status arca_s_ = ::arca::testing::ToStatus(expr); \
    ASSERT_TRUE(arca_s_.ok()) << arca_s_.ToString();     \
  } while (0)
#define EXPECT_OK(expr)                                  \
  do {                                                   \
    const ::arca::Status arca_s_ = ::arca::testing::ToStatus(expr); \
    EXPECT_TRUE(arca_s_.ok()) << arca_s_.ToString();     \
  } while (0)

namespace arca::testing {

inline Status ToStatus(const Status& s) { return s; }
template <typename T>
Status ToStatus(const Result<T>& r) { return r.status(); }

// Fast deterministic pseudo-random bytes (xorshift64*).
inline std::string RandomBytes(size_t n, uint64_t seed) {
  std::string out(n, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    uint64_t v = x * 0x2545F4914F6CDD1Dull;
    std::memcpy(&out[i], &v, 8);
  }
  for (; i < n; ++i) {
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    out[i] = char(x * 0x2545F4914F6CDD1Dull >> 56);
  }
  return out;
}

// n bf16 values drawn from N(0, sigma), little-endian.
inline std::string Bf16Normal(size_t n, float sigma, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::string out(2 * n, '\0');
  for (size_t i = 0; i < n; ++i) {
    float f = dist(rng);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    uint16_t h = uint16_t((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);  // round to nearest even
    std::memcpy(&out[2 * i], &h, 2);
  }
  return out;
}

// A fresh empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() /
             ("arca_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
                .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

}  // namespace arca::testing

#endif  // ARCA_COMMON_TESTING_H_
