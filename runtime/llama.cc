// Llama forward pass; see llama.h. Activations are float32 throughout; only
// the weight matrices keep their file type.
#include "runtime/llama.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace arca::runtime {
namespace {

constexpr int64_t kMaxBatch = 128;  // prompt tokens per forward step

std::string ShapeString(const std::vector<uint64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

// A 2-D weight with GGUF shape ne = [cols, rows] (trailing 1s allowed).
Result<Matrix> GetMatrix(const GgufFile& g, const std::string& name, int64_t rows, int64_t cols) {
  const GgufTensor* t = g.FindTensor(name);
  if (t == nullptr) return InvalidArgumentError("missing tensor '" + name + "'");
  std::vector<uint64_t> ne = t->ne;
  while (ne.size() > 2 && ne.back() == 1) ne.pop_back();
  if (ne.size() == 1) ne.push_back(1);  // a vector is one row
  if (ne.size() != 2 || ne[0] != uint64_t(cols) || ne[1] != uint64_t(rows)) {
    return InvalidArgumentError("tensor '" + name + "' has shape " + ShapeString(t->ne) + ", want [" +
                                std::to_string(cols) + ", " + std::to_string(rows) + "]");
  }
  return Matrix{t->type, t->data.data(), rows, cols, t->RowBytes()};
}

// A 1-D weight of `n` elements, converted to float.
Result<std::vector<float>> GetVector(const GgufFile& g, const std::string& name, int64_t n) {
  ARCA_ASSIGN_OR_RETURN(Matrix m, GetMatrix(g, name, 1, n));
  std::vector<float> v(static_cast<size_t>(n));
  DequantizeRow(m.type, m.data, n, v.data());
  return v;
}

// Reads a positive integer hyperparameter, bounded so products stay small.
Result<int64_t> GetDim(const GgufFile& g, const std::string& key, std::optional<int64_t> fallback) {
  uint64_t v;
  if (fallback) {
    ARCA_ASSIGN_OR_RETURN(v, g.GetUint(key, uint64_t(*fallback)));
  } else {
    ARCA_ASSIGN_OR_RETURN(v, g.RequireUint(key));
  }
  if (v == 0 || v > (1u << 24)) return InvalidArgumentError(key + " = " + std::to_string(v) + " is out of range");
  return int64_t(v);
}

void RmsNorm(float* out, const float* x, const float* w, int64_t n, float eps) {
  double ss = 0;  // accumulate in double: cheap here, and closer to the reference
  for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * x[i];
  const float scale = float(1.0 / std::sqrt(ss / double(n) + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = w[i] * (x[i] * scale);
}

}  // namespace

Result<LlamaModel> LlamaModel::Load(const GgufFile& g) {
  ARCA_ASSIGN_OR_RETURN(std::string_view arch, g.RequireString("general.architecture"));
  if (arch != "llama") {
    return UnimplementedError("architecture '" + std::string(arch) + "' is not supported (only 'llama')");
  }
  LlamaModel m;
  LlamaConfig& c = m.config_;
  ARCA_ASSIGN_OR_RETURN(c.dim, GetDim(g, "llama.embedding_length", std::nullopt));
  ARCA_ASSIGN_OR_RETURN(c.n_layers, GetDim(g, "llama.block_count", std::nullopt));
  ARCA_ASSIGN_OR_RETURN(c.hidden_dim, GetDim(g, "llama.feed_forward_length", std::nullopt));
  ARCA_ASSIGN_OR_RETURN(c.n_heads, GetDim(g, "llama.attention.head_count", std::nullopt));
  ARCA_ASSIGN_OR_RETURN(c.n_kv_heads, GetDim(g, "llama.attention.head_count_kv", c.n_heads));
  ARCA_ASSIGN_OR_RETURN(c.context_length, GetDim(g, "llama.context_length", 2048));
  if (c.dim % c.n_heads != 0 || c.n_heads % c.n_kv_heads != 0) {
    return InvalidArgumentError("head counts (" + std::to_string(c.n_heads) + ", kv " +
                                std::to_string(c.n_kv_heads) + ") do not divide the embedding length " +
                                std::to_string(c.dim));
  }
  c.head_dim = c.dim / c.n_heads;
  ARCA_ASSIGN_OR_RETURN(c.rope_dims, GetDim(g, "llama.rope.dimension_count", c.head_dim));
  if (c.rope_dims > c.head_dim || c.rope_dims % 2 != 0) {
    return InvalidArgumentError("llama.rope.dimension_count must be even and at most the head size");
  }
  ARCA_ASSIGN_OR_RETURN(double base, g.GetFloat("llama.rope.freq_base", 10000.0));
  ARCA_ASSIGN_OR_RETURN(double eps, g.GetFloat("llama.attention.layer_norm_rms_epsilon", 1e-5));
  if (!(base > 1.0) || !(eps > 0.0 && eps < 1.0)) {
    return InvalidArgumentError("rope base or RMSNorm epsilon is out of range");
  }
  c.rope_base = float(base);
  c.rms_eps = float(eps);
  if (g.FindTensor("rope_freqs.weight") != nullptr) {
    return UnimplementedError("rope_freqs.weight (scaled RoPE) is not supported");
  }

  const GgufTensor* embd = g.FindTensor("token_embd.weight");
  if (embd == nullptr || embd->ne.size() < 2) return InvalidArgumentError("missing tensor 'token_embd.weight'");
  c.vocab_size = int64_t(embd->ne[1]);
  ARCA_ASSIGN_OR_RETURN(m.token_embd_, GetMatrix(g, "token_embd.weight", c.vocab_size, c.dim));
  if (g.FindTensor("output.weight") != nullptr) {
    ARCA_ASSIGN_OR_RETURN(m.output_, GetMatrix(g, "output.weight", c.vocab_size, c.dim));
  } else {
    m.output_ = m.token_embd_;  // tied
  }
  ARCA_ASSIGN_OR_RETURN(m.output_norm_, GetVector(g, "output_norm.weight", c.dim));

  const int64_t q_dim = c.n_heads * c.head_dim;
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    LlamaLayer L;
    ARCA_ASSIGN_OR_RETURN(L.attn_norm, GetVector(g, p + "attn_norm.weight", c.dim));
    ARCA_ASSIGN_OR_RETURN(L.wq, GetMatrix(g, p + "attn_q.weight", q_dim, c.dim));
    ARCA_ASSIGN_OR_RETURN(L.wk, GetMatrix(g, p + "attn_k.weight", c.kv_dim(), c.dim));
    ARCA_ASSIGN_OR_RETURN(L.wv, GetMatrix(g, p + "attn_v.weight", c.kv_dim(), c.dim));
    ARCA_ASSIGN_OR_RETURN(L.wo, GetMatrix(g, p + "attn_output.weight", c.dim, q_dim));
    ARCA_ASSIGN_OR_RETURN(L.ffn_norm, GetVector(g, p + "ffn_norm.weight", c.dim));
    ARCA_ASSIGN_OR_RETURN(L.w_gate, GetMatrix(g, p + "ffn_gate.weight", c.hidden_dim, c.dim));
    ARCA_ASSIGN_OR_RETURN(L.w_up, GetMatrix(g, p + "ffn_up.weight", c.hidden_dim, c.dim));
    ARCA_ASSIGN_OR_RETURN(L.w_down, GetMatrix(g, p + "ffn_down.weight", c.dim, c.hidden_dim));
    m.layers_.push_back(std::move(L));
  }
  return m;
}

uint64_t LlamaModel::WeightBytesPerToken() const {
  auto bytes = [](const Matrix& w) { return uint64_t(w.rows) * w.row_bytes; };
  uint64_t n = token_embd_.row_bytes + bytes(output_);
  for (const LlamaLayer& L : layers_) {
    n += bytes(L.wq) + bytes(L.wk) + bytes(L.wv) + bytes(L.wo) + bytes(L.w_gate) + bytes(L.w_up) +
         bytes(L.w_down);
  }
  return n;
}

LlamaSession::LlamaSession(const LlamaModel& model, int64_t max_context, ThreadPool& pool, DType kv_type)
    : m_(model),
      pool_(pool),
      max_context_(std::clamp<int64_t>(max_context, 1, model.config().context_length)),
      kv_type_(kv_type == DType::kF16 ? DType::kF16 : DType::kF32),
      kv_elem_(kv_type_ == DType::kF16 ? 2 : 4) {
  const LlamaConfig& c = m_.config();
  const size_t cache = size_t(c.n_layers * max_context_ * c.kv_dim()) * kv_elem_;
  key_cache_.assign(cache, 0);
  value_cache_.assign(cache, 0);
  // RoPE tables: pair i of a head turns by pos * base^(-2i / rope_dims).
  const int64_t half = c.rope_dims / 2;
  rope_cos_.resize(size_t(max_context_ * half));
  rope_sin_.resize(size_t(max_context_ * half));
  for (int64_t p = 0; p < max_context_; ++p) {
    for (int64_t i = 0; i < half; ++i) {
      const double theta = double(p) * std::pow(double(c.rope_base), -2.0 * double(i) / double(c.rope_dims));
      rope_cos_[size_t(p * half + i)] = float(std::cos(theta));
      rope_sin_[size_t(p * half + i)] = float(std::sin(theta));
    }
  }
  att_.resize(size_t(pool_.size() * max_context_));
  logits_.resize(size_t(c.vocab_size));
}

void LlamaSession::StoreKv(const float* x, int64_t n, uint8_t* out) const {
  if (kv_type_ == DType::kF16) {
    for (int64_t i = 0; i < n; ++i) PutLE16(out + 2 * i, FloatToHalf(x[i]));
  } else {
    std::memcpy(out, x, size_t(n) * 4);
  }
}

void LlamaSession::Attention(int64_t layer, int64_t n_tok) {
  const LlamaConfig& c = m_.config();
  const int64_t hd = c.head_dim, kv_dim = c.kv_dim(), group = c.n_heads / c.n_kv_heads;
  const size_t elem = kv_elem_;
  const uint8_t* kc = key_cache_.data() + size_t(layer * max_context_ * kv_dim) * elem;  // [kv_head][position][head_dim]
  const uint8_t* vc = value_cache_.data() + size_t(layer * max_context_ * kv_dim) * elem;
  const float scale = 1.0f / std::sqrt(float(hd));
  const std::function<void(int64_t, int64_t, int)> heads = [&](int64_t begin, int64_t end, int thread) {
    float* att = att_.data() + thread * max_context_;
    for (int64_t job = begin; job < end; ++job) {
      const int64_t t = job / c.n_heads, h = job % c.n_heads;
      const int64_t pos = pos_ + t;  // attends to positions 0..pos
      const float* q = q_.data() + t * c.dim + h * hd;
      const int64_t kv_off = (h / group) * max_context_ * hd;  // this head's keys, position 0
      const uint8_t* keys = kc + size_t(kv_off) * elem;  // positions 0..pos of this kv head
      DotRows(kv_type_, keys, pos + 1, q, hd, att);
      float max = -INFINITY;
      for (int64_t p = 0; p <= pos; ++p) {
        att[p] *= scale;
        max = std::max(max, att[p]);
      }
      float sum = 0;
      for (int64_t p = 0; p <= pos; ++p) {
        att[p] = std::exp(att[p] - max);
        sum += att[p];
      }
      const float inv = 1.0f / sum;
      for (int64_t p = 0; p <= pos; ++p) att[p] *= inv;
      WeightedSum(kv_type_, att, vc + size_t(kv_off) * elem, pos + 1, hd, xb2_.data() + t * c.dim + h * hd);
    }
  };
  // As in MatMul: little work runs inline rather than waking the pool.
  if (n_tok * c.n_heads * (pos_ + n_tok) * hd < (int64_t(1) << 16)) {
    heads(0, n_tok * c.n_heads, 0);
  } else {
    pool_.ParallelFor(n_tok * c.n_heads, heads);
  }
}

Result<std::span<const float>> LlamaSession::Forward(std::span<const int32_t> tokens) {
  const LlamaConfig& c = m_.config();
  if (tokens.empty()) return InvalidArgumentError("Forward needs at least one token");
  if (int64_t(tokens.size()) > max_context_ - pos_) {
    return OutOfRangeError("context full: " + std::to_string(pos_) + " + " + std::to_string(tokens.size()) +
                           " tokens exceed " + std::to_string(max_context_));
  }
  for (int32_t id : tokens) {
    if (id < 0 || id >= c.vocab_size) return InvalidArgumentError("token id " + std::to_string(id) + " is out of range");
  }
  while (int64_t(tokens.size()) > kMaxBatch) {  // long prompts in batches
    ARCA_RETURN_IF_ERROR(Forward(tokens.first(size_t(kMaxBatch))).status());
    tokens = tokens.subspan(size_t(kMaxBatch));
  }
  const int64_t n = int64_t(tokens.size());
  const int64_t dim = c.dim, kv_dim = c.kv_dim(), hid = c.hidden_dim;
  x_.resize(size_t(n * dim));
  xb_.resize(size_t(n * dim));
  xb2_.resize(size_t(n * dim));
  q_.resize(size_t(n * dim));
  k_.resize(size_t(n * kv_dim));
  v_.resize(size_t(n * kv_dim));
  hb_.resize(size_t(n * hid));
  hb2_.resize(size_t(n * hid));

  const Matrix& emb = m_.token_embd();
  for (int64_t t = 0; t < n; ++t) DequantizeRow(emb.type, emb.data + tokens[t] * emb.row_bytes, dim, &x_[t * dim]);

  const int64_t half = c.rope_dims / 2;
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const LlamaLayer& L = m_.layers()[size_t(l)];
    // Attention block.
    for (int64_t t = 0; t < n; ++t) RmsNorm(&xb_[t * dim], &x_[t * dim], L.attn_norm.data(), dim, c.rms_eps);
    const MatMulJob qkv[] = {{&L.wq, q_.data()}, {&L.wk, k_.data()}, {&L.wv, v_.data()}};
    MatMul(qkv, 3, xb_.data(), n, pool_, scratch_);
    for (int64_t t = 0; t < n; ++t) {
      const int64_t pos = pos_ + t;
      const float* cs = &rope_cos_[pos * half];
      const float* sn = &rope_sin_[pos * half];
      // Rotate adjacent pairs (x[2i], x[2i+1]) of each head of q and k.
      auto rotate = [&](float* vec, int64_t heads) {
        for (int64_t h = 0; h < heads; ++h) {
          float* v = vec + h * c.head_dim;
          for (int64_t i = 0; i < half; ++i) {
            const float a = v[2 * i], b = v[2 * i + 1];
            v[2 * i] = a * cs[i] - b * sn[i];
            v[2 * i + 1] = a * sn[i] + b * cs[i];
          }
        }
      };
      rotate(&q_[t * dim], c.n_heads);
      rotate(&k_[t * kv_dim], c.n_kv_heads);
      // Cache layout [layer][kv_head][position][head_dim]: one head's keys are
      // contiguous, so attention streams through them.
      for (int64_t h = 0; h < c.n_kv_heads; ++h) {
        const size_t at = size_t(((l * c.n_kv_heads + h) * max_context_ + pos) * c.head_dim) * kv_elem_;
        StoreKv(&k_[t * kv_dim + h * c.head_dim], c.head_dim, &key_cache_[at]);
        StoreKv(&v_[t * kv_dim + h * c.head_dim], c.head_dim, &value_cache_[at]);
      }
    }
    Attention(l, n);
    const MatMulJob o[] = {{&L.wo, xb_.data()}};
    MatMul(o, 1, xb2_.data(), n, pool_, scratch_);
    for (int64_t i = 0; i < n * dim; ++i) x_[i] += xb_[i];

    // Feed-forward block: down(silu(gate(x)) * up(x)).
    for (int64_t t = 0; t < n; ++t) RmsNorm(&xb_[t * dim], &x_[t * dim], L.ffn_norm.data(), dim, c.rms_eps);
    const MatMulJob gu[] = {{&L.w_gate, hb_.data()}, {&L.w_up, hb2_.data()}};
    MatMul(gu, 2, xb_.data(), n, pool_, scratch_);
    for (int64_t i = 0; i < n * hid; ++i) {
      const float g = hb_[i];
      hb_[i] = g / (1.0f + std::exp(-g)) * hb2_[i];
    }
    const MatMulJob down[] = {{&L.w_down, xb_.data()}};
    MatMul(down, 1, hb_.data(), n, pool_, scratch_);
    for (int64_t i = 0; i < n * dim; ++i) x_[i] += xb_[i];
  }

  // Logits for the last token only.
  RmsNorm(xb_.data(), &x_[(n - 1) * dim], m_.output_norm().data(), dim, c.rms_eps);
  const MatMulJob out[] = {{&m_.output(), logits_.data()}};
  MatMul(out, 1, xb_.data(), 1, pool_, scratch_);
  pos_ += n;
  return std::span<const float>(logits_);
}

}  // namespace arca::runtime
