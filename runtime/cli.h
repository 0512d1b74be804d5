// `arca run --file PATH.gguf`: generate text from a local GGUF file. This is
// the library side of the command; the `arca` binary (client/) and the
// stand-alone `arca-run-file` parse flags into RunOptions and call
// RunGgufCommand.
#ifndef ARCA_RUNTIME_CLI_H_
#define ARCA_RUNTIME_CLI_H_

#include <cstdint>
#include <ostream>
#include <string>

namespace arca::runtime {

struct RunOptions {
  std::string file;          // --file: path of a GGUF (Llama architecture)
  std::string prompt;        // --prompt: text; a BOS token is put in front
  int tokens = 128;          // --tokens: how many tokens to generate at most
  float temperature = 0.0f;  // --temp: 0 = greedy (argmax)
  int top_k = 0;             // --top-k: 0 = no limit
  float top_p = 1.0f;        // --top-p: 1 = no limit
  uint64_t seed = 0;         // --seed: for sampled decoding
  int threads = 0;           // --threads: 0 = one per core
  // Set by `arca run REF` once the client has verified the file (signatures,
  // policy, every byte): what to say instead of the "unverified" warning.
  std::string verified;
  bool kv_f16 = false;       // --kv-f16: half-precision KV cache (faster at long
                             // contexts; logits move by ~1e-2, as in llama.cpp)
};

// Loads opts.file, says on `err` that the file is unverified (no signature
// or digest was checked), echoes the prompt and streams the generated text
// to `out` as it is produced (stopping early at the end-of-text token), then
// prints prompt and generation speed (tokens/s) on `err`. Returns the
// process exit code: 0 on success, 1 on an error (described on `err`),
// 2 on invalid options.
int RunGgufCommand(const RunOptions& opts, std::ostream& out, std::ostream& err);

}  // namespace arca::runtime

#endif  // ARCA_RUNTIME_CLI_H_
