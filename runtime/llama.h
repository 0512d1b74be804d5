// The Llama architecture as GGUF describes it (`general.architecture` =
// "llama"): token embedding, then per layer RMSNorm -> grouped-query
// attention with rotary position embeddings and a KV cache -> residual ->
// RMSNorm -> SwiGLU feed-forward -> residual, then a final RMSNorm and the
// output projection (a separate `output.weight`, or tied to the embedding).
//
// Hyperparameters are read from `llama.*` keys with these defaults when
// absent: head_count_kv = head_count, rope.freq_base = 10000,
// rope.dimension_count = embedding_length / head_count,
// attention.layer_norm_rms_epsilon = 1e-5, context_length = 2048. Every
// weight's shape and type is checked against them before use.
#ifndef ARCA_RUNTIME_LLAMA_H_
#define ARCA_RUNTIME_LLAMA_H_

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "runtime/gguf.h"
#include "runtime/kernels.h"
#include "runtime/thread_pool.h"

namespace arca::runtime {

struct LlamaConfig {
  int64_t dim = 0;             // embedding_length
  int64_t n_layers = 0;        // block_count
  int64_t n_heads = 0;         // attention.head_count
  int64_t n_kv_heads = 0;      // attention.head_count_kv
  int64_t hidden_dim = 0;      // feed_forward_length
  int64_t vocab_size = 0;      // rows of token_embd.weight
  int64_t context_length = 0;  // context_length
  int64_t head_dim = 0;        // dim / n_heads
  int64_t rope_dims = 0;       // leading dims of each head that are rotated
  float rope_base = 10000.0f;
  float rms_eps = 1e-5f;

  int64_t kv_dim() const { return head_dim * n_kv_heads; }
};

// One transformer block. Shapes as [rows x cols] (GGUF ne = [cols, rows]).
struct LlamaLayer {
  std::vector<float> attn_norm;  // [dim]
  Matrix wq;                     // [n_heads*head_dim x dim]
  Matrix wk;                     // [kv_dim x dim]
  Matrix wv;                     // [kv_dim x dim]
  Matrix wo;                     // [dim x n_heads*head_dim]
  std::vector<float> ffn_norm;   // [dim]
  Matrix w_gate;                 // [hidden x dim]
  Matrix w_up;                   // [hidden x dim]
  Matrix w_down;                 // [dim x hidden]
};

// Weights borrowed from a GgufFile (whose bytes must outlive the model),
// except the small norm vectors, which are copied to float. Immutable after
// Load; one model can serve several sessions.
class LlamaModel {
 public:
  // kInvalidArgument on a wrong architecture, missing or misshapen tensors,
  // or hyperparameters that do not fit together.
  static Result<LlamaModel> Load(const GgufFile& gguf);

  const LlamaConfig& config() const { return config_; }
  const Matrix& token_embd() const { return token_embd_; }  // [vocab x dim]
  const Matrix& output() const { return output_; }          // [vocab x dim]; may alias token_embd
  const std::vector<float>& output_norm() const { return output_norm_; }
  const std::vector<LlamaLayer>& layers() const { return layers_; }
  // Bytes of weights one generated token reads: every matrix once, plus one
  // embedding row. The memory-bandwidth bound is this over the bandwidth.
  uint64_t WeightBytesPerToken() const;

 private:
  LlamaConfig config_;
  Matrix token_embd_;
  Matrix output_;
  std::vector<float> output_norm_;
  std::vector<LlamaLayer> layers_;
};

// The state of one generation: the KV cache and work buffers. Not
// thread-safe; uses `pool` for its parallel loops.
class LlamaSession {
 public:
  // `max_context` caps the cache (clamped to the model's context_length).
  // `kv_type` is the cache's element type: kF32 (exact; the default) or kF16
  // (half the memory and the reads per token, as llama.cpp keeps it).
  LlamaSession(const LlamaModel& model, int64_t max_context, ThreadPool& pool, DType kv_type = DType::kF32);

  // Runs `tokens` at positions pos()..pos()+n-1 and returns the logits
  // (vocab_size floats) that follow the last one; they stay valid until the
  // next call. kOutOfRange past the context; kInvalidArgument on a bad id.
  Result<std::span<const float>> Forward(std::span<const int32_t> tokens);

  int64_t pos() const { return pos_; }
  int64_t max_context() const { return max_context_; }

 private:
  void Attention(int64_t layer, int64_t n_tok);
  void StoreKv(const float* x, int64_t n, uint8_t* out) const;  // one head's keys or values

  const LlamaModel& m_;
  ThreadPool& pool_;
  int64_t max_context_;
  int64_t pos_ = 0;
  DType kv_type_;
  size_t kv_elem_;                    // bytes per cached value: 4 or 2
  std::vector<uint8_t> key_cache_;    // [layer][kv_head][position][head_dim] of kv_type_
  std::vector<uint8_t> value_cache_;  // same layout
  std::vector<float> rope_cos_, rope_sin_;  // [position][rope_dims/2]
  // Work buffers for a batch of n tokens, each [n][...].
  std::vector<float> x_, xb_, xb2_, q_, k_, v_, hb_, hb2_, att_, logits_;
  std::vector<uint8_t> scratch_;
};

}  // namespace arca::runtime

#endif  // ARCA_RUNTIME_LLAMA_H_
