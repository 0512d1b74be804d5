// The mirror's countersignature (PROTOCOL.md §4): a DSSE envelope, signed by
// the mirror key, around an in-toto statement about a bundle the mirror took
// in, whose predicate carries the upstream evidence the mirror verified (the
// upstream checkpoint, the publish and tag entries with their inclusion
// proofs) and the policy decision. Anyone with the upstream's log key can
// re-check that evidence offline.
#ifndef ARCA_MIRROR_COUNTERSIGN_H_
#define ARCA_MIRROR_COUNTERSIGN_H_

#include <string>
#include <string_view>
#include <vector>

#include "client/log_check.h"
#include "common/digest.h"
#include "common/result.h"
#include "signing/keys.h"

namespace arca::mirror {

inline constexpr std::string_view kMirrorPredicateType = "urn:arca:predicate:mirror:v1";

struct CountersignInput {
  std::string mirror;      // the mirror's own log origin
  std::string source;      // the upstream's URL, or "archive:sha256:<id>"
  std::string repository;  // R
  std::string tag;         // T
  const client::LogEvidence* log = nullptr;  // the upstream evidence verified for R:T
  Digest policy_digest;    // SHA-256 of the policy file applied
  std::string rule;        // the policy rule that matched
  std::vector<std::string> keys;  // names of the keys that counted
  std::vector<Digest> envelopes;  // the upstream envelopes kept
  uint64_t time = 0;       // when the mirror verified (Unix seconds)
};

// The countersignature envelope for `bundle`.
Result<std::string> Countersign(const CountersignInput& in, const Digest& bundle, const signing::KeyPair& key);

// Whether one of `envelopes` is a mirror countersignature signed (by keyid)
// with `key`. Structure only: the mirror's own envelopes, read back.
bool HasCountersignature(const std::vector<std::string>& envelopes, const signing::PublicKey& key);

// The mirror key at `path` (an unencrypted SIGNING.md secret key file, mode
// 0600), created when absent.
Result<signing::KeyPair> LoadOrCreateMirrorKey(const std::string& path);

}  // namespace arca::mirror

#endif  // ARCA_MIRROR_COUNTERSIGN_H_
