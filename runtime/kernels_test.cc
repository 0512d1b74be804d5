// Tests of the dot-product kernels (every variant against a naive double
// reference) and of the threaded matrix product.
#include "runtime/kernels.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <random>

#include "runtime/gguf_writer.h"

namespace arca::runtime {
namespace {

std::vector<float> RandomFloats(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& f : v) f = d(rng);
  return v;
}

// The exact value of the kernel's sum, from the encoded operands, in double.
double Reference(DType t, const std::string& w, const std::vector<float>& x) {
  std::vector<float> wf(x.size());
  DequantizeRow(t, reinterpret_cast<const uint8_t*>(w.data()), int64_t(x.size()), wf.data());
  std::vector<float> xf = x;
  if (t == DType::kQ8_0) {  // the kernel sees x quantised too
    std::string xq = EncodeTensorData(DType::kQ8_0, x);
    DequantizeRow(t, reinterpret_cast<const uint8_t*>(xq.data()), int64_t(x.size()), xf.data());
  }
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += double(wf[i]) * xf[i];
  return s;
}

TEST(KernelsTest, EveryVariantMatchesTheReference) {
  const Isa saved = CurrentIsa();
  for (Isa isa : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512}) {
    if (!SetIsa(isa)) continue;
    for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0}) {
      for (int64_t n : {32, 64, 96, 288, 768, 2048}) {
        const std::vector<float> w = RandomFloats(size_t(n), uint64_t(n));
        const std::vector<float> x = RandomFloats(size_t(n), uint64_t(n) + 1);
        const std::string we = EncodeTensorData(t, w);
        const float got = DotRow(t, reinterpret_cast<const uint8_t*>(we.data()), x.data(), n);
        const double want = Reference(t, we, x);
        EXPECT_NEAR(got, want, 1e-4 * std::sqrt(double(n)) * 4) << IsaName(isa) << " " << DTypeName(uint32_t(t))
                                                                 << " n=" << n;
      }
      if (t == DType::kQ8_0) continue;
      for (int64_t n : {1, 7, 15, 17, 33, 172}) {  // odd lengths exercise the tails
        const std::vector<float> w = RandomFloats(size_t(n), 7);
        const std::vector<float> x = RandomFloats(size_t(n), 8);
        const std::string we = EncodeTensorData(t, w);
        const float got = DotRow(t, reinterpret_cast<const uint8_t*>(we.data()), x.data(), n);
        EXPECT_NEAR(got, Reference(t, we, x), 1e-4 * 8) << IsaName(isa) << " " << DTypeName(uint32_t(t)) << " n=" << n;
      }
    }
  }
  ASSERT_TRUE(SetIsa(saved));
}

TEST(KernelsTest, MatMulIsTheSameOnOneOrTwoThreads) {
  const int64_t rows = 300, cols = 256, n_tok = 3;
  for (DType t : {DType::kF32, DType::kQ8_0}) {
    const std::string w = EncodeTensorData(t, RandomFloats(size_t(rows * cols), 1));
    const Matrix m{t, reinterpret_cast<const uint8_t*>(w.data()), rows, cols,
                   uint64_t(w.size() / size_t(rows))};
    const std::vector<float> x = RandomFloats(size_t(n_tok * cols), 2);
    std::vector<float> out1(size_t(rows * n_tok)), out2(size_t(rows * n_tok));
    std::vector<uint8_t> scratch;
    ThreadPool one(1), two(2);
    const MatMulJob j1[] = {{&m, out1.data()}};
    const MatMulJob j2[] = {{&m, out2.data()}};
    MatMul(j1, 1, x.data(), n_tok, one, scratch);
    MatMul(j2, 1, x.data(), n_tok, two, scratch);
    EXPECT_EQ(out1, out2);
    // And each output is the single-row dot product.
    EXPECT_EQ(out1[size_t(rows + 5)], DotRow(t, m.data + 5 * m.row_bytes, x.data() + cols, cols));
  }
}

TEST(ThreadPoolTest, CoversTheRangeOnce) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 5, 1000}) {
      std::vector<int> hits(size_t(n), 0);
      pool.ParallelFor(n, [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i) ++hits[size_t(i)];
      });
      EXPECT_EQ(hits, std::vector<int>(size_t(n), 1));
    }
  }
}

TEST(ThreadPoolTest, ManyQuickJobsInARow) {
  ThreadPool pool(3);
  std::vector<int64_t> sums;
  for (int job = 0; job < 3000; ++job) {
    const int64_t n = 1 + job % 97;
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.ParallelFor(n, [&](int64_t b, int64_t e, int thread) {
      ASSERT_LT(thread, 3);
      for (int64_t i = b; i < e; ++i) hits[size_t(i)].fetch_add(1);
    });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[size_t(i)].load(), 1) << "job " << job << " index " << i;
  }
}

TEST(DTypeTest, HalfConversionsRoundTrip) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = HalfToFloat(uint16_t(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(FloatToHalf(f), h) << h;
  }
  EXPECT_EQ(FloatToHalf(1.0f + 1.0f / 4096), 0x3c00);  // halfway rounds to even
  EXPECT_EQ(FloatToHalf(1e6f), 0x7c00);                 // overflow -> inf
  EXPECT_EQ(FloatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(Bf16ToFloat(0xc000), -2.0f);
}

}  // namespace
}  // namespace arca::runtime
