// Checking a registry's transparency log from the client (log_check.h): the
// checkpoint's signature and age, consistency with what this client saw
// before, inclusion of the entries a pull relies on; and proof files for
// offline checks.
#include "client/log_check.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <ctime>
#include <sstream>

#include "common/file.h"
#include "signing/dsse.h"
#include "signing/merkle.h"

namespace arca::client {
namespace {

using Json = nlohmann::json;
namespace merkle = signing::merkle;

Status Refuse(std::string why) { return PermissionDeniedError("transparency log: " + why); }

// A file-name-safe form of a log origin.
std::string Escape(std::string_view origin) {
  std::string out;
  for (unsigned char c : origin) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-') {
      out.push_back(char(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string StateFor(const std::string& state_dir, const std::string& origin) {
  return state_dir + "/logs/" + Escape(origin);
}

// The newest checkpoint seen of this log, if any (opened with the same key).
Result<std::optional<signing::SignedCheckpoint>> SeenCheckpoint(const std::string& state_dir,
                                                                const std::string& origin,
                                                                const signing::NoteVerifier& key) {
  Result<std::string> text = ReadFile(StateFor(state_dir, origin) + "/checkpoint", signing::kMaxNoteBytes);
  if (text.status().code() == StatusCode::kNotFound) return std::optional<signing::SignedCheckpoint>();
  if (!text.ok()) return text.status().WithContext("the remembered checkpoint");
  Result<signing::SignedCheckpoint> cp = signing::OpenCheckpoint(*text, key);
  if (!cp.ok()) {
    return DataLossError("the remembered checkpoint of log " + origin + " (" + StateFor(state_dir, origin) +
                         "/checkpoint) does not verify: " + std::string(cp.status().message()) +
                         "; remove it only if you know why it changed");
  }
  return std::optional<signing::SignedCheckpoint>(std::move(*cp));
}

Result<Json> SeenTags(const std::string& state_dir, const std::string& origin) {
  Result<std::string> text = ReadFile(StateFor(state_dir, origin) + "/tags.json", 64 << 20);
  if (text.status().code() == StatusCode::kNotFound) return Json::object();
  if (!text.ok()) return text.status();
  Json j = Json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return DataLossError(StateFor(state_dir, origin) + "/tags.json is damaged");
  return j;
}

// Checks that `entry` at `index` is in the checkpoint's tree.
Status CheckIncluded(const IncludedEntry& e, const signing::Checkpoint& cp, std::string_view what) {
  if (e.index >= cp.size) {
    // Not a refusal: the entry is newer than the checkpoint (a race); a
    // fresher checkpoint may hold it.
    return FailedPreconditionError("transparency log: " + std::string(what) + " is entry " + std::to_string(e.index) + ", beyond the checkpoint's " +
                  std::to_string(cp.size) + " entries");
  }
  Status s = merkle::VerifyInclusion(merkle::HashLeaf(e.entry), e.index, cp.size, e.proof, cp.root_hash);
  if (!s.ok()) return Refuse(std::string(what) + " is not in the signed log: " + std::string(s.message()));
  return Status::Ok();
}

}  // namespace

std::string FormatUtc(uint64_t t) {
  char buf[32];
  const time_t tt = time_t(t);
  struct tm tm;
  gmtime_r(&tt, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string LogStateDir() {
  if (const char* d = std::getenv("ARCA_STATE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/arca";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/state/arca";
}

std::string LogStatePath(std::string_view origin) { return StateFor(LogStateDir(), std::string(origin)); }

std::string LogStatePathUnder(const std::string& state_dir, std::string_view origin) {
  return StateFor(state_dir, std::string(origin));
}

Result<CheckedCheckpoint> CheckCheckpoint(Remote& remote, const signing::LogPolicy& logs,
                                          const std::string& state_dir, LogFailure* failure) {
  LogFailure ignored;
  LogFailure& why_failed = failure ? *failure : ignored;
  why_failed = LogFailure::kNone;
  const std::string reg = remote.endpoint().registry.Address();
  CheckedCheckpoint ev;
  Result<std::string> note = remote.GetCheckpoint();
  if (!note.ok()) {
    if (note.status().code() == StatusCode::kNotFound) {
      why_failed = LogFailure::kNoLog;
      return UnavailableError("transparency log: registry " + reg +
                              " serves no log, and your policy requires one (\"logs\")");
    }
    return note.status().WithContext("transparency log checkpoint");
  }
  ev.note = *note;

  // 1. Signed by a trusted log key, and fresh enough.
  const signing::NoteVerifier* key = nullptr;
  std::string why;
  for (const signing::NoteVerifier& k : logs.keys) {
    Result<signing::SignedCheckpoint> cp = signing::OpenCheckpoint(*note, k);
    if (cp.ok()) {
      ev.opened = std::move(*cp);
      key = &k;
      break;
    }
    why += (why.empty() ? "" : "; ") + k.name + ": " + std::string(cp.status().message());
  }
  if (!key) {
    why_failed = LogFailure::kBadSignature;
    return Refuse("registry " + reg + "'s checkpoint is not signed by a log key your policy trusts (" + why + ")");
  }
  ev.key_name = key->name;
  const uint64_t now = uint64_t(::time(nullptr));
  if (logs.max_age_seconds > 0 && ev.opened.timestamp + logs.max_age_seconds < now) {
    why_failed = LogFailure::kStale;
    return Refuse("registry " + reg + "'s newest checkpoint was signed at " + FormatUtc(ev.opened.timestamp) + ", " +
                  std::to_string(now - ev.opened.timestamp) + " s ago, older than your policy's max_age_seconds " +
                  std::to_string(logs.max_age_seconds) + " (a frozen registry, or a clock far off)");
  }

  // 2. Consistent with what was seen before.
  ARCA_ASSIGN_OR_RETURN(ev.newer_than_seen,
                        CheckAgainstSeen(state_dir, ev.opened, *key, "registry " + reg,
                                         [&remote](uint64_t from, uint64_t to) {
                                           return remote.GetConsistencyProof(from, to);
                                         },
                                         &why_failed));
  return ev;
}

Result<bool> CheckAgainstSeen(const std::string& state_dir, const signing::SignedCheckpoint& checkpoint,
                              const signing::NoteVerifier& key, const std::string& who,
                              const ConsistencyProofFn& proof_of, LogFailure* failure) {
  const signing::Checkpoint& cp = checkpoint.checkpoint;
  ARCA_ASSIGN_OR_RETURN(std::optional<signing::SignedCheckpoint> seen, SeenCheckpoint(state_dir, cp.origin, key));
  if (!seen) return true;
  const signing::Checkpoint& old = seen->checkpoint;
  const std::string seen_text = "the checkpoint of log " + cp.origin + " seen at " + FormatUtc(seen->timestamp) +
                                " (" + std::to_string(old.size) + " entries)";
  if (cp.size < old.size) {
    if (failure) *failure = LogFailure::kRollback;
    return Refuse(who + " presents " + std::to_string(cp.size) + " entries, fewer than " + seen_text +
                  ": the log was rolled back (restored from an older copy?)");
  }
  if (cp.size == old.size && cp.root_hash != old.root_hash) {
    if (failure) *failure = LogFailure::kSplitView;
    return Refuse(who + "'s checkpoint has the same size as " + seen_text +
                  " but another root: a split view (different logs shown to different clients)");
  }
  if (cp.size > old.size && old.size > 0) {
    Result<std::vector<Digest>> proof = proof_of(old.size, cp.size);
    // A registry that cannot be reached is not one that was caught lying.
    if (!proof.ok() && proof.status().code() == StatusCode::kUnavailable) return proof.status();
    Status s = proof.ok() ? merkle::VerifyConsistency(old.size, cp.size, *proof, old.root_hash, cp.root_hash)
                          : proof.status();
    if (!s.ok()) {
      if (failure) *failure = LogFailure::kSplitView;
      return Refuse(who + "'s checkpoint (" + std::to_string(cp.size) + " entries) is not consistent with " +
                    seen_text + ": a split view or rewritten history (" + std::string(s.message()) + ")");
    }
  }
  return cp.size > old.size;
}

Status RememberCheckpoint(const CheckedCheckpoint& cp, const std::string& state_dir) {
  if (!cp.newer_than_seen) return Status::Ok();
  const std::string dir = StateFor(state_dir, cp.opened.checkpoint.origin);
  ARCA_RETURN_IF_ERROR(MakeDirs(dir));
  return WriteFileAtomic(dir + "/checkpoint", cp.note);
}

namespace {

Result<LogEvidence> CheckEntriesWith(Remote& remote, const CheckedCheckpoint& checked, const Digest& bundle,
                                     const std::optional<std::pair<std::string, std::string>>& tag,
                                     const std::string& state_dir, LogFailure& kind) {
  const std::string reg = remote.endpoint().registry.Address();
  LogEvidence ev;
  ev.checkpoint = checked.note;
  ev.opened = checked.opened;
  ev.key_name = checked.key_name;
  const signing::Checkpoint& cp = ev.opened.checkpoint;
  // 3. The bundle's publish entry, and the tag's latest entry.
  {
    ARCA_ASSIGN_OR_RETURN(Remote::LogLookup l, remote.GetLogBundle(bundle));
    ev.publish.index = l.index;
    ev.publish.entry = std::move(l.entry);
    Result<signing::LogEntry> e = signing::LogEntry::Decode(ev.publish.entry);
    if (!e.ok() || e->type != signing::LogEntryType::kPublish || e->bundle != bundle) {
      return Refuse("registry " + reg + " answered with a log entry that is not the publish entry of " +
                    bundle.ToString());
    }
    if (ev.publish.index < cp.size) {
      ARCA_ASSIGN_OR_RETURN(ev.publish.proof, remote.GetInclusionProof(ev.publish.index, cp.size));
    }
    ARCA_RETURN_IF_ERROR(CheckIncluded(ev.publish, cp, "the publish entry of " + bundle.ToString()));
  }
  Json tags;
  if (tag) {
    const std::string ref = tag->first + ":" + tag->second;
    ARCA_ASSIGN_OR_RETURN(Remote::LogLookup l, remote.GetLogTag(tag->first, tag->second));
    IncludedEntry t{l.index, std::move(l.entry), {}};
    Result<signing::LogEntry> e = signing::LogEntry::Decode(t.entry);
    if (!e.ok() || e->type != signing::LogEntryType::kTag || e->repository != tag->first || e->tag != tag->second ||
        e->sequence != l.sequence) {
      return Refuse("registry " + reg + " answered with a log entry that is not the entry of tag " + ref);
    }
    if (e->digest != bundle) {
      return Refuse("tag " + ref + " resolves to " + bundle.ToString() + " but its latest log entry (#" +
                    std::to_string(e->sequence) + ") says " +
                    (e->digest ? e->digest->ToString() : std::string("deleted")));
    }
    if (t.index < cp.size) {
      ARCA_ASSIGN_OR_RETURN(t.proof, remote.GetInclusionProof(t.index, cp.size));
    }
    ARCA_RETURN_IF_ERROR(CheckIncluded(t, cp, "the entry of tag " + ref));
    ARCA_ASSIGN_OR_RETURN(tags, SeenTags(state_dir, cp.origin));
    const uint64_t seen_seq = tags.value(ref, uint64_t(0));
    if (e->sequence < seen_seq) {
      kind = LogFailure::kTagBackwards;
      return Refuse("tag " + ref + " went backwards: the registry's entry is #" + std::to_string(e->sequence) +
                    " but #" + std::to_string(seen_seq) + " was seen before (a rollback of the tag)");
    }
    tags[ref] = e->sequence;
    ev.tag = std::move(t);
    ev.tag_sequence = e->sequence;
  }

  if (tag) {
    const std::string dir = StateFor(state_dir, cp.origin);
    ARCA_RETURN_IF_ERROR(MakeDirs(dir));
    ARCA_RETURN_IF_ERROR(WriteFileAtomic(dir + "/tags.json", tags.dump(1)));
  }
  return ev;
}

}  // namespace

Result<LogEvidence> CheckEntries(Remote& remote, const CheckedCheckpoint& checked, const Digest& bundle,
                                 const std::optional<std::pair<std::string, std::string>>& tag,
                                 const std::string& state_dir, LogFailure* failure) {
  LogFailure ignored;
  LogFailure& kind = failure ? *failure : ignored;
  kind = LogFailure::kNone;
  Result<LogEvidence> ev = CheckEntriesWith(remote, checked, bundle, tag, state_dir, kind);
  if (!ev.ok() && ev.status().code() == StatusCode::kPermissionDenied && kind == LogFailure::kNone) {
    kind = LogFailure::kNotIncluded;
  }
  return ev;
}

Result<LogEvidence> CheckLog(Remote& remote, const signing::LogPolicy& logs, const Digest& bundle,
                             const std::optional<std::pair<std::string, std::string>>& tag) {
  const std::string state_dir = LogStateDir();
  ARCA_ASSIGN_OR_RETURN(CheckedCheckpoint cp, CheckCheckpoint(remote, logs, state_dir, nullptr));
  ARCA_ASSIGN_OR_RETURN(LogEvidence ev, CheckEntries(remote, cp, bundle, tag, state_dir));
  // Everything passed: remember the newer checkpoint (the tag was remembered above).
  ARCA_RETURN_IF_ERROR(RememberCheckpoint(cp, state_dir));
  return ev;
}

std::string FormatProof(const LogEvidence& e, const Digest& bundle) {
  std::ostringstream out;
  out << "arca-log-proof v1\n";
  out << "bundle " << bundle.ToString() << "\n";
  auto entry = [&](const char* kind, const IncludedEntry& i) {
    out << kind << " " << i.index << " " << signing::Base64Encode(AsBytes(i.entry)) << "\n";
    for (const Digest& d : i.proof) out << d.Hex() << "\n";
  };
  entry("publish", e.publish);
  if (e.tag) entry("tag", *e.tag);
  out << "checkpoint\n" << e.checkpoint;
  return out.str();
}

Result<OfflineProof> VerifyProof(std::string_view text, const std::string& log_key,
                                 const std::optional<Digest>& expected) {
  auto bad = [](std::string why) { return InvalidArgumentError("proof file: " + why); };
  if (text.size() > 2 * signing::kMaxNoteBytes) return bad("too large");
  const size_t cp_at = text.find("\ncheckpoint\n");
  if (cp_at == std::string_view::npos) return bad("no \"checkpoint\" line");
  const std::string_view head = text.substr(0, cp_at + 1);
  const std::string_view note = text.substr(cp_at + std::string_view("\ncheckpoint\n").size());

  ARCA_ASSIGN_OR_RETURN(signing::NoteVerifier key, signing::ParseVerifierKey(log_key));
  Result<signing::SignedCheckpoint> cp = signing::OpenCheckpoint(note, key);
  if (!cp.ok()) return Refuse("the proof's checkpoint is not signed by log key " + key.name + ": " +
                              std::string(cp.status().message()));
  OfflineProof out;
  out.checkpoint = std::move(*cp);

  std::istringstream in{std::string(head)};
  std::string line;
  if (!std::getline(in, line) || line != "arca-log-proof v1") return bad("not an arca-log-proof v1 file");
  if (!std::getline(in, line) || line.rfind("bundle ", 0) != 0) return bad("no bundle line");
  ARCA_ASSIGN_OR_RETURN(out.bundle, Digest::Parse(line.substr(7)));
  if (expected && *expected != out.bundle) {
    return Refuse("the proof is for bundle " + out.bundle.ToString() + ", not " + expected->ToString());
  }
  std::vector<std::pair<std::string, IncludedEntry>> entries;
  while (std::getline(in, line)) {
    if (line.rfind("publish ", 0) == 0 || line.rfind("tag ", 0) == 0) {
      std::istringstream f(line);
      std::string kind, index, b64;
      f >> kind >> index >> b64;
      IncludedEntry e;
      try {
        size_t used = 0;
        e.index = std::stoull(index, &used);
        if (used != index.size()) return bad("bad index " + index);
      } catch (...) {
        return bad("bad index " + index);
      }
      ARCA_ASSIGN_OR_RETURN(e.entry, signing::Base64Decode(b64));
      if (entries.size() >= 2) return bad("more than two entries");
      entries.emplace_back(kind, std::move(e));
    } else if (!entries.empty() && entries.back().second.proof.size() < 64) {
      ARCA_ASSIGN_OR_RETURN(Digest d, Digest::Parse("sha256:" + line));
      entries.back().second.proof.push_back(d);
    } else {
      return bad("unexpected line \"" + line.substr(0, 80) + "\"");
    }
  }
  for (const auto& [kind, e] : entries) {
    ARCA_RETURN_IF_ERROR(CheckIncluded(e, out.checkpoint.checkpoint, "the " + kind + " entry"));
    ARCA_ASSIGN_OR_RETURN(signing::LogEntry le, signing::LogEntry::Decode(e.entry));
    if (kind == "publish") {
      if (le.type != signing::LogEntryType::kPublish || le.bundle != out.bundle) {
        return Refuse("the publish entry does not name bundle " + out.bundle.ToString());
      }
      out.publish = std::move(le);
    } else {
      if (le.type != signing::LogEntryType::kTag || le.digest != out.bundle) {
        return Refuse("the tag entry does not point to bundle " + out.bundle.ToString());
      }
      out.tag = std::move(le);
    }
  }
  if (out.publish.type != signing::LogEntryType::kPublish || !out.publish.bundle) return bad("no publish entry");
  return out;
}

}  // namespace arca::client
