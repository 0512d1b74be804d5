// The verification engine (verify.h, SIGNING.md §6).
//
// Order of checks: the manifest bytes against the digest the reference named
// (nothing else is trusted before that), the manifest's rules, the name, the
// policy rule, each signature of each envelope, the threshold, the licence.
// Every check that fails adds a failure naming what failed; the verdict is
// ok only when there is none.
#include "signing/verify.h"

#include <algorithm>
#include <map>
#include <set>

#include "signing/dsse.h"
#include "signing/internal/json.h"
#include "signing/statement.h"

namespace arca::signing {

using internal::Json;
using internal::Printable;
using Outcome = SignatureCheck::Outcome;

namespace {

bool IsLowerHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Flattens a predicate to "field" / "field.sub" -> canonical value text, one
// level of objects deep (the bundle predicate has no deeper objects).
std::map<std::string, std::string> Flatten(const Json& j) {
  std::map<std::string, std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it->is_object() && !it->empty()) {
      for (auto sub = it->begin(); sub != it->end(); ++sub) out[it.key() + "." + sub.key()] = sub->dump();
    } else {
      out[it.key()] = it->dump();
    }
  }
  return out;
}

// Empty if the signed bundle predicate says what the manifest says, else
// which field differs.
std::string PredicateDifference(const std::string& signed_json, const format::Manifest& m) {
  const Json got = Json::parse(signed_json, nullptr, false);
  const Json want = Json::parse(BundlePredicate(m), nullptr, false);
  if (!got.is_object()) return "the predicate is not an object";
  const auto g = Flatten(got);
  const auto w = Flatten(want);
  for (const auto& [field, value] : w) {
    auto it = g.find(field);
    if (it == g.end()) return "field " + field + " is missing from the signed predicate (manifest: " + Printable(value) + ")";
    if (it->second != value) {
      return "field " + field + " is " + Printable(it->second) + " in the signed predicate but " +
             Printable(value) + " in the manifest";
    }
  }
  for (const auto& [field, value] : g) {
    if (w.count(field) == 0) return "field " + field + " (" + Printable(value) + ") is not in the manifest";
  }
  return "";
}

std::string ShortKeyId(std::string_view hex) {
  return Printable(hex.size() > 16 ? std::string(hex.substr(0, 16)) + "..." : std::string(hex));
}

std::string KeyLabel(const std::string& name, std::string_view keyid_hex) {
  if (name.empty()) return "keyid " + Printable(keyid_hex);
  return "key " + name + " (keyid " + ShortKeyId(keyid_hex) + ")";
}

std::string PolicyName(const Policy& policy) {
  return policy.path.empty() ? std::string("the trust policy") : "policy " + policy.path;
}

// Judges every signature of envelope `index`; appends one check per signature
// (or one kMalformed check for an envelope that does not parse).
void CheckEnvelope(const Policy& policy, const PolicyRule* rule, const format::Manifest& m,
                   const Digest& digest, size_t index, std::string_view text, VerifyReport* report) {
  const std::string where = "envelope " + std::to_string(index);
  SignatureCheck base;
  base.envelope = index;
  Result<Envelope> env = ParseEnvelope(text);
  if (!env.ok()) {
    base.detail = where + " is malformed: " + std::string(env.status().message());
    report->signatures.push_back(base);
    return;
  }
  if (env->payload_type != kInTotoPayloadType) {
    base.detail = where + ": payloadType \"" + Printable(env->payload_type) + "\" is not \"" +
                  std::string(kInTotoPayloadType) + "\"";
    report->signatures.push_back(base);
    return;
  }
  Result<Statement> st = ParseStatement(env->payload);
  if (!st.ok()) {
    base.detail = where + ": the in-toto statement is malformed: " + std::string(st.status().message());
    report->signatures.push_back(base);
    return;
  }
  base.predicate_type = st->predicate_type;
  const bool is_bundle = st->predicate_type == kBundlePredicateType;
  const bool about_digest = std::any_of(st->subjects.begin(), st->subjects.end(),
                                        [&](const Subject& s) { return s.digest == digest; });
  const bool names_bundle = std::any_of(st->subjects.begin(), st->subjects.end(), [&](const Subject& s) {
    return s.digest == digest && s.name == m.meta.name;
  });

  for (const Envelope::Sig& sig : env->signatures) {
    SignatureCheck c = base;
    c.keyid_hex = sig.keyid;
    const PolicyKey* key = nullptr;
    std::optional<Digest> keyid;
    if (IsLowerHex64(sig.keyid)) keyid = *Digest::Parse("sha256:" + sig.keyid);
    if (keyid) key = policy.FindKeyById(*keyid);
    if (key != nullptr) c.key_name = key->name;
    const std::string who = KeyLabel(c.key_name, sig.keyid);
    if (keyid && policy.IsRevoked(*keyid)) {
      c.outcome = Outcome::kRevoked;
      c.detail = where + ": signed by " + who + ", which is revoked by " + PolicyName(policy);
    } else if (key == nullptr) {
      c.outcome = Outcome::kUnknownKey;
      c.detail = where + ": signed by unknown keyid " + Printable(sig.keyid) + ", which is not in " +
                 PolicyName(policy) + " (add its public key under \"keys\" if you trust it)";
    } else if (Status s = VerifyEnvelopeSignature(*env, sig, key->pub); !s.ok()) {
      c.outcome = Outcome::kBadSignature;
      c.detail = where + ": the signature by " + who + " does not verify (" + std::string(s.message()) +
                 "): the payload or the signature was altered";
    } else if (!about_digest || (is_bundle && !names_bundle)) {
      c.outcome = Outcome::kWrongSubject;
      std::string subjects;
      for (const Subject& subj : st->subjects) {
        subjects += (subjects.empty() ? "" : ", ") + Printable(subj.name) + "@" + subj.digest.ToString();
      }
      c.detail = where + ": signed by " + who + " about " + subjects + ", not " + Printable(m.meta.name) + "@" +
                 digest.ToString();
    } else if (is_bundle) {
      const std::string diff = PredicateDifference(st->predicate_json, m);
      if (!diff.empty()) {
        c.outcome = Outcome::kPredicateMismatch;
        c.detail = where + ": " + who + " signed a bundle predicate that disagrees with the manifest: " + diff;
      } else if (rule != nullptr && std::find(rule->keys.begin(), rule->keys.end(), key->name) != rule->keys.end()) {
        c.outcome = Outcome::kCounted;
        c.detail = where + ": valid signature by " + who;
      } else {
        c.outcome = Outcome::kValidNotInRule;
        c.detail = where + ": valid signature by " + who + ", but " +
                   (rule ? rule->Label() + " does not list this key" : std::string("no policy rule applies"));
      }
    } else {
      c.outcome = Outcome::kOtherAttestation;
      c.detail = where + ": " + Printable(st->predicate_type) + " attestation signed by " + who;
      report->attestations.push_back(Printable(st->predicate_type) + " signed by " + who);
    }
    report->signatures.push_back(std::move(c));
  }
}

void Line(std::string* out, std::string_view label, std::string_view text) {
  std::string l(label);
  l.resize(std::max<size_t>(l.size(), 13), ' ');
  *out += l + std::string(text) + "\n";
}

}  // namespace

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kCounted: return "counted";
    case Outcome::kValidNotInRule: return "valid-not-in-rule";
    case Outcome::kRevoked: return "revoked";
    case Outcome::kUnknownKey: return "unknown-key";
    case Outcome::kBadSignature: return "bad-signature";
    case Outcome::kWrongSubject: return "wrong-subject";
    case Outcome::kPredicateMismatch: return "predicate-mismatch";
    case Outcome::kMalformed: return "malformed";
    case Outcome::kOtherAttestation: return "other-attestation";
  }
  return "unknown";
}

Result<VerifyReport> VerifyBundle(const Policy& policy, const Evidence& ev, const VerifyOptions& options) {
  if (ev.envelopes.size() > kMaxEnvelopesPerBundle) {
    return InvalidArgumentError(std::to_string(ev.envelopes.size()) + " attestations for one bundle, over the limit of " +
                                std::to_string(kMaxEnvelopesPerBundle));
  }
  if (ev.manifest_bytes.size() > format::kMaxManifestBytes) {
    return InvalidArgumentError("manifest is " + std::to_string(ev.manifest_bytes.size()) +
                                " bytes, over the limit of " + std::to_string(format::kMaxManifestBytes));
  }
  VerifyReport r;
  const Digest actual = Sha256Of(ev.manifest_bytes);
  if (actual != ev.bundle_digest) {
    r.failures.push_back("manifest does not match digest " + ev.bundle_digest.ToString() + ": its SHA-256 is " +
                         actual.ToString() + " (the manifest was altered, or the reference names another bundle)");
    return r;
  }
  Result<format::Manifest> m = format::Manifest::Parse(ev.manifest_bytes);
  if (!m.ok()) {
    r.failures.push_back("manifest " + actual.ToString() + " is not a valid manifest: " +
                         std::string(m.status().message()));
    return r;
  }
  r.manifest = std::move(m).value();
  const std::string& bundle = r.manifest.meta.name;
  const std::string name = ev.name.empty() ? bundle : ev.name;
  if (name != bundle) {
    r.failures.push_back("asked for " + Printable(name) + " but the manifest names " + Printable(bundle) +
                         " (a signature for one repository does not vouch for another)");
  }

  const PolicyRule* rule = policy.Match(name);
  if (rule == nullptr) {
    r.failures.push_back("no rule in " + PolicyName(policy) + " matches " + Printable(name) +
                         " (add a rule whose \"repositories\" pattern matches it)");
  } else {
    r.rule = rule->repositories;
    r.rule_label = rule->Label();
    r.threshold = rule->threshold;
  }

  for (size_t i = 0; i < ev.envelopes.size(); ++i) {
    CheckEnvelope(policy, rule, r.manifest, ev.bundle_digest, i, ev.envelopes[i], &r);
  }

  std::set<std::string> counted;
  for (const SignatureCheck& c : r.signatures) {
    if (c.outcome == Outcome::kCounted && counted.insert(c.key_name).second) r.signers.push_back(c.key_name);
  }
  r.counted = int(counted.size());

  if (rule != nullptr) {
    const bool no_envelopes = ev.envelopes.empty();
    const bool met = !rule->keys.empty() && r.counted >= rule->threshold;
    std::string keys;
    for (const std::string& k : rule->keys) keys += (keys.empty() ? "" : ", ") + k;
    if (met) {
      // Enough: the others are only worth a warning.
      for (const SignatureCheck& c : r.signatures) {
        // Another kind of attestation (a mirror's countersignature, an
        // approval) by a key the policy does not know claims nothing here:
        // listed as unchecked, not worth a warning on every pull.
        if (c.outcome == Outcome::kUnknownKey && c.predicate_type != kBundlePredicateType) {
          r.attestations.push_back(Printable(c.predicate_type) + " signed by unknown keyid " +
                                   Printable(c.keyid_hex) + " (not checked)");
          continue;
        }
        if (c.outcome != Outcome::kCounted && c.outcome != Outcome::kOtherAttestation &&
            c.outcome != Outcome::kPredicateMismatch) {
          r.warnings.push_back(c.detail);
        }
      }
    } else if (rule->keys.empty() || (no_envelopes && rule->unsigned_mode == UnsignedMode::kAccept)) {
      r.unsigned_accepted = true;
      r.warnings.push_back(std::string(no_envelopes ? "bundle is unsigned" : "no signature counted") +
                           "; accepted because " + rule->Label() + " says \"unsigned\": \"accept\"");
    } else if (no_envelopes && options.allow_unsigned) {
      r.unsigned_accepted = true;
      r.warnings.push_back("UNSIGNED BUNDLE ACCEPTED because you asked to allow unsigned bundles: nothing vouches for " +
                           Printable(name) + "; " + rule->Label() + " would require " +
                           std::to_string(rule->threshold) + " of " + keys);
    } else if (no_envelopes) {
      r.failures.push_back(Printable(name) + " is unsigned; " + rule->Label() + " requires signatures by " +
                           std::to_string(rule->threshold) + " of " + keys +
                           " (to accept it anyway, allow unsigned bundles explicitly)");
    } else {
      std::string signers;
      for (const std::string& s : r.signers) signers += (signers.empty() ? "" : ", ") + s;
      r.failures.push_back(rule->Label() + " requires " + std::to_string(rule->threshold) + " of " + keys +
                           "; " + std::to_string(r.counted) + " signed" +
                           (signers.empty() ? std::string() : " (" + signers + ")"));
      for (const SignatureCheck& c : r.signatures) {
        if (c.outcome != Outcome::kCounted && c.outcome != Outcome::kOtherAttestation &&
            c.outcome != Outcome::kPredicateMismatch) {
          r.failures.push_back(c.detail);
        }
      }
    }
  }
  // A trusted key that signed a statement contradicting the manifest is a
  // failure whatever the count: the signer vouched for something else.
  for (const SignatureCheck& c : r.signatures) {
    if (c.outcome == Outcome::kPredicateMismatch) r.failures.push_back(c.detail);
  }

  const LicensePolicy* lists = rule != nullptr ? policy.LicensesFor(*rule) : nullptr;
  const std::string lists_where = rule != nullptr && rule->licenses ? rule->Label()
                                                                     : std::string("the policy's global licence lists");
  if (rule == nullptr && policy.licenses) lists = &*policy.licenses;
  LicenseDecision lic = DecideLicense(lists, r.manifest.meta.license.spdx, lists_where);
  r.license_decision = lic.text;
  if (!lic.accepted) r.failures.push_back(lic.text);

  r.ok = r.failures.empty();
  return r;
}

std::string FormatReport(const VerifyReport& r) {
  std::string out;
  const format::Metadata& meta = r.manifest.meta;
  if (!meta.name.empty()) {
    Line(&out, "bundle", Printable(meta.name) + (meta.version.empty() ? "" : " " + Printable(meta.version)) + "  " +
                             r.manifest.BundleDigest().ToString());
    if (!meta.publisher.empty()) Line(&out, "publisher", Printable(meta.publisher));
  }
  if (!r.rule_label.empty()) {
    Line(&out, "rule", r.rule_label + (r.threshold > 0 ? ": " + std::to_string(r.threshold) + " signature(s) required, " +
                                                             std::to_string(r.counted) + " counted"
                                                       : ": signatures not required"));
  }
  for (const SignatureCheck& c : r.signatures) {
    Line(&out, "signature", "[" + std::string(OutcomeName(c.outcome)) + "] " + Printable(c.detail));
  }
  if (r.signatures.empty()) Line(&out, "signature", "none");
  for (const std::string& a : r.attestations) Line(&out, "attestation", a);
  if (!r.license_decision.empty()) Line(&out, "licence", Printable(r.license_decision));
  const format::Provenance& p = meta.provenance;
  if (!p.source.empty()) Line(&out, "source", Printable(p.source) + (p.revision.empty() ? "" : " @ " + Printable(p.revision)));
  for (const Digest& d : p.base_models) Line(&out, "base model", d.ToString());
  for (const std::string& d : p.datasets) Line(&out, "dataset", Printable(d));
  for (const std::string& w : r.warnings) Line(&out, "WARNING", Printable(w));
  for (const std::string& f : r.failures) Line(&out, "FAILED", Printable(f));
  if (!r.ok) {
    Line(&out, "policy", "REFUSED: the trust policy is not satisfied");
  } else if (r.unsigned_accepted) {
    Line(&out, "policy", "UNVERIFIED: accepted without a checked signature");
  } else {
    Line(&out, "policy", "OK: the trust policy is satisfied");
  }
  return out;
}

std::string ReportJson(const VerifyReport& r) {
  Json sigs = Json::array();
  for (const SignatureCheck& c : r.signatures) {
    sigs.push_back({{"envelope", c.envelope},
                    {"keyid", Printable(c.keyid_hex)},
                    {"key", c.key_name},
                    {"predicate_type", Printable(c.predicate_type)},
                    {"outcome", std::string(OutcomeName(c.outcome))},
                    {"detail", Printable(c.detail)}});
  }
  Json base = Json::array();
  for (const Digest& d : r.manifest.meta.provenance.base_models) base.push_back(d.ToString());
  auto printable_list = [](const std::vector<std::string>& v) {
    Json a = Json::array();
    for (const std::string& s : v) a.push_back(Printable(s));
    return a;
  };
  Json j = {{"ok", r.ok},
            {"name", r.manifest.meta.name},
            {"rule", r.rule},
            {"threshold", r.threshold},
            {"counted", r.counted},
            {"signers", r.signers},
            {"signatures", sigs},
            {"attestations", printable_list(r.attestations)},
            {"license", r.manifest.meta.license.spdx},
            {"license_decision", Printable(r.license_decision)},
            {"base_models", base},
            {"unsigned_accepted", r.unsigned_accepted},
            {"failures", printable_list(r.failures)},
            {"warnings", printable_list(r.warnings)}};
  if (!r.manifest.meta.name.empty()) j["bundle_digest"] = r.manifest.BundleDigest().ToString();
  // Printable() may cut a multi-byte character's tail only for C1 controls,
  // which it replaces whole, so the text stays valid UTF-8; replace anything
  // odd rather than throw.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace arca::signing
