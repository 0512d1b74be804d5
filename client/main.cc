// `arca`: the client command line. Parses flags and calls the libraries.
#include <CLI/CLI.hpp>

#include <iostream>

#include "client/store_commands.h"
#include "runtime/cli.h"

int main(int argc, char** argv) {
  using namespace arca;
  CLI::App app{
      "arca: verified copies of open-weight models.\n"
      "Stores model directories as chunked, compressed, deduplicated bundles whose\n"
      "digest covers every byte, licence and provenance; checks out verified copies;\n"
      "runs Llama-architecture GGUF models.",
      "arca"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "arca 0.1.0");

  client::StoreOptions so;
  auto add_store_flags = [&](CLI::App* c) {
    c->add_option("--store", so.store_dir, "Store directory (default: $ARCA_STORE or ~/.cache/arca/store)");
    c->add_option("--threads", so.threads, "Threads to use (default: one per core)")->check(CLI::Range(0, 256));
    c->add_flag("--json", so.json, "Print one JSON object, for scripts");
  };

  CLI::App* store = app.add_subcommand("store", "The local content-addressed store");
  store->require_subcommand(1);

  client::AddOptions ao;
  CLI::App* add = store->add_subcommand(
      "add", "Build a model directory into the store as a bundle and tag it.\n"
             "Example: arca store add ./stories260K --name karpathy/stories260k --license MIT "
             "--license-file LICENSE");
  add->add_option("DIR", ao.dir, "Model directory")->required()->check(CLI::ExistingDirectory);
  add->add_option("--ref", ao.ref, "Ref to bind, name:tag (default: NAME:latest)");
  add->add_option("--name", ao.meta.name, "Bundle name, e.g. org/model (default: local/<dir name>)");
  add->add_option("--version-label", ao.meta.version, "Version label recorded in the manifest");
  add->add_option("--license", ao.meta.license.spdx, "Licence as an SPDX expression, e.g. Apache-2.0");
  add->add_option("--license-file", ao.meta.license.file, "Path of the licence text inside DIR");
  add->add_option("--source", ao.meta.provenance.source, "Upstream source URL");
  add->add_option("--revision", ao.meta.provenance.revision, "Upstream revision");
  add->add_option("--base-model", ao.base_models, "Digest of a bundle this model derives from (repeatable)");
  add->add_option("--dataset", ao.meta.provenance.datasets, "Training dataset (repeatable)");
  add->add_option("--publisher", ao.meta.publisher, "Publisher");
  add->add_option("--created", ao.meta.created, "Creation time, YYYY-MM-DDTHH:MM:SSZ (never taken from the clock)");
  add_store_flags(add);

  std::string what, out_dir;
  CLI::App* checkout = store->add_subcommand(
      "checkout", "Write a bundle's files into a directory, verifying every chunk and file first.\n"
                  "Example: arca store checkout karpathy/stories260k:latest ./out");
  checkout->add_option("BUNDLE", what, "Bundle digest (sha256:...) or ref (name:tag)")->required();
  checkout->add_option("OUT_DIR", out_dir, "Target directory (created if missing)")->required();
  add_store_flags(checkout);

  CLI::App* fsck = store->add_subcommand("fsck", "Rehash every pack, chunk and object; exit 1 if anything is corrupt");
  add_store_flags(fsck);
  CLI::App* gc = store->add_subcommand("gc", "Remove objects, chunks and packs that no ref reaches");
  add_store_flags(gc);
  CLI::App* ls = store->add_subcommand("ls", "List refs and the bundles they name");
  add_store_flags(ls);
  CLI::App* inspect = store->add_subcommand("inspect", "Show a bundle's manifest: files, licence, provenance");
  inspect->add_option("BUNDLE", what, "Bundle digest or ref")->required();
  add_store_flags(inspect);

  runtime::RunOptions ro;
  CLI::App* run = app.add_subcommand(
      "run", "Generate text with a Llama-architecture GGUF model.\n"
             "Example: arca run --file stories260K.gguf --prompt \"Once upon a time\" --tokens 64");
  run->add_option("--file", ro.file, "Local GGUF file (UNVERIFIED: no signature or digest is checked)")->required();
  run->add_option("--prompt", ro.prompt, "Prompt text")->required();
  run->add_option("--tokens", ro.tokens, "Tokens to generate")->check(CLI::Range(1, 1 << 20));
  run->add_option("--temp", ro.temperature, "Temperature (0 = greedy)")->check(CLI::Range(0.0, 100.0));
  run->add_option("--top-k", ro.top_k, "Sample from the k most likely tokens (0 = all)")->check(CLI::Range(0, 1 << 20));
  run->add_option("--top-p", ro.top_p, "Nucleus sampling threshold")->check(CLI::Range(0.0, 1.0));
  run->add_option("--seed", ro.seed, "Random seed for sampling");
  run->add_option("--threads", ro.threads, "Threads (0 = one per core)")->check(CLI::Range(0, 256));
  run->add_flag("--kv-f16", ro.kv_f16, "Keep the attention KV cache in half precision (less memory traffic)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;  // --help and --version exit 0; bad usage is 2
  }

  try {
    if (add->parsed()) return client::StoreAdd(so, ao, std::cout, std::cerr);
    if (checkout->parsed()) return client::StoreCheckout(so, what, out_dir, std::cout, std::cerr);
    if (fsck->parsed()) return client::StoreFsck(so, std::cout, std::cerr);
    if (gc->parsed()) return client::StoreGc(so, std::cout, std::cerr);
    if (ls->parsed()) return client::StoreList(so, std::cout, std::cerr);
    if (inspect->parsed()) return client::StoreInspect(so, what, std::cout, std::cerr);
    if (run->parsed()) return runtime::RunGgufCommand(ro, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "arca: internal error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
