// `arca-registry`: the registry server and its token tool. Parses flags and
// calls registry/commands.h.
#include <CLI/CLI.hpp>

#include <iostream>

#include "mirror/commands.h"
#include "mirror/import.h"
#include "registry/commands.h"

int main(int argc, char** argv) {
  using namespace arca;
  CLI::App app{
      "arca-registry: serves Arca bundles over HTTP (docs/API.md).\n"
      "A data directory holds the store (DIR/store/) and the hashes of access tokens\n"
      "(DIR/tokens.json).",
      "arca-registry"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "arca-registry 0.1.0");

  std::string data_dir, listen, ns, scope;
  registry::ServerOptions so;

  CLI::App* serve = app.add_subcommand(
      "serve",
      "Serve the registry API until SIGINT or SIGTERM.\n"
      "Prints \"arca-registry listening on http://HOST:PORT (data DIR)\" once ready.\n"
      "Examples:\n"
      "  arca-registry serve --data /srv/arca --listen 0.0.0.0:8470\n"
      "  arca-registry serve --data ./reg --listen 127.0.0.1:0 --anonymous-pull   # any free port\n"
      "  arca-registry serve --data /srv/arca --listen :8443 --tls-cert cert.pem --tls-key key.pem");
  std::string config_path;
  serve->add_option("--data", data_dir, "Data directory (created if missing); with --config, the config's \"data\"");
  serve->add_option("--config", config_path,
                    "Mirror config (arca.mirror.v1, docs/mirror.md): serve its data directory and sync its\n"
                    "upstreams on their schedule");
  serve->add_option("--listen", listen, "HOST:PORT to listen on; port 0 picks a free one")->required();
  serve->add_flag("--anonymous-pull", so.anonymous_pull, "Let anyone read without a token");
  serve->add_option("--threads", so.threads, "Requests served at once (default 16)")->check(CLI::Range(1, 1024));
  auto* cert = serve->add_option("--tls-cert", so.tls_cert, "PEM certificate chain: serve HTTPS")
                   ->check(CLI::ExistingFile);
  auto* key = serve->add_option("--tls-key", so.tls_key, "PEM private key for --tls-cert")->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  serve->add_option("--log-origin", so.log_origin,
                    "Name of the transparency log, fixed when the data directory is first used\n"
                    "(default: arca-registry-<16 hex digits of the log key id>)");

  std::string origin;
  CLI::App* log_key = app.add_subcommand(
      "log-key",
      "Print the transparency log's verifier key: the line clients put in their trust policy under\n"
      "\"logs\": {\"keys\": [...]} to check this registry's log (see docs/trust-policy.md).\n"
      "Creates the log and its key (DATA/keys/log.key, mode 0600) if the data directory has none.\n"
      "Example: arca-registry log-key --data /srv/arca");
  log_key->add_option("--data", data_dir, "Data directory")->required();
  log_key->add_option("--origin", origin, "The log's name if it is created now (as serve --log-origin)");

  CLI::App* mirror = app.add_subcommand(
      "mirror",
      "Follow upstream registries (docs/mirror.md, mirror/PROTOCOL.md). The config names the data\n"
      "directory, the upstreams, their filters, trust policies and log keys.");
  mirror->require_subcommand(1);
  bool once = false, json = false;
  std::string upstream;
  CLI::App* sync = mirror->add_subcommand(
      "sync",
      "Sync the config's upstreams without serving: every upstream on its schedule until SIGTERM,\n"
      "or one pass each with --once (exit 1 if an upstream is halted or unreachable or a model failed).\n"
      "The data directory must not be in use by a running server (serve --config syncs by itself).\n"
      "Example: arca-registry mirror sync --config /etc/arca/mirror.json --once");
  sync->add_option("--config", config_path, "Mirror config file")->required();
  sync->add_flag("--once", once, "One pass of each upstream, then exit");
  sync->add_option("--upstream", upstream, "Only this upstream");
  sync->add_flag("--json", json, "One JSON object with each pass's result");
  CLI::App* status = mirror->add_subcommand(
      "status",
      "Show each upstream's state (ok, unreachable, halted, never), its seen checkpoint, its last and\n"
      "next pass, and every model with its status and last error. Exit 1 if an upstream is halted or a\n"
      "model failed. Reads the state files, so it works while the server runs.");
  status->add_option("--config", config_path, "Mirror config file")->required();
  status->add_option("--upstream", upstream, "Only this upstream");
  status->add_flag("--json", json, "JSON output");
  CLI::App* reset = mirror->add_subcommand(
      "reset",
      "Forget the seen checkpoint of a halted upstream's log (after a rollback or split view was\n"
      "investigated); the evidence stays under DATA/mirror/logs/<origin>/evidence/.");
  reset->add_option("--config", config_path, "Mirror config file")->required();
  reset->add_option("--upstream", upstream, "The upstream")->required();
  CLI::App* mkey = mirror->add_subcommand(
      "key", "Print the mirror key's public key (it signs countersignatures); created if absent.");
  mkey->add_option("--config", config_path, "Mirror config file")->required();

  mirror::ImportCommandOptions imo;
  uint64_t import_max_age = 0;
  CLI::App* import = app.add_subcommand(
      "import",
      "Take in an air-gap archive written by `arca export` (mirror/PROTOCOL.md §8.4). Every record is\n"
      "checked before anything changes: checkpoints signed by a given log key and consistent with the\n"
      "ones seen before, log inclusion of each publish and tag entry, tag sequences, objects, the\n"
      "trust policy per bundle, every chunk. The first failure refuses the whole archive, naming the\n"
      "record and the reason, and leaves the registry unchanged. Importing an archive again changes\n"
      "nothing. The data directory must not be in use: stop the server first.\n"
      "Examples:\n"
      "  arca-registry import llama-v1.arca --config /etc/arca/mirror.json\n"
      "  arca-registry import llama-v1.arca --data /srv/arca --policy policy.json \\\n"
      "      --log-key 'arca-registry-0123456789abcdef+01234567+BAxx...'");
  import->add_option("FILE", imo.archive, "The archive (.arca)")->required();
  import->add_option("--config", imo.config, "Mirror config whose \"import\" section says what to accept");
  import->add_option("--data", imo.data, "Data directory (instead of --config)");
  import->add_option("--policy", imo.policy, "Trust policy the bundles must satisfy (with --data)");
  import->add_option("--log-key", imo.log_keys,
                     "Verifier key of a log whose checkpoints are accepted (repeatable; with --data)");
  auto* max_age = import->add_option("--max-age", import_max_age,
                                     "Refuse checkpoints signed more than SECONDS ago (default: no limit)");
  import->add_flag("--json", imo.json, "One JSON object with what was imported");

  CLI::App* token = app.add_subcommand("token", "Manage access tokens (on the server host)");
  token->require_subcommand(1);
  CLI::App* create = token->add_subcommand(
      "create",
      "Create a token and print it; it is shown only this once (the server keeps its hash).\n"
      "Scopes: pull (read), push (read, upload, set tags), admin (push, delete tags).\n"
      "Examples:\n"
      "  arca-registry token create --data /srv/arca --namespace acme --scope push\n"
      "  arca-registry token create --data /srv/arca --namespace '*' --scope pull");
  create->add_option("--data", data_dir, "Data directory")->required();
  create->add_option("--namespace", ns, "Namespace whose tags it may write, or '*' for all")->required();
  create->add_option("--scope", scope, "pull, push or admin")->required()->check(
      CLI::IsMember({"pull", "push", "admin"}));
  CLI::App* list = token->add_subcommand("list", "List tokens: id, namespace, scope, creation time (never the token)");
  list->add_option("--data", data_dir, "Data directory")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;  // --help and --version exit 0; bad usage is 2
  }

  try {
    if (serve->parsed()) {
      if (!config_path.empty()) {
        if (!data_dir.empty()) {
          std::cerr << "arca-registry: give --data or --config, not both (the config names the data directory)\n";
          return 2;
        }
        return mirror::MirrorServeCommand(config_path, listen, so, std::cout, std::cerr);
      }
      if (data_dir.empty()) {
        std::cerr << "arca-registry: serve needs --data DIR (or --config FILE for a mirror)\n";
        return 2;
      }
      return registry::ServeCommand(data_dir, listen, so, std::cout, std::cerr);
    }
    if (sync->parsed()) return mirror::MirrorSyncCommand(config_path, once, upstream, json, std::cout, std::cerr);
    if (status->parsed()) return mirror::MirrorStatusCommand(config_path, upstream, json, std::cout, std::cerr);
    if (reset->parsed()) return mirror::MirrorResetCommand(config_path, upstream, std::cout, std::cerr);
    if (mkey->parsed()) return mirror::MirrorKeyCommand(config_path, std::cout, std::cerr);
    if (import->parsed()) {
      if (*max_age) imo.max_age_seconds = import_max_age;
      return mirror::ImportCommand(imo, std::cout, std::cerr);
    }
    if (create->parsed()) return registry::TokenCreateCommand(data_dir, ns, scope, std::cout, std::cerr);
    if (list->parsed()) return registry::TokenListCommand(data_dir, std::cout, std::cerr);
    if (log_key->parsed()) return registry::LogKeyCommand(data_dir, origin, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "arca-registry: internal error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
