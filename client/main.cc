// `arca`: the client command line. Parses flags and calls the libraries.
#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>

#include "client/pull.h"
#include "client/push.h"
#include "client/remote_commands.h"
#include "client/store_commands.h"
#include "runtime/cli.h"

int main(int argc, char** argv) {
  using namespace arca;
  // A registry may close a connection while a pack is being sent (it refuses
  // a token before reading the body): that is an error to report, not a
  // reason to die of SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{
      "arca: verified copies of open-weight models.\n"
      "Stores model directories as chunked, compressed, deduplicated bundles whose\n"
      "digest covers every byte, licence and provenance; pushes them to and pulls\n"
      "them from an Arca registry, moving only the chunks the other side lacks;\n"
      "runs Llama-architecture GGUF models.\n"
      "\n"
      "A reference names a registry, a repository and a tag or digest:\n"
      "  localhost:5000/acme/llama:v1   registry.example.org/acme/llama@sha256:<64 hex>\n"
      "Loopback registries are spoken to over http, others over https (ARCA_INSECURE_HTTP=1\n"
      "forces http; ARCA_CA_CERT=ca.pem trusts a private CA). Tokens: `arca login`, or ARCA_TOKEN.\n"
      "Exit codes: 0 ok, 1 failure, 2 bad usage.",
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

  // --- registry commands ---
  auto add_remote_flags = [&](CLI::App* c, bool transfer) {
    c->add_option("--store", so.store_dir, "Local cache directory (default: $ARCA_STORE or ~/.cache/arca/store)");
    if (transfer) {
      c->add_option("--jobs,-j", so.jobs, "Parallel connections to the registry (default 4)")->check(CLI::Range(1, 64));
      c->add_option("--threads", so.threads, "Threads for chunking and decoding (default: one per core)")
          ->check(CLI::Range(0, 256));
    }
    c->add_flag("--json", so.json, "Print one JSON object, for scripts");
    c->add_flag("--quiet,-q", so.quiet, "Print nothing but errors");
  };

  client::PushOptions po;
  CLI::App* push = app.add_subcommand(
      "push", "Publish a model directory to a registry: build it into the local cache, upload only the\n"
              "chunks the registry lacks, then its file indexes, manifest and tag.\n"
              "Examples:\n"
              "  arca login localhost:5000 --token $TOKEN\n"
              "  arca push ./llama-3b localhost:5000/acme/llama-3b:v1 --license Apache-2.0 --license-file LICENSE\n"
              "  arca push ./llama-3b registry.example.org/acme/llama-3b:v2 --jobs 8 --json");
  push->add_option("DIR", po.dir, "Model directory")->required()->check(CLI::ExistingDirectory);
  push->add_option("REF", po.ref, "Where to publish: HOST[:PORT]/namespace/name[:tag] (tag default: latest)")->required();
  push->add_option("--name", po.meta.name, "Bundle name in the manifest (default: the reference's namespace/name)");
  push->add_option("--version-label", po.meta.version, "Version label recorded in the manifest");
  push->add_option("--license", po.meta.license.spdx, "Licence as an SPDX expression, e.g. Apache-2.0");
  push->add_option("--license-file", po.meta.license.file, "Path of the licence text inside DIR");
  push->add_option("--source", po.meta.provenance.source, "Upstream source URL");
  push->add_option("--revision", po.meta.provenance.revision, "Upstream revision");
  push->add_option("--base-model", po.base_models, "Digest of a bundle this model derives from (repeatable)");
  push->add_option("--dataset", po.meta.provenance.datasets, "Training dataset (repeatable)");
  push->add_option("--publisher", po.meta.publisher, "Publisher");
  push->add_option("--created", po.meta.created, "Creation time, YYYY-MM-DDTHH:MM:SSZ (never taken from the clock)");
  add_remote_flags(push, true);

  client::PullOptions pl;
  CLI::App* pull = app.add_subcommand(
      "pull", "Fetch a bundle from a registry into a directory. Only chunks missing from the local cache\n"
              "are fetched; every chunk is verified as it arrives and every file before it is put in place.\n"
              "An interrupted pull resumes where it stopped; pulling again into the same directory rewrites\n"
              "only files that changed (OUT_DIR/.arca/ records what was written).\n"
              "Examples:\n"
              "  arca pull localhost:5000/acme/llama-3b:v1              # into ./llama-3b\n"
              "  arca pull localhost:5000/acme/llama-3b@sha256:<hex> ./models/llama --jobs 8");
  pull->add_option("REF", pl.ref, "HOST[:PORT]/namespace/name[:tag] or ...@sha256:<hex>")->required();
  pull->add_option("OUT_DIR", pl.out_dir, "Target directory (default: ./<last part of the name>)");
  pull->add_flag("--verify-existing", pl.verify_existing,
                 "Re-hash files already in OUT_DIR instead of trusting their recorded size and mtime");
  add_remote_flags(pull, true);

  std::string where, filter;
  CLI::App* ls_remote = app.add_subcommand(
      "ls", "List a registry's repositories (with tag counts), or one repository's tags.\n"
            "Examples:\n"
            "  arca ls localhost:5000               # every repository\n"
            "  arca ls localhost:5000/acme          # repositories in namespace acme\n"
            "  arca ls localhost:5000/acme/llama    # tags of acme/llama");
  ls_remote->add_option("WHERE", where, "HOST[:PORT][/namespace[/name]]")->required();
  ls_remote->add_option("--filter", filter, "Only repositories whose name contains this text");
  add_remote_flags(ls_remote, false);

  std::string ref_text;
  CLI::App* inspect_remote = app.add_subcommand(
      "inspect", "Show a bundle on a registry: files, sizes, media types, licence, provenance, digest.\n"
                 "The manifest is checked against its digest.\n"
                 "Example: arca inspect localhost:5000/acme/llama-3b:v1");
  inspect_remote->add_option("REF", ref_text, "HOST[:PORT]/namespace/name[:tag] or ...@sha256:<hex>")->required();
  add_remote_flags(inspect_remote, false);

  std::string new_tag;
  CLI::App* tag = app.add_subcommand(
      "tag", "Point a tag at the bundle another reference names, on the registry (no data moves).\n"
             "Examples:\n"
             "  arca tag localhost:5000/acme/llama-3b:v1 stable\n"
             "  arca tag localhost:5000/acme/llama-3b@sha256:<hex> localhost:5000/acme/llama-3b:v1.0.1");
  tag->add_option("SRC_REF", ref_text, "The reference to copy")->required();
  tag->add_option("NEW_TAG", new_tag, "A tag of the same repository, or a full reference on the same registry")
      ->required();
  add_remote_flags(tag, false);

  CLI::App* rm = app.add_subcommand(
      "rm", "Remove a tag from a registry (needs an admin token). The data stays until the registry's gc.\n"
            "Example: arca rm localhost:5000/acme/llama-3b:old");
  rm->add_option("REF", ref_text, "HOST[:PORT]/namespace/name:tag")->required();
  add_remote_flags(rm, false);

  client::LoginOptions lo;
  CLI::App* login = app.add_subcommand(
      "login", "Store a registry token in $XDG_CONFIG_HOME/arca/credentials.json (mode 0600).\n"
               "Tokens are made on the registry host: arca-registry token create --data DIR --namespace NS --scope push\n"
               "Examples:\n"
               "  arca login localhost:5000 --token arca_...\n"
               "  pass show arca | arca login registry.example.org --token-stdin");
  login->add_option("REGISTRY", lo.registry, "HOST[:PORT]")->required();
  login->add_option("--token", lo.token, "The token (visible in your shell history; prefer --token-stdin)");
  login->add_flag("--token-stdin", lo.token_stdin, "Read the token from standard input");
  add_remote_flags(login, false);

  std::string logout_registry;
  CLI::App* logout = app.add_subcommand("logout", "Forget the stored token of a registry.\n"
                                                  "Example: arca logout localhost:5000");
  logout->add_option("REGISTRY", logout_registry, "HOST[:PORT]")->required();
  add_remote_flags(logout, false);

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
    if (push->parsed()) return client::PushCommand(so, po, std::cout, std::cerr);
    if (pull->parsed()) return client::PullCommand(so, pl, std::cout, std::cerr);
    if (ls_remote->parsed()) return client::ListCommand(so, where, filter, std::cout, std::cerr);
    if (inspect_remote->parsed()) return client::InspectCommand(so, ref_text, std::cout, std::cerr);
    if (tag->parsed()) return client::TagCommand(so, ref_text, new_tag, std::cout, std::cerr);
    if (rm->parsed()) return client::RemoveTagCommand(so, ref_text, std::cout, std::cerr);
    if (login->parsed()) return client::LoginCommand(so, lo, std::cin, std::cout, std::cerr);
    if (logout->parsed()) return client::LogoutCommand(so, logout_registry, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "arca: internal error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
