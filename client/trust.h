// The client's side of signing: loading the trust policy and the user's keys,
// enforcing the policy on a bundle before anything of it is used, and signing
// bundles. Used by push, pull, verify, sign, lineage and run.
#ifndef ARCA_CLIENT_TRUST_H_
#define ARCA_CLIENT_TRUST_H_

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "client/log_check.h"
#include "client/passphrase.h"
#include "client/remote.h"
#include "common/digest.h"
#include "common/result.h"
#include "format/manifest.h"
#include "signing/keyfile.h"
#include "signing/policy.h"
#include "signing/verify.h"

namespace arca::client {

struct TrustOptions {
  std::string policy_path;      // --policy; empty: signing::DefaultPolicyPath()
  bool allow_unsigned = false;  // --allow-unsigned: the user's explicit, loud opt-in
  std::string log_key;          // --log-key: a log verifier key, instead of the policy's "logs"
  std::string proof_file;       // verify --proof: a log proof file (default: DIR/.arca/log-proof.txt)
};

struct KeyOptions {
  std::string key_dir;  // --keys; empty: signing::DefaultKeyDir()
  PassphraseSource passphrase;
};

// The policy `trust` names. A missing policy file is an error that says how
// to write one, unless allow_unsigned is set: then std::nullopt (nothing can
// be verified, and the caller says so loudly).
Result<std::optional<signing::Policy>> LoadTrustPolicy(const TrustOptions& trust);

// Verifies a bundle under the policy (signing/verify.h). Returns the report
// when the policy is satisfied, with its warnings printed on `err` (unless
// quiet); otherwise kPermissionDenied whose message lists every failure. With
// no policy file and allow_unsigned, a report that says nothing was checked.
Result<signing::VerifyReport> EnforcePolicy(const TrustOptions& trust, const std::string& name,
                                            const std::string& manifest_bytes, const Digest& digest,
                                            const std::vector<std::string>& envelopes, std::ostream& err,
                                            bool quiet);

// The transparency-log check of a pull (client/log_check.h), when the policy
// has "logs": nullopt when it has none (or there is no policy and
// allow_unsigned), or when the registry serves no log and the policy's
// "require" is false (with a warning on `err`). `tag` is (repository, tag)
// for a pull by tag. Prints one line on `err` unless quiet.
Result<std::optional<LogEvidence>> EnforceLog(const TrustOptions& trust, Remote& remote, const Digest& bundle,
                                              const std::optional<std::pair<std::string, std::string>>& tag,
                                              std::ostream& err, bool quiet);

// Only judges (never fails on a refusal): for `arca verify`, which prints the
// whole report either way.
Result<signing::VerifyReport> JudgeBundle(const TrustOptions& trust, const std::string& name,
                                          const std::string& manifest_bytes, const Digest& digest,
                                          const std::vector<std::string>& envelopes);

// Loads the secret key KEY: a name in the keyring (ko.key_dir) or the path of
// a .key file; asks for the passphrase when the key is encrypted.
Result<signing::KeyPair> LoadSigningKey(const KeyOptions& ko, const std::string& key, signing::KeyInfo* info);

// The publisher's attestation: the bundle statement for `manifest` signed
// with `key`, as DSSE envelope JSON.
std::string SignBundle(const format::Manifest& manifest, const Digest& digest, const signing::KeyPair& key);

}  // namespace arca::client

#endif  // ARCA_CLIENT_TRUST_H_
