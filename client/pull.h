// `arca pull REF [OUT_DIR]`: fetch a bundle from a registry, verified, into
// the local cache and materialise it into a directory.
//
// Resolve the tag (or take the @digest) → the manifest, checked against the
// digest and parsed strictly → the file indexes → the chunks the cache lacks,
// located, fetched as coalesced ranges of the registry's packs on several
// connections and verified one by one as they arrive (fetch.h) → the indexes,
// manifest and ref recorded in the cache → the files written and checked
// (worktree.h). A chunk that fails verification stops the pull before any
// file is written; what was verified before stays in the cache, so running
// the pull again fetches only the rest.
#ifndef ARCA_CLIENT_PULL_H_
#define ARCA_CLIENT_PULL_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "client/store_commands.h"
#include "client/trust.h"
#include "common/digest.h"

namespace arca::client {

struct PullOptions {
  std::string ref;      // HOST:PORT/namespace/name[:tag] or ...@sha256:...
  std::string out_dir;  // empty: ./<last component of the name>
  bool verify_existing = false;
  TrustOptions trust;  // the policy the bundle must satisfy before anything is fetched or written
};

struct PullReport {
  std::string ref;
  std::string out_dir;
  Digest digest;
  uint64_t bytes_fetched = 0;   // pack bytes received
  uint64_t chunks_fetched = 0;
  uint64_t chunks_cached = 0;   // found in the local cache
  uint64_t files_written = 0, files_unchanged = 0, files_removed = 0;
  uint64_t bytes_written = 0;
  signing::VerifyReport trust;  // who signed, which rule, the licence
  std::optional<uint64_t> log_size;  // the verified checkpoint's size, when the log was checked
  double seconds = 0;
};

// Does the pull; progress goes to `err` unless so.quiet or so.json.
Result<PullReport> PullBundle(const StoreOptions& so, const PullOptions& po, std::ostream& err);

// The command: prints the report (or one JSON object), returns the exit code.
int PullCommand(const StoreOptions& so, const PullOptions& po, std::ostream& out, std::ostream& err);

}  // namespace arca::client

#endif  // ARCA_CLIENT_PULL_H_
