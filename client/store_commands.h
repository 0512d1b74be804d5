// The `arca store ...` commands: the local content-addressed store as a tool.
// Each function prints its result to `out` (human lines, or one JSON object
// with `json`), problems to `err`, and returns the process exit code:
// 0 success, 1 failure (said on err), 2 bad usage.
#ifndef ARCA_CLIENT_STORE_COMMANDS_H_
#define ARCA_CLIENT_STORE_COMMANDS_H_

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "format/manifest.h"
#include "store/store.h"

namespace arca::client {

struct StoreOptions {
  std::string store_dir;  // empty: $ARCA_STORE, else $XDG_CACHE_HOME/arca/store, else ~/.cache/arca/store
  int threads = 0;        // 0: one per core
  int jobs = 4;           // parallel connections to a registry
  bool json = false;
  bool quiet = false;     // no progress display, no summary (errors still go to err)
};

// Resolves the store directory as documented on StoreOptions::store_dir.
std::string DefaultStoreDir();
// Opens the store that `so` names.
Result<std::unique_ptr<store::Store>> OpenStore(const StoreOptions& so);
// so.threads, or one per core.
int ThreadCount(const StoreOptions& so);
// Prints "arca: error: <message>" (and a hint) on err; returns exit code 1.
int ReportFailure(std::ostream& err, const Status& s, std::string_view hint = "");

struct AddOptions {
  std::string dir;
  std::string ref;           // empty: "<name>:latest"
  format::Metadata meta;     // name empty: derived from the directory's name
  std::vector<std::string> base_models;  // digests as text, checked here
};

int StoreAdd(const StoreOptions& so, AddOptions ao, std::ostream& out, std::ostream& err);
// `what` is a bundle digest ("sha256:...") or a ref ("org/model:tag").
int StoreCheckout(const StoreOptions& so, const std::string& what, const std::string& out_dir,
                  std::ostream& out, std::ostream& err);
int StoreFsck(const StoreOptions& so, std::ostream& out, std::ostream& err);
int StoreGc(const StoreOptions& so, std::ostream& out, std::ostream& err);
int StoreList(const StoreOptions& so, std::ostream& out, std::ostream& err);
int StoreInspect(const StoreOptions& so, const std::string& what, std::ostream& out, std::ostream& err);

// "1.5 GiB", "512 B": for humans.
std::string HumanBytes(uint64_t n);

}  // namespace arca::client

#endif  // ARCA_CLIENT_STORE_COMMANDS_H_
