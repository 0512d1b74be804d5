// `arca push DIR REF`: publish a model directory to a registry.
//
// The directory is built into the local cache (as `arca store add` does),
// the registry is asked which of the bundle's chunks it lacks, and only those
// are uploaded, in packs, on several connections: a cache pack whose chunks
// are all missing is sent as it is; the other missing chunks are copied, still
// compressed, into new packs of at most 64 MiB. Then every file index, the
// manifest, and finally the tag.
#ifndef ARCA_CLIENT_PUSH_H_
#define ARCA_CLIENT_PUSH_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "client/store_commands.h"
#include "client/trust.h"
#include "common/digest.h"
#include "format/manifest.h"

namespace arca::client {

struct PushOptions {
  std::string dir;
  std::string ref;                       // HOST:PORT/namespace/name[:tag]
  format::Metadata meta;                 // name empty: the reference's repository
  std::vector<std::string> base_models;  // digests as text, checked here
  std::string sign_key;                  // --sign: keyring name or .key path; empty: unsigned
  KeyOptions keys;                       // where keys live, how to get the passphrase
};

struct PushReport {
  std::string ref;
  Digest digest;
  std::optional<Digest> previous;  // what the tag named before
  uint64_t bytes_scanned = 0;      // raw bytes of every file
  uint64_t bytes_sent = 0;         // packs and objects uploaded
  uint64_t chunks = 0;             // distinct chunks in the bundle
  uint64_t chunks_sent = 0;        // chunks the registry lacked
  uint64_t packs_sent = 0;
  std::string signed_by;            // "name (keyid)" when signed
  double seconds = 0;
};

// Does the push; progress goes to `err` unless so.quiet or so.json.
Result<PushReport> PushBundle(const StoreOptions& so, const PushOptions& po, std::ostream& err);

// The command: prints the report (or one JSON object) and returns the exit
// code (0 ok, 1 failure, 2 bad usage).
int PushCommand(const StoreOptions& so, const PushOptions& po, std::ostream& out, std::ostream& err);

// `arca import DIR REF`: PushCommand with the licence, base model names and
// datasets read from DIR/README.md's YAML front matter (client/model_card.h);
// what po.meta already holds (the flags) wins over the card.
int ImportCommand(const StoreOptions& so, PushOptions po, std::ostream& out, std::ostream& err);

}  // namespace arca::client

#endif  // ARCA_CLIENT_PUSH_H_
