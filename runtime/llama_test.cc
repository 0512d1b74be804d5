// End-to-end tests of the forward pass on the real stories260K files: greedy
// decoding must give exactly the reference ids, on every file, with every
// kernel variant and thread count; the F32 logits must match the reference.
#include "runtime/llama.h"

#include <gtest/gtest.h>

#include "runtime/internal/test_models.h"
#include "runtime/sampler.h"
#include "runtime/tokenizer.h"

namespace arca::runtime {
namespace {

// From shared/models/README.md: prompt "Once upon a time", BOS, greedy.
const std::vector<int32_t> kPromptIds = {1, 403, 407, 261, 378};
const std::vector<int32_t> kReferenceIds = {
    432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
    410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394,
    261, 370, 432, 352, 266, 268, 388, 426, 338, 391, 266, 267, 337, 335, 312, 432,
    398, 312, 286, 267, 414, 270, 333, 415, 426, 13,  438, 310, 439, 419, 357, 336};
const float kReferenceTopLogits[8] = {17.7994f, 18.6051f, 17.7561f, 19.5159f,
                                      13.4031f, 16.9514f, 15.6053f, 20.5195f};

struct Greedy {
  std::vector<int32_t> ids;
  std::vector<float> top_logits;
};

// Greedy decoding of `n` tokens after the prompt, one token per step.
Greedy Decode(const std::string& path, int n, int threads, DType kv_type = DType::kF32) {
  Greedy out;
  Result<MappedGguf> file = MappedGguf::Open(path);
  EXPECT_OK(file);
  if (!file.ok()) return out;
  Result<LlamaModel> model = LlamaModel::Load(file->gguf());
  EXPECT_OK(model);
  if (!model.ok()) return out;
  ThreadPool pool(threads);
  LlamaSession session(*model, 128, pool, kv_type);
  Result<std::span<const float>> logits = session.Forward(kPromptIds);
  for (int i = 0; i < n && logits.ok(); ++i) {
    const int32_t next = Sampler::Argmax(*logits);
    out.ids.push_back(next);
    out.top_logits.push_back((*logits)[size_t(next)]);
    const int32_t one[] = {next};
    logits = session.Forward(one);
  }
  EXPECT_OK(logits);
  return out;
}

class ReferenceTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ReferenceTest, GreedyIdsMatchTheReference) {
  ARCA_SKIP_WITHOUT_MODEL(path, GetParam());
  EXPECT_EQ(Decode(path, 64, 1).ids, kReferenceIds);
}

TEST_P(ReferenceTest, SameIdsWithEveryKernelAndTwoThreads) {
  ARCA_SKIP_WITHOUT_MODEL(path, GetParam());
  const Isa saved = CurrentIsa();
  for (Isa isa : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512}) {
    if (!SetIsa(isa)) continue;  // not on this CPU
    EXPECT_EQ(Decode(path, 64, 2).ids, kReferenceIds) << "kernels " << IsaName(isa);
  }
  ASSERT_TRUE(SetIsa(saved));
}

TEST_P(ReferenceTest, SameIdsWithAHalfPrecisionKvCache) {
  ARCA_SKIP_WITHOUT_MODEL(path, GetParam());
  EXPECT_EQ(Decode(path, 64, 2, DType::kF16).ids, kReferenceIds);
}

INSTANTIATE_TEST_SUITE_P(Stories260K, ReferenceTest,
                         ::testing::Values("stories260K.gguf", "stories260K-f16.gguf",
                                           "stories260K-q8_0-mix.gguf"));

TEST(LlamaTest, F32TopLogitsMatchTheReference) {
  ARCA_SKIP_WITHOUT_MODEL(path, "stories260K.gguf");
  const Greedy g = Decode(path, 8, 1);
  ASSERT_EQ(g.top_logits.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(g.top_logits[size_t(i)], kReferenceTopLogits[i], 1e-3) << "step " << i;
  // A half-precision cache rounds keys and values: close, not exact.
  const Greedy h = Decode(path, 8, 1, DType::kF16);
  ASSERT_EQ(h.top_logits.size(), 8u);
  for (int i = 0; i < 8; ++i) {
    EXPECT_NEAR(h.top_logits[size_t(i)], kReferenceTopLogits[i], 1e-2) << "step " << i;  // seen: 4e-3
  }
}

TEST(LlamaTest, ReadsTheArchitecture) {
  ARCA_SKIP_WITHOUT_MODEL(path, "stories260K-q8_0-mix.gguf");
  Result<MappedGguf> file = MappedGguf::Open(path);
  ASSERT_OK(file);
  Result<LlamaModel> model = LlamaModel::Load(file->gguf());
  ASSERT_OK(model);
  const LlamaConfig& c = model->config();
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.hidden_dim, 172);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_FLOAT_EQ(c.rope_base, 10000.0f);
  // Each tensor's own type counts, not general.file_type (which says Q6_K).
  EXPECT_EQ(model->layers()[0].wq.type, DType::kQ8_0);
  EXPECT_EQ(model->layers()[0].w_down.type, DType::kF16);
  EXPECT_EQ(model->layers()[0].attn_norm.size(), 64u);
}

TEST(LlamaTest, BatchedPromptEqualsTokenByToken) {
  ARCA_SKIP_WITHOUT_MODEL(path, "stories260K.gguf");
  Result<MappedGguf> file = MappedGguf::Open(path);
  ASSERT_OK(file);
  Result<LlamaModel> model = LlamaModel::Load(file->gguf());
  ASSERT_OK(model);
  ThreadPool pool(1);
  LlamaSession batched(*model, 64, pool), single(*model, 64, pool);
  Result<std::span<const float>> a = batched.Forward(kPromptIds);
  ASSERT_OK(a);
  std::vector<float> la(a->begin(), a->end());
  Result<std::span<const float>> b = InvalidArgumentError("unset");
  for (int32_t id : kPromptIds) b = single.Forward(std::span<const int32_t>(&id, 1));
  ASSERT_OK(b);
  for (size_t i = 0; i < la.size(); ++i) EXPECT_NEAR(la[i], (*b)[i], 1e-4);
}

TEST(LlamaTest, RefusesBadTokensAndAFullContext) {
  ARCA_SKIP_WITHOUT_MODEL(path, "stories260K.gguf");
  Result<MappedGguf> file = MappedGguf::Open(path);
  ASSERT_OK(file);
  Result<LlamaModel> model = LlamaModel::Load(file->gguf());
  ASSERT_OK(model);
  ThreadPool pool(1);
  LlamaSession s(*model, 4, pool);
  const int32_t bad[] = {512};
  EXPECT_EQ(s.Forward(bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Forward(kPromptIds).status().code(), StatusCode::kOutOfRange);  // 5 > 4
}

}  // namespace
}  // namespace arca::runtime
