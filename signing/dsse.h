// DSSE v1 envelopes (Dead Simple Signing Envelope), signed with Ed25519.
//
// Spec: https://github.com/secure-systems-lab/dsse/blob/master/protocol.md
//
// A signature covers PAE(payloadType, payload), never the payload alone, so
// the type is bound to the bytes. The envelope is JSON:
//
//   {"payload": "<base64 body>", "payloadType": "<type>",
//    "signatures": [{"keyid": "<key id>", "sig": "<base64 signature>"}]}
//
// base64 is the standard alphabet with padding (RFC 4648 section 4). The
// keyid we write is KeyId(pub).Hex(): the 64 lower-case hex characters of
// the SHA-256 of the 32 raw public key bytes, without a "sha256:" prefix.
//
// Parsing is strict: every field above must be present with the JSON type
// shown, no other fields are accepted, base64 must be canonical, and sizes
// are bounded (constants below). A keyid is required in each signature: it
// selects the trusted key to check (keyids are hints, not authenticated; the
// signature check is what authenticates).
#ifndef ARCA_SIGNING_DSSE_H_
#define ARCA_SIGNING_DSSE_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "signing/keys.h"

namespace arca::signing {

inline constexpr size_t kMaxPayloadBytes = 16u << 20;        // decoded payload
inline constexpr size_t kMaxPayloadTypeBytes = 256;
inline constexpr size_t kMaxSignatures = 16;
inline constexpr size_t kMaxKeyIdBytes = 256;
inline constexpr size_t kMaxEnvelopeBytes = kMaxPayloadBytes / 3 * 4 + (64 << 10);

// "DSSEv1 <len(type)> <type> <len(body)> <body>", lengths in ASCII decimal.
std::string Pae(std::string_view payload_type, std::string_view payload);

// Standard base64 with padding, and its strict inverse (rejects missing
// padding, whitespace, other alphabets and non-canonical trailing bits).
std::string Base64Encode(ByteView data);
Result<std::string> Base64Decode(std::string_view text);

// The envelope JSON for `payload`, with one signature by `secret` under
// `keyid` (normally KeyId(public).Hex()).
std::string SignEnvelope(std::string_view payload_type, std::string_view payload,
                         const SecretKey& secret, std::string_view keyid);

// An envelope as parsed, nothing verified yet.
struct Envelope {
  struct Sig {
    std::string keyid;
    std::string sig;  // decoded signature bytes (any length; Verify checks 64)
  };
  std::string payload_type;
  std::string payload;  // decoded
  std::vector<Sig> signatures;
};

// Structural parse with the rules of the file comment (for a registry that
// validates uploads, and for callers that judge each signature themselves).
// kInvalidArgument saying which field and why.
Result<Envelope> ParseEnvelope(std::string_view envelope);

// Checks signature `sig` of `env` (over its PAE) with `pub`: OK,
// kInvalidArgument (not 64 bytes) or kUnauthenticated.
Status VerifyEnvelopeSignature(const Envelope& env, const Envelope::Sig& sig,
                               const PublicKey& pub);

// Trusted public keys, by the keyid string they sign under.
using TrustedKeys = std::map<std::string, PublicKey, std::less<>>;

struct VerifiedEnvelope {
  std::string payload_type;
  std::string payload;                       // decoded
  std::vector<std::string> verified_keyids;  // trusted keys whose signature verified, in order
};

// Parses `envelope` and checks each signature whose keyid is in `trusted`.
// Succeeds if at least one verifies, reporting which did. Errors:
//   kInvalidArgument  malformed envelope (message says which field and why)
//   kFailedPrecondition  payloadType is not `expected_type`
//   kUnauthenticated  no trusted signature verified (message lists each
//                     signature and why it did not count)
Result<VerifiedEnvelope> VerifyEnvelope(std::string_view envelope, std::string_view expected_type,
                                        const TrustedKeys& trusted);

}  // namespace arca::signing

#endif  // ARCA_SIGNING_DSSE_H_
