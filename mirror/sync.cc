// One pass of a mirror over one upstream (sync.h, PROTOCOL.md §3).
#include "mirror/sync.h"

#include <chrono>
#include <ctime>
#include <map>

#include "client/fetch.h"
#include "client/log_check.h"
#include "client/remote.h"
#include "common/file.h"
#include "mirror/countersign.h"
#include "signing/merkle.h"
#include "signing/note.h"
#include "signing/policy.h"
#include "signing/verify.h"

namespace arca::mirror {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t Now() { return uint64_t(::time(nullptr)); }

// How one model ended.
struct Outcome {
  enum Kind { kUpdated, kUnchanged, kSkipped, kFailed, kUnreachable } kind = kUpdated;
  std::string code, message;
};

Outcome Fail(std::string code, std::string message) { return {Outcome::kFailed, std::move(code), std::move(message)}; }

// A failure of the upstream's network is the pass's, not the model's.
Outcome FromStatus(const Status& s, const std::string& code) {
  if (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded) {
    return {Outcome::kUnreachable, "unreachable", std::string(s.message())};
  }
  return Fail(code, std::string(s.message()));
}

struct Model {
  std::string repository, tag;
  Digest digest;  // as the upstream's tag says
  std::string ref() const { return repository + ":" + tag; }
};

// The state of one pass.
class Pass {
 public:
  Pass(MirrorContext& ctx, const UpstreamConfig& up, TokenBucket* bucket, std::ostream& log)
      : ctx_(ctx),
        up_(up),
        bucket_(bucket),
        log_(log),
        store_(ctx.server->store()),
        state_dir_(MirrorStateDir(ctx.server->data_dir())),
        endpoint_{up.registry, up.token, up.ca_file, int(up.timeout_seconds)},
        remote_(endpoint_, client::RetryPolicy{int(up.retry.attempts), std::chrono::seconds(up.retry.initial_seconds),
                                               std::chrono::seconds(up.retry.max_seconds)}) {}

  Result<PassResult> Run();

 private:
  void Say(const std::string& line) { log_ << "arca-registry: mirror " << up_.name << ": " << line << std::endl; }
  // Halts the upstream (PROTOCOL.md §6); its models are marked held.
  void Halt(const std::string& code, const std::string& message);
  Status CheckUpstreamLog(bool* halted_or_unreachable);
  Result<std::vector<Model>> ListModels();
  Outcome SyncModel(const Model& m, ModelState* ms);
  Outcome Commit(const Model& m, const client::FetchedBundle& b, const std::vector<std::string>& envelopes,
                 const client::LogEvidence& ev, const signing::VerifyReport& trust, ModelState* ms);
  void CheckVanished(const std::map<std::string, Model>& listed);
  Status Save() { return SaveUpstreamState(ctx_.server->data_dir(), state_); }

  MirrorContext& ctx_;
  const UpstreamConfig& up_;
  TokenBucket* bucket_;
  std::ostream& log_;
  store::Store& store_;
  const std::string state_dir_;
  client::Endpoint endpoint_;
  client::Remote remote_;
  signing::LogPolicy logs_;
  signing::Policy policy_;
  Digest policy_digest_;
  client::CheckedCheckpoint cp_;
  UpstreamState state_;
  PassResult result_;
};

void Pass::Halt(const std::string& code, const std::string& message) {
  state_.state = "halted";
  state_.code = code;
  state_.message = message;
  for (auto& [ref, m] : state_.models) {
    if (m.status == "ok" || m.status == "pending" || m.status == "failed") m.status = "held";
  }
  result_.state = "halted";
  Say("HALTED (" + code + "): " + message);
}

Status Pass::CheckUpstreamLog(bool* stop) {
  *stop = true;
  client::LogFailure why = client::LogFailure::kNone;
  Result<client::CheckedCheckpoint> cp = client::CheckCheckpoint(remote_, logs_, state_dir_, &why);
  if (!cp.ok()) {
    const std::string message(cp.status().message());
    switch (why) {
      case client::LogFailure::kRollback:
      case client::LogFailure::kSplitView: {
        Result<std::string> note = remote_.GetCheckpoint();
        ARCA_RETURN_IF_ERROR(KeepEvidence(ctx_.server->data_dir(), up_.origin, note.ok() ? *note : "", message));
        Halt(why == client::LogFailure::kRollback ? "log_rollback" : "log_split_view", message);
        return Status::Ok();
      }
      case client::LogFailure::kStale: Halt("checkpoint_stale", message); return Status::Ok();
      case client::LogFailure::kBadSignature:
      case client::LogFailure::kNoLog: Halt("checkpoint_invalid", message); return Status::Ok();
      default:
        state_.state = result_.state = "unreachable";
        state_.code = "unreachable";
        state_.message = message;
        Say("upstream unreachable: " + message);
        return Status::Ok();
    }
  }
  // A verified, consistent checkpoint is knowledge a crash must not lose.
  ARCA_RETURN_IF_ERROR(client::RememberCheckpoint(*cp, state_dir_));
  cp_ = std::move(*cp);
  state_.checkpoint_size = cp_.opened.checkpoint.size;
  state_.checkpoint_time = cp_.opened.timestamp;
  *stop = false;
  return Status::Ok();
}

Result<std::vector<Model>> Pass::ListModels() {
  std::vector<Model> out;
  ARCA_ASSIGN_OR_RETURN(std::vector<client::RepositoryInfo> repos, remote_.ListRepositories("", ""));
  for (const client::RepositoryInfo& r : repos) {
    if (!up_.SelectsRepository(r.name)) continue;
    // Taken only from the first upstream, in config order, that selects it.
    bool shadowed = false;
    for (const UpstreamConfig& other : ctx_.config->upstreams) {
      if (&other == &up_ || other.name == up_.name) break;
      if (other.SelectsRepository(r.name)) shadowed = true;
    }
    ARCA_ASSIGN_OR_RETURN(std::vector<client::TagInfo> tags, remote_.ListTags(r.name));
    for (const client::TagInfo& t : tags) {
      if (!up_.SelectsTag(t.tag)) continue;
      if (shadowed) {
        state_.models[r.name + ":" + t.tag].status = "shadowed";
        continue;
      }
      out.push_back({r.name, t.tag, t.digest});
    }
  }
  std::sort(out.begin(), out.end(), [](const Model& a, const Model& b) { return a.ref() < b.ref(); });
  return out;
}

Outcome Pass::SyncModel(const Model& m, ModelState* ms) {
  // A mirror tag that points elsewhere than the mirror last put it was moved
  // here by someone else: leave it alone.
  Result<Digest> local = store_.GetRef(m.ref());
  if (local.ok() && local->ToString() != ms->digest && local->ToString() != ms->pending && *local != m.digest) {
    return Fail("local_conflict", "tag " + m.ref() + " was moved on this registry (to " + local->ToString() +
                                      "); the mirror leaves it alone");
  }

  // 1-2. The tag's latest entry and the bundle's publish entry, in the checkpoint.
  client::LogFailure why = client::LogFailure::kNone;
  const auto tag = std::make_optional(std::make_pair(m.repository, m.tag));
  Result<client::LogEvidence> ev = client::CheckEntries(remote_, cp_, m.digest, tag, state_dir_, &why);
  if (!ev.ok() && ev.status().code() == StatusCode::kFailedPrecondition) {
    // The tag moved after the checkpoint was signed: once more with a fresh one.
    bool stop = false;
    Status again = CheckUpstreamLog(&stop);
    if (!again.ok()) return Fail("internal", again.ToString());
    if (stop) return {Outcome::kUnreachable, state_.code, state_.message};
    ev = client::CheckEntries(remote_, cp_, m.digest, tag, state_dir_, &why);
  }
  if (!ev.ok()) {
    if (why == client::LogFailure::kTagBackwards) return Fail("tag_backwards", std::string(ev.status().message()));
    return FromStatus(ev.status(), "not_included");
  }

  // Envelopes, to keep verbatim (and to judge).
  Result<std::vector<std::string>> envelopes = remote_.GetAttestations(m.digest);
  if (!envelopes.ok()) return FromStatus(envelopes.status(), "policy_refused");
  if (envelopes->size() >= store::kMaxAttestationsPerSubject) {
    return Fail("policy_refused", "the bundle has " + std::to_string(envelopes->size()) +
                                      " attestations, leaving no room for the mirror's countersignature");
  }
  if (local.ok() && *local == m.digest) {
    // Up to date; take any envelope attached upstream since.
    for (const std::string& e : *envelopes) {
      Result<bool> added = ctx_.server->AttachAttestation(m.digest, e);
      if (!added.ok()) return Fail("internal", added.status().ToString());
    }
    ms->sequence = ev->tag_sequence;
    ms->digest = m.digest.ToString();
    ms->pending.clear();
    return {Outcome::kUnchanged, "", ""};
  }

  // 3. The manifest: its digest, a strict parse, its name, the licence filter.
  client::FetchedBundle b;
  b.digest = m.digest;
  Result<std::string> manifest_bytes = client::FetchManifest(store_, remote_, m.digest);
  if (!manifest_bytes.ok()) return FromStatus(manifest_bytes.status(), "digest_mismatch");
  b.manifest_bytes = std::move(*manifest_bytes);
  Result<format::Manifest> manifest = format::Manifest::Parse(b.manifest_bytes);
  if (!manifest.ok()) return Fail("policy_refused", "manifest: " + std::string(manifest.status().message()));
  b.manifest = std::move(*manifest);
  if (b.manifest.meta.name != m.repository) {
    return Fail("policy_refused", "the manifest names " + b.manifest.meta.name + ", not " + m.repository);
  }
  if (!up_.licenses.empty()) {
    signing::LicensePolicy allow{up_.licenses, {}};
    signing::LicenseDecision d =
        signing::DecideLicense(&allow, b.manifest.meta.license.spdx, "upstream " + up_.name + "'s licenses filter");
    if (!d.accepted) return {Outcome::kSkipped, "", d.text};
  }

  // 6. The trust policy decides before any chunk is fetched.
  signing::Evidence evidence{m.repository, b.manifest_bytes, m.digest, *envelopes};
  Result<signing::VerifyReport> trust = signing::VerifyBundle(policy_, evidence, {});
  if (!trust.ok()) return Fail("policy_refused", std::string(trust.status().message()));
  if (!trust->ok) {
    std::string why_refused;
    for (const std::string& f : trust->failures) why_refused += (why_refused.empty() ? "" : "; ") + f;
    return Fail("policy_refused", why_refused);
  }

  // 4, 7. File indexes, then the chunks the store lacks, verified on arrival.
  Status indexes = client::FetchIndexes(store_, endpoint_, up_.concurrency, &b);
  if (!indexes.ok()) return FromStatus(indexes, "digest_mismatch");
  client::FetchStats fs;
  uint64_t held = 0;
  client::ByteCounter meter = nullptr;
  if (bucket_->limited() || ctx_.total->limited()) {
    meter = [this](int64_t n) {
      bucket_->Take(uint64_t(n));
      ctx_.total->Take(uint64_t(n));
    };
  }
  Status fetched = client::FetchBundleChunks(&store_, remote_, endpoint_, b, up_.concurrency, nullptr, meter, &fs,
                                             &held);
  result_.bytes_fetched += fs.bytes;
  result_.chunks_fetched += fs.chunks;
  result_.chunks_held += held;
  if (!fetched.ok()) {
    if (fetched.code() == StatusCode::kDataLoss) return Fail("chunk_invalid", std::string(fetched.message()));
    return FromStatus(fetched, "upstream_incomplete");
  }
  return Commit(m, b, *envelopes, *ev, *trust, ms);
}

Outcome Pass::Commit(const Model& m, const client::FetchedBundle& b, const std::vector<std::string>& envelopes,
                     const client::LogEvidence& ev, const signing::VerifyReport& trust, ModelState* ms) {
  // Recorded first, so that after a crash the tag is known to be the mirror's
  // whether or not it moved.
  ms->status = "pending";
  ms->pending = m.digest.ToString();
  if (Status s = Save(); !s.ok()) return Fail("internal", s.ToString());
  VerifiedModel v{m.repository, m.tag, b, envelopes, ev, trust, policy_digest_, up_.url};
  std::string code;
  if (Status s = CommitVerified(ctx_, v, &code); !s.ok()) return Fail(code, std::string(s.message()));
  ms->digest = m.digest.ToString();
  ms->pending.clear();
  ms->sequence = ev.tag_sequence;
  ms->last_change = Now();
  // Its type 5 entry named the checkpoint: the pass need not record it again.
  state_.recorded_size = cp_.opened.checkpoint.size;
  state_.recorded_root = cp_.opened.checkpoint.root_hash.ToString();
  return {Outcome::kUpdated, "", ""};
}

// A model the mirror holds that the upstream no longer lists: deleted
// upstream only if the upstream's log says so, in the checked checkpoint.
void Pass::CheckVanished(const std::map<std::string, Model>& listed) {
  for (auto& [ref, ms] : state_.models) {
    if (listed.count(ref) || ms.status == "deleted-upstream" || ms.status == "shadowed") continue;
    const size_t colon = ref.rfind(':');
    const std::string repository = ref.substr(0, colon), tag = ref.substr(colon + 1);
    if (!up_.SelectsRepository(repository) || !up_.SelectsTag(tag)) continue;
    Result<client::Remote::LogLookup> l = remote_.GetLogTag(repository, tag);
    Result<signing::LogEntry> e = l.ok() ? signing::LogEntry::Decode(l->entry) : l.status();
    Status ok = e.ok() ? Status::Ok() : e.status();
    if (ok.ok() && (e->type != signing::LogEntryType::kTag || e->repository != repository || e->tag != tag ||
                    e->digest || l->sequence <= ms.sequence || l->index >= cp_.opened.checkpoint.size)) {
      ok = PermissionDeniedError("its latest log entry does not show a deletion after the one seen");
    }
    if (ok.ok()) {
      Result<std::vector<Digest>> proof = remote_.GetInclusionProof(l->index, cp_.opened.checkpoint.size);
      ok = proof.ok() ? signing::merkle::VerifyInclusion(signing::merkle::HashLeaf(l->entry), l->index,
                                                          cp_.opened.checkpoint.size, *proof,
                                                          cp_.opened.checkpoint.root_hash)
                      : proof.status();
    }
    if (!ok.ok()) {
      ms.status = "failed";
      ms.code = "not_included";
      ms.message = "tag " + ref + " is no longer listed upstream, but " + std::string(ok.message());
      ms.error_time = Now();
      continue;
    }
    ms.status = "deleted-upstream";
    ms.sequence = l->sequence;
    Say(ref + " deleted upstream" + std::string(up_.follow_deletes ? "; deleting it here" : ""));
    if (up_.follow_deletes && store_.GetRef(ref).ok()) {
      if (Result<Digest> d = ctx_.server->DeleteTag(repository, tag); d.ok()) ms.last_change = Now();
    }
  }
}

Result<PassResult> Pass::Run() {
  const auto t0 = Clock::now();
  ARCA_ASSIGN_OR_RETURN(state_, LoadUpstreamState(ctx_.server->data_dir(), up_.name));
  state_.url = up_.url;
  state_.origin = up_.origin;
  state_.last_start = Now();
  result_.state = "ok";
  auto finish = [&]() -> Result<PassResult> {
    state_.last_end = Now();
    state_.bytes_fetched = result_.bytes_fetched;
    state_.chunks_fetched = result_.chunks_fetched;
    state_.retries = result_.state == "unreachable" ? state_.retries + 1 : 0;
    ARCA_RETURN_IF_ERROR(Save());
    result_.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return result_;
  };
  // A rolled-back or forked log stays halted until the operator acts.
  if (state_.state == "halted" && (state_.code == "log_rollback" || state_.code == "log_split_view")) {
    result_.state = "halted";
    Say("still halted (" + state_.code + "); after investigating, run: arca-registry mirror reset --upstream " +
        up_.name);
    return finish();
  }
  Result<signing::NoteVerifier> key = signing::ParseVerifierKey(up_.log_key);
  if (!key.ok()) return key.status().WithContext("upstream " + up_.name + " log_key");
  logs_ = signing::LogPolicy{{*key}, true, up_.max_checkpoint_age_seconds};
  Result<std::string> policy_text = ReadFile(up_.policy, 16 << 20);
  Result<signing::Policy> policy =
      policy_text.ok() ? signing::ParsePolicy(*policy_text, up_.policy) : Result<signing::Policy>(policy_text.status());
  if (!policy.ok()) {
    Halt("policy_invalid", "trust policy " + up_.policy + ": " + std::string(policy.status().message()));
    return finish();
  }
  policy_ = std::move(*policy);
  policy_digest_ = Sha256Of(*policy_text);

  bool stop = false;
  ARCA_RETURN_IF_ERROR(CheckUpstreamLog(&stop));
  if (stop) return finish();
  state_.state = "ok";
  state_.code.clear();
  state_.message.clear();

  Result<std::vector<Model>> models = ListModels();
  if (!models.ok()) {
    state_.state = result_.state = "unreachable";
    state_.code = "unreachable";
    state_.message = std::string(models.status().message());
    Say("cannot list the upstream's models: " + state_.message);
    return finish();
  }
  std::map<std::string, Model> listed;
  for (const Model& m : *models) {
    listed.emplace(m.ref(), m);
    ModelState& ms = state_.models[m.ref()];
    ++result_.models;
    const ModelState before = ms;
    Outcome o = SyncModel(m, &ms);
    switch (o.kind) {
      case Outcome::kUpdated:
      case Outcome::kUnchanged:
        ms.status = "ok";
        ms.code.clear();
        ms.message.clear();
        ms.attempts = 0;
        ++(o.kind == Outcome::kUpdated ? result_.updated : result_.unchanged);
        if (o.kind == Outcome::kUpdated) Say(m.ref() + " -> " + m.digest.ToString());
        break;
      case Outcome::kSkipped:
        ms.status = "skipped";
        ms.message = o.message;
        ++result_.skipped;
        break;
      case Outcome::kFailed:
      case Outcome::kUnreachable:
        // The mirrored tag stays where it was; only the error is new.
        ms.status = "failed";
        ms.digest = before.digest;
        ms.sequence = before.sequence;
        ms.code = o.code;
        ms.message = o.message;
        ms.error_time = Now();
        ++ms.attempts;
        ++result_.failed;
        Say(m.ref() + " FAILED (" + o.code + "): " + o.message);
        break;
    }
    ARCA_RETURN_IF_ERROR(Save());
    if (o.kind == Outcome::kUnreachable) {
      // Nothing of this model was committed; the next pass resumes it.
      if (result_.state == "ok") {
        state_.state = result_.state = "unreachable";
        state_.code = "unreachable";
        state_.message = o.message;
      }
      return finish();
    }
  }
  CheckVanished(listed);

  // The mirror's log witnesses every upstream state it verified.
  const signing::Checkpoint& c = cp_.opened.checkpoint;
  if (c.size != state_.recorded_size || c.root_hash.ToString() != state_.recorded_root) {
    signing::LogEntry entry;
    entry.type = signing::LogEntryType::kMirror;
    entry.time = Now();
    entry.upstream = c.origin;
    entry.upstream_size = c.size;
    entry.upstream_root = c.root_hash;
    ARCA_RETURN_IF_ERROR(ctx_.server->AppendLog({entry}));
    state_.recorded_size = c.size;
    state_.recorded_root = c.root_hash.ToString();
  }
  return finish();
}

}  // namespace

Result<PassResult> SyncUpstream(MirrorContext& ctx, const UpstreamConfig& upstream, TokenBucket* upstream_bucket,
                                std::ostream& log) {
  Pass pass(ctx, upstream, upstream_bucket, log);
  return pass.Run();
}

Status CommitVerified(MirrorContext& ctx, const VerifiedModel& v, std::string* code) {
  store::Store& store = ctx.server->store();
  const client::FetchedBundle& b = v.bundle;
  auto fail = [code](const char* c, const std::string& message) {
    *code = c;
    return Status(c == std::string("internal") ? StatusCode::kInternal : StatusCode::kDataLoss, message);
  };
  for (size_t i = 0; i < b.index_ids.size(); ++i) {
    Result<bool> put = store.PutFileIndex(b.index_ids[i], b.index_bytes[i]);
    if (!put.ok()) return fail("upstream_incomplete", put.status().ToString());
  }
  // Every file's bytes, re-read from the store, hash to the manifest's
  // digest. The chunks were verified as they arrived (or when they entered
  // the store before), and the file's hash covers every byte again, so the
  // read need not re-check each chunk's CRC-32C and SHA-256.
  for (size_t i = 0; i < b.manifest.files.size(); ++i) {
    Sha256 h;
    Status read = store.ReadChunks(
        b.indexes[i].chunks, 2,
        [&h](ByteView bytes) {
          h.Update(bytes);
          return Status::Ok();
        },
        /*verify_chunks=*/false);
    if (!read.ok()) return fail("internal", read.ToString());
    if (h.Finish() != b.manifest.files[i].digest) {
      return fail("digest_mismatch", "file " + b.manifest.files[i].path + " does not hash to its manifest digest");
    }
  }
  // PROTOCOL.md §3.3: objects and envelopes, the countersignature, the tag,
  // then the type 5 entry.
  Result<bool> put = store.PutManifest(b.digest, b.manifest_bytes);
  if (!put.ok()) return fail("upstream_incomplete", put.status().ToString());
  std::vector<Digest> kept;
  for (const std::string& e : v.envelopes) {
    Result<bool> added = ctx.server->AttachAttestation(b.digest, e);
    if (!added.ok()) return fail("internal", "attach an upstream envelope: " + added.status().ToString());
    kept.push_back(Sha256Of(e));
  }
  Result<std::vector<Digest>> attached = store.ListAttestations(b.digest);
  std::vector<std::string> held_envelopes;
  for (const Digest& a : attached.ok() ? *attached : std::vector<Digest>()) {
    if (Result<std::string> e = store.GetObject(a, store::ObjectKind::kAttestation); e.ok()) {
      held_envelopes.push_back(std::move(*e));
    }
  }
  if (!HasCountersignature(held_envelopes, ctx.key.public_key)) {
    CountersignInput in;
    in.mirror = ctx.server->log().origin();
    in.source = v.source;
    in.repository = v.repository;
    in.tag = v.tag;
    in.log = &v.log;
    in.policy_digest = v.policy_digest;
    in.rule = v.trust.rule;
    in.keys = v.trust.signers;
    in.envelopes = kept;
    in.time = Now();
    Result<std::string> cs = Countersign(in, b.digest, ctx.key);
    if (!cs.ok()) return fail("internal", "countersign: " + cs.status().ToString());
    Result<bool> added = ctx.server->AttachAttestation(b.digest, *cs);
    if (!added.ok()) return fail("internal", "attach the countersignature: " + added.status().ToString());
  }
  Result<std::optional<Digest>> moved = ctx.server->SetTag(v.repository, v.tag, b.digest);
  if (!moved.ok()) return fail("internal", "move the tag: " + moved.status().ToString());
  const signing::Checkpoint& cp = v.log.opened.checkpoint;
  signing::LogEntry entry;
  entry.type = signing::LogEntryType::kMirror;
  entry.time = Now();
  entry.upstream = cp.origin;
  entry.upstream_size = cp.size;
  entry.upstream_root = cp.root_hash;
  entry.repository = v.repository;
  entry.bundle = b.digest;
  if (Status s = ctx.server->AppendLog({entry}); !s.ok()) return fail("internal", s.ToString());
  return Status::Ok();
}

Result<std::unique_ptr<registry::Server>> OpenMirrorData(const MirrorConfig& config) {
  registry::ServerOptions so;
  so.listen = false;
  Result<std::unique_ptr<registry::Server>> server = registry::Server::Create(config.data, so);
  // RocksDB's lock file: one process opens a store (docs/store.md).
  if (!server.ok() && server.status().message().find("lock") != std::string_view::npos) {
    return FailedPreconditionError("the data directory " + config.data +
                                   " is in use by a running arca-registry serve; stop the server first (a server started "
                                   "with --config syncs by itself). Details: " +
                                   std::string(server.status().message()));
  }
  return server;
}

Result<MirrorContext> OpenMirror(registry::Server* server, const MirrorConfig* config) {
  MirrorContext ctx;
  ctx.server = server;
  ctx.config = config;
  ARCA_ASSIGN_OR_RETURN(ctx.key, LoadOrCreateMirrorKey(config->key));
  return ctx;
}

}  // namespace arca::mirror
