// Tests of greedy and seeded sampling.
#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <cmath>

namespace arca::runtime {
namespace {

const std::vector<float> kLogits = {1.0f, 3.0f, 2.0f, 3.0f, -1.0f};

TEST(SamplerTest, GreedyTakesTheFirstMaximum) {
  Sampler s({});
  EXPECT_EQ(s.Sample(kLogits), 1);
  EXPECT_EQ(Sampler::Argmax(std::vector<float>{-5.0f}), 0);
}

TEST(SamplerTest, SameSeedSameDraws) {
  SamplerOptions o{.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = 42};
  Sampler a(o), b(o);
  std::vector<int32_t> da, db;
  for (int i = 0; i < 50; ++i) {
    da.push_back(a.Sample(kLogits));
    db.push_back(b.Sample(kLogits));
  }
  EXPECT_EQ(da, db);
  o.seed = 43;
  Sampler c(o);
  std::vector<int32_t> dc;
  for (int i = 0; i < 50; ++i) dc.push_back(c.Sample(kLogits));
  EXPECT_NE(da, dc);
}

TEST(SamplerTest, TopKAndTopPRestrictTheDraw) {
  Sampler k1({.temperature = 1.0f, .top_k = 1, .top_p = 1.0f, .seed = 1});
  Sampler k2({.temperature = 1.0f, .top_k = 2, .top_p = 1.0f, .seed = 1});
  Sampler p({.temperature = 1.0f, .top_k = 0, .top_p = 0.01f, .seed = 1});
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(k1.Sample(kLogits), 1);  // ties broken by id
    const int32_t t = k2.Sample(kLogits);
    EXPECT_TRUE(t == 1 || t == 3) << t;
    EXPECT_EQ(p.Sample(kLogits), 1);
  }
}

TEST(SamplerTest, FrequenciesFollowTheSoftmax) {
  Sampler s({.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = 7});
  const std::vector<float> logits = {0.0f, std::log(3.0f)};  // p = 1/4, 3/4
  int ones = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) ones += s.Sample(logits);
  EXPECT_NEAR(double(ones) / n, 0.75, 0.02);
}

}  // namespace
}  // namespace arca::runtime
