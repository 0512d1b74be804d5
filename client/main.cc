// `arca`: the client command line. Parses flags and calls the libraries.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <csignal>
#include <iostream>

#include "client/log_commands.h"
#include "client/pull.h"
#include "client/push.h"
#include "client/remote_commands.h"
#include "client/run_ref.h"
#include "client/sbom.h"
#include "client/store_commands.h"
#include "client/trust_commands.h"
#include "mirror/export.h"
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
      "signs them, and accepts only what your trust policy and the registry's\n"
      "transparency log vouch for (docs/trust-policy.md); audits the log; runs\n"
      "Llama-architecture GGUF models.\n"
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
  auto add_key_flags = [&](CLI::App* c, client::KeyOptions& k) {
    c->add_option("--keys", k.key_dir, "Keyring directory (default: $ARCA_KEYS_DIR or ~/.config/arca/keys)");
    c->add_option("--passphrase-file", k.passphrase.file,
                  "Read the key's passphrase from this file's first line (else $ARCA_KEY_PASSPHRASE, else a prompt)");
  };
  client::TrustOptions trust;
  auto add_trust_flags = [&](CLI::App* c) {
    c->add_option("--policy", trust.policy_path,
                  "Trust policy file (default: $ARCA_POLICY or ~/.config/arca/policy.json; see docs/trust-policy.md)");
    c->add_flag("--allow-unsigned", trust.allow_unsigned,
                "Accept a bundle that carries no signature at all (or any bundle, when there is no policy\n"
                "file). Says loudly what was not checked. Never the default.");
  };
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
  auto add_push_flags = [&](CLI::App* c, client::PushOptions& o) {
    c->add_option("DIR", o.dir, "Model directory")->required()->check(CLI::ExistingDirectory);
    c->add_option("REF", o.ref, "Where to publish: HOST[:PORT]/namespace/name[:tag] (tag default: latest)")->required();
    c->add_option("--name", o.meta.name, "Bundle name in the manifest (default: the reference's namespace/name)");
    c->add_option("--version-label", o.meta.version, "Version label recorded in the manifest");
    c->add_option("--license", o.meta.license.spdx, "Licence as an SPDX expression, e.g. Apache-2.0");
    c->add_option("--license-file", o.meta.license.file, "Path of the licence text inside DIR");
    c->add_option("--source", o.meta.provenance.source, "Upstream source URL");
    c->add_option("--revision", o.meta.provenance.revision, "Upstream revision");
    c->add_option("--base-model", o.base_models, "Digest of a bundle this model derives from (repeatable)");
    c->add_option("--dataset", o.meta.provenance.datasets, "Training dataset (repeatable)");
    c->add_option("--publisher", o.meta.publisher, "Publisher");
    c->add_option("--created", o.meta.created, "Creation time, YYYY-MM-DDTHH:MM:SSZ (never taken from the clock)");
    c->add_option("--sign", o.sign_key,
                  "Sign the bundle with this key (a name from `arca key list`, or a .key file): the signature\n"
                  "is uploaded before the tag moves");
    add_key_flags(c, o.keys);
    add_remote_flags(c, true);
  };
  add_push_flags(push, po);

  client::PushOptions io;
  CLI::App* import = app.add_subcommand(
      "import", "Publish a Hugging Face-style model directory: as push, with the licence, base models and\n"
                "datasets read from the model card's YAML front matter (DIR/README.md). Flags given here\n"
                "win over the card. Base models named by the card are recorded as names (unverified);\n"
                "give --base-model DIGEST to link a bundle by digest.\n"
                "Example: arca import ./Qwen2.5-0.5B localhost:5000/qwen/qwen2.5-0.5b:v1 --sign acme-release");
  add_push_flags(import, io);

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
  add_trust_flags(pull);
  add_remote_flags(pull, true);

  mirror::ExportOptions eo;
  CLI::App* export_cmd = app.add_subcommand(
      "export",
      "Write an air-gap archive (.arca, mirror/PROTOCOL.md §8) of tagged bundles for\n"
      "`arca-registry import` on a registry with no network path to this one. Each REF is pulled into\n"
      "the local cache as a pull verifies it (your trust policy, the registry's transparency log,\n"
      "every chunk), then written with the log evidence, objects, attestations and packs of the\n"
      "chunks' stored bytes. Your policy needs the registry's log key under \"logs\".\n"
      "With --since PREVIOUS.arca, whatever that archive holds is left out (import it first).\n"
      "Examples:\n"
      "  arca export localhost:5000/acme/llama-3b:v1 -o llama-v1.arca\n"
      "  arca export localhost:5000/acme/llama-3b:v2 -o llama-v2.arca --since llama-v1.arca\n"
      "  arca export localhost:5000/acme/llama-3b:v1 -o - | ssh bastion 'cat > llama.arca'");
  export_cmd->add_option("REF", eo.refs, "HOST[:PORT]/namespace/name:tag (one or more)")->required();
  export_cmd->add_option("-o,--output", eo.output, "The archive to write, or - for standard output")->required();
  export_cmd->add_option("--since", eo.since, "A previous archive: leave out what it holds (incremental)")
      ->check(CLI::ExistingFile);
  add_trust_flags(export_cmd);
  add_remote_flags(export_cmd, true);

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

  // --- keys, signatures, trust ---
  client::KeyOptions ko;
  std::string key_name;
  CLI::App* key = app.add_subcommand("key", "Ed25519 signing keys (secret keys stay in your keyring, mode 0600)");
  key->require_subcommand(1);
  CLI::App* key_gen = key->add_subcommand(
      "generate", "Make a new signing key. On a terminal you are asked for a passphrase that encrypts it\n"
                  "(Argon2id + XSalsa20-Poly1305); scripts set ARCA_KEY_PASSPHRASE or --passphrase-file.\n"
                  "Example: arca key generate acme-release && arca key export acme-release >> keys-to-share");
  key_gen->add_option("NAME", key_name, "Key name: letters, digits, '.', '_' or '-'")->required();
  add_key_flags(key_gen, ko);
  key_gen->add_flag("--json", so.json, "Print one JSON object, for scripts");
  CLI::App* key_list = key->add_subcommand("list", "List the keys in your keyring with their key ids");
  add_key_flags(key_list, ko);
  key_list->add_flag("--json", so.json, "Print one JSON object, for scripts");
  CLI::App* key_export = key->add_subcommand(
      "export", "Print a key's public part as one JSON line, the form trust policies list under \"keys\".\n"
                "Example: arca key export acme-release");
  key_export->add_option("NAME", key_name, "Key name, or the path of a .key file")->required();
  add_key_flags(key_export, ko);

  client::KeyLogOptions klo;
  auto add_key_log = [&](const char* name, const char* help, bool revoke) {
    CLI::App* c = key->add_subcommand(name, help);
    c->add_option("KEY", klo.key, revoke ? "Key name, .key file, or the 64-hex key id of a lost key"
                                         : "Key name or .key file")->required();
    c->add_option("REGISTRY", klo.registry, "HOST[:PORT] of the registry whose log records it")->required();
    c->add_option("--reason", klo.reason, "Why (recorded in the log, public)");
    add_key_flags(c, ko);
    c->add_flag("--json", so.json, "Print one JSON object, for scripts");
    c->callback([&klo, revoke] { klo.revoke = revoke; });
    return c;
  };
  CLI::App* key_announce = add_key_log(
      "announce", "Record in a registry's transparency log that a signing key is in use (public part only).\n"
                  "Needs an admin token for every namespace. Example: arca key announce acme-release localhost:5000",
      false);
  CLI::App* key_revoke = add_key_log(
      "revoke", "Record in a registry's transparency log that a key is revoked, for every auditor to see\n"
                "(then remove it from trust policies or list it under \"revoked\"). Needs an admin token.\n"
                "Example: arca key revoke acme-release localhost:5000 --reason 'laptop stolen'",
      true);

  client::SignOptions sio;
  CLI::App* sign = app.add_subcommand(
      "sign", "Add a signed attestation to a bundle on a registry: by default the publisher's statement\n"
              "(bundle digest, licence, provenance); with --predicate-type/--predicate any in-toto predicate\n"
              "(a mirror's countersignature, an auditor's approval, SLSA provenance of a derivative).\n"
              "Examples:\n"
              "  arca sign localhost:5000/acme/llama-3b:v1 --key acme-qa\n"
              "  arca sign localhost:5000/acme/llama-3b:v1 --key auditor --predicate-type https://example.org/approval/v1 --predicate approval.json");
  sign->add_option("REF", sio.ref, "HOST[:PORT]/namespace/name[:tag] or ...@sha256:<hex>")->required();
  sign->add_option("--key", sio.key, "Signing key: a name from `arca key list`, or a .key file")->required();
  sign->add_option("--predicate-type", sio.predicate_type, "The predicate's type URI");
  sign->add_option("--predicate", sio.predicate_file, "A file holding the predicate, a JSON object");
  add_key_flags(sign, sio.keys);
  add_remote_flags(sign, false);

  CLI::App* attestations = app.add_subcommand(
      "attestations", "List a bundle's attestations on a registry: type, key ids, and what your policy says of each.\n"
                      "Example: arca attestations localhost:5000/acme/llama-3b:v1");
  attestations->add_option("REF", ref_text, "HOST[:PORT]/namespace/name[:tag] or ...@sha256:<hex>")->required();
  attestations->add_option("--policy", trust.policy_path, "Trust policy file (default: ~/.config/arca/policy.json)");
  add_remote_flags(attestations, false);

  std::string verify_target;
  CLI::App* verify = app.add_subcommand(
      "verify", "Check a bundle against your trust policy and print who signed it, with which key, which rule\n"
                "matched, the licence and the lineage. Given a directory that `arca pull` wrote, works offline\n"
                "from DIR/.arca/ and re-reads every byte of every file. Exit 0 only if all is satisfied.\n"
                "Examples:\n"
                "  arca verify ./llama-3b\n"
                "  arca verify localhost:5000/acme/llama-3b:v1 --policy team-policy.json --json");
  verify->add_option("TARGET", verify_target, "A pulled directory, or a reference")->required();
  verify->add_option("--threads", so.threads, "Hashing threads (default: one per core)")->check(CLI::Range(0, 256));
  verify->add_option("--proof", trust.proof_file,
                     "With a directory: a log proof file from `arca proof` (default: DIR/.arca/log-proof.txt,\n"
                     "which a pull under a policy with \"logs\" keeps)");
  verify->add_option("--log-key", trust.log_key,
                     "The log verifier key to check the proof with (default: the policy's \"logs\" keys)");
  add_trust_flags(verify);
  add_remote_flags(verify, false);

  CLI::App* lineage = app.add_subcommand(
      "lineage", "Follow a bundle's base models by digest, as far as the registry knows them, with each\n"
                 "link's signature status under your policy.\n"
                 "Example: arca lineage localhost:5000/acme/llama-3b-instruct:v1");
  lineage->add_option("REF", ref_text, "HOST[:PORT]/namespace/name[:tag] or ...@sha256:<hex>")->required();
  add_trust_flags(lineage);
  add_remote_flags(lineage, false);

  client::SbomOptions sbo;
  CLI::App* sbom = app.add_subcommand(
      "sbom", "Write a bundle's software bill of materials: its files with their SHA-256, its licence as the\n"
              "publisher declared it, base models (by digest, or by name: unverified), datasets and publisher,\n"
              "from the signed manifest. SPDX 3.0.1 (JSON-LD, AI and Dataset profiles) or CycloneDX 1.6\n"
              "(ML-BOM). Given a reference, the manifest is fetched and checked against its digest; given a\n"
              "directory that `arca pull` wrote, it is read offline from DIR/.arca/ (check the files themselves\n"
              "with `arca verify DIR`). The key ids of signatures your trust policy verifies are recorded.\n"
              "The output depends only on the bundle and these options: no clock (see docs/sbom.md).\n"
              "Examples:\n"
              "  arca sbom localhost:5000/acme/llama-3b:v1 --format spdx -o llama-3b.spdx.json\n"
              "  arca sbom ./llama-3b --format cyclonedx > llama-3b.cdx.json");
  sbom->add_option("TARGET", sbo.target, "A pulled directory, or a reference")->required();
  sbom->add_option("--format", sbo.format, "spdx or cyclonedx")->required()->check(CLI::IsMember({"spdx", "cyclonedx"}));
  sbom->add_option("-o,--output", sbo.output, "Write the document to this file (default: standard output)");
  sbom->add_option("--timestamp", sbo.timestamp,
                   "Creation time to record, YYYY-MM-DDTHH:MM:SSZ (default: the manifest's, else 1970-01-01T00:00:00Z)");
  sbom->add_option("--policy", sbo.trust.policy_path,
                   "Trust policy whose verified signers are recorded (default: $ARCA_POLICY or ~/.config/arca/policy.json)");

  client::AuditOptions audo;
  CLI::App* audit = app.add_subcommand(
      "audit", "Audit a registry's transparency log: fetch every entry, recompute the Merkle tree, check it\n"
               "against the registry's signed checkpoint and against every checkpoint of that log seen before\n"
               "(a rollback, split view or tampered entry fails), then print the history: publishes, tag\n"
               "moves, attestations, key events. Exit 0 only if all of it checks.\n"
               "Examples:\n"
               "  arca audit localhost:5000\n"
               "  arca audit localhost:5000 --namespace acme --json\n"
               "  arca audit localhost:5000 --log-key \"$(cat log.vkey)\" --from-checkpoint old-checkpoint.txt");
  audit->add_option("REGISTRY", audo.registry, "HOST[:PORT]")->required();
  audit->add_option("--log-key", audo.log_key, "The log's verifier key (default: the policy's \"logs\" keys)");
  audit->add_option("--from-checkpoint", audo.from_checkpoint, "A signed checkpoint file the log must extend");
  audit->add_option("--namespace", audo.ns, "Show only entries about repositories of this namespace");
  audit->add_option("--model", audo.model, "Show only entries about this repository (namespace/name)");
  audit->add_option("--policy", trust.policy_path, "Trust policy file (default: ~/.config/arca/policy.json)");
  add_remote_flags(audit, true);

  client::ProofOptions pro;
  CLI::App* proof = app.add_subcommand(
      "proof", "Write a self-contained proof that a bundle (and its tag) is in the registry's log: the\n"
               "entries, their inclusion proofs and the signed checkpoint. `arca verify DIR --proof FILE\n"
               "--log-key KEY` checks it with no network at all.\n"
               "Example: arca proof localhost:5000/acme/llama-3b:v1 -o llama-3b.proof");
  proof->add_option("REF", pro.ref, "HOST[:PORT]/namespace/name[:tag] or ...@sha256:<hex>")->required();
  proof->add_option("-o,--output", pro.output, "Write the proof here (default: standard output)");
  proof->add_option("--log-key", pro.log_key, "The log's verifier key (default: the policy's \"logs\" keys)");
  proof->add_option("--policy", trust.policy_path, "Trust policy file (default: ~/.config/arca/policy.json)");
  add_remote_flags(proof, false);

  runtime::RunOptions ro;
  std::string run_ref, model_file;
  CLI::App* run = app.add_subcommand(
      "run", "Generate text with a Llama-architecture GGUF model. Given a reference, the bundle is pulled\n"
             "through your trust policy (signatures, licence, every byte) into ~/.cache/arca/models, its GGUF\n"
             "file is checked once more against the signed manifest, and only then loaded.\n"
             "Examples:\n"
             "  arca run localhost:5000/acme/stories:v1 --prompt \"Once upon a time\" --tokens 64\n"
             "  arca run --file stories260K.gguf --prompt \"Once upon a time\"   # a local file: UNVERIFIED");
  run->add_option("REF", run_ref, "HOST[:PORT]/namespace/name[:tag] or ...@sha256:<hex>");
  run->add_option("--file", ro.file, "Local GGUF file instead of a reference (UNVERIFIED: nothing is checked)");
  run->add_option("--model-file", model_file, "Which file of the bundle to run, when it has several GGUF files");
  run->add_option("--store", so.store_dir, "Local cache directory (default: $ARCA_STORE or ~/.cache/arca/store)");
  add_trust_flags(run);
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
    if (run->parsed()) {
      if (run_ref.empty() == ro.file.empty()) {
        std::cerr << "arca: error: give either a reference (REF) or --file PATH.gguf\n";
        return 2;
      }
      if (!run_ref.empty()) {
        so.quiet = !isatty(STDERR_FILENO);
        Result<client::VerifiedModel> vm = client::PrepareVerifiedModel(so, trust, run_ref, model_file, std::cerr);
        if (!vm.ok()) return client::ReportFailure(std::cerr, vm.status());
        ro.file = vm->path;
        ro.verified = vm->label;
      }
      return runtime::RunGgufCommand(ro, std::cout, std::cerr);
    }
    if (push->parsed()) return client::PushCommand(so, po, std::cout, std::cerr);
    if (import->parsed()) return client::ImportCommand(so, io, std::cout, std::cerr);
    if (pull->parsed()) {
      pl.trust = trust;
      return client::PullCommand(so, pl, std::cout, std::cerr);
    }
    if (export_cmd->parsed()) {
      eo.trust = trust;
      return mirror::ExportCommand(so, eo, std::cout, std::cerr);
    }
    if (ls_remote->parsed()) return client::ListCommand(so, where, filter, std::cout, std::cerr);
    if (inspect_remote->parsed()) return client::InspectCommand(so, ref_text, std::cout, std::cerr);
    if (tag->parsed()) return client::TagCommand(so, ref_text, new_tag, std::cout, std::cerr);
    if (rm->parsed()) return client::RemoveTagCommand(so, ref_text, std::cout, std::cerr);
    if (login->parsed()) return client::LoginCommand(so, lo, std::cin, std::cout, std::cerr);
    if (key_gen->parsed()) return client::KeyGenerateCommand(so, ko, key_name, std::cout, std::cerr);
    if (key_list->parsed()) return client::KeyListCommand(so, ko, std::cout, std::cerr);
    if (key_export->parsed()) return client::KeyExportCommand(ko, key_name, std::cout, std::cerr);
    if (key_announce->parsed() || key_revoke->parsed()) {
      return client::KeyLogCommand(so, ko, klo, std::cout, std::cerr);
    }
    if (sign->parsed()) return client::SignCommand(so, sio, std::cout, std::cerr);
    if (attestations->parsed()) return client::AttestationsCommand(so, trust, ref_text, std::cout, std::cerr);
    if (verify->parsed()) return client::VerifyCommand(so, trust, verify_target, std::cout, std::cerr);
    if (lineage->parsed()) return client::LineageCommand(so, trust, ref_text, std::cout, std::cerr);
    if (audit->parsed()) return client::AuditCommand(so, trust, audo, std::cout, std::cerr);
    if (proof->parsed()) return client::ProofCommand(so, trust, pro, std::cout, std::cerr);
    if (sbom->parsed()) return client::SbomCommand(sbo, std::cout, std::cerr);
    if (logout->parsed()) return client::LogoutCommand(so, logout_registry, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "arca: internal error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
