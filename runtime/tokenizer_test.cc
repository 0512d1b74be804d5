// Tests of the GGUF (SentencePiece-style) tokenizer on stories260K's
// vocabulary and on a small vocabulary built here.
#include "runtime/tokenizer.h"

#include <gtest/gtest.h>

#include "runtime/gguf_writer.h"
#include "runtime/internal/test_models.h"

namespace arca::runtime {
namespace {

class Stories260KTokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ARCA_SKIP_WITHOUT_MODEL(path, "stories260K.gguf");
    Result<MappedGguf> m = MappedGguf::Open(path);
    ASSERT_OK(m);
    Result<Tokenizer> t = Tokenizer::FromGguf(m->gguf());
    ASSERT_OK(t);
    tok_.emplace(std::move(t).value());
  }
  std::optional<Tokenizer> tok_;
};

TEST_F(Stories260KTokenizerTest, EncodesTheReferencePrompt) {
  EXPECT_EQ(tok_->vocab_size(), 512);
  EXPECT_EQ(tok_->Encode("Once upon a time", true), (std::vector<int32_t>{1, 403, 407, 261, 378}));
  EXPECT_EQ(tok_->Encode("", true), (std::vector<int32_t>{1}));
  EXPECT_EQ(tok_->Encode("", false), (std::vector<int32_t>{}));
}

TEST_F(Stories260KTokenizerTest, DecodesTheReferenceOutput) {
  const std::vector<int32_t> ids = {1,   403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421,
                                    395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411};
  EXPECT_EQ(tok_->Decode(ids), "Once upon a time, there was a little girl named Lily. She loved to play outside");
  EXPECT_EQ(tok_->Piece(13), "\n");  // the byte token <0x0A>
  EXPECT_EQ(tok_->Piece(1), "");     // BOS prints as nothing
}

TEST_F(Stories260KTokenizerTest, RoundTripsText) {
  for (std::string text : {"Once upon a time", "Lily's mom said: \"no!\"\n\nThe end.", "  two  spaces ",
                           "héllo wörld 世界 🙂", "tab\there", "x"}) {
    EXPECT_EQ(tok_->Decode(tok_->Encode(text, true)), text);
  }
}

TEST_F(Stories260KTokenizerTest, RoundTripsArbitraryBytesThroughByteFallback) {
  std::string bytes;
  for (int i = 1; i < 256; ++i) bytes.push_back(char(i));  // includes invalid UTF-8
  const std::vector<int32_t> ids = tok_->Encode(bytes, false);
  EXPECT_EQ(tok_->Decode(ids), bytes);
  // The bytes that no merge covers come out as <0xXX> tokens (ids 3..258).
  EXPECT_EQ(tok_->Encode("\xff", false).back(), 3 + 0xff);
}

// A vocabulary built here: byte tokens, and merges with chosen scores.
Tokenizer MakeTokenizer(std::vector<std::string> merges, std::vector<float> scores) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<float> all_scores = {0, 0, 0};
  std::vector<int32_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.push_back(buf);
    all_scores.push_back(0);
    types.push_back(6);
  }
  for (size_t i = 0; i < merges.size(); ++i) {
    tokens.push_back(merges[i]);
    all_scores.push_back(scores[i]);
    types.push_back(1);
  }
  GgufWriter w;
  w.AddString("tokenizer.ggml.model", "llama");
  w.AddStringArray("tokenizer.ggml.tokens", tokens);
  w.AddFloat32Array("tokenizer.ggml.scores", all_scores);
  w.AddInt32Array("tokenizer.ggml.token_type", types);
  static std::vector<std::string> keep;  // the parse borrows the bytes; the tokenizer copies
  keep.push_back(w.Serialize());
  Result<GgufFile> g = GgufFile::Parse(AsBytes(keep.back()));
  EXPECT_OK(g);
  Result<Tokenizer> t = Tokenizer::FromGguf(*g);
  EXPECT_OK(t);
  return std::move(t).value();
}

TEST(TokenizerTest, MergesByScoreThenLeftmost) {
  // Single characters must be pieces for merges to start from them.
  const int base = 259;
  Tokenizer t = MakeTokenizer({"a", "b", "\xE2\x96\x81", "ab", "ba", "aba"}, {1, 1, 1, 5, 6, 9});
  // "▁aba": ba (6) beats ab (5), giving a|ba; then "aba" (9) merges them.
  EXPECT_EQ(t.Encode("aba", false), (std::vector<int32_t>{base + 2, base + 5}));
  // "▁abab": ba (6) first: a ba b; then aba (9): aba b; nothing merges "abab".
  EXPECT_EQ(t.Encode("abab", false), (std::vector<int32_t>{base + 2, base + 5, base + 1}));
  // Ties: "▁aa" has no pair; leftmost wins on equal scores "abab" -> checked above.
  EXPECT_EQ(t.Encode("c", false), (std::vector<int32_t>{base + 2, 3 + 'c'}));
}

TEST(TokenizerTest, RejectsBadVocabularies) {
  GgufWriter w;
  w.AddString("tokenizer.ggml.model", "gpt2");
  std::string bytes = w.Serialize();
  Result<GgufFile> g = GgufFile::Parse(AsBytes(bytes));
  ASSERT_OK(g);
  EXPECT_EQ(Tokenizer::FromGguf(*g).status().code(), StatusCode::kUnimplemented);

  GgufWriter w2;
  w2.AddString("tokenizer.ggml.model", "llama");
  w2.AddStringArray("tokenizer.ggml.tokens", {"a", "b"});
  w2.AddFloat32Array("tokenizer.ggml.scores", {1});
  bytes = w2.Serialize();
  g = GgufFile::Parse(AsBytes(bytes));
  ASSERT_OK(g);
  EXPECT_EQ(Tokenizer::FromGguf(*g).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace arca::runtime
