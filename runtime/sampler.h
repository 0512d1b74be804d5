// Choosing the next token from logits: greedy (argmax), or a draw from the
// softmax at a temperature, restricted to the top-k tokens and then to the
// smallest top-p nucleus. The draw uses a seeded generator of our own, so a
// seed gives the same tokens on every platform.
#ifndef ARCA_RUNTIME_SAMPLER_H_
#define ARCA_RUNTIME_SAMPLER_H_

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace arca::runtime {

struct SamplerOptions {
  float temperature = 0.0f;  // <= 0: greedy
  int top_k = 0;             // <= 0: no limit
  float top_p = 1.0f;        // >= 1: no limit
  uint64_t seed = 0;
};

// Not thread-safe (holds the generator state).
class Sampler {
 public:
  explicit Sampler(const SamplerOptions& opts);
  // `logits` must be non-empty. Returns an index into it.
  int32_t Sample(std::span<const float> logits);

  // Index of the largest value; the lowest index on ties.
  static int32_t Argmax(std::span<const float> logits);
  // Uniform in [0, 1), 24 bits of the generator.
  float NextUniform();

 private:
  SamplerOptions opts_;
  uint64_t state_;
  std::vector<std::pair<float, int32_t>> candidates_;  // (probability, id)
};

}  // namespace arca::runtime

#endif  // ARCA_RUNTIME_SAMPLER_H_
