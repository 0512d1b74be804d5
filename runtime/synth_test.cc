// Tests of the synthetic model writer: what it writes parses, loads and
// runs, in every tensor type, with a generated or copied tokenizer.
#include "runtime/synth.h"

#include <gtest/gtest.h>

#include <cmath>

#include "runtime/internal/test_models.h"
#include "runtime/llama.h"
#include "runtime/sampler.h"
#include "runtime/tokenizer.h"

namespace arca::runtime {
namespace {

TEST(SynthTest, EveryTypeLoadsAndRuns) {
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0}) {
    SynthOptions o;
    ASSERT_TRUE(SynthPreset("tiny", &o));
    o.type = t;
    o.hidden_dim = 80;  // not a multiple of 32: ffn_down falls back to F16 for Q8_0
    Result<GgufWriter> w = BuildSyntheticLlama(o);
    ASSERT_OK(w);
    const std::string bytes = w->Serialize();
    Result<GgufFile> g = GgufFile::Parse(AsBytes(bytes));
    ASSERT_OK(g);
    Result<LlamaModel> m = LlamaModel::Load(*g);
    ASSERT_OK(m);
    EXPECT_EQ(m->config().n_kv_heads, 2);
    EXPECT_EQ(m->layers()[0].wq.type, t);
    EXPECT_EQ(m->layers()[0].w_down.type, t == DType::kQ8_0 ? DType::kF16 : t);
    Result<Tokenizer> tok = Tokenizer::FromGguf(*g);
    ASSERT_OK(tok);
    EXPECT_EQ(tok->vocab_size(), 300);
    const std::string text = "a day in the park, 42!";
    EXPECT_EQ(tok->Decode(tok->Encode(text, true)), text);
    ThreadPool pool(1);
    LlamaSession s(*m, 64, pool);
    Result<std::span<const float>> logits = s.Forward(tok->Encode(text, true));
    ASSERT_OK(logits);
    for (float f : *logits) ASSERT_TRUE(std::isfinite(f));
  }
}

TEST(SynthTest, TiedOutputAndShapeChecks) {
  SynthOptions o;
  ASSERT_TRUE(SynthPreset("tiny", &o));
  o.tied_output = true;
  Result<GgufWriter> w = BuildSyntheticLlama(o);
  ASSERT_OK(w);
  const std::string bytes = w->Serialize();
  Result<GgufFile> g = GgufFile::Parse(AsBytes(bytes));
  ASSERT_OK(g);
  EXPECT_EQ(g->FindTensor("output.weight"), nullptr);
  Result<LlamaModel> m = LlamaModel::Load(*g);
  ASSERT_OK(m);
  EXPECT_EQ(m->output().data, m->token_embd().data);
  o.n_heads = 3;  // 64 does not split into 3 heads
  EXPECT_FALSE(BuildSyntheticLlama(o).ok());
}

TEST(SynthTest, CopiesTheStories260KTokenizer) {
  ARCA_SKIP_WITHOUT_MODEL(path, "stories260K.gguf");
  SynthOptions o;
  ASSERT_TRUE(SynthPreset("tiny", &o));
  o.tokenizer_from = path;
  Result<GgufWriter> w = BuildSyntheticLlama(o);
  ASSERT_OK(w);
  const std::string bytes = w->Serialize();
  Result<GgufFile> g = GgufFile::Parse(AsBytes(bytes));
  ASSERT_OK(g);
  Result<Tokenizer> tok = Tokenizer::FromGguf(*g);
  ASSERT_OK(tok);
  EXPECT_EQ(tok->Encode("Once upon a time", true), (std::vector<int32_t>{1, 403, 407, 261, 378}));
  Result<LlamaModel> m = LlamaModel::Load(*g);
  ASSERT_OK(m);
  EXPECT_EQ(m->config().vocab_size, 512);
}

}  // namespace
}  // namespace arca::runtime
