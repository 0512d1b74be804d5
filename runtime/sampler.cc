// Token sampling; see sampler.h.
#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

namespace arca::runtime {

Sampler::Sampler(const SamplerOptions& opts) : opts_(opts) {
  // splitmix64 of the seed, so that nearby seeds give unrelated streams and
  // the xorshift state is never zero.
  uint64_t z = opts.seed + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  state_ = (z ^ (z >> 31)) | 1;
}

float Sampler::NextUniform() {
  // xorshift64*
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  return float((state_ * 0x2545F4914F6CDD1Dull) >> 40) / float(1 << 24);
}

int32_t Sampler::Argmax(std::span<const float> logits) {
  int32_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > logits[size_t(best)]) best = int32_t(i);
  }
  return best;
}

int32_t Sampler::Sample(std::span<const float> logits) {
  if (opts_.temperature <= 0.0f) return Argmax(logits);
  const float max = logits[size_t(Argmax(logits))];
  candidates_.clear();
  double sum = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float p = std::exp((logits[i] - max) / opts_.temperature);
    candidates_.emplace_back(p, int32_t(i));
    sum += p;
  }
  // Most probable first; equal probabilities by id, so the order is total.
  auto by_prob = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  size_t keep = candidates_.size();
  if (opts_.top_k > 0 && size_t(opts_.top_k) < keep) {
    keep = size_t(opts_.top_k);
    std::partial_sort(candidates_.begin(), candidates_.begin() + keep, candidates_.end(), by_prob);
  } else {
    std::sort(candidates_.begin(), candidates_.end(), by_prob);
  }
  if (keep < candidates_.size()) {
    sum = 0;
    for (size_t i = 0; i < keep; ++i) sum += candidates_[i].first;
  }
  if (opts_.top_p < 1.0f) {
    double cum = 0;
    for (size_t i = 0; i < keep; ++i) {
      cum += candidates_[i].first;
      if (cum >= opts_.top_p * sum) {
        keep = i + 1;
        break;
      }
    }
    sum = cum;
  }
  const double r = double(NextUniform()) * sum;
  double cum = 0;
  for (size_t i = 0; i < keep; ++i) {
    cum += candidates_[i].first;
    if (r < cum) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;  // rounding left r at the very end
}

}  // namespace arca::runtime
