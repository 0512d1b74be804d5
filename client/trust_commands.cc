// arca key ..., sign, attestations, verify, lineage.
#include "client/trust_commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "client/progress.h"
#include "client/reference.h"
#include "client/log_check.h"
#include "client/log_commands.h"
#include "client/remote.h"
#include "client/remote_commands.h"
#include "client/verify_dir.h"
#include "client/worktree.h"
#include "signing/dsse.h"
#include "signing/statement.h"

namespace arca::client {

using Json = nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

// Largest predicate file `arca sign --predicate` reads.
constexpr uint64_t kMaxPredicateFile = signing::kMaxPredicateBytes;
// How far `arca lineage` follows base models.
constexpr int kMaxLineageDepth = 32;
constexpr size_t kMaxLineageNodes = 1000;

int Usage(std::ostream& err, const Status& s) {
  ReportFailure(err, s);
  return 2;
}

std::string KeyDir(const KeyOptions& ko) { return ko.key_dir.empty() ? signing::DefaultKeyDir() : ko.key_dir; }

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::string> ReadSmallFile(const std::string& path, uint64_t max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path);
  std::string data;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, size_t(in.gcount()));
    if (data.size() > max) {
      return ResourceExhaustedError(path + " is larger than " + std::to_string(max) + " bytes");
    }
  }
  return data;
}

// A bundle as the registry holds it: manifest (checked against its digest)
// and attestation envelopes.
struct RemoteBundle {
  Digest digest;
  std::string manifest_bytes;
  format::Manifest manifest;
  std::vector<std::string> envelopes;
};

Result<RemoteBundle> FetchRemoteBundle(Remote& remote, const Digest& d) {
  RemoteBundle b;
  b.digest = d;
  ARCA_ASSIGN_OR_RETURN(b.manifest_bytes, remote.GetObject(d, format::kMaxManifestBytes));
  Result<format::Manifest> m = format::Manifest::Parse(b.manifest_bytes);
  if (!m.ok()) return m.status().WithContext("manifest " + d.ToString());
  b.manifest = std::move(*m);
  ARCA_ASSIGN_OR_RETURN(b.envelopes, remote.GetAttestations(d));
  return b;
}

// The bundle digest a pull recorded in DIR/.arca/state.json, if any.
std::optional<Digest> RecordedDigest(const std::string& dir) {
  Result<std::string> text = ReadSmallFile(dir + "/.arca/state.json", 64ull << 20);
  if (!text.ok()) return std::nullopt;
  Json j = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("bundle") || !j["bundle"].is_string()) return std::nullopt;
  Result<Digest> d = Digest::Parse(j["bundle"].get<std::string>());
  if (!d.ok()) return std::nullopt;
  return *d;
}

std::string Describe(const FileCheck& f) {
  std::string s = std::string(FileVerdictName(f.verdict)) + ": " + SafeText(f.path);
  if (!f.detail.empty()) s += " (" + SafeText(f.detail) + ")";
  return s;
}

int VerifyDir(const StoreOptions& so, const TrustOptions& trust, const std::string& dir, std::ostream& out,
              std::ostream& err) {
  const auto t0 = Clock::now();
  Result<Offline> off = LoadOffline(dir);
  if (!off.ok()) return ReportFailure(err, off.status());
  // The digest the pull recorded: if the manifest no longer hashes to it,
  // say so plainly (the signatures would not match either).
  Digest digest = off->bundle;
  std::vector<std::string> pre_failures;
  if (std::optional<Digest> recorded = RecordedDigest(dir); recorded && *recorded != off->bundle) {
    pre_failures.push_back(dir + "/.arca/manifest.json has changed since the pull: it hashes to " +
                           off->bundle.ToString() + ", the pull recorded " + recorded->ToString());
    digest = *recorded;
  }
  Result<signing::VerifyReport> report = JudgeBundle(trust, "", off->manifest_bytes, digest, off->envelopes);
  if (!report.ok()) return ReportFailure(err, report.status());
  report->failures.insert(report->failures.begin(), pre_failures.begin(), pre_failures.end());
  if (!pre_failures.empty()) report->ok = false;

  // The log proof the pull kept (or --proof), against --log-key or the
  // policy's log keys: offline evidence that the bundle was published in
  // the registry's append-only log.
  std::string log_line;
  {
    const std::string proof_path = trust.proof_file.empty() ? dir + "/.arca/log-proof.txt" : trust.proof_file;
    const bool have_proof = ::access(proof_path.c_str(), F_OK) == 0;
    Result<signing::LogPolicy> keys = LogKeysFor(trust, trust.log_key);
    std::string failure;
    if (!keys.ok()) {
      if (!trust.proof_file.empty() || !trust.log_key.empty()) failure = std::string(keys.status().message());
    } else if (!have_proof) {
      if (keys->require || !trust.proof_file.empty()) {
        failure = "no log proof at " + proof_path + " (pull again under a policy that lists the registry's log, "
                  "or write one with `arca proof REF -o FILE`)";
      }
    } else {
      Result<std::string> text = ReadFile(proof_path, 2 * signing::kMaxNoteBytes);
      Status last = text.status();
      for (const signing::NoteVerifier& k : keys->keys) {
        if (!text.ok()) break;
        Result<std::string> vkey = signing::FormatVerifierKey(k);
        Result<OfflineProof> p = vkey.ok() ? VerifyProof(*text, *vkey, digest) : Result<OfflineProof>(vkey.status());
        if (p.ok()) {
          log_line = "publish entry included in log " + p->checkpoint.checkpoint.origin + " (key " + k.name + ", " +
                     std::to_string(p->checkpoint.checkpoint.size) + " entries" +
                     (p->tag ? ", with tag " + p->tag->repository + ":" + p->tag->tag + " #" +
                                   std::to_string(p->tag->sequence)
                             : std::string()) +
                     ")";
          last = Status::Ok();
          break;
        }
        last = p.status();
      }
      if (!last.ok()) failure = "log proof " + proof_path + ": " + std::string(last.message());
    }
    if (!failure.empty()) {
      report->failures.push_back(failure);
      report->ok = false;
    }
  }

  VerifyDirOptions vo;
  vo.threads = ThreadCount(so);
  Result<DirCheck> files = [&] {
    Progress progress("verifying", !so.quiet && !so.json, err);
    vo.progress = &progress;
    return VerifyDirectory(dir, off->manifest, DirIndexSource(dir), vo);
  }();
  if (!files.ok()) return ReportFailure(err, files.status());
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const bool files_ok = files->files_ok() && files->extra_files_total == 0;
  const bool ok = report->ok && files_ok;

  if (so.json) {
    Json bad = Json::array();
    for (const FileCheck& f : files->files) {
      if (f.verdict == FileVerdict::kOk) continue;
      bad.push_back(Json{{"path", f.path}, {"verdict", FileVerdictName(f.verdict)}, {"detail", f.detail}});
    }
    out << Json{{"ok", ok},
                {"dir", dir},
                {"digest", digest.ToString()},
                {"trust", Json::parse(signing::ReportJson(*report))},
                {"log", log_line.empty() ? Json(nullptr) : Json(log_line)},
                {"files_checked", files->files.size()},
                {"bad_files", bad},
                {"extra_files", files->extra_files},
                {"bytes_hashed", files->bytes_hashed},
                {"seconds", seconds}}
               .dump()
        << "\n";
    return ok ? 0 : 1;
  }
  out << "directory    " << dir << " (offline: " << dir << "/.arca/)\n";
  out << signing::FormatReport(*report);
  if (!log_line.empty()) out << "log          " << SafeText(log_line) << "\n";
  if (!report->ok || !so.quiet) {
    char line[200];
    std::snprintf(line, sizeof line, "files        %zu checked, %s re-read and hashed in %.2f s (%.0f MB/s)\n",
                  files->files.size(), HumanBytes(files->bytes_hashed).c_str(), seconds,
                  seconds > 0 ? double(files->bytes_hashed) / seconds / 1e6 : 0.0);
    out << line;
  }
  for (const FileCheck& f : files->files) {
    if (f.verdict != FileVerdict::kOk) out << "  FAILED   " << Describe(f) << "\n";
  }
  for (const std::string& e : files->extra_files) out << "  FAILED   not part of the bundle: " << SafeText(e) << "\n";
  if (files->extra_files_total > files->extra_files.size()) {
    out << "  ... and " << files->extra_files_total - files->extra_files.size() << " more extra files\n";
  }
  if (ok && report->unsigned_accepted) {
    out << "verdict      UNVERIFIED: every file matches the manifest, but no signature was checked\n";
    return 0;
  }
  if (ok) {
    out << "verdict      OK: signatures satisfy the policy and every file matches the signed manifest\n";
    return 0;
  }
  out << "verdict      FAILED:";
  if (!report->ok) out << " the trust policy is not satisfied;";
  if (!files->files_ok()) out << " " << files->bad_files() << " file(s) differ from the signed manifest;";
  if (files->extra_files_total) out << " " << files->extra_files_total << " file(s) are not part of the bundle;";
  out << "\n";
  return 1;
}

int VerifyRef(const StoreOptions& so, const TrustOptions& trust, const std::string& text, std::ostream& out,
              std::ostream& err) {
  Result<Reference> ref = ParseReference(text, InsecureHttpFromEnv());
  if (!ref.ok()) {
    return Usage(err, ref.status().WithContext(text + " is neither a pulled directory nor a reference"));
  }
  Result<Endpoint> ep = EndpointFor(ref->registry);
  if (!ep.ok()) return ReportFailure(err, ep.status());
  Remote remote(*ep);
  Result<Digest> d = ResolveDigest(remote, *ref);
  if (!d.ok()) return ReportFailure(err, d.status());
  Result<RemoteBundle> b = FetchRemoteBundle(remote, *d);
  if (!b.ok()) return ReportFailure(err, b.status());
  Result<signing::VerifyReport> report = JudgeBundle(trust, ref->repository, b->manifest_bytes, *d, b->envelopes);
  if (!report.ok()) return ReportFailure(err, report.status());
  // The registry's log, when the policy lists its key: as a pull checks it.
  std::string log_line;
  {
    std::optional<std::pair<std::string, std::string>> tag;
    if (!ref->digest) tag = std::make_pair(ref->repository, ref->tag);
    std::ostringstream quiet;
    Result<std::optional<LogEvidence>> log = EnforceLog(trust, remote, *d, tag, quiet, /*quiet=*/true);
    if (!log.ok()) {
      report->failures.push_back(std::string(log.status().message()));
      report->ok = false;
    } else if (*log) {
      const signing::Checkpoint& cp = (*log)->opened.checkpoint;
      log_line = "publish entry #" + std::to_string((*log)->publish.index) +
                 ((*log)->tag ? " and tag entry #" + std::to_string((*log)->tag->index) : std::string()) +
                 " included in log " + cp.origin + " (" + std::to_string(cp.size) +
                 " entries), consistent with what was seen before";
    }
  }
  if (so.json) {
    out << Json{{"ok", report->ok},
                {"ref", ref->ToString()},
                {"digest", d->ToString()},
                {"trust", Json::parse(signing::ReportJson(*report))},
                {"log", log_line.empty() ? Json(nullptr) : Json(log_line)}}
               .dump()
        << "\n";
    return report->ok ? 0 : 1;
  }
  out << "reference    " << ref->ToString() << "\n" << signing::FormatReport(*report);
  if (!log_line.empty()) out << "log          " << SafeText(log_line) << "\n";
  out << "note         the files' bytes are checked by `arca pull` (every chunk) and `arca verify DIR`\n";
  return report->ok ? 0 : 1;
}

}  // namespace

int KeyGenerateCommand(const StoreOptions& so, const KeyOptions& ko, const std::string& name, std::ostream& out,
                       std::ostream& err) {
  if (Status s = signing::ValidateKeyName(name); !s.ok()) return Usage(err, s);
  Result<std::optional<std::string>> pass = PassphraseForNewKey(ko.passphrase, name);
  if (!pass.ok()) return ReportFailure(err, pass.status());
  Result<signing::KeyInfo> info = signing::GenerateKey(KeyDir(ko), name, *pass);
  if (*pass) WipeString(**pass);
  if (!info.ok()) return ReportFailure(err, info.status());
  const std::string pub = signing::ExportPublicKey(*info);
  if (so.json) {
    out << Json{{"name", info->name},
                {"keyid", info->keyid.Hex()},
                {"path", info->path},
                {"encrypted", info->encrypted},
                {"public", Json::parse(pub)}}
               .dump()
        << "\n";
    return 0;
  }
  out << "generated  key " << info->name << "\n"
      << "keyid      " << info->keyid.Hex() << "\n"
      << "secret     " << info->path << (info->encrypted ? " (encrypted with your passphrase)" : " (NOT encrypted)")
      << "\n"
      << "public     " << pub << "\n"
      << "Give the public line to those who verify your models: it goes in the \"keys\" of their\n"
      << "trust policy (docs/trust-policy.md). Sign with: arca push DIR REF --sign " << info->name << "\n";
  if (!info->encrypted) {
    err << "arca: warning: the secret key is stored unencrypted; anyone who can read " << info->path
        << " can sign as you (set ARCA_KEY_PASSPHRASE or use --passphrase-file to encrypt)\n";
  }
  return 0;
}

int KeyListCommand(const StoreOptions& so, const KeyOptions& ko, std::ostream& out, std::ostream& err) {
  Result<std::vector<signing::KeyInfo>> keys = signing::ListKeys(KeyDir(ko));
  if (!keys.ok()) return ReportFailure(err, keys.status());
  if (so.json) {
    Json arr = Json::array();
    for (const signing::KeyInfo& k : *keys) {
      arr.push_back(Json{{"name", k.name}, {"keyid", k.keyid.Hex()}, {"encrypted", k.encrypted}, {"path", k.path}});
    }
    out << Json{{"dir", KeyDir(ko)}, {"keys", arr}}.dump() << "\n";
    return 0;
  }
  if (keys->empty()) {
    out << "no keys in " << KeyDir(ko) << " (make one with: arca key generate NAME)\n";
    return 0;
  }
  for (const signing::KeyInfo& k : *keys) {
    out << k.name << "  " << k.keyid.Hex() << "  " << (k.encrypted ? "encrypted" : "unencrypted") << "\n";
  }
  return 0;
}

int KeyExportCommand(const KeyOptions& ko, const std::string& name, std::ostream& out, std::ostream& err) {
  const bool is_path = name.find('/') != std::string::npos;
  Result<signing::KeyInfo> info = is_path ? signing::ReadKeyInfo(name) : signing::FindKey(KeyDir(ko), name);
  if (!info.ok()) return ReportFailure(err, info.status());
  out << signing::ExportPublicKey(*info) << "\n";
  return 0;
}

int KeyLogCommand(const StoreOptions& so, const KeyOptions& ko, const KeyLogOptions& o, std::ostream& out,
                  std::ostream& err) {
  Result<Registry> reg = ParseRegistry(o.registry, InsecureHttpFromEnv());
  if (!reg.ok()) return Usage(err, reg.status());
  Json body = {{"action", o.revoke ? "revoked" : "added"}};
  const bool is_keyid = o.key.size() == 64 && o.key.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (is_keyid && o.revoke) {
    body["keyid"] = o.key;
  } else {
    const bool is_path = o.key.find('/') != std::string::npos;
    Result<signing::KeyInfo> info = is_path ? signing::ReadKeyInfo(o.key) : signing::FindKey(KeyDir(ko), o.key);
    if (!info.ok()) return ReportFailure(err, info.status());
    body["key"] = Json::parse(signing::ExportPublicKey(*info));
  }
  if (!o.reason.empty()) body["reason"] = o.reason;
  Result<Endpoint> ep = EndpointFor(*reg);
  if (!ep.ok()) return ReportFailure(err, ep.status());
  Remote remote(*ep);
  Result<std::string> answer = remote.PostLogKey(body.dump());
  if (!answer.ok()) return ReportFailure(err, answer.status());
  if (so.json) {
    out << *answer << "\n";
  } else {
    Json j = Json::parse(*answer, nullptr, false);
    out << (o.revoke ? "revoked    " : "announced  ") << "key "
        << SafeText(j.is_object() ? j.value("key_id", std::string()) : std::string()) << " in the log of "
        << reg->Address() << "\n";
  }
  return 0;
}

int SignCommand(const StoreOptions& so, const SignOptions& o, std::ostream& out, std::ostream& err) {
  Result<Reference> ref = ParseReference(o.ref, InsecureHttpFromEnv());
  if (!ref.ok()) return Usage(err, ref.status());
  if (o.predicate_type.empty() != o.predicate_file.empty()) {
    return Usage(err, InvalidArgumentError("give both --predicate-type T and --predicate FILE, or neither "
                                           "(neither: the publisher's bundle statement)"));
  }
  std::string predicate;
  if (!o.predicate_file.empty()) {
    Result<std::string> p = ReadSmallFile(o.predicate_file, kMaxPredicateFile);
    if (!p.ok()) return ReportFailure(err, p.status());
    predicate = std::move(*p);
  }
  signing::KeyInfo info;
  Result<signing::KeyPair> key = LoadSigningKey(o.keys, o.key, &info);
  if (!key.ok()) return ReportFailure(err, key.status().WithContext("--key " + o.key));
  Result<Endpoint> ep = EndpointFor(ref->registry);
  if (!ep.ok()) return ReportFailure(err, ep.status());
  Remote remote(*ep);
  Result<Digest> d = ResolveDigest(remote, *ref);
  if (!d.ok()) return ReportFailure(err, d.status());
  Result<std::string> manifest_bytes = remote.GetObject(*d, format::kMaxManifestBytes);
  if (!manifest_bytes.ok()) return ReportFailure(err, manifest_bytes.status());
  Result<format::Manifest> m = format::Manifest::Parse(*manifest_bytes);
  if (!m.ok()) return ReportFailure(err, m.status().WithContext("manifest " + d->ToString()));

  std::string envelope;
  std::string type = std::string(signing::kBundlePredicateType);
  if (o.predicate_type.empty()) {
    envelope = SignBundle(*m, *d, *key);
  } else {
    Result<std::string> st = signing::GenericStatement(m->meta.name, *d, o.predicate_type, predicate);
    if (!st.ok()) return Usage(err, st.status().WithContext(o.predicate_file));
    envelope = signing::SignStatement(*st, *key);
    type = o.predicate_type;
  }
  Result<Digest> stored = remote.PutAttestation(*d, envelope);
  if (!stored.ok()) return ReportFailure(err, stored.status());
  if (so.json) {
    out << Json{{"ref", ref->ToString()},
                {"digest", d->ToString()},
                {"attestation", stored->ToString()},
                {"predicate_type", type},
                {"key", info.name},
                {"keyid", info.keyid.Hex()}}
               .dump()
        << "\n";
    return 0;
  }
  if (so.quiet) return 0;
  out << "attested   " << ref->ToString() << " (" << d->ToString() << ")\n"
      << "type       " << type << "\n"
      << "signed by  key " << info.name << " (" << info.keyid.Hex() << ")\n"
      << "stored as  " << stored->ToString() << "\n";
  return 0;
}

int AttestationsCommand(const StoreOptions& so, const TrustOptions& trust, const std::string& text,
                        std::ostream& out, std::ostream& err) {
  Result<Reference> ref = ParseReference(text, InsecureHttpFromEnv());
  if (!ref.ok()) return Usage(err, ref.status());
  Result<Endpoint> ep = EndpointFor(ref->registry);
  if (!ep.ok()) return ReportFailure(err, ep.status());
  Remote remote(*ep);
  Result<Digest> d = ResolveDigest(remote, *ref);
  if (!d.ok()) return ReportFailure(err, d.status());
  Result<RemoteBundle> b = FetchRemoteBundle(remote, *d);
  if (!b.ok()) return ReportFailure(err, b.status());
  // Judged under the policy when there is one, to say which key each is by.
  TrustOptions lenient = trust;
  lenient.allow_unsigned = true;
  Result<signing::VerifyReport> report = JudgeBundle(lenient, ref->repository, b->manifest_bytes, *d, b->envelopes);
  Json arr = Json::array();
  if (!so.json) out << "bundle     " << d->ToString() << " (" << b->envelopes.size() << " attestations)\n";
  for (size_t i = 0; i < b->envelopes.size(); ++i) {
    const std::string& env = b->envelopes[i];
    std::string ptype = "?";
    std::vector<std::string> keyids;
    Result<signing::Envelope> parsed = signing::ParseEnvelope(env);
    if (parsed.ok()) {
      for (const auto& s : parsed->signatures) keyids.push_back(s.keyid);
      if (Result<signing::Statement> st = signing::ParseStatement(parsed->payload); st.ok()) {
        ptype = st->predicate_type;
      }
    }
    std::vector<std::string> outcomes;
    if (report.ok()) {
      for (const signing::SignatureCheck& c : report->signatures) {
        if (c.envelope != i) continue;
        std::string o = std::string(signing::OutcomeName(c.outcome));
        if (!c.key_name.empty()) o += " (key " + c.key_name + ")";
        if (!c.detail.empty() && c.outcome != signing::SignatureCheck::Outcome::kCounted) o += ": " + c.detail;
        outcomes.push_back(o);
      }
    }
    if (so.json) {
      arr.push_back(Json{{"digest", Sha256Of(env).ToString()},
                         {"predicate_type", ptype},
                         {"keyids", keyids},
                         {"checks", outcomes},
                         {"envelope", env}});
      continue;
    }
    out << "\n" << Sha256Of(env).ToString() << "\n  type     " << SafeText(ptype) << "\n";
    for (const std::string& k : keyids) out << "  keyid    " << SafeText(k) << "\n";
    for (const std::string& o : outcomes) out << "  policy   " << SafeText(o) << "\n";
  }
  if (so.json) out << Json{{"ref", ref->ToString()}, {"digest", d->ToString()}, {"attestations", arr}}.dump() << "\n";
  return 0;
}

int VerifyCommand(const StoreOptions& so, const TrustOptions& trust, const std::string& target, std::ostream& out,
                  std::ostream& err) {
  if (IsDirectory(target)) return VerifyDir(so, trust, target, out, err);
  return VerifyRef(so, trust, target, out, err);
}

int LineageCommand(const StoreOptions& so, const TrustOptions& trust, const std::string& text, std::ostream& out,
                   std::ostream& err) {
  Result<Reference> ref = ParseReference(text, InsecureHttpFromEnv());
  if (!ref.ok()) return Usage(err, ref.status());
  Result<Endpoint> ep = EndpointFor(ref->registry);
  if (!ep.ok()) return ReportFailure(err, ep.status());
  Remote remote(*ep);
  Result<Digest> top = ResolveDigest(remote, *ref);
  if (!top.ok()) return ReportFailure(err, top.status());

  // Depth-first from the top bundle; each link judged under the policy for
  // its own name. A bundle is shown once, however often it is reached.
  Json nodes = Json::array();
  std::set<Digest> seen;
  bool all_ok = true;
  std::function<void(const Digest&, int, const std::string&)> walk = [&](const Digest& d, int depth,
                                                                         const std::string& indent) {
    Json node{{"digest", d.ToString()}, {"depth", depth}};
    std::string line = indent + d.ToString();
    if (!seen.insert(d).second) {
      node["status"] = "shown above";
      nodes.push_back(node);
      if (!so.json) out << line << "  (shown above)\n";
      return;
    }
    if (depth > kMaxLineageDepth || seen.size() > kMaxLineageNodes) {
      node["status"] = "not followed (lineage deeper than " + std::to_string(kMaxLineageDepth) + ")";
      nodes.push_back(node);
      if (!so.json) out << line << "  (not followed: too deep)\n";
      all_ok = false;
      return;
    }
    Result<RemoteBundle> b = FetchRemoteBundle(remote, d);
    if (!b.ok()) {
      node["status"] = "unknown to this registry: " + std::string(b.status().message());
      nodes.push_back(node);
      if (!so.json) out << line << "  NOT IN THIS REGISTRY (" << SafeText(b.status().message()) << ")\n";
      all_ok = false;
      return;
    }
    // The top bundle is checked against the name asked for; its ancestors
    // against their own names.
    Result<signing::VerifyReport> r =
        JudgeBundle(trust, depth == 0 ? ref->repository : "", b->manifest_bytes, d, b->envelopes);
    std::string status;
    if (!r.ok()) {
      status = "cannot verify: " + std::string(r.status().message());
      all_ok = false;
    } else if (r->ok) {
      std::string who;
      for (const std::string& s : r->signers) who += (who.empty() ? "" : ", ") + s;
      status = r->unsigned_accepted ? "UNVERIFIED (accepted unsigned)" : "signed by " + who + " (" + r->rule_label + ")";
    } else {
      status = "REFUSED: " + (r->failures.empty() ? std::string("policy not satisfied") : r->failures.front());
      all_ok = false;
    }
    const format::Metadata& meta = b->manifest.meta;
    node["name"] = meta.name;
    node["version"] = meta.version;
    node["license"] = meta.license.spdx;
    node["status"] = status;
    node["verified"] = r.ok() && r->ok;
    node["base_model_names"] = meta.provenance.base_model_names;
    nodes.push_back(node);
    if (!so.json) {
      out << line << "  " << SafeText(meta.name) << (meta.version.empty() ? "" : " " + SafeText(meta.version))
          << "\n"
          << indent << "    licence " << (meta.license.spdx.empty() ? "(none stated)" : SafeText(meta.license.spdx))
          << "; " << SafeText(status) << "\n";
      for (const std::string& n : meta.provenance.base_model_names) {
        out << indent << "    named base model " << SafeText(n) << " (a name only: not verifiable by digest)\n";
      }
    }
    for (const Digest& base : meta.provenance.base_models) walk(base, depth + 1, indent + "  <- ");
  };
  walk(*top, 0, "");
  if (so.json) {
    out << Json{{"ref", ref->ToString()}, {"digest", top->ToString()}, {"complete_and_verified", all_ok},
                {"bundles", nodes}}
               .dump()
        << "\n";
  } else {
    out << (all_ok ? "lineage    every link is known and satisfies the policy\n"
                   : "lineage    INCOMPLETE or NOT VERIFIED at some link (see above)\n");
  }
  return 0;
}

}  // namespace arca::client
