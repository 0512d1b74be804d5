// The mirror configuration (PROTOCOL.md §2, schema "arca.mirror.v1"): where
// the mirror keeps its data, which upstream registries it follows, what it
// takes from each and how hard it may pull, and what `import` accepts.
//
//   {"schema": "arca.mirror.v1", "data": DIR, "policy": FILE?, "key": FILE?,
//    "bandwidth_bytes_per_second": N?,
//    "upstreams": [{"name": "acme", "url": "https://HOST[:PORT]",
//                   "log_key": "<verifier key>", "token_file": FILE?,
//                   "ca_file": FILE?, "policy": FILE?,
//                   "namespaces": [glob]?, "repositories": [glob]?,
//                   "exclude": [glob]?, "tags": "<ECMAScript regex>"?,
//                   "licenses": [SPDX id]?, "follow_deletes": bool?,
//                   "interval_seconds": N?, "concurrency": N?,
//                   "bandwidth_bytes_per_second": N?, "timeout_seconds": N?,
//                   "retry": {"initial_seconds", "max_seconds", "attempts"}?,
//                   "max_checkpoint_age_seconds": N?}, ...],
//    "import": {"policy": FILE?, "log_keys": [<verifier key>],
//               "repositories": [glob]?, "max_checkpoint_age_seconds": N?}?}
//
// Defaults and ranges are those of the structs below. Globs are the trust
// policy's (signing/policy.h: '*' within a path component, '**' across).
// Relative paths are taken from the config file's directory. Parsing is
// strict: unknown fields, repeated JSON keys, wrong types, values out of
// range, duplicate upstream names and unreadable referenced files are refused
// with a message naming the file, the upstream and the field.
//
// A MirrorConfig is an immutable value once loaded; share it across threads.
#ifndef ARCA_MIRROR_CONFIG_H_
#define ARCA_MIRROR_CONFIG_H_

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "client/reference.h"
#include "common/result.h"

namespace arca::mirror {

inline constexpr std::string_view kMirrorConfigSchema = "arca.mirror.v1";
inline constexpr uint64_t kMaxMirrorConfigBytes = 1u << 20;
inline constexpr size_t kMaxUpstreams = 64;
inline constexpr size_t kMaxListEntries = 256;  // any list field
inline constexpr size_t kMaxListEntryBytes = 256;
inline constexpr size_t kMaxTagPatternBytes = 256;

// Backoff of transient failures (PROTOCOL.md §5.3).
struct RetryConfig {
  uint32_t initial_seconds = 5;  // 1..3600
  uint32_t max_seconds = 600;    // initial_seconds..86400
  uint32_t attempts = 6;         // 1..100
};

struct UpstreamConfig {
  std::string name;          // [a-z0-9][a-z0-9_-]{0,63}, unique in the config
  std::string url;           // as written
  client::Registry registry; // parsed from url: https, or http for loopback hosts only
  std::string token;         // a pull token read from token_file (trimmed); empty: anonymous
  std::string ca_file;       // absolute path of a PEM CA bundle, or empty
  std::string log_key;       // verifier key (type cosignature/v1) of the upstream's log
  std::string origin;        // the log's origin: the name in log_key
  std::string policy;        // absolute path: the upstream's policy, else the top-level one
  std::vector<std::string> namespaces{"*"};    // globs over the namespace (no '/')
  std::vector<std::string> repositories{"**"}; // globs over the full repository name
  std::vector<std::string> exclude;            // globs; a match drops the repository
  std::string tags = ".*";   // ECMAScript regex over the whole tag, as written
  std::regex tag_regex{".*", std::regex::ECMAScript};  // tags, compiled
  std::vector<std::string> licenses;  // SPDX ids; non-empty: an allow list
  bool follow_deletes = false;
  uint64_t interval_seconds = 3600;   // 5..604800
  int concurrency = 4;                // 1..64
  uint64_t bandwidth_bytes_per_second = 0;  // 0: no limit
  uint32_t timeout_seconds = 60;      // 5..3600
  RetryConfig retry;
  uint64_t max_checkpoint_age_seconds = 86400;  // 0: no limit

  // Whether the filters take `repository` ("namespace/name..."): its
  // namespace (the part before the first '/') matches one of `namespaces`,
  // the whole name one of `repositories`, and none of `exclude`.
  bool SelectsRepository(std::string_view repository) const;
  // Whether `tag` matches tag_regex as a whole.
  bool SelectsTag(std::string_view tag) const;
};

// What `arca-registry import --config` accepts (PROTOCOL.md §8.4).
struct ImportConfig {
  std::string policy;                          // absolute: import's own, else the top-level one
  std::vector<std::string> log_keys;           // verifier keys (cosignature/v1), 1..256
  std::vector<std::string> repositories{"**"}; // globs over the full repository name
  uint64_t max_checkpoint_age_seconds = 0;     // 0: no limit

  // Whether `repository` matches one of `repositories`.
  bool SelectsRepository(std::string_view repository) const;
};

struct MirrorConfig {
  std::string path;    // the config file (absolute); empty when parsed from text
  std::string data;    // the data directory, absolute
  std::string policy;  // the top-level policy, absolute, or empty
  std::string key;     // the mirror key file; default DATA/keys/mirror.key
  uint64_t bandwidth_bytes_per_second = 0;  // all upstreams together; 0: no limit
  std::vector<UpstreamConfig> upstreams;    // 1..64 in file order (0 with `import`)
  std::optional<ImportConfig> import;

  // The upstream called `name`, or nullptr.
  const UpstreamConfig* Upstream(std::string_view name) const;
};

// Strict parse of config text (at most kMaxMirrorConfigBytes). Relative paths
// (data, policy, key, token_file, ca_file, import.policy) are resolved
// against `base_dir` and made absolute. Referenced files are checked: policy
// and CA files must be readable, a token file must be readable by its owner
// only. Errors: kInvalidArgument for the text; kNotFound or
// kPermissionDenied for a referenced file; kFailedPrecondition for a token
// file that others may read.
Result<MirrorConfig> ParseMirrorConfig(std::string_view text, const std::string& base_dir);

// Reads the config file at `path` and parses it relative to its directory;
// errors name the file.
Result<MirrorConfig> LoadMirrorConfig(const std::string& path);

}  // namespace arca::mirror

#endif  // ARCA_MIRROR_CONFIG_H_
