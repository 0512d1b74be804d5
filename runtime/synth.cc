// Synthetic Llama GGUF models; see synth.h.
#include "runtime/synth.h"

#include <cmath>
#include <vector>

#include "runtime/gguf.h"

namespace arca::runtime {
namespace {

// xorshift64* stream of uniform floats in [-1, 1).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull | 1) {}
  float Next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return float((s_ * 0x2545F4914F6CDD1Dull) >> 40) / float(1 << 23) - 1.0f;
  }

 private:
  uint64_t s_;
};

// ggml's general.file_type ("mostly <type>") for each tensor type.
uint32_t FileType(DType t) {
  switch (t) {
    case DType::kF32: return 0;
    case DType::kF16: return 1;
    case DType::kQ8_0: return 7;
    case DType::kBF16: return 32;
  }
  return 0;
}

// A generated vocabulary: <unk> <s> </s>, the 256 byte tokens, then words
// over a-z (odd ones with a leading "▁") after "▁" itself, scored so
// earlier ones merge first.
void AddGeneratedTokenizer(GgufWriter& w, int64_t n) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<float> scores = {0, 0, 0};
  std::vector<int32_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.push_back(buf);
    scores.push_back(0);
    types.push_back(6);
  }
  tokens.push_back("\xE2\x96\x81");  // the space piece, as in every SentencePiece vocabulary
  scores.push_back(0);
  types.push_back(1);
  for (int64_t k = 0; int64_t(tokens.size()) < n; ++k) {
    std::string word;
    for (int64_t v = k / 2; ; v = v / 26 - 1) {
      word.insert(word.begin(), char('a' + v % 26));
      if (v < 26) break;
    }
    tokens.push_back((k % 2 ? "\xE2\x96\x81" : "") + word);
    scores.push_back(-float(k));
    types.push_back(1);
  }
  w.AddString("tokenizer.ggml.model", "llama");
  w.AddStringArray("tokenizer.ggml.tokens", tokens);
  w.AddFloat32Array("tokenizer.ggml.scores", scores);
  w.AddInt32Array("tokenizer.ggml.token_type", types);
  w.AddUint32("tokenizer.ggml.bos_token_id", 1);
  w.AddUint32("tokenizer.ggml.eos_token_id", 2);
  w.AddUint32("tokenizer.ggml.unknown_token_id", 0);
}

// Copies the tokenizer of another GGUF; returns its vocabulary size.
Result<int64_t> CopyTokenizer(GgufWriter& w, const std::string& path) {
  ARCA_ASSIGN_OR_RETURN(MappedGguf src, MappedGguf::Open(path));
  const GgufFile& g = src.gguf();
  ARCA_ASSIGN_OR_RETURN(std::string_view model, g.RequireString("tokenizer.ggml.model"));
  const GgufValue* tokens = g.Find("tokenizer.ggml.tokens");
  const GgufValue* scores = g.Find("tokenizer.ggml.scores");
  const GgufValue* types = g.Find("tokenizer.ggml.token_type");
  if (model != "llama" || tokens == nullptr || tokens->elem_type != GgufType::kString || scores == nullptr ||
      scores->elem_type != GgufType::kFloat32 || types == nullptr || types->elem_type != GgufType::kInt32 ||
      scores->count != tokens->count || types->count != tokens->count) {
    return InvalidArgumentError(path + ": no llama tokenizer with tokens, scores and token types");
  }
  w.AddString("tokenizer.ggml.model", "llama");
  w.AddStringArray("tokenizer.ggml.tokens", std::vector<std::string>(tokens->strings.begin(), tokens->strings.end()));
  std::vector<float> s(tokens->count);
  std::vector<int32_t> t(tokens->count);
  std::memcpy(s.data(), scores->raw.data(), s.size() * 4);
  std::memcpy(t.data(), types->raw.data(), t.size() * 4);
  w.AddFloat32Array("tokenizer.ggml.scores", s);
  w.AddInt32Array("tokenizer.ggml.token_type", t);
  for (const char* key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                          "tokenizer.ggml.unknown_token_id"}) {
    ARCA_ASSIGN_OR_RETURN(uint64_t id, g.RequireUint(key));
    w.AddUint32(key, uint32_t(id));
  }
  return int64_t(tokens->count);
}

}  // namespace

bool SynthPreset(const std::string& name, SynthOptions* o) {
  if (name == "stories15M") {
    o->dim = 288, o->n_layers = 6, o->n_heads = 6, o->n_kv_heads = 6, o->hidden_dim = 768, o->vocab_size = 32000;
  } else if (name == "stories110M") {
    o->dim = 768, o->n_layers = 12, o->n_heads = 12, o->n_kv_heads = 12, o->hidden_dim = 2048,
    o->vocab_size = 32000;
  } else if (name == "tiny") {
    o->dim = 64, o->n_layers = 2, o->n_heads = 4, o->n_kv_heads = 2, o->hidden_dim = 96, o->vocab_size = 300;
  } else {
    return false;
  }
  return true;
}

Result<GgufWriter> BuildSyntheticLlama(const SynthOptions& o) {
  const int64_t kv_heads = o.n_kv_heads > 0 ? o.n_kv_heads : o.n_heads;
  if (o.dim <= 0 || o.n_layers <= 0 || o.n_heads <= 0 || o.hidden_dim <= 0 || o.context_length <= 0 ||
      o.dim % o.n_heads != 0 || o.n_heads % kv_heads != 0 || (o.dim / o.n_heads) % 2 != 0) {
    return InvalidArgumentError("synthetic model: dim must split into an even head size, heads into kv heads");
  }
  GgufWriter w;
  w.AddString("general.architecture", "llama");
  w.AddString("general.name", "arca-synthetic");
  w.AddUint32("general.file_type", FileType(o.type));
  int64_t vocab = o.vocab_size;
  if (!o.tokenizer_from.empty()) {
    ARCA_ASSIGN_OR_RETURN(vocab, CopyTokenizer(w, o.tokenizer_from));
  } else {
    if (vocab < 259 + 26) return InvalidArgumentError("synthetic model: vocab_size must be at least 285");
    AddGeneratedTokenizer(w, vocab);
  }
  const int64_t head_dim = o.dim / o.n_heads;
  w.AddUint32("llama.context_length", uint32_t(o.context_length));
  w.AddUint32("llama.embedding_length", uint32_t(o.dim));
  w.AddUint32("llama.block_count", uint32_t(o.n_layers));
  w.AddUint32("llama.feed_forward_length", uint32_t(o.hidden_dim));
  w.AddUint32("llama.rope.dimension_count", uint32_t(head_dim));
  w.AddUint32("llama.attention.head_count", uint32_t(o.n_heads));
  w.AddUint32("llama.attention.head_count_kv", uint32_t(kv_heads));
  w.AddFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.AddFloat32("llama.rope.freq_base", 10000.0f);

  Rng rng(o.seed);
  // Weights uniform in [-a, a] with a = 1/sqrt(cols): activations keep their scale.
  auto matrix = [&](const std::string& name, int64_t rows, int64_t cols) {
    const float a = 1.0f / std::sqrt(float(cols));
    std::vector<float> v(size_t(rows * cols));
    for (float& f : v) f = a * rng.Next();
    const DType t = (o.type == DType::kQ8_0 && cols % kQ8BlockElems != 0) ? DType::kF16 : o.type;
    w.AddTensor(name, {uint64_t(cols), uint64_t(rows)}, t, EncodeTensorData(t, v));
  };
  auto norm = [&](const std::string& name) {
    std::vector<float> v(size_t(o.dim));
    for (float& f : v) f = 1.0f + 0.1f * rng.Next();
    w.AddTensor(name, {uint64_t(o.dim)}, DType::kF32, EncodeTensorData(DType::kF32, v));
  };
  matrix("token_embd.weight", vocab, o.dim);
  for (int64_t l = 0; l < o.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    norm(p + "attn_norm.weight");
    matrix(p + "attn_q.weight", o.dim, o.dim);
    matrix(p + "attn_k.weight", head_dim * kv_heads, o.dim);
    matrix(p + "attn_v.weight", head_dim * kv_heads, o.dim);
    matrix(p + "attn_output.weight", o.dim, o.dim);
    norm(p + "ffn_norm.weight");
    matrix(p + "ffn_gate.weight", o.hidden_dim, o.dim);
    matrix(p + "ffn_down.weight", o.dim, o.hidden_dim);
    matrix(p + "ffn_up.weight", o.hidden_dim, o.dim);
  }
  norm("output_norm.weight");
  if (!o.tied_output) matrix("output.weight", vocab, o.dim);
  return w;
}

}  // namespace arca::runtime
