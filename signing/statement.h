// in-toto Statement v1 payloads (SIGNING.md §3): what a DSSE envelope signs.
//
// Spec: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md
//
//   {"_type":"https://in-toto.io/Statement/v1",
//    "subject":[{"name":"<bundle name>","digest":{"sha256":"<64 hex>"}}],
//    "predicateType":"<URI>",
//    "predicate":{...}}
//
// Arca's publisher signature uses predicateType kBundlePredicateType, whose
// predicate restates the manifest's metadata (so that a tool reading only the
// statement sees what was signed):
//
//   {"name":"org/model", "version":"..."?, "publisher":"..."?,
//    "license":{"spdx":"...", "file":"..."?, "file_digest":"sha256:..."?}?,
//    "provenance":{"source"?, "revision"?, "base_models":["sha256:..."]?,
//                  "datasets":[...]?}?}
//
// Fields marked ? are omitted when empty in the manifest. Bytes we write are
// canonical JSON (keys sorted, no white space), as for manifests.
#ifndef ARCA_SIGNING_STATEMENT_H_
#define ARCA_SIGNING_STATEMENT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"
#include "common/result.h"
#include "format/manifest.h"
#include "signing/keys.h"

namespace arca::signing {

inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";
inline constexpr std::string_view kStatementType = "https://in-toto.io/Statement/v1";
// We own no domain, so the predicate type is a URN (SIGNING.md §3.2).
inline constexpr std::string_view kBundlePredicateType = "urn:arca:predicate:bundle:v1";

inline constexpr size_t kMaxStatementBytes = 4u << 20;
inline constexpr size_t kMaxPredicateBytes = 1u << 20;  // serialised predicate
inline constexpr size_t kMaxSubjects = 256;
inline constexpr size_t kMaxSubjectNameBytes = 1024;
inline constexpr size_t kMaxPredicateTypeBytes = 1024;
inline constexpr size_t kMaxPredicateDepth = 32;

struct Subject {
  std::string name;
  Digest digest;  // the subject's "sha256" digest
  bool operator==(const Subject&) const = default;
};

struct Statement {
  std::vector<Subject> subjects;  // at least one
  std::string predicate_type;
  std::string predicate_json;     // the predicate object, canonical JSON
};

// The publisher's statement for `manifest` (which must pass Validate()),
// subject = {manifest.meta.name, bundle_digest}. Canonical JSON bytes.
std::string BundleStatement(const format::Manifest& manifest, const Digest& bundle_digest);

// The canonical bundle predicate object alone (the "predicate" member of
// BundleStatement), for comparisons.
std::string BundlePredicate(const format::Manifest& manifest);

// A statement with any predicate type and any JSON object as predicate (for
// `arca sign --predicate-type T --predicate FILE`). kInvalidArgument if the
// predicate is not a JSON object, the type is empty or too long, or the name
// is empty; kResourceExhausted over kMaxPredicateBytes or kMaxPredicateDepth.
Result<std::string> GenericStatement(std::string_view subject_name, const Digest& digest,
                                     std::string_view predicate_type,
                                     std::string_view predicate_json);

// Strict parse: "_type" must be kStatementType; "subject" a non-empty array
// (at most kMaxSubjects) of {"name": string, "digest": {"sha256": 64 lower
// hex, other algorithms allowed and ignored}}; "predicateType" a non-empty
// string; "predicate" an object (optional in the spec; required here). No
// unknown top-level fields. kInvalidArgument naming the field otherwise.
Result<Statement> ParseStatement(std::string_view payload);

// Signs `statement` as an in-toto DSSE envelope with `key`, keyid =
// KeyId(key.public_key).Hex(). Returns the envelope JSON.
std::string SignStatement(std::string_view statement, const KeyPair& key);

}  // namespace arca::signing

#endif  // ARCA_SIGNING_STATEMENT_H_
