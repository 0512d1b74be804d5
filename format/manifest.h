// Manifests (FORMAT.md §5): the canonical JSON that names a bundle's files and
// metadata. The bundle digest is the SHA-256 of Canonical().
#ifndef ARCA_FORMAT_MANIFEST_H_
#define ARCA_FORMAT_MANIFEST_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"
#include "common/result.h"

namespace arca::format {

inline constexpr std::string_view kManifestSchema = "arca.manifest.v1";
inline constexpr uint64_t kMaxManifestBytes = 16ull << 20;
inline constexpr size_t kMaxManifestFiles = 100000;
inline constexpr size_t kMaxStringBytes = 4096;
inline constexpr size_t kMaxListEntries = 1000;

struct ManifestFile {
  std::string path;        // a valid bundle path (format/path.h)
  uint64_t size = 0;
  Digest digest;           // SHA-256 of the whole file
  Digest index;            // id of the file index object
  std::string media_type;
  bool operator==(const ManifestFile&) const = default;
};

struct License {
  std::string spdx;  // SPDX licence expression, e.g. "Apache-2.0 OR MIT"
  std::string file;  // path of the licence text within the bundle
  bool operator==(const License&) const = default;
};

struct Provenance {
  std::string source;              // upstream URL
  std::string revision;            // upstream revision (commit, tag)
  std::vector<Digest> base_models; // bundle digests this model derives from
  // Upstream names of base models as the publisher states them (e.g. a
  // Hugging Face repository "meta-llama/Llama-3.1-8B"). Unverified labels:
  // only base_models digests can be checked.
  std::vector<std::string> base_model_names;
  std::vector<std::string> datasets;
  bool operator==(const Provenance&) const = default;
};

// Everything about a bundle except its files: what the publisher states.
struct Metadata {
  std::string name;       // "org/model": lower-case OCI-style repository name
  std::string version;
  std::string publisher;
  std::string created;    // "YYYY-MM-DDTHH:MM:SSZ"; never taken from the clock
  License license;
  Provenance provenance;
  bool operator==(const Metadata&) const = default;
};

struct Manifest {
  Metadata meta;
  std::vector<ManifestFile> files;  // sorted by path

  // Checks every rule of FORMAT.md §5 (files sorted and unique, paths valid,
  // licence file listed, limits). INVALID_ARGUMENT / RESOURCE_EXHAUSTED.
  Status Validate() const;
  // The canonical bytes. Requires Validate() to pass.
  std::string Canonical() const;
  // SHA-256 of Canonical().
  Digest BundleDigest() const { return Sha256Of(Canonical()); }
  // Strict parse: schema, types, rules, and the bytes must be canonical.
  static Result<Manifest> Parse(std::string_view bytes);

  bool operator==(const Manifest&) const = default;
};

// Media type from a file name (FORMAT.md §5).
std::string MediaTypeForPath(std::string_view path);

// Checks a bundle name: 1..255 bytes, '/'-separated components of
// [a-z0-9]+ joined by single '.', '_' or '-'.
Status ValidateBundleName(std::string_view name);

}  // namespace arca::format

#endif  // ARCA_FORMAT_MANIFEST_H_
