// Data generation: a splitmix64-seeded xoshiro256+ generator, Box-Muller in
// float for the normal draws, round-to-nearest-even from float32 to bf16.
#include "bench/format/datasets.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>
#include <thread>

namespace arca::bench {

namespace {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// xoshiro256+: fast, and good in its high bits, which are all we use.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& w : s_) w = SplitMix64(&seed);
  }
  uint64_t Next() {
    const uint64_t result = s_[0] + s_[3];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = (s_[3] << 45) | (s_[3] >> 19);
    return result;
  }

 private:
  uint64_t s_[4];
};

uint16_t ToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits += 0x7FFF + ((bits >> 16) & 1);  // round to nearest, ties to even
  return uint16_t(bits >> 16);
}

// Fills out[0..n) (n even) with bf16 ~ N(0, sigma) from `seed`.
void FillNormalBf16(uint64_t seed, float sigma, uint8_t* out, size_t n) {
  Rng rng(seed);
  constexpr float kTwoPi = 2 * std::numbers::pi_v<float>;
  constexpr float kInv24 = 1.0f / 16777216.0f;
  for (size_t i = 0; i + 4 <= n; i += 4) {
    uint64_t r = rng.Next();
    float u1 = float((r >> 40) + 1) * kInv24;  // (0, 1]
    float u2 = float((r >> 16) & 0xFFFFFF) * kInv24;
    float radius = sigma * std::sqrt(-2.0f * std::log(u1));
    float s, c;
    sincosf(kTwoPi * u2, &s, &c);
    PutLE16(out + i, ToBf16(radius * c));
    PutLE16(out + i + 2, ToBf16(radius * s));
  }
  if (n % 4 == 2) PutLE16(out + n - 2, ToBf16(0.0f));
}

uint64_t BlockSeed(uint64_t seed, size_t block) {
  uint64_t s = seed ^ (0xA5A5A5A5ull << 32) ^ (uint64_t(block) * 0x9E3779B97F4A7C15ull);
  return SplitMix64(&s);
}

// Runs fn(i) for i in [0, n) on up to `threads` threads.
template <class Fn>
void ParallelFor(size_t n, int threads, Fn fn) {
  const size_t t = std::clamp<size_t>(size_t(std::max(threads, 1)), 1, std::max<size_t>(n, 1));
  std::vector<std::thread> pool;
  for (size_t w = 0; w < t; ++w) {
    pool.emplace_back([=] {
      for (size_t i = w; i < n; i += t) fn(i);
    });
  }
  for (auto& th : pool) th.join();
}

constexpr float kSigma = 0.02f;

}  // namespace

Dataset MakeBf16Weights(size_t size, uint64_t seed, int threads) {
  Dataset d{"bf16 N(0,0.02)", std::vector<uint8_t>(size & ~size_t(1))};
  const size_t blocks = (d.bytes.size() + kBlockBytes - 1) / kBlockBytes;
  ParallelFor(blocks, threads, [&](size_t b) {
    size_t off = b * kBlockBytes;
    size_t len = std::min(kBlockBytes, d.bytes.size() - off);
    FillNormalBf16(BlockSeed(seed, b), kSigma, d.bytes.data() + off, len);
  });
  return d;
}

Dataset MakeV2(const Dataset& v1, uint64_t seed, int threads, V2Edit* edit) {
  Dataset d{"bf16 v2", v1.bytes};
  const size_t whole_blocks = d.bytes.size() / kBlockBytes;
  const size_t n = std::max<size_t>(1, size_t(std::lround(0.05 * double(whole_blocks))));
  // Distinct blocks drawn by a partial Fisher-Yates shuffle.
  std::vector<size_t> order(whole_blocks);
  for (size_t i = 0; i < whole_blocks; ++i) order[i] = i;
  Rng rng(seed ^ 0x5EEDull);
  for (size_t i = 0; i < n && i < whole_blocks; ++i) {
    size_t j = i + size_t(rng.Next() % (whole_blocks - i));
    std::swap(order[i], order[j]);
  }
  edit->rewritten_blocks.assign(order.begin(), order.begin() + std::min(n, whole_blocks));
  std::sort(edit->rewritten_blocks.begin(), edit->rewritten_blocks.end());
  ParallelFor(edit->rewritten_blocks.size(), threads, [&](size_t i) {
    size_t b = edit->rewritten_blocks[i];
    // Another seed for the same block: fresh draws of the same distribution.
    FillNormalBf16(BlockSeed(seed ^ 0xF2E5ull, b), kSigma, d.bytes.data() + b * kBlockBytes,
                   kBlockBytes);
  });
  edit->rewritten_bytes = uint64_t(edit->rewritten_blocks.size()) * kBlockBytes;

  constexpr size_t kInsertAt = 1000, kInsertLen = 100;
  uint8_t inserted[kInsertLen];
  for (size_t i = 0; i < kInsertLen; ++i) inserted[i] = uint8_t(rng.Next() >> 56);
  const size_t at = std::min(kInsertAt, d.bytes.size());
  d.bytes.insert(d.bytes.begin() + ptrdiff_t(at), inserted, inserted + kInsertLen);
  edit->inserted_bytes = kInsertLen;
  return d;
}

Dataset MakeRandom(size_t size, uint64_t seed) {
  Dataset d{"random bytes", std::vector<uint8_t>(size)};
  Rng rng(seed);
  size_t i = 0;
  for (; i + 8 <= size; i += 8) PutLE64(d.bytes.data() + i, rng.Next());
  for (; i < size; ++i) d.bytes[i] = uint8_t(rng.Next() >> 56);
  return d;
}

std::string ModelsDir() {
  if (const char* env = std::getenv("ARCA_MODELS_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  return (std::filesystem::path(ARCA_SOURCE_DIR) / ".." / "shared" / "models")
      .lexically_normal()
      .string();
}

std::optional<Dataset> LoadFile(const std::string& name, const std::string& path,
                                std::string* why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *why = path + " not found";
    return std::nullopt;
  }
  Dataset d{name, std::vector<uint8_t>(std::istreambuf_iterator<char>(in),
                                       std::istreambuf_iterator<char>())};
  if (in.bad()) {
    *why = "cannot read " + path;
    return std::nullopt;
  }
  return d;
}

}  // namespace arca::bench
