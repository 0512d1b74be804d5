// Trust policy parsing and repository pattern matching (policy.h).
#include "signing/policy.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

#include "common/file.h"
#include "signing/internal/json.h"
#include "signing/keyfile.h"

namespace arca::signing {

using internal::Json;

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

bool IsLowerHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string Quote(std::string_view s) { return "'" + internal::Printable(s) + "'"; }

Result<std::vector<std::string>> StringArray(const Json& obj, std::string_view field, size_t max_items,
                                             size_t max_len, std::string_view where) {
  std::vector<std::string> out;
  auto it = obj.find(field);
  if (it == obj.end()) return out;
  const std::string at = std::string(where) + ": \"" + std::string(field) + "\"";
  if (!it->is_array()) return InvalidArgumentError(at + " is not an array");
  if (it->size() > max_items) {
    return InvalidArgumentError(at + " has more than " + std::to_string(max_items) + " entries");
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& v = (*it)[i];
    if (!v.is_string()) return InvalidArgumentError(at + "[" + std::to_string(i) + "] is not a string");
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > max_len) {
      return InvalidArgumentError(at + "[" + std::to_string(i) + "] must be 1 to " + std::to_string(max_len) +
                                  " bytes");
    }
    out.push_back(s);
  }
  return out;
}

Result<LicensePolicy> ParseLicenses(const Json& j, const std::string& where) {
  if (!j.is_object()) return InvalidArgumentError(where + " is not an object");
  ARCA_RETURN_IF_ERROR(internal::OnlyFields(j, {"allow", "deny"}, where));
  LicensePolicy out;
  ARCA_ASSIGN_OR_RETURN(out.allow, StringArray(j, "allow", kMaxLicenseIds, 256, where));
  ARCA_ASSIGN_OR_RETURN(out.deny, StringArray(j, "deny", kMaxLicenseIds, 256, where));
  for (const auto* list : {&out.allow, &out.deny}) {
    for (const std::string& id : *list) {
      // Each entry must be a single licence id, not an expression.
      Result<std::unique_ptr<LicenseExpr>> e = ParseLicenseExpression(id);
      if (!e.ok() || (*e)->kind != LicenseExpr::Kind::kId) {
        return InvalidArgumentError(where + ": " + Quote(id) +
                                    " is not a single SPDX licence id (write one id per entry, e.g. \"MIT\")");
      }
    }
  }
  for (const std::string& id : out.allow) {
    for (const std::string& d : out.deny) {
      if (std::equal(id.begin(), id.end(), d.begin(), d.end(),
                     [](char a, char b) { return std::tolower((unsigned char)a) == std::tolower((unsigned char)b); })) {
        return InvalidArgumentError(where + ": " + Quote(id) + " is on both the allow and the deny list");
      }
    }
  }
  return out;
}

Result<PolicyRule> ParseRule(const Json& j, size_t index, const Policy& policy, const std::string& source) {
  const std::string where = source + ": rules[" + std::to_string(index) + "]";
  if (!j.is_object()) return InvalidArgumentError(where + " is not an object");
  ARCA_RETURN_IF_ERROR(
      internal::OnlyFields(j, {"repositories", "keys", "threshold", "licenses", "unsigned"}, where));
  PolicyRule rule;
  rule.index = index;
  ARCA_ASSIGN_OR_RETURN(rule.repositories, internal::RequiredString(j, "repositories", kMaxPatternBytes, where));
  ARCA_RETURN_IF_ERROR(ValidatePattern(rule.repositories).WithContext(where + ": \"repositories\""));
  ARCA_ASSIGN_OR_RETURN(rule.keys, StringArray(j, "keys", kMaxPolicyKeys, 64, where));
  std::set<std::string, std::less<>> seen;
  for (const std::string& k : rule.keys) {
    if (policy.keys.find(k) == policy.keys.end()) {
      return InvalidArgumentError(where + ": key " + Quote(k) +
                                  " is not defined in \"keys\" (add it there, as `arca key export` prints it)");
    }
    if (!seen.insert(k).second) return InvalidArgumentError(where + ": key " + Quote(k) + " is listed twice");
  }
  ARCA_ASSIGN_OR_RETURN(std::optional<std::string> unsigned_mode,
                        internal::OptionalString(j, "unsigned", 16, where));
  if (unsigned_mode) {
    if (*unsigned_mode == "accept") {
      rule.unsigned_mode = UnsignedMode::kAccept;
    } else if (*unsigned_mode != "refuse") {
      return InvalidArgumentError(where + ": \"unsigned\" is " + Quote(*unsigned_mode) +
                                  "; use \"refuse\" (the default) or \"accept\"");
    }
  }
  if (rule.keys.empty()) {
    if (rule.unsigned_mode != UnsignedMode::kAccept) {
      return InvalidArgumentError(where + ": \"keys\" is missing or empty; list the keys that may sign " +
                                  Quote(rule.repositories) + ", or set \"unsigned\": \"accept\"");
    }
    if (j.contains("threshold")) {
      return InvalidArgumentError(where + ": \"threshold\" needs \"keys\" to count");
    }
    rule.threshold = 0;
  } else if (j.contains("threshold")) {
    const Json& t = j["threshold"];
    if (!t.is_number_integer()) return InvalidArgumentError(where + ": \"threshold\" is not an integer");
    const int64_t v = t.get<int64_t>();
    if (v < 1 || uint64_t(v) > rule.keys.size()) {
      return InvalidArgumentError(where + ": \"threshold\" " + std::to_string(v) + " must be between 1 and " +
                                  std::to_string(rule.keys.size()) + " (the number of keys in the rule)");
    }
    rule.threshold = int(v);
  } else {
    rule.threshold = 1;
  }
  if (auto l = j.find("licenses"); l != j.end()) {
    ARCA_ASSIGN_OR_RETURN(rule.licenses, ParseLicenses(*l, where + ": \"licenses\""));
  }
  return rule;
}

}  // namespace

std::string PolicyRule::Label() const {
  return "policy rule '" + internal::Printable(repositories) + "'";
}

const PolicyRule* Policy::Match(std::string_view name) const {
  for (const PolicyRule& r : rules) {
    if (GlobMatch(r.repositories, name)) return &r;
  }
  return nullptr;
}

const PolicyKey* Policy::FindKeyById(const Digest& keyid) const {
  for (const auto& [name, key] : keys) {
    if (key.keyid == keyid) return &key;
  }
  return nullptr;
}

const LicensePolicy* Policy::LicensesFor(const PolicyRule& rule) const {
  if (rule.licenses) return &*rule.licenses;
  if (licenses) return &*licenses;
  return nullptr;
}

std::string DefaultPolicyPath() {
  if (std::string p = Env("ARCA_POLICY"); !p.empty()) return p;
  if (std::string x = Env("XDG_CONFIG_HOME"); !x.empty()) return x + "/arca/policy.json";
  std::string home = Env("HOME");
  return (home.empty() ? std::string(".") : home) + "/.config/arca/policy.json";
}

Status ValidatePattern(std::string_view pattern) {
  if (pattern.empty() || pattern.size() > kMaxPatternBytes) {
    return InvalidArgumentError("pattern must be 1 to " + std::to_string(kMaxPatternBytes) + " bytes");
  }
  for (char c : pattern) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '/' ||
          c == '*')) {
      return InvalidArgumentError("pattern " + Quote(pattern) +
                                  " may only hold a-z 0-9 . _ - / and * (repository names are lower case)");
    }
  }
  if (pattern.find("***") != std::string_view::npos) {
    return InvalidArgumentError("pattern " + Quote(pattern) + ": use * (within a component) or ** (across '/')");
  }
  if (pattern.front() == '/' || pattern.back() == '/' || pattern.find("//") != std::string_view::npos) {
    return InvalidArgumentError("pattern " + Quote(pattern) + " has an empty path component");
  }
  return Status::Ok();
}

bool GlobMatch(std::string_view pattern, std::string_view name) {
  // Dynamic programming over (pattern position, name position): no
  // backtracking blow-up whatever the number of stars.
  const size_t n = name.size();
  std::vector<char> cur(n + 1, 0), next(n + 1, 0);
  cur[0] = 1;
  size_t i = 0;
  while (i < pattern.size()) {
    std::fill(next.begin(), next.end(), 0);
    if (pattern[i] == '*') {
      const bool any = i + 1 < pattern.size() && pattern[i + 1] == '*';
      // next[j] = some k <= j with cur[k] and name[k..j) free of '/' (unless **).
      bool reach = false;
      for (size_t j = 0; j <= n; ++j) {
        if (j > 0 && !any && name[j - 1] == '/') reach = false;
        reach = reach || cur[j];
        next[j] = reach;
      }
      i += any ? 2 : 1;
    } else {
      for (size_t j = 0; j < n; ++j) next[j + 1] = cur[j] && name[j] == pattern[i];
      ++i;
    }
    std::swap(cur, next);
  }
  return cur[n] != 0;
}

Result<Policy> ParsePolicy(std::string_view text, std::string_view source_view) {
  const std::string source(source_view);
  if (text.size() > kMaxPolicyBytes) {
    return InvalidArgumentError(source + " is larger than " + std::to_string(kMaxPolicyBytes) + " bytes");
  }
  ARCA_ASSIGN_OR_RETURN(Json j, internal::ParseObject(text, source));
  ARCA_RETURN_IF_ERROR(internal::OnlyFields(j, {"schema", "keys", "revoked", "licenses", "rules", "logs"}, source));
  ARCA_ASSIGN_OR_RETURN(std::string schema, internal::RequiredString(j, "schema", 64, source));
  if (schema != kPolicySchema) {
    return InvalidArgumentError(source + ": \"schema\" is " + Quote(schema) + ", expected \"" +
                                std::string(kPolicySchema) + "\"");
  }
  Policy policy;
  if (auto keys = j.find("keys"); keys != j.end()) {
    if (!keys->is_object()) return InvalidArgumentError(source + ": \"keys\" is not an object");
    if (keys->size() > kMaxPolicyKeys) {
      return InvalidArgumentError(source + ": \"keys\" has more than " + std::to_string(kMaxPolicyKeys) + " keys");
    }
    for (auto it = keys->begin(); it != keys->end(); ++it) {
      const std::string where = source + ": keys." + internal::Printable(it.key());
      ARCA_RETURN_IF_ERROR(ValidateKeyName(it.key()).WithContext(source + ": \"keys\""));
      PolicyKey key;
      key.name = it.key();
      ARCA_ASSIGN_OR_RETURN(key.pub, internal::PublicKeyFromJson(it.value(), where, nullptr));
      key.keyid = KeyId(key.pub);
      if (const PolicyKey* dup = policy.FindKeyById(key.keyid)) {
        return InvalidArgumentError(where + " is the same public key as keys." + dup->name +
                                    "; give each key one name");
      }
      policy.keys.emplace(key.name, std::move(key));
    }
  }
  ARCA_ASSIGN_OR_RETURN(std::vector<std::string> revoked, StringArray(j, "revoked", kMaxPolicyKeys, 128, source));
  for (size_t i = 0; i < revoked.size(); ++i) {
    if (!IsLowerHex64(revoked[i])) {
      return InvalidArgumentError(source + ": \"revoked\"[" + std::to_string(i) + "] " + Quote(revoked[i]) +
                                  " is not a key id (64 lower-case hex characters, as `arca key list` shows)");
    }
    policy.revoked.insert(*Digest::Parse("sha256:" + revoked[i]));
  }
  if (auto l = j.find("licenses"); l != j.end()) {
    ARCA_ASSIGN_OR_RETURN(policy.licenses, ParseLicenses(*l, source + ": \"licenses\""));
  }
  auto rules = j.find("rules");
  if (rules == j.end() || !rules->is_array() || rules->empty()) {
    return InvalidArgumentError(source + ": \"rules\" must be a non-empty array (without rules every bundle "
                                "is refused); see docs/trust-policy.md");
  }
  if (rules->size() > kMaxPolicyRules) {
    return InvalidArgumentError(source + ": more than " + std::to_string(kMaxPolicyRules) + " rules");
  }
  for (size_t i = 0; i < rules->size(); ++i) {
    ARCA_ASSIGN_OR_RETURN(PolicyRule rule, ParseRule((*rules)[i], i, policy, source));
    policy.rules.push_back(std::move(rule));
  }
  if (auto l = j.find("logs"); l != j.end()) {
    const std::string where = source + ": \"logs\"";
    if (!l->is_object()) return InvalidArgumentError(where + " is not an object");
    ARCA_RETURN_IF_ERROR(internal::OnlyFields(*l, {"keys", "require", "max_age_seconds"}, where));
    ARCA_ASSIGN_OR_RETURN(std::vector<std::string> keys, StringArray(*l, "keys", 64, 1024, where));
    if (keys.empty()) {
      return InvalidArgumentError(where + " needs \"keys\": the verifier keys of the logs you trust "
                                  "(`arca-registry log-key` prints a registry's)");
    }
    LogPolicy logs;
    for (size_t i = 0; i < keys.size(); ++i) {
      Result<NoteVerifier> v = ParseVerifierKey(keys[i]);
      if (!v.ok()) {
        return InvalidArgumentError(where + ".keys[" + std::to_string(i) + "] is not a note verifier key: " +
                                    std::string(v.status().message()));
      }
      logs.keys.push_back(std::move(*v));
    }
    if (auto r = l->find("require"); r != l->end()) {
      if (!r->is_boolean()) return InvalidArgumentError(where + ".require must be true or false");
      logs.require = r->get<bool>();
    }
    if (l->contains("max_age_seconds")) {
      ARCA_ASSIGN_OR_RETURN(logs.max_age_seconds, internal::RequiredUint(*l, "max_age_seconds", where));
    }
    policy.logs = std::move(logs);
  }
  return policy;
}

Result<Policy> LoadPolicy(const std::string& path) {
  Result<std::string> text = ReadFile(path, kMaxPolicyBytes);
  if (text.status().code() == StatusCode::kNotFound) {
    return NotFoundError("no trust policy at " + path +
                         "; create one (docs/trust-policy.md has examples), or point --policy or $ARCA_POLICY at it");
  }
  if (!text.ok()) return text.status().WithContext("trust policy");
  ARCA_ASSIGN_OR_RETURN(Policy policy, ParsePolicy(*text, "policy " + path));
  policy.path = path;
  return policy;
}

}  // namespace arca::signing
