#include "client/trust.h"

#include <sys/stat.h>

#include "signing/statement.h"

namespace arca::client {

namespace {

std::string PolicyPath(const TrustOptions& trust) {
  return trust.policy_path.empty() ? signing::DefaultPolicyPath() : trust.policy_path;
}

// The report for "no policy, and the user said --allow-unsigned".
signing::VerifyReport Unchecked(const std::string& path, const std::string& manifest_bytes,
                                const std::vector<std::string>& envelopes) {
  signing::VerifyReport r;
  r.ok = true;
  r.unsigned_accepted = true;
  if (Result<format::Manifest> m = format::Manifest::Parse(manifest_bytes); m.ok()) r.manifest = std::move(*m);
  r.warnings.push_back("UNVERIFIED: there is no trust policy at " + path + ", so " +
                       std::to_string(envelopes.size()) +
                       " signature(s) were NOT checked; accepted only because of --allow-unsigned "
                       "(see docs/trust-policy.md to write a policy)");
  return r;
}

}  // namespace

Result<std::optional<signing::Policy>> LoadTrustPolicy(const TrustOptions& trust) {
  const std::string path = PolicyPath(trust);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    if (trust.allow_unsigned) return std::optional<signing::Policy>();
  }
  ARCA_ASSIGN_OR_RETURN(signing::Policy p, signing::LoadPolicy(path));
  return std::optional<signing::Policy>(std::move(p));
}

Result<signing::VerifyReport> JudgeBundle(const TrustOptions& trust, const std::string& name,
                                          const std::string& manifest_bytes, const Digest& digest,
                                          const std::vector<std::string>& envelopes) {
  ARCA_ASSIGN_OR_RETURN(std::optional<signing::Policy> policy, LoadTrustPolicy(trust));
  if (!policy) {
    // Even unverified, the manifest must be the bundle the reference named.
    if (Sha256Of(manifest_bytes) != digest) {
      signing::VerifyReport r;
      r.failures.push_back("the manifest does not match the bundle digest " + digest.ToString());
      return r;
    }
    return Unchecked(PolicyPath(trust), manifest_bytes, envelopes);
  }
  signing::Evidence ev;
  ev.name = name;
  ev.manifest_bytes = manifest_bytes;
  ev.bundle_digest = digest;
  ev.envelopes = envelopes;
  signing::VerifyOptions vo;
  vo.allow_unsigned = trust.allow_unsigned;
  return signing::VerifyBundle(*policy, ev, vo);
}

Result<std::optional<LogEvidence>> EnforceLog(const TrustOptions& trust, Remote& remote, const Digest& bundle,
                                              const std::optional<std::pair<std::string, std::string>>& tag,
                                              std::ostream& err, bool quiet) {
  ARCA_ASSIGN_OR_RETURN(std::optional<signing::Policy> policy, LoadTrustPolicy(trust));
  if (!policy || !policy->logs) return std::optional<LogEvidence>();
  Result<LogEvidence> ev = CheckLog(remote, *policy->logs, bundle, tag);
  if (!ev.ok() && ev.status().code() == StatusCode::kUnavailable && !policy->logs->require) {
    if (!quiet) err << "warning: " << ev.status().message() << "; accepted because the policy's logs.require is false\n";
    return std::optional<LogEvidence>();
  }
  if (!ev.ok()) return ev.status();
  if (!quiet) {
    const signing::Checkpoint& cp = ev->opened.checkpoint;
    err << "log: " << cp.origin << " (key " << ev->key_name << "), " << cp.size << " entries; publish entry #"
        << ev->publish.index;
    if (ev->tag) err << ", tag entry #" << ev->tag->index << " (move " << ev->tag_sequence << ")";
    err << " included; consistent with what was seen before\n";
  }
  return std::optional<LogEvidence>(std::move(*ev));
}

Result<signing::VerifyReport> EnforcePolicy(const TrustOptions& trust, const std::string& name,
                                            const std::string& manifest_bytes, const Digest& digest,
                                            const std::vector<std::string>& envelopes, std::ostream& err,
                                            bool quiet) {
  ARCA_ASSIGN_OR_RETURN(signing::VerifyReport r, JudgeBundle(trust, name, manifest_bytes, digest, envelopes));
  if (!r.ok) {
    std::string msg = "trust policy " + PolicyPath(trust) + " refuses " + (name.empty() ? "the bundle" : name) +
                      " (" + digest.ToString() + "); nothing was written:";
    for (const std::string& f : r.failures) msg += "\n  - " + f;
    if (r.failures.empty()) msg += "\n  - (no reason given)";
    return PermissionDeniedError(msg);
  }
  // Warnings are loud even in --quiet/--json: they say what was NOT checked.
  (void)quiet;
  for (const std::string& w : r.warnings) err << "arca: warning: " << w << "\n";
  return r;
}

Result<signing::KeyPair> LoadSigningKey(const KeyOptions& ko, const std::string& key, signing::KeyInfo* info) {
  const bool is_path = key.find('/') != std::string::npos || (key.size() > 4 && key.ends_with(".key"));
  const std::string where = is_path ? key : (ko.key_dir.empty() ? signing::DefaultKeyDir() : ko.key_dir);
  const std::string name = is_path ? "" : key;
  if (info != nullptr) {
    Result<signing::KeyInfo> ki = is_path ? signing::ReadKeyInfo(key) : signing::FindKey(where, name);
    if (!ki.ok()) return ki.status();
    *info = *ki;
  }
  return signing::LoadSecretKey(where, name, [&](const signing::KeyInfo& k) -> Result<std::string> {
    return PassphraseForKey(ko.passphrase, k.name);
  });
}

std::string SignBundle(const format::Manifest& manifest, const Digest& digest, const signing::KeyPair& key) {
  return signing::SignStatement(signing::BundleStatement(manifest, digest), key);
}

}  // namespace arca::client
