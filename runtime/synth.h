// Synthetic Llama models: a GGUF of a chosen shape and tensor type with
// random weights, for speed measurements at realistic sizes (for example
// llama2.c's stories15M and stories110M shapes). The file follows the GGUF
// layout that llama.cpp loads: the same `llama.*` keys, tensor names and
// shapes as its converters write, tensors contiguous and 32-byte aligned.
#ifndef ARCA_RUNTIME_SYNTH_H_
#define ARCA_RUNTIME_SYNTH_H_

#include <cstdint>
#include <string>

#include "common/result.h"
#include "runtime/dtype.h"
#include "runtime/gguf_writer.h"

namespace arca::runtime {

struct SynthOptions {
  int64_t dim = 288;
  int64_t n_layers = 6;
  int64_t n_heads = 6;
  int64_t n_kv_heads = 0;  // 0 = n_heads
  int64_t hidden_dim = 768;
  int64_t vocab_size = 32000;  // ignored when tokenizer_from is set
  int64_t context_length = 2048;
  DType type = DType::kF32;  // of the 2-D weights; norms stay F32
  bool tied_output = false;  // no output.weight: the embedding is reused
  uint64_t seed = 1;
  // A GGUF whose tokenizer.ggml.* keys to copy (e.g. stories260K.gguf); empty:
  // generate a vocabulary of vocab_size pieces (specials, 256 bytes, words).
  std::string tokenizer_from;
};

// The model as a writer, ready to serialize or write. Q8_0 needs rows that
// divide into 32-element blocks; a matrix whose rows do not is stored as
// F16 instead (as llama-quantize does). kInvalidArgument on shapes that do
// not fit together.
Result<GgufWriter> BuildSyntheticLlama(const SynthOptions& opts);

// Llama-family preset shapes: "stories15M", "stories110M", "tiny" (a
// few-thousand-parameter model for tests). False for an unknown name.
bool SynthPreset(const std::string& name, SynthOptions* opts);

}  // namespace arca::runtime

#endif  // ARCA_RUNTIME_SYNTH_H_
