// The client's trust policy (docs/trust-policy.md, SIGNING.md §5): which keys
// may sign which repositories, with what threshold, which keys are revoked,
// which licences are acceptable, and whether unsigned bundles are accepted.
//
//   {"schema":"arca.policy.v1",
//    "keys": {"alice": {"algorithm":"ed25519","public":"<b64>","keyid":"<hex>"?,
//                       "name":"..."?}},
//    "revoked": ["<keyid hex>", ...]?,
//    "licenses": {"allow":[SPDX ids]?, "deny":[SPDX ids]?}?,
//    "rules": [{"repositories":"qwen/*", "keys":["alice","bob"], "threshold":2,
//               "licenses":{...}?, "unsigned":"refuse"|"accept"?}, ...],
//    "logs": {"keys": ["<note verifier key>", ...], "require": true?,
//             "max_age_seconds": 86400?}?}
//
// "logs" lists the transparency-log keys the client trusts (signing/LOG.md;
// `arca-registry log-key` prints a registry's). With it, every pull checks
// the registry's signed checkpoint, the inclusion of the bundle's publish
// entry and of the tag's entry, and consistency with the newest checkpoint
// seen before; "require": false makes a registry without a log acceptable
// (a log that is served is still checked); "max_age_seconds" refuses a
// checkpoint older than that (a frozen registry). Without "logs", no log is
// checked.
//
// Repository patterns: '*' matches any run of characters within one path
// component (never '/'), '**' matches any run including '/'; every other
// character matches itself. So "qwen/*" matches "qwen/qwen2" but not
// "qwen/a/b", "acme/**" matches everything under "acme/", and "**" matches
// every name. Rules are tried in order; the first match decides.
//
// Licence expressions are SPDX (ids, LicenseRef-..., AND, OR, WITH, and
// parentheses; AND binds tighter than OR). An id is acceptable if it is not
// denied and the allow list is empty or holds it; A OR B is acceptable if
// either side is, A AND B if both are, "X WITH e" if X is.
//
// A Policy is an immutable value once loaded; share it freely across threads.
#ifndef ARCA_SIGNING_POLICY_H_
#define ARCA_SIGNING_POLICY_H_

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"
#include "common/result.h"
#include "signing/keys.h"
#include "signing/note.h"

namespace arca::signing {

inline constexpr std::string_view kPolicySchema = "arca.policy.v1";
inline constexpr uint64_t kMaxPolicyBytes = 4u << 20;
inline constexpr size_t kMaxPolicyKeys = 4096;
inline constexpr size_t kMaxPolicyRules = 4096;
inline constexpr size_t kMaxLicenseIds = 4096;
inline constexpr size_t kMaxLicenseExpressionBytes = 4096;
inline constexpr size_t kMaxLicenseDepth = 32;
inline constexpr size_t kMaxPatternBytes = 512;

struct LicensePolicy {
  std::vector<std::string> allow;  // empty: any id not denied
  std::vector<std::string> deny;
};

enum class UnsignedMode { kRefuse, kAccept };

struct PolicyKey {
  std::string name;  // the name the policy gives it (its "keys" map key)
  PublicKey pub;
  Digest keyid;      // KeyId(pub)
};

struct PolicyRule {
  std::string repositories;        // the glob pattern
  std::vector<std::string> keys;   // names in Policy::keys, distinct
  int threshold = 1;               // 1..keys.size(); 0 only when keys is empty
  std::optional<LicensePolicy> licenses;  // overrides Policy::licenses
  UnsignedMode unsigned_mode = UnsignedMode::kRefuse;
  size_t index = 0;                // position in "rules", for messages

  // "policy rule 'qwen/*'": how messages name the rule.
  std::string Label() const;
};

struct LogPolicy {
  std::vector<NoteVerifier> keys;  // at least one
  bool require = true;
  uint64_t max_age_seconds = 0;    // 0: any age
};

struct Policy {
  std::string path;  // where it was loaded from ("" when parsed from text)
  std::map<std::string, PolicyKey, std::less<>> keys;
  std::set<Digest> revoked;
  std::optional<LicensePolicy> licenses;  // the global default
  std::vector<PolicyRule> rules;
  std::optional<LogPolicy> logs;

  // The first rule whose pattern matches `name`, or null.
  const PolicyRule* Match(std::string_view name) const;
  // The policy key with this keyid, or null.
  const PolicyKey* FindKeyById(const Digest& keyid) const;
  bool IsRevoked(const Digest& keyid) const { return revoked.count(keyid) != 0; }
  // The licence lists that apply under `rule` (its own, else the global ones;
  // null when neither is set).
  const LicensePolicy* LicensesFor(const PolicyRule& rule) const;
};

// $ARCA_POLICY, else $XDG_CONFIG_HOME/arca/policy.json, else
// $HOME/.config/arca/policy.json.
std::string DefaultPolicyPath();

// Reads and parses the policy at `path`. A missing file is kNotFound saying
// how to create one (docs/trust-policy.md); a malformed one is
// kInvalidArgument naming the file and the field.
Result<Policy> LoadPolicy(const std::string& path);
// Strict parse of policy text; `source` names it in messages.
Result<Policy> ParsePolicy(std::string_view text, std::string_view source = "policy");

// Checks a repository pattern (non-empty, at most kMaxPatternBytes, of
// [a-z0-9._/*-], no empty component, '*' runs of length 1 or 2 only).
Status ValidatePattern(std::string_view pattern);
// Whether `name` matches `pattern` (semantics in the file comment).
bool GlobMatch(std::string_view pattern, std::string_view name);

// A parsed SPDX licence expression.
struct LicenseExpr {
  enum class Kind { kId, kWith, kAnd, kOr };
  Kind kind = Kind::kId;
  std::string id;         // kId: the licence id or LicenseRef-...; kWith: the exception
  std::vector<std::unique_ptr<LicenseExpr>> children;  // kWith: 1 (the licence); kAnd/kOr: 2 or more
};

// Parses an SPDX licence expression (ids of [A-Za-z0-9.+-], LicenseRef- and
// DocumentRef- ids, AND/OR/WITH case-insensitively, parentheses), at most
// kMaxLicenseExpressionBytes long and kMaxLicenseDepth deep.
// kInvalidArgument saying where it fails.
Result<std::unique_ptr<LicenseExpr>> ParseLicenseExpression(std::string_view text);

struct LicenseDecision {
  bool accepted = false;
  // Accepted: "licence Apache-2.0 accepted by ..."; refused: names the
  // licence and the list, e.g. "licence CC-BY-NC-4.0 is on the deny list of
  // policy rule 'x/*'".
  std::string text;
};

// Decides `spdx` (the manifest's expression, possibly empty) under `lists`
// (null = no lists). `where` names the lists' origin in the text ("policy
// rule 'x/*'" or "the policy's global licence lists"). No licence: refused when an allow list is set,
// else accepted with a note. An unparsable expression is refused.
LicenseDecision DecideLicense(const LicensePolicy* lists, std::string_view spdx,
                              std::string_view where);

}  // namespace arca::signing

#endif  // ARCA_SIGNING_POLICY_H_
