// Tests of the GGUF reader: well-formed files (ours and the real
// stories260K), then one test per kind of malformed file.
#include "runtime/gguf.h"

#include <gtest/gtest.h>

#include <string>

#include "common/bytes.h"
#include "runtime/gguf_writer.h"
#include "runtime/internal/test_models.h"

namespace arca::runtime {
namespace {

// Builds GGUF bytes field by field, so tests can write any (bad) value.
class Raw {
 public:
  Raw& U32(uint32_t v) { AppendLE32(&s_, v); return *this; }
  Raw& U64(uint64_t v) { AppendLE64(&s_, v); return *this; }
  Raw& Str(std::string_view v) { U64(v.size()); s_.append(v); return *this; }
  Raw& Bytes(std::string_view v) { s_.append(v); return *this; }
  Raw& Header(uint64_t n_tensors, uint64_t n_kv) { return U32(0x46554747).U32(3).U64(n_tensors).U64(n_kv); }
  // A tensor info.
  Raw& Tensor(std::string_view name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
    Str(name).U32(uint32_t(ne.size()));
    for (uint64_t d : ne) U64(d);
    return U32(type).U64(offset);
  }
  Raw& Pad() { s_.resize((s_.size() + 31) / 32 * 32, '\0'); return *this; }
  Raw& Zeros(size_t n) { s_.append(n, '\0'); return *this; }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

Result<GgufFile> Parse(const std::string& s) { return GgufFile::Parse(AsBytes(s)); }

void ExpectError(const std::string& bytes, StatusCode code, std::string_view needle) {
  Result<GgufFile> r = Parse(bytes);
  ASSERT_FALSE(r.ok()) << "parsed a bad file";
  EXPECT_EQ(r.status().code(), code) << r.status();
  EXPECT_NE(r.status().message().find(needle), std::string_view::npos) << r.status();
}

std::string SmallValidFile() {
  GgufWriter w;
  w.AddString("general.architecture", "llama");
  w.AddUint32("llama.block_count", 2);
  w.AddFloat32("llama.rope.freq_base", 500.0f);
  w.AddStringArray("tokenizer.ggml.tokens", {"a", "bc", ""});
  w.AddFloat32Array("tokenizer.ggml.scores", {0.5f, -1.0f, 2.0f});
  w.AddBool("flag", true);
  w.AddTensor("t.f32", {3, 2}, DType::kF32, EncodeTensorData(DType::kF32, {1, 2, 3, 4, 5, 6}));
  std::vector<float> q(64);
  for (int i = 0; i < 64; ++i) q[size_t(i)] = float(i) - 32.0f;
  w.AddTensor("t.q8", {32, 2}, DType::kQ8_0, EncodeTensorData(DType::kQ8_0, q));
  w.AddTensor("t.f16", {5}, DType::kF16, EncodeTensorData(DType::kF16, {1, -2, 0.5f, 65504, 0}));
  return w.Serialize();
}

TEST(GgufTest, ParsesWhatTheWriterWrites) {
  const std::string bytes = SmallValidFile();
  Result<GgufFile> r = Parse(bytes);
  ASSERT_OK(r);
  const GgufFile& g = *r;
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.alignment(), 32u);
  EXPECT_EQ(g.data_offset() % 32, 0u);
  EXPECT_EQ(*g.GetString("general.architecture", ""), "llama");
  EXPECT_EQ(*g.GetUint("llama.block_count", 0), 2u);
  EXPECT_EQ(*g.GetUint("absent", 7), 7u);
  EXPECT_FLOAT_EQ(float(*g.GetFloat("llama.rope.freq_base", 0)), 500.0f);
  EXPECT_FALSE(g.GetUint("general.architecture", 0).ok());  // wrong type
  EXPECT_FALSE(g.RequireUint("absent").ok());
  const GgufValue* toks = g.Find("tokenizer.ggml.tokens");
  ASSERT_NE(toks, nullptr);
  ASSERT_EQ(toks->strings.size(), 3u);
  EXPECT_EQ(toks->strings[1], "bc");
  EXPECT_EQ(toks->strings[2], "");
  ASSERT_EQ(g.tensors().size(), 3u);
  const GgufTensor* t = g.FindTensor("t.f32");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->ne, (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(t->data.size(), 24u);
  float f[6];
  DequantizeRow(t->type, t->data.data(), 6, f);
  EXPECT_EQ(f[5], 6.0f);
  const GgufTensor* q = g.FindTensor("t.q8");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type, DType::kQ8_0);
  EXPECT_EQ(q->data.size(), 68u);
  EXPECT_EQ(q->RowBytes(), 34u);
  const GgufTensor* h = g.FindTensor("t.f16");
  ASSERT_NE(h, nullptr);
  DequantizeRow(h->type, h->data.data(), 5, f);
  EXPECT_EQ(f[0], 1.0f);
  EXPECT_EQ(f[3], 65504.0f);
}

TEST(GgufTest, ReadsStories260K) {
  ARCA_SKIP_WITHOUT_MODEL(path, "stories260K.gguf");
  Result<MappedGguf> m = MappedGguf::Open(path);
  ASSERT_OK(m);
  const GgufFile& g = m->gguf();
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.tensors().size(), 48u);
  EXPECT_EQ(*g.GetString("general.architecture", ""), "llama");
  EXPECT_EQ(*g.GetUint("llama.context_length", 0), 2048u);
  EXPECT_EQ(*g.GetUint("llama.attention.head_count_kv", 0), 4u);
  EXPECT_EQ(g.Find("tokenizer.ggml.tokens")->count, 512u);
  const GgufTensor* e = g.FindTensor("token_embd.weight");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->ne, (std::vector<uint64_t>{64, 512}));
}

TEST(GgufTest, EveryTruncationIsRejectedCleanly) {
  const std::string bytes = SmallValidFile();
  for (size_t n = 0; n < bytes.size(); ++n) {
    Result<GgufFile> r = Parse(bytes.substr(0, n));
    // A prefix may only parse if it cuts after the last tensor's bytes (padding).
    if (r.ok()) {
      EXPECT_GE(n, bytes.size() - 31) << "prefix of " << n << " bytes parsed";
    }
  }
}

TEST(GgufTest, RejectsBadMagic) {
  ExpectError(Raw().U32(0x46554746).U32(3).U64(0).U64(0).str(), StatusCode::kInvalidArgument, "magic");
  ExpectError("GG", StatusCode::kInvalidArgument, "magic");
}

TEST(GgufTest, RejectsUnsupportedVersion) {
  ExpectError(Raw().U32(0x46554747).U32(1).U64(0).U64(0).str(), StatusCode::kUnimplemented, "version");
  ExpectError(Raw().U32(0x46554747).U32(4).U64(0).U64(0).str(), StatusCode::kUnimplemented, "version");
}

TEST(GgufTest, RejectsAbsurdCounts) {
  ExpectError(Raw().Header(uint64_t(1) << 62, 0).str(), StatusCode::kResourceExhausted, "tensor count");
  ExpectError(Raw().Header(0, ~uint64_t(0)).str(), StatusCode::kResourceExhausted, "metadata count");
  // Within the limits, but more than the bytes could hold.
  ExpectError(Raw().Header(1000, 0).Zeros(64).str(), StatusCode::kInvalidArgument, "cannot fit");
  ExpectError(Raw().Header(0, 1000).str(), StatusCode::kInvalidArgument, "metadata key");
}

TEST(GgufTest, RejectsHugeStringLengths) {
  ExpectError(Raw().Header(0, 1).U64(~uint64_t(0)).str(), StatusCode::kResourceExhausted, "length");
  ExpectError(Raw().Header(0, 1).Str("k").U32(8).U64(100).Bytes("short").str(), StatusCode::kInvalidArgument,
              "needs 100 bytes");
}

TEST(GgufTest, RejectsHugeArrays) {
  ExpectError(Raw().Header(0, 1).Str("k").U32(9).U32(4).U64(uint64_t(1) << 61).Zeros(16).str(),
              StatusCode::kInvalidArgument, "cannot fit");
  ExpectError(Raw().Header(0, 1).Str("k").U32(9).U32(8).U64(1000).Zeros(16).str(), StatusCode::kInvalidArgument,
              "cannot fit");
}

TEST(GgufTest, RejectsUnknownValueTypes) {
  ExpectError(Raw().Header(0, 1).Str("k").U32(13).U32(0).str(), StatusCode::kInvalidArgument, "unknown value type");
  ExpectError(Raw().Header(0, 1).Str("k").U32(9).U32(77).U64(0).str(), StatusCode::kInvalidArgument,
              "unknown array element type");
  ExpectError(Raw().Header(0, 1).Str("k").U32(9).U32(9).U64(0).str(), StatusCode::kUnimplemented, "nested");
  ExpectError(Raw().Header(0, 1).Str("k").U32(7).Bytes("\x02").str(), StatusCode::kInvalidArgument, "bool");
}

TEST(GgufTest, RejectsDuplicateKeys) {
  ExpectError(Raw().Header(0, 2).Str("k").U32(4).U32(1).Str("k").U32(4).U32(2).str(), StatusCode::kInvalidArgument,
              "duplicate metadata key");
}

TEST(GgufTest, RejectsBadAlignment) {
  ExpectError(Raw().Header(0, 1).Str("general.alignment").U32(4).U32(24).str(), StatusCode::kInvalidArgument,
              "power of two");
  ExpectError(Raw().Header(0, 1).Str("general.alignment").U32(4).U32(0).str(), StatusCode::kInvalidArgument,
              "power of two");
  ExpectError(Raw().Header(0, 1).Str("general.alignment").U32(10).U64(32).str(), StatusCode::kInvalidArgument,
              "power of two");
}

// A file with one tensor info, then padding and `data` bytes of data.
std::string OneTensor(std::vector<uint64_t> ne, uint32_t type, uint64_t offset, size_t data) {
  return Raw().Header(1, 0).Tensor("w", std::move(ne), type, offset).Pad().Zeros(data).str();
}

TEST(GgufTest, RejectsBadTensorInfos) {
  ExpectError(OneTensor({4}, 2, 0, 64), StatusCode::kUnimplemented, "tensor type 2");  // Q4_0
  ExpectError(OneTensor({4}, 12345, 0, 64), StatusCode::kUnimplemented, "tensor type");
  ExpectError(OneTensor({}, 0, 0, 64), StatusCode::kInvalidArgument, "n_dims");
  ExpectError(OneTensor({1, 1, 1, 1, 1}, 0, 0, 64), StatusCode::kInvalidArgument, "n_dims");
  ExpectError(OneTensor({4, 0}, 0, 0, 64), StatusCode::kInvalidArgument, "zero");
  ExpectError(OneTensor({uint64_t(1) << 32, uint64_t(1) << 32}, 0, 0, 64), StatusCode::kInvalidArgument,
              "overflows");
  ExpectError(OneTensor({33}, 8, 0, 64), StatusCode::kInvalidArgument, "block size");  // Q8_0 needs 32 | ne0
  ExpectError(OneTensor({4}, 0, 8, 64), StatusCode::kInvalidArgument, "alignment");
}

TEST(GgufTest, RejectsTensorsOutsideTheFile) {
  ExpectError(OneTensor({16}, 0, 0, 63), StatusCode::kInvalidArgument, "data section");
  ExpectError(OneTensor({4}, 0, 64, 64), StatusCode::kInvalidArgument, "outside the data section");
  ExpectError(OneTensor({4}, 0, ~uint64_t(0) - 31, 64), StatusCode::kInvalidArgument, "outside");
  ExpectError(OneTensor({uint64_t(1) << 40, 4}, 0, 0, 64), StatusCode::kInvalidArgument, "exceeds");
  ExpectError(OneTensor({4, uint64_t(1) << 40}, 0, 0, 64), StatusCode::kInvalidArgument, "exceeds");
  // No data section at all.
  ExpectError(Raw().Header(1, 0).Tensor("w", {4}, 0, 0).str(), StatusCode::kInvalidArgument, "data section");
}

TEST(GgufTest, RejectsOverlappingTensors) {
  const std::string bytes = Raw().Header(2, 0).Tensor("a", {16}, 0, 0).Tensor("b", {8}, 0, 32).Pad().Zeros(128).str();
  ExpectError(bytes, StatusCode::kInvalidArgument, "overlaps");
  const std::string same = Raw().Header(2, 0).Tensor("a", {8}, 0, 0).Tensor("b", {8}, 0, 0).Pad().Zeros(128).str();
  ExpectError(same, StatusCode::kInvalidArgument, "overlaps");
}

TEST(GgufTest, RejectsDuplicateTensorNames) {
  const std::string bytes = Raw().Header(2, 0).Tensor("a", {8}, 0, 0).Tensor("a", {8}, 0, 32).Pad().Zeros(64).str();
  ExpectError(bytes, StatusCode::kInvalidArgument, "duplicate tensor name");
}

TEST(GgufTest, RejectsOverlongNames) {
  ExpectError(Raw().Header(1, 0).Str(std::string(300, 'x')).str(), StatusCode::kResourceExhausted, "tensor name");
}

}  // namespace
}  // namespace arca::runtime
