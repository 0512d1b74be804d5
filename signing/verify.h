// The verification engine (SIGNING.md §6): given a manifest, the bundle digest
// a tag or reference named, and the attestation envelopes found for it,
// decides under a trust policy whether the bundle may be used, and explains
// why in a report. Every client path (pull, verify, run, mirror) calls this.
//
// Pure function of its inputs: no I/O, no clock, thread-safe.
#ifndef ARCA_SIGNING_VERIFY_H_
#define ARCA_SIGNING_VERIFY_H_

#include <string>
#include <vector>

#include "common/digest.h"
#include "common/result.h"
#include "format/manifest.h"
#include "signing/policy.h"

namespace arca::signing {

struct Evidence {
  // The repository the user asked for ("org/model"), or empty to use the
  // manifest's own name.
  std::string name;
  std::string manifest_bytes;
  Digest bundle_digest;                // what the tag or reference said
  std::vector<std::string> envelopes;  // DSSE envelope JSON, one per attestation
};

struct VerifyOptions {
  // The user's explicit "accept unsigned" (e.g. --allow-unsigned): an
  // unsigned bundle passes with a loud warning.
  bool allow_unsigned = false;
};

struct SignatureCheck {
  enum class Outcome {
    kCounted,            // a rule key's valid signature over the bundle predicate
    kValidNotInRule,     // valid, by a policy key the matched rule does not list
    kRevoked,            // the key is revoked by the policy
    kUnknownKey,         // the keyid is not in the policy
    kBadSignature,       // the signature does not verify
    kWrongSubject,       // the statement is about another digest or name
    kPredicateMismatch,  // the bundle predicate disagrees with the manifest
    kMalformed,          // the envelope or its statement does not parse
    kOtherAttestation,   // valid, trusted, another predicate type (not counted)
  };
  size_t envelope = 0;     // index into Evidence::envelopes
  std::string keyid_hex;   // as written in the envelope
  std::string key_name;    // the policy's name for the key, may be empty
  std::string predicate_type;
  Outcome outcome = Outcome::kMalformed;
  std::string detail;      // human text naming what failed
};

// "counted", "revoked", ...: stable names for JSON output.
std::string_view OutcomeName(SignatureCheck::Outcome outcome);

struct VerifyReport {
  bool ok = false;
  format::Manifest manifest;             // empty if the manifest did not parse
  std::string rule;                      // the matched pattern, empty if none
  std::string rule_label;                // "policy rule 'qwen/*'"
  int threshold = 0;
  int counted = 0;                       // distinct rule keys that signed
  std::vector<std::string> signers;      // names of the counted keys
  std::vector<SignatureCheck> signatures;
  std::vector<std::string> attestations;  // "<predicateType> signed by <key>"
  std::string license_decision;
  bool unsigned_accepted = false;
  std::vector<std::string> failures;     // each names what failed
  std::vector<std::string> warnings;
};

// Verifies `evidence` under `policy`. Returns a report, ok or not, for every
// policy outcome (a tampered manifest, a bad signature, an unmet threshold, a
// refused licence are failures in the report); an error Status only for
// input that cannot be judged at all (kInvalidArgument: more than
// kMaxEnvelopesPerBundle envelopes, or a manifest over its size limit).
inline constexpr size_t kMaxEnvelopesPerBundle = 1024;
Result<VerifyReport> VerifyBundle(const Policy& policy, const Evidence& evidence,
                                  const VerifyOptions& options);

// Human-readable report: the bundle, the rule, who signed with which key,
// the licence, the lineage (base models), other attestations, each failure
// and warning, and the verdict. Control characters from the manifest or
// envelopes are replaced, so the text is safe to print on a terminal.
std::string FormatReport(const VerifyReport& report);

// The same as a JSON object (for --json), one line, no trailing newline.
std::string ReportJson(const VerifyReport& report);

}  // namespace arca::signing

#endif  // ARCA_SIGNING_VERIFY_H_
