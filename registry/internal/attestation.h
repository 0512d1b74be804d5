// The registry's structural check of an uploaded attestation (docs/API.md
// "PUT /v1/attestations"). The registry holds no trust and verifies no
// signature; it refuses anything that is not a well-formed DSSE envelope
// around an in-toto Statement v1 naming the bundle it is attached to.
//
// Stand-in: once signing/ has a structural envelope parser and
// ParseStatement, this should call them instead of parsing here.
#ifndef ARCA_REGISTRY_INTERNAL_ATTESTATION_H_
#define ARCA_REGISTRY_INTERNAL_ATTESTATION_H_

#include <string_view>

#include "common/digest.h"
#include "common/status.h"

namespace arca::registry::internal {

inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";
inline constexpr std::string_view kStatementV1Type = "https://in-toto.io/Statement/v1";

// Checks `envelope`:
//   - JSON with no repeated keys, an object of exactly "payload",
//     "payloadType" and "signatures";
//   - "payloadType" is kInTotoPayloadType; "payload" is canonical padded
//     base64 (signing::Base64Decode);
//   - "signatures": 1 to signing::kMaxSignatures objects of exactly a
//     non-empty "keyid" and a non-empty base64 "sig";
//   - the payload is a JSON object with "_type" kStatementV1Type, a
//     non-empty "subject" array of objects each with a "digest" object of
//     strings, and a string "predicateType"; and some subject's
//     digest.sha256 is the hex of `subject`.
// INVALID_ARGUMENT naming the first rule broken.
Status CheckAttestation(std::string_view envelope, const Digest& subject);

}  // namespace arca::registry::internal

#endif  // ARCA_REGISTRY_INTERNAL_ATTESTATION_H_
