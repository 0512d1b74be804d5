// Fuzz target for the GGUF reader and everything that reads a parsed GGUF:
// hyperparameters, tensor shapes, the tokenizer, and one forward step of a
// model that loads. Any input must give a Status, never a crash, a hang or
// an allocation beyond what the input's size allows.
//
// Built with libFuzzer when ARCA_FUZZ=ON (clang), else linked with
// gguf_fuzz_driver.cc into a bounded smoke test that ctest runs.
#include <cstddef>
#include <cstdint>

#include "runtime/gguf.h"
#include "runtime/llama.h"
#include "runtime/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace arca::runtime;  // NOLINT: a fuzz entry point, not a header
  arca::Result<GgufFile> g = GgufFile::Parse(arca::ByteView(data, size));
  if (!g.ok()) return 0;
  arca::Result<Tokenizer> tok = Tokenizer::FromGguf(*g);
  if (tok.ok()) {
    std::vector<int32_t> ids = tok->Encode("Once upon a time \xff\xfe", true);
    (void)tok->Decode(ids);
  }
  arca::Result<LlamaModel> model = LlamaModel::Load(*g);
  if (!model.ok()) return 0;
  // Keep the work bounded: only small models run a step.
  const LlamaConfig& c = model->config();
  if (c.dim * c.n_layers * (c.hidden_dim + c.dim) > (int64_t(1) << 22)) return 0;
  ThreadPool pool(1);
  LlamaSession session(*model, 4, pool);
  const int32_t ids[] = {0, int32_t(c.vocab_size - 1)};
  (void)session.Forward(ids).status();
  return 0;
}
