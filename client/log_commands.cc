// `arca audit` and `arca proof` (log_commands.h).
#include "client/log_commands.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>

#include "client/log_check.h"
#include "client/reference.h"
#include "client/remote.h"
#include "client/remote_commands.h"
#include "common/file.h"
#include "signing/merkle.h"

namespace arca::client {
namespace {

using Json = nlohmann::json;
namespace merkle = signing::merkle;

constexpr uint64_t kPage = 1000;       // entries per request (the API's maximum)
constexpr uint64_t kWindow = 64;       // pages fetched at once

int Usage(std::ostream& err, const Status& s) {
  err << "arca: error: " << s.message() << "\n";
  return 2;
}

// Opens `note` with the first key that signed it.
Result<std::pair<signing::SignedCheckpoint, const signing::NoteVerifier*>> OpenWithAny(
    std::string_view note, const signing::LogPolicy& logs) {
  std::string why;
  for (const signing::NoteVerifier& k : logs.keys) {
    Result<signing::SignedCheckpoint> cp = signing::OpenCheckpoint(note, k);
    if (cp.ok()) return std::make_pair(std::move(*cp), &k);
    why += (why.empty() ? "" : "; ") + k.name + ": " + std::string(cp.status().message());
  }
  return PermissionDeniedError("the checkpoint is not signed by a trusted log key (" + why + ")");
}

bool InNamespace(const std::string& repository, const std::string& ns) {
  return repository.size() > ns.size() && repository.compare(0, ns.size(), ns) == 0 && repository[ns.size()] == '/';
}

}  // namespace

Result<signing::LogPolicy> LogKeysFor(const TrustOptions& trust, const std::string& log_key) {
  if (!log_key.empty()) {
    signing::LogPolicy p;
    ARCA_ASSIGN_OR_RETURN(signing::NoteVerifier v, signing::ParseVerifierKey(log_key));
    p.keys.push_back(std::move(v));
    return p;
  }
  TrustOptions t = trust;
  t.allow_unsigned = true;  // a missing policy is explained below, not as a signature problem
  ARCA_ASSIGN_OR_RETURN(std::optional<signing::Policy> policy, LoadTrustPolicy(t));
  if (!policy || !policy->logs) {
    return FailedPreconditionError(
        "no log key to check with: give --log-key (`arca-registry log-key` prints a registry's) or list it in "
        "your trust policy under \"logs\" (docs/trust-policy.md)");
  }
  return *policy->logs;
}

int AuditCommand(const StoreOptions& so, const TrustOptions& trust, const AuditOptions& o, std::ostream& out,
                 std::ostream& err) {
  Result<Registry> reg = ParseRegistry(o.registry, InsecureHttpFromEnv());
  if (!reg.ok()) return Usage(err, reg.status());
  Result<signing::LogPolicy> logs = LogKeysFor(trust, o.log_key);
  if (!logs.ok()) return ReportFailure(err, logs.status());
  Result<Endpoint> ep = EndpointFor(*reg);
  if (!ep.ok()) return ReportFailure(err, ep.status());
  Remote remote(*ep);

  Result<std::string> note = remote.GetCheckpoint();
  if (!note.ok()) return ReportFailure(err, note.status().WithContext("checkpoint"));
  auto opened = OpenWithAny(*note, *logs);
  if (!opened.ok()) return ReportFailure(err, opened.status());
  const signing::SignedCheckpoint& cp = opened->first;
  const uint64_t size = cp.checkpoint.size;

  // Checkpoints the log must extend: the newest this client saw, and --from-checkpoint.
  std::vector<std::pair<std::string, signing::Checkpoint>> earlier;
  const std::string state_dir = LogStatePath(cp.checkpoint.origin);
  {
    Result<std::string> seen = ReadFile(state_dir + "/checkpoint", signing::kMaxNoteBytes);
    if (seen.ok()) {
      Result<signing::SignedCheckpoint> s = signing::OpenCheckpoint(*seen, *opened->second);
      if (!s.ok()) return ReportFailure(err, s.status().WithContext("the remembered checkpoint"));
      earlier.emplace_back("the checkpoint seen at " + FormatUtc(s->timestamp), s->checkpoint);
    }
  }
  if (!o.from_checkpoint.empty()) {
    Result<std::string> text = ReadFile(o.from_checkpoint, signing::kMaxNoteBytes);
    if (!text.ok()) return ReportFailure(err, text.status());
    Result<signing::SignedCheckpoint> s = signing::OpenCheckpoint(*text, *opened->second);
    if (!s.ok()) return ReportFailure(err, s.status().WithContext(o.from_checkpoint));
    earlier.emplace_back(o.from_checkpoint, s->checkpoint);
  }
  for (const auto& [what, c] : earlier) {
    if (c.size > size) {
      return ReportFailure(err, PermissionDeniedError("registry " + reg->Address() + " presents " +
                                                      std::to_string(size) + " entries, fewer than " + what + " (" +
                                                      std::to_string(c.size) + "): the log was rolled back"));
    }
  }

  // Every entry, recomputing the tree; roots checked at each earlier size.
  merkle::CompactRange range;
  std::map<Digest, std::string> repo_of;  // bundle -> repository, from publish entries
  Json listed = Json::array();
  uint64_t shown = 0;
  auto check_earlier = [&]() -> Status {
    for (const auto& [what, c] : earlier) {
      if (c.size == range.size() && c.root_hash != range.Root()) {
        return PermissionDeniedError("the entries registry " + reg->Address() + " serves do not hash to the root of " +
                                     what + " at " + std::to_string(c.size) +
                                     " entries: a split view or rewritten history");
      }
    }
    return Status::Ok();
  };
  Status st = check_earlier();
  const bool filtered = !o.model.empty() || !o.ns.empty();
  std::map<Digest, std::vector<std::pair<uint64_t, signing::LogEntry>>> pending;
  auto wanted = [&](const std::string& repository) {
    if (!o.model.empty() && repository != o.model) return false;
    if (!o.ns.empty() && !InNamespace(repository, o.ns)) return false;
    return true;
  };
  auto show = [&](uint64_t index, const signing::LogEntry& e) {
    ++shown;
    if (so.json) {
      Json j = Json::parse(signing::LogEntryJson(e));
      j["index"] = index;
      listed.push_back(std::move(j));
    } else {
      out << "#" << index << "  " << FormatUtc(e.time) << "  " << SafeText(signing::DescribeLogEntry(e)) << "\n";
    }
  };
  const uint64_t pages = (size + kPage - 1) / kPage;
  for (uint64_t first = 0; first < pages && st.ok(); first += kWindow) {
    const uint64_t n = std::min(kWindow, pages - first);
    std::vector<std::vector<std::string>> got(n);
    st = ForEachOnConnections(*ep, std::max(1, so.jobs), n, [&](Remote& r, int, size_t i) -> Status {
      const uint64_t start = (first + i) * kPage;
      ARCA_ASSIGN_OR_RETURN(got[i], r.GetLogEntries(start, std::min(size, start + kPage)));
      if (got[i].size() != std::min(size, start + kPage) - start) {
        return DataLossError("registry sent " + std::to_string(got[i].size()) + " entries from " +
                             std::to_string(start));
      }
      return Status::Ok();
    });
    for (uint64_t i = 0; i < n && st.ok(); ++i) {
      for (std::string& bytes : got[i]) {
        const uint64_t index = range.size();
        Result<signing::LogEntry> e = signing::LogEntry::Decode(bytes);
        if (!e.ok()) {
          st = DataLossError("entry " + std::to_string(index) + ": " + std::string(e.status().message()));
          break;
        }
        st = range.Append(merkle::HashLeaf(bytes), [](int, uint64_t, const Digest&) { return Status::Ok(); });
        if (st.ok()) st = check_earlier();
        if (!st.ok()) break;
        std::string repository = e->repository;
        if (e->type == signing::LogEntryType::kAttestation && e->bundle) {
          auto it = repo_of.find(*e->bundle);
          if (it == repo_of.end() && filtered) {
            // Attached before the bundle was first tagged: shown (in index
            // order among its peers) once its publish entry says whose it is.
            pending[*e->bundle].emplace_back(index, std::move(*e));
            continue;
          }
          if (it != repo_of.end()) repository = it->second;
        }
        if (e->type == signing::LogEntryType::kPublish && e->bundle) {
          repo_of[*e->bundle] = e->repository;
          if (auto p = pending.find(*e->bundle); p != pending.end()) {
            for (auto& [held_index, held] : p->second) {
              if (wanted(e->repository)) show(held_index, held);
            }
            pending.erase(p);
          }
        }
        if (wanted(repository)) show(index, *e);
      }
    }
  }
  if (st.ok() && range.Root() != cp.checkpoint.root_hash) {
    st = PermissionDeniedError("the " + std::to_string(size) + " entries registry " + reg->Address() +
                               " serves hash to " + range.Root().Hex() + ", not to its signed checkpoint's root " +
                               cp.checkpoint.root_hash.Hex() + ": a tampered entry or checkpoint");
  }
  if (!st.ok()) return ReportFailure(err, st.WithContext("audit of " + reg->Address()));

  // Verified: remember it as the newest checkpoint seen, if it is.
  if (earlier.empty() || earlier.front().second.size <= size) {
    if (MakeDirs(state_dir).ok()) (void)WriteFileAtomic(state_dir + "/checkpoint", *note);
  }
  if (so.json) {
    out << Json{{"ok", true},
                {"registry", reg->Address()},
                {"origin", cp.checkpoint.origin},
                {"size", size},
                {"root", cp.checkpoint.root_hash.Hex()},
                {"checkpoint_time", cp.timestamp},
                {"entries", std::move(listed)}}
               .dump()
        << "\n";
  } else {
    out << "audit      OK: " << size << " entries of log " << SafeText(cp.checkpoint.origin) << " (key "
        << SafeText(opened->second->name) << ") hash to the checkpoint signed at " << FormatUtc(cp.timestamp);
    if (!earlier.empty()) out << "; it extends " << earlier.size() << " earlier checkpoint(s)";
    out << "; " << shown << " entries shown\n";
  }
  return 0;
}

int ProofCommand(const StoreOptions& so, const TrustOptions& trust, const ProofOptions& o, std::ostream& out,
                 std::ostream& err) {
  (void)so;
  Result<Reference> ref = ParseReference(o.ref, InsecureHttpFromEnv());
  if (!ref.ok()) return Usage(err, ref.status());
  Result<signing::LogPolicy> logs = LogKeysFor(trust, o.log_key);
  if (!logs.ok()) return ReportFailure(err, logs.status());
  Result<Endpoint> ep = EndpointFor(ref->registry);
  if (!ep.ok()) return ReportFailure(err, ep.status());
  Remote remote(*ep);
  Result<Digest> d = ref->digest ? Result<Digest>(*ref->digest) : remote.GetTag(ref->repository, ref->tag);
  if (!d.ok()) return ReportFailure(err, d.status());
  std::optional<std::pair<std::string, std::string>> tag;
  if (!ref->digest) tag = std::make_pair(ref->repository, ref->tag);
  Result<LogEvidence> ev = CheckLog(remote, *logs, *d, tag);
  if (!ev.ok()) return ReportFailure(err, ev.status());
  const std::string text = FormatProof(*ev, *d);
  if (o.output.empty()) {
    out << text;
  } else {
    Status w = WriteFileAtomic(o.output, text);
    if (!w.ok()) return ReportFailure(err, w);
    err << "wrote " << o.output << ": " << d->ToString() << " published at log entry #" << ev->publish.index
        << " of " << ev->opened.checkpoint.size << " (" << ev->opened.checkpoint.origin << ")\n";
  }
  return 0;
}

}  // namespace arca::client
