// A bundle's licence and provenance as a software bill of materials, for
// auditors' tools: SPDX 3.0.1 (JSON-LD, Core + Software + SimpleLicensing +
// AI + Dataset profiles) or CycloneDX 1.6 (JSON, ML-BOM). The engine of
// `arca sbom`; docs/sbom.md maps every manifest field onto both.
//
// Both documents are pure functions of the manifest and the context: no
// clock, no network, no file system. The same input gives the same bytes
// (members in a fixed order, lists in manifest order, ids derived from the
// bundle digest). What each document says, and what it leaves unasserted, is
// listed in sbom.cc's file comment.
#ifndef ARCA_CLIENT_SBOM_H_
#define ARCA_CLIENT_SBOM_H_

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "client/trust.h"
#include "common/digest.h"
#include "common/result.h"
#include "format/manifest.h"

namespace arca::client {

// Used when neither the context nor the manifest gives a time: the Unix
// epoch, which no reader mistakes for a real creation time.
inline constexpr std::string_view kSbomFallbackTimestamp = "1970-01-01T00:00:00Z";

struct SbomContext {
  // The registry reference the user asked for, e.g.
  // "registry.example:5000/org/model:v1"; recorded as written. May be empty.
  std::string reference;
  // A URI from which the bundle can be fetched, e.g. the registry's
  // "https://registry.example/v1/objects/sha256:<hex>" for its manifest.
  // Empty: no download location is asserted.
  std::string download_location;
  // Key ids ("sha256:<hex>") of signatures the caller has verified over this
  // bundle; recorded, not checked here. May be empty.
  std::vector<std::string> signer_key_ids;
  // "YYYY-MM-DDTHH:MM:SSZ", a real UTC time. Empty: the manifest's
  // `created` if it is one, else kSbomFallbackTimestamp.
  std::string timestamp;
};

// The SPDX 3.0.1 JSON-LD document. INVALID_ARGUMENT when the manifest fails
// Validate(), `bundle` is not its digest, or the context is malformed (a
// timestamp or key id of the wrong shape, text that is not UTF-8).
Result<std::string> SpdxDocument(const format::Manifest& manifest, const Digest& bundle,
                                 const SbomContext& ctx);

// The CycloneDX 1.6 JSON document; errors as for SpdxDocument.
Result<std::string> CycloneDxDocument(const format::Manifest& manifest, const Digest& bundle,
                                      const SbomContext& ctx);

struct SbomOptions {
  std::string target;     // a directory `arca pull` wrote, or a reference
  std::string format;     // "spdx" or "cyclonedx"
  std::string output;     // file to write (replaced atomically); empty: `out`
  std::string timestamp;  // SbomContext::timestamp
  // The policy under which signatures are judged; the key ids of those that
  // verify are recorded. No policy file: none are recorded.
  TrustOptions trust;
};

// `arca sbom`: loads the manifest (from DIR/.arca/, or from the registry,
// checked against the digest the reference resolves to) and writes the
// document. Returns the exit code: 0 ok, 1 failure, 2 bad usage.
int SbomCommand(const SbomOptions& o, std::ostream& out, std::ostream& err);

}  // namespace arca::client

#endif  // ARCA_CLIENT_SBOM_H_
