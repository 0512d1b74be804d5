// `arca-registry import` (import.h, PROTOCOL.md §8.4).
#include "mirror/import.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "client/log_check.h"
#include "common/file.h"
#include "format/file_index.h"
#include "format/manifest.h"
#include "format/pack.h"
#include "mirror/archive.h"
#include "mirror/config.h"
#include "mirror/state.h"
#include "signing/log_entry.h"
#include "signing/merkle.h"
#include "signing/note.h"
#include "signing/policy.h"
#include "signing/verify.h"

namespace arca::mirror {
namespace {

using Json = nlohmann::json;
namespace merkle = signing::merkle;

uint64_t Now() { return uint64_t(::time(nullptr)); }

std::string LogDir(const std::string& data, const std::string& origin) {
  return client::LogStatePathUnder(MirrorStateDir(data), origin);
}

// One log origin of the archive: its checkpoint and the entries proven in it.
struct Origin {
  std::string note;
  signing::SignedCheckpoint opened;
  const signing::NoteVerifier* key = nullptr;
  uint64_t record = 0;
  bool newer = true;  // larger than the one seen (or none was)
  std::vector<ConsistencyRecord> consistency;
  std::map<Digest, client::IncludedEntry> publish;  // by bundle
  std::map<std::string, std::pair<client::IncludedEntry, uint64_t>> tags;  // "repo:tag" -> entry, sequence
};

// One tag record and what it will commit.
struct TagItem {
  TagRecord rec;
  uint64_t record = 0;
  bool selected = true;
  std::string origin;
  uint64_t sequence = 0;
  client::FetchedBundle bundle;
  std::vector<std::string> envelopes;
  client::LogEvidence log;
  signing::VerifyReport trust;
  std::string ref() const { return rec.repository + ":" + rec.tag; }
};

// Staged pack files, removed unless ingested (IngestPack removes its own).
struct Staging {
  std::vector<std::pair<std::string, uint64_t>> packs;  // path, record number
  size_t ingested = 0;
  ~Staging() {
    for (size_t i = ingested; i < packs.size(); ++i) ::unlink(packs[i].first.c_str());
  }
};

class Importer {
 public:
  Importer(MirrorContext& ctx, const ImportOptions& io, std::ostream& log)
      : ctx_(ctx), io_(io), log_(log), store_(ctx.server->store()), data_(ctx.server->data_dir()) {}
  Result<ImportReport> Run();

 private:
  Status Refuse(uint64_t record, RecordType type, const std::string& why, StatusCode code = StatusCode::kPermissionDenied) {
    return Status(code, "archive record " + std::to_string(record) + " (" + std::string(RecordTypeName(type)) +
                            "): " + why);
  }
  Status Setup();
  Status OnCheckpoint(uint64_t n, const std::string& note);
  Status OnConsistency(uint64_t n, const std::string& body);
  Status CheckOrigins();
  Status OnLogEntry(uint64_t n, const std::string& body);
  Status OnTag(uint64_t n, const std::string& body);
  Status OnObject(uint64_t n, const std::string& body);
  Status OnAttestation(uint64_t n, const std::string& body);
  Status CheckBundles();
  Status Missing(const TagItem& t, const std::string& what);
  Status OnPack(ArchiveReader& reader, uint64_t n);
  Status VerifyStaged();
  Status CheckComplete();
  Status Commit();
  Status Remember();

  MirrorContext& ctx_;
  const ImportOptions& io_;
  std::ostream& log_;
  store::Store& store_;
  const std::string data_;
  std::vector<signing::NoteVerifier> keys_;
  signing::Policy policy_;
  Digest policy_digest_;
  ArchiveHeader header_;
  bool base_imported_ = false;
  std::map<std::string, Origin> origins_;
  bool origins_checked_ = false, bundles_checked_ = false;
  std::vector<TagItem> tags_;
  std::map<Digest, std::string> manifests_, indexes_;
  std::map<Digest, std::vector<std::string>> envelopes_;
  uint64_t held_bytes_ = 0;
  Staging staging_;
  std::set<Digest> staged_chunks_;
  ImportReport report_;
};

Status Importer::Setup() {
  for (const std::string& k : io_.log_keys) {
    Result<signing::NoteVerifier> v = signing::ParseVerifierKey(k);
    if (!v.ok()) return v.status().WithContext("log key " + k);
    keys_.push_back(std::move(*v));
  }
  if (keys_.empty()) return InvalidArgumentError("import needs at least one log key (--log-key or import.log_keys)");
  ARCA_ASSIGN_OR_RETURN(std::string text, ReadFile(io_.policy, 16 << 20));
  ARCA_ASSIGN_OR_RETURN(policy_, signing::ParsePolicy(text, io_.policy));
  policy_digest_ = Sha256Of(text);
  return Status::Ok();
}

Status Importer::OnCheckpoint(uint64_t n, const std::string& note) {
  const RecordType t = RecordType::kCheckpoint;
  Origin o;
  o.note = note;
  o.record = n;
  std::string why;
  for (const signing::NoteVerifier& k : keys_) {
    Result<signing::SignedCheckpoint> cp = signing::OpenCheckpoint(note, k);
    if (cp.ok()) {
      o.opened = std::move(*cp);
      o.key = &k;
      break;
    }
    why += (why.empty() ? "" : "; ") + k.name + ": " + std::string(cp.status().message());
  }
  if (!o.key) return Refuse(n, t, "the checkpoint is not signed by a configured log key (" + why + ")");
  const uint64_t now = Now(), ts = o.opened.timestamp;
  if (io_.max_checkpoint_age_seconds > 0 && ts + io_.max_checkpoint_age_seconds < now) {
    return Refuse(n, t, "the checkpoint was signed at " + client::FormatUtc(ts) + ", " + std::to_string(now - ts) +
                            " s ago, older than max_checkpoint_age_seconds " +
                            std::to_string(io_.max_checkpoint_age_seconds));
  }
  if (ts > now + kMaxCheckpointSkewSeconds) {
    return Refuse(n, t, "the checkpoint is dated " + client::FormatUtc(ts) + ", in the future");
  }
  const std::string origin = o.opened.checkpoint.origin;
  if (!origins_.emplace(origin, std::move(o)).second) return Refuse(n, t, "a second checkpoint of log " + origin);
  return Status::Ok();
}

Status Importer::OnConsistency(uint64_t n, const std::string& body) {
  Result<ConsistencyRecord> c = ConsistencyRecord::Decode(AsBytes(body));
  if (!c.ok()) return Refuse(n, RecordType::kConsistency, std::string(c.status().message()));
  auto it = origins_.find(c->origin);
  if (it == origins_.end()) return Refuse(n, RecordType::kConsistency, "no checkpoint of log " + c->origin);
  if (c->to != it->second.opened.checkpoint.size) {
    return Refuse(n, RecordType::kConsistency, "proves size " + std::to_string(c->to) + ", but the checkpoint has " +
                                                   std::to_string(it->second.opened.checkpoint.size));
  }
  it->second.consistency.push_back(std::move(*c));
  return Status::Ok();
}

// Step 2: each checkpoint against the one seen of its log.
Status Importer::CheckOrigins() {
  origins_checked_ = true;
  for (auto& [origin, o] : origins_) {
    // The archive's consistency records are the proofs; none from the seen
    // size means the archive was not exported --since the last one.
    bool no_proof = false;
    auto proof_of = [&o, &no_proof](uint64_t from, uint64_t to) -> Result<std::vector<Digest>> {
      for (const ConsistencyRecord& c : o.consistency) {
        if (c.from == from && c.to == to) return c.proof;
      }
      no_proof = true;
      return NotFoundError("the archive has no consistency proof from " + std::to_string(from) + " to " +
                           std::to_string(to) + " entries");
    };
    client::LogFailure why = client::LogFailure::kNone;
    Result<bool> newer =
        client::CheckAgainstSeen(MirrorStateDir(data_), o.opened, *o.key, "the archive", proof_of, &why);
    if (!newer.ok()) {
      std::string message(newer.status().message());
      if (why == client::LogFailure::kNone) return newer.status().WithContext("the seen checkpoint");
      if (why == client::LogFailure::kRollback || no_proof) {
        message += "; export it --since the archive last imported";
      }
      return Refuse(o.record, RecordType::kCheckpoint, message);
    }
    o.newer = *newer;
  }
  return Status::Ok();
}

// Step 3: each entry included at its stated size.
Status Importer::OnLogEntry(uint64_t n, const std::string& body) {
  const RecordType t = RecordType::kLogEntry;
  Result<LogEntryRecord> r = LogEntryRecord::Decode(AsBytes(body));
  if (!r.ok()) return Refuse(n, t, std::string(r.status().message()));
  auto it = origins_.find(r->origin);
  if (it == origins_.end()) return Refuse(n, t, "no checkpoint of log " + r->origin);
  Origin& o = it->second;
  const signing::Checkpoint& cp = o.opened.checkpoint;
  if (r->size != cp.size) {
    return Refuse(n, t, "states size " + std::to_string(r->size) + ", but the checkpoint of " + r->origin + " has " +
                            std::to_string(cp.size));
  }
  Status s = merkle::VerifyInclusion(merkle::HashLeaf(r->entry), r->index, cp.size, r->proof, cp.root_hash);
  if (!s.ok()) return Refuse(n, t, "entry " + std::to_string(r->index) + " is not in the signed log: " +
                                       std::string(s.message()));
  Result<signing::LogEntry> e = signing::LogEntry::Decode(r->entry);
  if (!e.ok()) return Refuse(n, t, "the entry does not decode: " + std::string(e.status().message()));
  client::IncludedEntry inc{r->index, std::move(r->entry), std::move(r->proof)};
  if (e->type == signing::LogEntryType::kPublish && e->bundle) {
    o.publish[*e->bundle] = std::move(inc);
  } else if (e->type == signing::LogEntryType::kTag) {
    auto& slot = o.tags[e->repository + ":" + e->tag];
    if (slot.first.entry.empty() || e->sequence > slot.second) slot = {std::move(inc), e->sequence};
  }
  return Status::Ok();
}

Result<Json> SeenTags(const std::string& dir) {
  Result<std::string> text = ReadFile(dir + "/tags.json", 64 << 20);
  if (text.status().code() == StatusCode::kNotFound) return Json::object();
  if (!text.ok()) return text.status();
  Json j = Json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return DataLossError(dir + "/tags.json is damaged");
  return j;
}

// Step 4: the publish entry, a tag entry naming the bundle, the sequence.
Status Importer::OnTag(uint64_t n, const std::string& body) {
  const RecordType t = RecordType::kTag;
  Result<TagRecord> r = TagRecord::Decode(AsBytes(body));
  if (!r.ok()) return Refuse(n, t, std::string(r.status().message()));
  TagItem item;
  item.rec = std::move(*r);
  item.record = n;
  const std::string ref = item.ref();
  if (Status v = store::ValidateRefName(ref); !v.ok()) return Refuse(n, t, std::string(v.message()));
  for (const TagItem& other : tags_) {
    if (other.ref() == ref) return Refuse(n, t, "tag " + ref + " appears twice");
  }
  item.selected = false;
  for (const std::string& g : io_.repositories) item.selected |= signing::GlobMatch(g, item.rec.repository);
  if (!item.selected) {
    report_.skipped.push_back(ref);
    tags_.push_back(std::move(item));
    return Status::Ok();
  }
  std::string why = "no log of the archive holds both the publish entry of " + item.rec.bundle.ToString() +
                    " and a tag entry of " + ref + " naming it";
  for (auto& [origin, o] : origins_) {
    auto p = o.publish.find(item.rec.bundle);
    auto q = o.tags.find(ref);
    if (p == o.publish.end() || q == o.tags.end()) continue;
    Result<signing::LogEntry> e = signing::LogEntry::Decode(q->second.first.entry);
    if (!e.ok() || e->digest != item.rec.bundle) {
      why = "the latest entry of tag " + ref + " in log " + origin + " does not name " + item.rec.bundle.ToString();
      continue;
    }
    ARCA_ASSIGN_OR_RETURN(Json seen, SeenTags(LogDir(data_, origin)));
    const uint64_t seen_seq = seen.value(ref, uint64_t(0));
    if (q->second.second < seen_seq) {
      return Refuse(n, t, "tag " + ref + " went backwards: the archive's entry is #" +
                              std::to_string(q->second.second) + " but #" + std::to_string(seen_seq) +
                              " was seen before (an old archive?)");
    }
    item.origin = origin;
    item.sequence = q->second.second;
    item.log.checkpoint = o.note;
    item.log.opened = o.opened;
    item.log.key_name = o.key->name;
    item.log.publish = p->second;
    item.log.tag = q->second.first;
    item.log.tag_sequence = item.sequence;
    tags_.push_back(std::move(item));
    return Status::Ok();
  }
  return Refuse(n, t, why);
}

// Step 5: digests (the object's own), strict parses, manifest names.
Status Importer::OnObject(uint64_t n, const std::string& body) {
  const RecordType t = RecordType::kObject;
  Result<ObjectRecord> r = ObjectRecord::Decode(AsBytes(body));
  if (!r.ok()) return Refuse(n, t, std::string(r.status().message()));
  const Digest d = Sha256Of(r->bytes);
  if ((held_bytes_ += r->bytes.size()) > kMaxImportMetadataBytes) {
    return Refuse(n, t, "the archive's objects exceed " + std::to_string(kMaxImportMetadataBytes) + " bytes");
  }
  if (r->kind == ObjectRecord::kFileIndex) {
    Result<format::FileIndex> f = format::FileIndex::Parse(AsBytes(r->bytes));
    if (!f.ok()) return Refuse(n, t, "file index " + d.ToString() + ": " + std::string(f.status().message()));
    indexes_[d] = std::move(r->bytes);
    return Status::Ok();
  }
  Result<format::Manifest> m = format::Manifest::Parse(r->bytes);
  if (!m.ok()) return Refuse(n, t, "manifest " + d.ToString() + ": " + std::string(m.status().message()));
  for (const TagItem& item : tags_) {
    if (item.selected && item.rec.bundle == d && m->meta.name != item.rec.repository) {
      return Refuse(n, t, "manifest " + d.ToString() + " names " + m->meta.name + ", not " + item.rec.repository);
    }
  }
  manifests_[d] = std::move(r->bytes);
  return Status::Ok();
}

Status Importer::OnAttestation(uint64_t n, const std::string& body) {
  const RecordType t = RecordType::kAttestation;
  Result<AttestationRecord> r = AttestationRecord::Decode(AsBytes(body));
  if (!r.ok()) return Refuse(n, t, std::string(r.status().message()));
  if (r->envelope.size() > store::kMaxAttestationBytes) return Refuse(n, t, "envelope too large");
  if ((held_bytes_ += r->envelope.size()) > kMaxImportMetadataBytes) {
    return Refuse(n, t, "the archive's envelopes exceed " + std::to_string(kMaxImportMetadataBytes) + " bytes");
  }
  std::vector<std::string>& list = envelopes_[r->bundle];
  if (list.size() >= store::kMaxAttestationsPerSubject - 1) {
    return Refuse(n, t, "more than 255 attestations for bundle " + r->bundle.ToString());
  }
  list.push_back(std::move(r->envelope));
  return Status::Ok();
}

Status Importer::Missing(const TagItem& t, const std::string& what) {
  if (header_.incremental && !base_imported_) {
    return Refuse(t.record, RecordType::kTag,
                  "the archive lacks " + what + " of " + t.ref() + ": it is incremental; import archive " +
                      header_.base.ToString() + " first",
                  StatusCode::kFailedPrecondition);
  }
  return Refuse(t.record, RecordType::kTag, "the archive lacks " + what + " of " + t.ref() +
                                                ", and this registry does not hold it",
                StatusCode::kDataLoss);
}

// Step 5, per bundle: the objects (archive or store), then the policy.
Status Importer::CheckBundles() {
  bundles_checked_ = true;
  for (TagItem& t : tags_) {
    if (!t.selected) continue;
    client::FetchedBundle& b = t.bundle;
    b.digest = t.rec.bundle;
    if (auto m = manifests_.find(b.digest); m != manifests_.end()) {
      b.manifest_bytes = m->second;
    } else if (Result<std::string> held = store_.GetObject(b.digest, store::ObjectKind::kManifest); held.ok()) {
      b.manifest_bytes = std::move(*held);
    } else {
      return Missing(t, "manifest " + b.digest.ToString());
    }
    Result<format::Manifest> m = format::Manifest::Parse(b.manifest_bytes);
    if (!m.ok()) return Refuse(t.record, RecordType::kTag, "manifest: " + std::string(m.status().message()));
    b.manifest = std::move(*m);
    if (b.manifest.meta.name != t.rec.repository) {
      return Refuse(t.record, RecordType::kTag, "the manifest names " + b.manifest.meta.name);
    }
    std::map<Digest, size_t> seen;
    for (const format::ManifestFile& f : b.manifest.files) {
      auto [at, fresh] = seen.emplace(f.index, b.index_ids.size());
      if (fresh) {
        std::string bytes;
        if (auto i = indexes_.find(f.index); i != indexes_.end()) {
          bytes = i->second;
        } else if (Result<std::string> held = store_.GetObject(f.index, store::ObjectKind::kFileIndex); held.ok()) {
          bytes = std::move(*held);
        } else {
          return Missing(t, "file index " + f.index.ToString() + " (file " + f.path + ")");
        }
        b.index_ids.push_back(f.index);
        b.index_bytes.push_back(std::move(bytes));
      }
      Result<format::FileIndex> index = format::FileIndex::Parse(AsBytes(b.index_bytes[at->second]));
      if (!index.ok() || index->file_size != f.size) {
        return Refuse(t.record, RecordType::kTag, "the file index of " + f.path + " does not fit the manifest");
      }
      b.indexes.push_back(std::move(*index));
    }
    // The archive's envelopes, and any this registry holds already.
    std::set<Digest> have;
    for (const std::string& e : envelopes_[b.digest]) {
      if (have.insert(Sha256Of(e)).second) t.envelopes.push_back(e);
    }
    std::vector<std::string> judged = t.envelopes;
    if (Result<std::vector<Digest>> held = store_.ListAttestations(b.digest); held.ok()) {
      for (const Digest& a : *held) {
        if (have.count(a)) continue;
        if (Result<std::string> e = store_.GetObject(a, store::ObjectKind::kAttestation); e.ok()) {
          judged.push_back(std::move(*e));
        }
      }
    }
    signing::Evidence evidence{t.rec.repository, b.manifest_bytes, b.digest, judged};
    Result<signing::VerifyReport> trust = signing::VerifyBundle(policy_, evidence, {});
    if (!trust.ok()) return Refuse(t.record, RecordType::kTag, std::string(trust.status().message()));
    if (!trust->ok) {
      std::string why;
      for (const std::string& f : trust->failures) why += (why.empty() ? "" : "; ") + f;
      return Refuse(t.record, RecordType::kTag, "the trust policy refuses " + t.ref() + ": " + why);
    }
    t.trust = std::move(*trust);
  }
  return Status::Ok();
}

// Step 6: a pack body into the store's tmp/, checked when it has all arrived.
Status Importer::OnPack(ArchiveReader& reader, uint64_t n) {
  const std::string path = store_.NewTempPath("import");
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return ErrnoToStatus(errno, "create " + path);
  staging_.packs.emplace_back(path, n);
  return reader.CopyBodyTo(fd.get());
}

Status Importer::VerifyStaged() {
  for (const auto& [path, n] : staging_.packs) {
    ARCA_ASSIGN_OR_RETURN(MappedFile map, MappedFile::Open(path));
    Status s = format::VerifyPackBytes(map.bytes());
    if (!s.ok()) return Refuse(n, RecordType::kPack, std::string(s.message()), StatusCode::kDataLoss);
    ByteView bytes = map.bytes();
    ARCA_ASSIGN_OR_RETURN(uint64_t tail,
                          format::PackIndex::RequiredTailSize(bytes.last(format::kPackTrailerSize), bytes.size()));
    ARCA_ASSIGN_OR_RETURN(format::PackIndex index, format::PackIndex::Parse(bytes.last(tail), bytes.size()));
    for (const format::PackEntry& e : index.entries) staged_chunks_.insert(e.digest);
    report_.chunks += index.entries.size();
  }
  report_.packs = staging_.packs.size();
  return Status::Ok();
}

// Step 8: every chunk of every file is held or staged.
Status Importer::CheckComplete() {
  for (const TagItem& t : tags_) {
    if (!t.selected) continue;
    for (size_t i = 0; i < t.bundle.indexes.size(); ++i) {
      for (const format::ChunkRef& c : t.bundle.indexes[i].chunks) {
        if (staged_chunks_.count(c.digest) || store_.HasChunk(c.digest)) continue;
        return Missing(t, "chunk " + c.digest.ToString() + " (file " + t.bundle.manifest.files[i].path + ")");
      }
    }
  }
  return Status::Ok();
}

// Step 9: packs, then each tag as a sync commits a model.
Status Importer::Commit() {
  for (; staging_.ingested < staging_.packs.size(); ++staging_.ingested) {
    const auto& [path, n] = staging_.packs[staging_.ingested];
    Result<store::IngestResult> r = store_.IngestPack(path);
    if (!r.ok()) return r.status().WithContext("ingest the pack of archive record " + std::to_string(n));
    report_.new_chunks += r->new_chunks;
  }
  const std::string source = "archive:" + report_.archive_id.ToString();
  for (const TagItem& t : tags_) {
    if (!t.selected) continue;
    Result<Digest> local = store_.GetRef(t.ref());
    if (local.ok() && *local == t.rec.bundle) {
      for (const std::string& e : t.envelopes) {
        ARCA_RETURN_IF_ERROR(ctx_.server->AttachAttestation(t.rec.bundle, e).status());
      }
      report_.unchanged.push_back(t.ref());
      continue;
    }
    VerifiedModel v{t.rec.repository, t.rec.tag, t.bundle, t.envelopes, t.log, t.trust, policy_digest_, source};
    std::string code;
    if (Status s = CommitVerified(ctx_, v, &code); !s.ok()) {
      return s.WithContext("commit " + t.ref() + " (" + code + ")");
    }
    log_ << "arca-registry: import: " << t.ref() << " -> " << t.rec.bundle.ToString() << std::endl;
    report_.updated.push_back(t.ref());
  }
  return Status::Ok();
}

// The checkpoints and tag sequences now seen, and the import itself.
Status Importer::Remember() {
  for (const auto& [origin, o] : origins_) {
    const std::string dir = LogDir(data_, origin);
    ARCA_RETURN_IF_ERROR(MakeDirs(dir));
    if (o.newer) ARCA_RETURN_IF_ERROR(WriteFileAtomic(dir + "/checkpoint", o.note));
    ARCA_ASSIGN_OR_RETURN(Json seen, SeenTags(dir));
    bool changed = false;
    for (const TagItem& t : tags_) {
      if (!t.selected || t.origin != origin || seen.value(t.ref(), uint64_t(0)) >= t.sequence) continue;
      seen[t.ref()] = t.sequence;
      changed = true;
    }
    if (changed) ARCA_RETURN_IF_ERROR(WriteFileAtomic(dir + "/tags.json", seen.dump(1)));
  }
  if (report_.already_imported && report_.updated.empty()) return Status::Ok();
  const std::string path = MirrorStateDir(data_) + "/imports.json";
  Result<std::string> old = ReadFile(path, 256 << 20);
  if (!old.ok() && old.status().code() != StatusCode::kNotFound) return old.status();
  Json line = {{"archive", report_.archive_id.ToString()},
               {"time", Now()},
               {"file", io_.archive},
               {"updated", report_.updated},
               {"unchanged", report_.unchanged},
               {"skipped", report_.skipped},
               {"new_chunks", report_.new_chunks}};
  if (header_.incremental) line["base"] = header_.base.ToString();
  ARCA_RETURN_IF_ERROR(MakeDirs(MirrorStateDir(data_)));
  return WriteFileAtomic(path, (old.ok() ? *old : std::string()) + line.dump() + "\n");
}

Result<ImportReport> Importer::Run() {
  ARCA_RETURN_IF_ERROR(Setup());
  ARCA_ASSIGN_OR_RETURN(UniqueFd fd, OpenForRead(io_.archive));
  ARCA_ASSIGN_OR_RETURN(std::unique_ptr<ArchiveReader> reader, ArchiveReader::Open(fd.get()));
  header_ = reader->header();
  if (header_.incremental) {
    report_.base = header_.base;
    ARCA_ASSIGN_OR_RETURN(base_imported_, ArchiveImported(data_, header_.base));
  }
  for (;;) {
    ARCA_ASSIGN_OR_RETURN(std::optional<RecordHeader> h, reader->Next());
    if (h && h->type > RecordType::kConsistency && !origins_checked_) ARCA_RETURN_IF_ERROR(CheckOrigins());
    if ((!h || h->type > RecordType::kAttestation) && !bundles_checked_) {
      if (!origins_checked_) ARCA_RETURN_IF_ERROR(CheckOrigins());
      ARCA_RETURN_IF_ERROR(CheckBundles());
    }
    if (!h) break;
    if (h->type == RecordType::kPack) {
      ARCA_RETURN_IF_ERROR(OnPack(*reader, h->number));
      continue;
    }
    ARCA_ASSIGN_OR_RETURN(std::string body, reader->ReadBody());
    switch (h->type) {
      case RecordType::kCheckpoint: ARCA_RETURN_IF_ERROR(OnCheckpoint(h->number, body)); break;
      case RecordType::kConsistency: ARCA_RETURN_IF_ERROR(OnConsistency(h->number, body)); break;
      case RecordType::kLogEntry: ARCA_RETURN_IF_ERROR(OnLogEntry(h->number, body)); break;
      case RecordType::kTag: ARCA_RETURN_IF_ERROR(OnTag(h->number, body)); break;
      case RecordType::kObject: ARCA_RETURN_IF_ERROR(OnObject(h->number, body)); break;
      case RecordType::kAttestation: ARCA_RETURN_IF_ERROR(OnAttestation(h->number, body)); break;
      default: break;  // info: shown, never trusted
    }
  }
  // Step 7 passed (Next checked the trailer and the end of the file).
  report_.archive_id = *reader->archive_id();
  ARCA_ASSIGN_OR_RETURN(report_.already_imported, ArchiveImported(data_, report_.archive_id));
  ARCA_RETURN_IF_ERROR(VerifyStaged());
  ARCA_RETURN_IF_ERROR(CheckComplete());
  ARCA_RETURN_IF_ERROR(Commit());
  ARCA_RETURN_IF_ERROR(Remember());
  return report_;
}

}  // namespace

Result<bool> ArchiveImported(const std::string& data_dir, const Digest& id) {
  Result<std::string> text = ReadFile(MirrorStateDir(data_dir) + "/imports.json", 256 << 20);
  if (text.status().code() == StatusCode::kNotFound) return false;
  if (!text.ok()) return text.status();
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    Json j = Json::parse(line, nullptr, false);
    if (j.is_object() && j.value("archive", std::string()) == id.ToString()) return true;
  }
  return false;
}

Result<ImportReport> ImportArchive(MirrorContext& ctx, const ImportOptions& io, std::ostream& log) {
  Importer importer(ctx, io, log);
  return importer.Run();
}

int ImportCommand(const ImportCommandOptions& o, std::ostream& out, std::ostream& err) {
  auto usage = [&err](const std::string& why) {
    err << "arca-registry: " << why << "\n";
    return 2;
  };
  MirrorConfig config;
  ImportOptions io;
  io.archive = o.archive;
  if (!o.config.empty()) {
    if (!o.data.empty() || !o.policy.empty() || !o.log_keys.empty()) {
      return usage("give --config, or --data with --policy and --log-key, not both");
    }
    Result<MirrorConfig> c = LoadMirrorConfig(o.config);
    if (!c.ok()) {
      err << "arca-registry: error: " << c.status().message() << "\n";
      return 1;
    }
    config = std::move(*c);
    if (!config.import) return usage("the config " + o.config + " has no \"import\" section");
    io.policy = config.import->policy;
    io.log_keys = config.import->log_keys;
    io.repositories = config.import->repositories;
    io.max_checkpoint_age_seconds = config.import->max_checkpoint_age_seconds;
  } else {
    if (o.data.empty() || o.policy.empty() || o.log_keys.empty()) {
      return usage("import needs --config FILE, or --data DIR --policy FILE --log-key KEY");
    }
    config.data = std::filesystem::absolute(o.data).lexically_normal().string();
    config.key = config.data + "/keys/mirror.key";
    io.policy = std::filesystem::absolute(o.policy).string();
    io.log_keys = o.log_keys;
  }
  if (io.policy.empty()) return usage("the import has no trust policy (import.policy or the config's \"policy\")");
  if (o.max_age_seconds) io.max_checkpoint_age_seconds = *o.max_age_seconds;
  if (::access(io.archive.c_str(), R_OK) != 0) {
    err << "arca-registry: error: cannot read " << io.archive << ": " << std::strerror(errno) << "\n";
    return 1;
  }

  Result<std::unique_ptr<registry::Server>> server = OpenMirrorData(config);
  if (!server.ok()) {
    err << "arca-registry: error: " << server.status().message() << "\n";
    return 1;
  }
  Result<MirrorContext> ctx = OpenMirror(server->get(), &config);
  if (!ctx.ok()) {
    err << "arca-registry: error: " << ctx.status().message() << "\n";
    return 1;
  }
  Result<ImportReport> r = ImportArchive(*ctx, io, err);
  if (!r.ok()) {
    err << "arca-registry: import refused: " << r.status().message() << "\n"
        << "arca-registry: nothing was imported; the registry is unchanged\n";
    return 1;
  }
  const ImportReport& ir = *r;
  if (o.json) {
    Json j = {{"archive", ir.archive_id.ToString()},
              {"base", ir.base ? Json(ir.base->ToString()) : Json(nullptr)},
              {"updated", ir.updated},
              {"unchanged", ir.unchanged},
              {"skipped", ir.skipped},
              {"packs", ir.packs},
              {"chunks", ir.chunks},
              {"new_chunks", ir.new_chunks},
              {"already_imported", ir.already_imported}};
    out << j.dump() << "\n";
    return 0;
  }
  out << "imported archive " << ir.archive_id.ToString() << (ir.already_imported ? " (again)" : "") << "\n";
  for (const std::string& t : ir.updated) out << "  " << t << "  updated\n";
  for (const std::string& t : ir.unchanged) out << "  " << t << "  unchanged\n";
  for (const std::string& t : ir.skipped) out << "  " << t << "  skipped (not selected by import.repositories)\n";
  out << "chunks " << ir.new_chunks << " new of " << ir.chunks << " in " << ir.packs << " packs\n";
  return 0;
}

}  // namespace arca::mirror
