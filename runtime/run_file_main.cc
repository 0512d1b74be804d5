// arca-run-file: `arca run --file` as a stand-alone program, for testing the
// runtime end to end before the `arca` binary wires it in.
#include <CLI/CLI.hpp>

#include <iostream>

#include "runtime/cli.h"

int main(int argc, char** argv) {
  arca::runtime::RunOptions o;
  CLI::App app{"Generate text from a local Llama GGUF file (unverified)."};
  app.add_option("--file", o.file, "GGUF file to run")->required();
  app.add_option("--prompt", o.prompt, "prompt text")->required();
  app.add_option("--tokens", o.tokens, "tokens to generate")->capture_default_str();
  app.add_option("--temp", o.temperature, "sampling temperature; 0 = greedy")->capture_default_str();
  app.add_option("--top-k", o.top_k, "sample among the k most likely tokens; 0 = all")->capture_default_str();
  app.add_option("--top-p", o.top_p, "sample within the top-p probability mass")->capture_default_str();
  app.add_option("--seed", o.seed, "random seed for sampling")->capture_default_str();
  app.add_option("--threads", o.threads, "threads; 0 = one per core")->capture_default_str();
  app.add_flag("--kv-f16", o.kv_f16, "keep the KV cache in half precision");
  CLI11_PARSE(app, argc, argv);
  return arca::runtime::RunGgufCommand(o, std::cout, std::cerr);
}
