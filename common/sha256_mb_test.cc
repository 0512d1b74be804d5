// Multi-buffer SHA-256 against OpenSSL's one-stream Sha256Of, for every
// implementation this CPU can run: every short length, the padding
// boundaries, mixed-length batches of every size up to 40, unaligned input.
#include "common/sha256_mb.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace arca {
namespace {

class Sha256BatchTest : public testing::TestWithParam<Sha256Impl> {
 protected:
  void SetUp() override {
    if (!Sha256ImplSupported(GetParam())) GTEST_SKIP() << "CPU lacks " << Name();
  }
  std::string Name() const { return std::string(Sha256ImplName(GetParam())); }

  // Hashes `inputs` as one batch and checks each digest against Sha256Of.
  void ExpectMatchesOpenssl(const std::vector<ByteView>& inputs) {
    std::vector<Digest> got(inputs.size());
    Sha256BatchWith(GetParam(), inputs, got);
    for (size_t i = 0; i < inputs.size(); ++i) {
      ASSERT_EQ(got[i], Sha256Of(inputs[i]))
          << Name() << ": message " << i << " of " << inputs.size() << ", length "
          << inputs[i].size();
    }
  }
};

std::vector<uint8_t> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> out(n);
  for (auto& b : out) b = uint8_t(rng());
  return out;
}

TEST_P(Sha256BatchTest, KnownVectors) {
  // FIPS 180-4 examples (via the NIST example values).
  std::vector<ByteView> inputs = {
      AsBytes(""), AsBytes("abc"),
      AsBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")};
  std::vector<Digest> got(inputs.size());
  Sha256BatchWith(GetParam(), inputs, got);
  EXPECT_EQ(got[0].Hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(got[1].Hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(got[2].Hex(), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_P(Sha256BatchTest, EveryLengthUpTo300) {
  std::vector<uint8_t> data = RandomBytes(300, 1);
  std::vector<ByteView> all;
  for (size_t n = 0; n <= 300; ++n) {
    ByteView one = ByteView(data).first(n);
    ExpectMatchesOpenssl({one});
    all.push_back(one);
  }
  ExpectMatchesOpenssl(all);
  // Also in batches of every width around the lane counts.
  for (size_t width : {2, 7, 8, 9, 15, 16, 17, 33}) {
    for (size_t start = 0; start < all.size(); start += width) {
      size_t end = std::min(all.size(), start + width);
      ExpectMatchesOpenssl(std::vector<ByteView>(all.begin() + start, all.begin() + end));
    }
  }
}

TEST_P(Sha256BatchTest, PaddingBoundaries) {
  std::vector<uint8_t> data = RandomBytes(1200, 2);
  std::vector<ByteView> inputs;
  for (size_t edge : {55, 56, 63, 64, 119, 120, 127, 128, 1000, 1024}) {
    for (size_t n = edge - 2; n <= edge + 2; ++n) inputs.push_back(ByteView(data).first(n));
  }
  ExpectMatchesOpenssl(inputs);
  // Reversed, so that the scheduler sees another order of lengths.
  ExpectMatchesOpenssl(std::vector<ByteView>(inputs.rbegin(), inputs.rend()));
}

TEST_P(Sha256BatchTest, MixedLengthBatches) {
  std::vector<uint8_t> data = RandomBytes(200 * 1024 + 64, 3);
  std::mt19937 rng(4);
  for (size_t count = 1; count <= 40; ++count) {
    std::vector<ByteView> inputs;
    for (size_t i = 0; i < count; ++i) {
      // Mostly chunk-sized messages, some tiny ones, any offset.
      size_t len = rng() % 4 == 0 ? rng() % 200 : rng() % (200 * 1024);
      size_t offset = rng() % (data.size() - len + 1);
      inputs.push_back(ByteView(data).subspan(offset, len));
    }
    ExpectMatchesOpenssl(inputs);
  }
}

TEST_P(Sha256BatchTest, EqualLengthsAndDuplicates) {
  std::vector<uint8_t> data = RandomBytes(64 * 1024 * 4, 5);
  std::vector<ByteView> inputs;
  for (size_t i = 0; i < 32; ++i) {
    inputs.push_back(ByteView(data).subspan((i % 4) * 64 * 1024, 64 * 1024));
  }
  ExpectMatchesOpenssl(inputs);
}

TEST_P(Sha256BatchTest, EmptyBatch) {
  std::vector<Digest> out;
  Sha256BatchWith(GetParam(), {}, out);
  EXPECT_TRUE(out.empty());
}

TEST_P(Sha256BatchTest, UnalignedStarts) {
  std::vector<uint8_t> data = RandomBytes(4096 + 64, 6);
  std::vector<ByteView> inputs;
  for (size_t offset = 0; offset < 64; ++offset) {
    inputs.push_back(ByteView(data).subspan(offset, 1000 + offset * 37));
  }
  ExpectMatchesOpenssl(inputs);
}

INSTANTIATE_TEST_SUITE_P(AllImpls, Sha256BatchTest,
                         testing::Values(Sha256Impl::kOpenssl, Sha256Impl::kAvx2x8,
                                         Sha256Impl::kAvx512x16),
                         [](const testing::TestParamInfo<Sha256Impl>& param) {
                           return std::string(Sha256ImplName(param.param));
                         });

TEST(Sha256BatchDispatchTest, DefaultIsBestSupportedOrForced) {
  std::string_view impl = Sha256BatchImplementation();
  const char* env = std::getenv("ARCA_SHA256_IMPL");
  if (env == nullptr && Sha256ImplSupported(Sha256Impl::kAvx512x16)) {
    EXPECT_EQ(impl, "avx512x16");
  }
  std::vector<uint8_t> data = RandomBytes(100000, 7);
  std::vector<ByteView> inputs(20, ByteView(data));
  std::vector<Digest> out(inputs.size());
  Sha256Batch(inputs, out);
  for (const Digest& d : out) EXPECT_EQ(d, Sha256Of(ByteView(data)));
}

}  // namespace
}  // namespace arca
