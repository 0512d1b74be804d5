// `arca run --file`: load, tokenize, generate, report; see cli.h.
#include "runtime/cli.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "runtime/gguf.h"
#include "runtime/kernels.h"
#include "runtime/llama.h"
#include "runtime/sampler.h"
#include "runtime/tokenizer.h"

namespace arca::runtime {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

std::string Rate(int64_t n, double s) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%lld tokens in %.3f s (%.2f tokens/s)", static_cast<long long>(n), s,
                s > 0 ? double(n) / s : 0.0);
  return buf;
}

Status Run(const RunOptions& o, std::ostream& out, std::ostream& err) {
  if (o.verified.empty()) {
    err << "arca: warning: running a local file that has not been verified (no signature or digest "
           "was checked): "
        << o.file << "\n";
  } else {
    err << "arca: running " << o.verified << "\n";
  }
  ARCA_ASSIGN_OR_RETURN(MappedGguf file, MappedGguf::Open(o.file));
  ARCA_ASSIGN_OR_RETURN(LlamaModel model, LlamaModel::Load(file.gguf()));
  ARCA_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::FromGguf(file.gguf()));
  const LlamaConfig& c = model.config();
  if (tok.vocab_size() != c.vocab_size) {
    return InvalidArgumentError("the tokenizer has " + std::to_string(tok.vocab_size()) +
                                " tokens but the model " + std::to_string(c.vocab_size));
  }
  const std::vector<int32_t> prompt = tok.Encode(o.prompt, tok.add_bos());
  if (prompt.empty()) return InvalidArgumentError("empty prompt (and the model adds no BOS token)");
  if (int64_t(prompt.size()) >= c.context_length) {
    return OutOfRangeError("the prompt (" + std::to_string(prompt.size()) + " tokens) fills the context of " +
                           std::to_string(c.context_length));
  }
  const int64_t n_gen = std::min<int64_t>(o.tokens, c.context_length - int64_t(prompt.size()));
  const int threads = o.threads > 0 ? o.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  err << "arca: " << c.n_layers << " layers, dim " << c.dim << ", vocab " << c.vocab_size << ", "
      << threads << " thread(s), kernels " << IsaName(CurrentIsa()) << "\n";

  ThreadPool pool(threads);
  LlamaSession session(model, int64_t(prompt.size()) + n_gen, pool, o.kv_f16 ? DType::kF16 : DType::kF32);
  Sampler sampler(SamplerOptions{o.temperature, o.top_k, o.top_p, o.seed});

  out << o.prompt << std::flush;
  const Clock::time_point t0 = Clock::now();
  ARCA_ASSIGN_OR_RETURN(std::span<const float> logits, session.Forward(prompt));
  const Clock::time_point t1 = Clock::now();
  int64_t generated = 0;  // tokens sampled and run through the model
  while (generated < n_gen) {
    const int32_t next = sampler.Sample(logits);
    if (next == tok.eos_id()) break;
    out << tok.Piece(next) << std::flush;
    ++generated;
    const int32_t one[] = {next};
    ARCA_ASSIGN_OR_RETURN(logits, session.Forward(one));
  }
  const Clock::time_point t2 = Clock::now();
  out << "\n" << std::flush;
  err << "arca: prompt: " << Rate(int64_t(prompt.size()), Seconds(t0, t1)) << "\n"
      << "arca: generation: " << Rate(generated, Seconds(t1, t2)) << "\n";
  return Status::Ok();
}

}  // namespace

int RunGgufCommand(const RunOptions& opts, std::ostream& out, std::ostream& err) {
  if (opts.file.empty() || opts.tokens < 0 || opts.top_k < 0 || !(opts.top_p > 0.0f) || opts.threads < 0 ||
      opts.threads > 256 || !(opts.temperature >= 0.0f)) {
    err << "arca run: invalid options (need --file; --tokens >= 0, --top-k >= 0, 0 < --top-p, "
           "--temp >= 0, 0 <= --threads <= 256)\n";
    return 2;
  }
  Status s = Run(opts, out, err);
  if (!s.ok()) {
    err << "arca run: " << s.ToString() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace arca::runtime
