// arca-gguf-synth: writes a synthetic Llama GGUF (random weights) of a given
// shape and tensor type, for speed measurements; see runtime/synth.h.
#include <CLI/CLI.hpp>

#include <iostream>
#include <map>

#include "runtime/synth.h"

int main(int argc, char** argv) {
  using arca::runtime::DType;
  arca::runtime::SynthOptions o;
  std::string preset, type = "f32", out;
  CLI::App app{"Write a synthetic Llama-architecture GGUF with random weights."};
  app.add_option("--preset", preset, "stories15M | stories110M | tiny (flags below override)");
  app.add_option("--dim", o.dim, "embedding length");
  app.add_option("--layers", o.n_layers, "transformer blocks");
  app.add_option("--heads", o.n_heads, "attention heads");
  app.add_option("--kv-heads", o.n_kv_heads, "key/value heads (0 = heads)");
  app.add_option("--hidden", o.hidden_dim, "feed-forward hidden size");
  app.add_option("--vocab", o.vocab_size, "vocabulary size of the generated tokenizer");
  app.add_option("--context", o.context_length, "context length");
  app.add_option("--tokenizer-from", o.tokenizer_from, "copy the tokenizer of this GGUF (e.g. stories260K.gguf)");
  app.add_option("--type", type, "f32 | f16 | bf16 | q8_0")->capture_default_str();
  app.add_flag("--tied", o.tied_output, "no output.weight (tied to the embedding)");
  app.add_option("--seed", o.seed, "random seed")->capture_default_str();
  app.add_option("-o,--out", out, "output path")->required();
  // Apply the preset before the explicit flags: parse twice.
  CLI11_PARSE(app, argc, argv);
  if (!preset.empty()) {
    if (!arca::runtime::SynthPreset(preset, &o)) {
      std::cerr << "unknown preset " << preset << "\n";
      return 2;
    }
    CLI11_PARSE(app, argc, argv);
  }
  const std::map<std::string, DType> types = {
      {"f32", DType::kF32}, {"f16", DType::kF16}, {"bf16", DType::kBF16}, {"q8_0", DType::kQ8_0}};
  auto it = types.find(type);
  if (it == types.end()) {
    std::cerr << "unknown --type " << type << "\n";
    return 2;
  }
  o.type = it->second;
  arca::Result<arca::runtime::GgufWriter> w = arca::runtime::BuildSyntheticLlama(o);
  arca::Status s = w.ok() ? w->WriteFile(out) : w.status();
  if (!s.ok()) {
    std::cerr << "arca-gguf-synth: " << s << "\n";
    return 1;
  }
  return 0;
}
