// `arca export` (export.h, PROTOCOL.md §8.3).
#include "mirror/export.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <ctime>
#include <memory>
#include <unordered_map>

#include "client/fetch.h"
#include "client/log_check.h"
#include "client/reference.h"
#include "client/remote.h"
#include "common/file.h"
#include "format/file_index.h"
#include "format/manifest.h"
#include "format/pack.h"
#include "mirror/archive.h"
#include "signing/merkle.h"
#include "signing/note.h"
#include "store/store.h"

namespace arca::mirror {
namespace {

using Json = nlohmann::json;

// Removes a file when it goes out of scope, unless released.
struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

// One reference, resolved and verified.
struct Item {
  client::Reference ref;
  client::FetchedBundle bundle;
  std::vector<std::string> envelopes;
  client::LogEvidence log;
};

// The references of one registry (one log origin).
struct Source {
  client::Registry registry;
  std::unique_ptr<client::Remote> remote;
  client::Endpoint endpoint;
  client::CheckedCheckpoint cp;
  std::vector<size_t> items;  // into the item list
};

Result<signing::LogPolicy> LogPolicyOf(const client::TrustOptions& trust) {
  if (!trust.log_key.empty()) {
    ARCA_ASSIGN_OR_RETURN(signing::NoteVerifier k, signing::ParseVerifierKey(trust.log_key));
    return signing::LogPolicy{{k}, true, 0};
  }
  ARCA_ASSIGN_OR_RETURN(std::optional<signing::Policy> policy, client::LoadTrustPolicy(trust));
  if (!policy || !policy->logs) {
    return FailedPreconditionError(
        "an archive carries the registry's transparency-log evidence, and your trust policy has no \"logs\" "
        "key to check it with; add the registry's log key (`arca-registry log-key`) under \"logs\" in your "
        "policy (docs/trust-policy.md)");
  }
  return *policy->logs;
}

// Verifies every item of `src` against one checkpoint (fetched again once
// if a tag moved after it was signed).
Status CheckSource(Source& src, std::vector<Item>& items, const signing::LogPolicy& logs) {
  const std::string state_dir = client::LogStateDir();
  for (int attempt = 0;; ++attempt) {
    client::LogFailure why = client::LogFailure::kNone;
    Result<client::CheckedCheckpoint> cp = client::CheckCheckpoint(*src.remote, logs, state_dir, &why);
    if (!cp.ok()) {
      if (why == client::LogFailure::kNoLog) {
        return FailedPreconditionError("registry " + src.registry.Address() +
                                       " serves no transparency log: an archive needs one, nothing was exported");
      }
      return cp.status();
    }
    src.cp = std::move(*cp);
    Status failed;
    for (size_t i : src.items) {
      Item& it = items[i];
      Result<client::LogEvidence> ev = client::CheckEntries(
          *src.remote, src.cp, it.bundle.digest, std::make_pair(it.ref.repository, it.ref.tag), state_dir);
      if (!ev.ok()) {
        failed = ev.status().WithContext(it.ref.ToString());
        break;
      }
      it.log = std::move(*ev);
    }
    if (failed.ok()) return client::RememberCheckpoint(src.cp, state_dir);
    if (failed.code() != StatusCode::kFailedPrecondition || attempt > 0) return failed;
  }
}

// Reads the stored bytes of chunks from the cache's pack files.
class ChunkReader {
 public:
  explicit ChunkReader(const store::Store& store) : store_(store) {}
  Status Read(const store::ChunkLocation& loc, std::string* out) {
    auto it = fds_.find(loc.pack);
    if (it == fds_.end()) {
      ARCA_ASSIGN_OR_RETURN(UniqueFd fd, OpenForRead(store_.PackPath(loc.pack)));
      it = fds_.emplace(loc.pack, std::move(fd)).first;
    }
    if (loc.entry.stored_len > format::kPackMaxSize) return DataLossError("chunk too large in the cache");
    out->resize(loc.entry.stored_len);
    return PreadAll(it->second.get(), std::span<uint8_t>(reinterpret_cast<uint8_t*>(out->data()), out->size()),
                    loc.entry.offset, "cache pack " + loc.pack.ToString());
  }

 private:
  const store::Store& store_;
  std::unordered_map<Digest, UniqueFd, DigestHash> fds_;
};

}  // namespace

std::string NoteOrigin(std::string_view note) { return std::string(note.substr(0, note.find('\n'))); }

Result<BaseArchive> ReadBaseArchive(const std::string& path, const std::string& tmp_dir) {
  ARCA_ASSIGN_OR_RETURN(UniqueFd fd, OpenForRead(path));
  ARCA_ASSIGN_OR_RETURN(std::unique_ptr<ArchiveReader> reader, ArchiveReader::Open(fd.get()));
  BaseArchive base;
  for (;;) {
    ARCA_ASSIGN_OR_RETURN(std::optional<RecordHeader> h, reader->Next());
    if (!h) break;
    switch (h->type) {
      case RecordType::kCheckpoint: {
        ARCA_ASSIGN_OR_RETURN(std::string note, reader->ReadBody());
        base.checkpoints[NoteOrigin(note)] = std::move(note);
        break;
      }
      case RecordType::kObject: {
        ARCA_ASSIGN_OR_RETURN(std::string body, reader->ReadBody());
        ARCA_ASSIGN_OR_RETURN(ObjectRecord o, ObjectRecord::Decode(AsBytes(body)));
        base.objects.insert(Sha256Of(o.bytes));
        break;
      }
      case RecordType::kAttestation: {
        ARCA_ASSIGN_OR_RETURN(std::string body, reader->ReadBody());
        ARCA_ASSIGN_OR_RETURN(AttestationRecord a, AttestationRecord::Decode(AsBytes(body)));
        base.attestations.insert(a.bundle.Hex() + ":" + Sha256Of(a.envelope).Hex());
        break;
      }
      case RecordType::kPack: {
        TempFile tmp{tmp_dir + "/base-pack-" + std::to_string(::getpid()) + ".tmp"};
        UniqueFd out(::open(tmp.path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!out.valid()) return ErrnoToStatus(errno, "create " + tmp.path);
        ARCA_RETURN_IF_ERROR(reader->CopyBodyTo(out.get()));
        Result<format::PackIndex> index = format::PackIndex::ReadFromFile(out.get(), h->length, "base pack");
        if (!index.ok()) {
          return index.status().WithContext("base archive record " + std::to_string(h->number));
        }
        for (const format::PackEntry& e : index->entries) base.chunks.insert(e.digest);
        break;
      }
      default:
        ARCA_RETURN_IF_ERROR(reader->SkipBody());
    }
  }
  base.id = *reader->archive_id();
  return base;
}

Result<ExportReport> ExportArchive(const client::StoreOptions& so, const ExportOptions& eo, std::ostream& err) {
  const bool chatty = !so.quiet && !so.json;
  if (eo.refs.empty()) return InvalidArgumentError("give at least one reference to export");
  ARCA_ASSIGN_OR_RETURN(signing::LogPolicy logs, LogPolicyOf(eo.trust));
  ARCA_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, client::OpenStore(so));

  // 1. Resolve each reference; its manifest and envelopes; the trust policy.
  std::vector<Item> items(eo.refs.size());
  std::vector<Source> sources;
  for (size_t i = 0; i < eo.refs.size(); ++i) {
    Item& it = items[i];
    ARCA_ASSIGN_OR_RETURN(it.ref, client::ParseReference(eo.refs[i], client::InsecureHttpFromEnv()));
    if (it.ref.digest || !it.ref.tag_given) {
      return InvalidArgumentError("export " + eo.refs[i] +
                                  ": name a tag (REGISTRY/namespace/name:tag); an archive carries tags");
    }
    Source* src = nullptr;
    for (Source& s : sources) {
      if (s.registry.Url() == it.ref.registry.Url()) src = &s;
    }
    if (!src) {
      Source s;
      s.registry = it.ref.registry;
      ARCA_ASSIGN_OR_RETURN(s.endpoint, client::EndpointFor(s.registry));
      s.remote = std::make_unique<client::Remote>(s.endpoint);
      sources.push_back(std::move(s));
      src = &sources.back();
    }
    src->items.push_back(i);
    client::FetchedBundle& b = it.bundle;
    ARCA_ASSIGN_OR_RETURN(b.digest, src->remote->GetTag(it.ref.repository, it.ref.tag));
    ARCA_ASSIGN_OR_RETURN(b.manifest_bytes, client::FetchManifest(*store, *src->remote, b.digest));
    Result<format::Manifest> manifest = format::Manifest::Parse(b.manifest_bytes);
    if (!manifest.ok()) return manifest.status().WithContext("manifest " + b.digest.ToString());
    b.manifest = std::move(*manifest);
    ARCA_ASSIGN_OR_RETURN(it.envelopes, src->remote->GetAttestations(b.digest));
    ARCA_RETURN_IF_ERROR(client::EnforcePolicy(eo.trust, it.ref.repository, b.manifest_bytes, b.digest,
                                               it.envelopes, err, !chatty)
                             .status());
  }
  if (sources.size() > 16) return InvalidArgumentError("an archive holds the refs of at most 16 registries");
  // 2. The log: every ref of a registry against one checkpoint.
  for (Source& s : sources) ARCA_RETURN_IF_ERROR(CheckSource(s, items, logs));
  // 3. File indexes and the chunks the cache lacks, verified on arrival.
  for (Source& s : sources) {
    for (size_t i : s.items) {
      client::FetchedBundle& b = items[i].bundle;
      ARCA_RETURN_IF_ERROR(client::FetchIndexes(*store, s.endpoint, so.jobs, &b));
      client::Progress progress("fetching", chatty, err);
      client::FetchStats fs;
      uint64_t held = 0;
      ARCA_RETURN_IF_ERROR(
          client::FetchBundleChunks(store.get(), *s.remote, s.endpoint, b, so.jobs, &progress, nullptr, &fs, &held));
    }
  }

  // 4. The base, if any.
  std::optional<BaseArchive> base;
  if (!eo.since.empty()) {
    Result<BaseArchive> b = ReadBaseArchive(eo.since, store->dir() + "/tmp");
    if (!b.ok()) return b.status().WithContext("base archive " + eo.since);
    base = std::move(*b);
  }

  // 5. The archive, front to back.
  ExportReport report;
  report.output = eo.output;
  UniqueFd file;
  TempFile partial;
  int fd = STDOUT_FILENO;
  if (eo.output != "-") {
    partial.path = eo.output + ".partial";
    file = UniqueFd(::open(partial.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!file.valid()) return ErrnoToStatus(errno, "create " + partial.path);
    fd = file.get();
  }
  std::optional<Digest> base_id;
  if (base) base_id = base->id;
  report.base = base_id;
  ARCA_ASSIGN_OR_RETURN(std::unique_ptr<ArchiveWriter> w, ArchiveWriter::Create(fd, base_id));

  Json info = {{"schema", "arca.export.v1"}, {"created", client::FormatUtc(uint64_t(::time(nullptr)))}};
  std::string source;
  for (const Source& s : sources) source += (source.empty() ? "" : " ") + s.registry.Url();
  info["source"] = source;
  info["refs"] = Json::array();
  for (const Item& it : items) {
    info["refs"].push_back(it.ref.ToString() + "@" + it.bundle.digest.ToString());
    report.refs.push_back(info["refs"].back());
  }
  if (base) info["base"] = base->id.ToString();
  ARCA_RETURN_IF_ERROR(w->Add(RecordType::kInfo, AsBytes(info.dump())));
  for (const Source& s : sources) ARCA_RETURN_IF_ERROR(w->Add(RecordType::kCheckpoint, AsBytes(s.cp.note)));

  // Consistency from each of the base's checkpoints to the new one.
  if (base) {
    for (Source& s : sources) {
      const signing::Checkpoint& now = s.cp.opened.checkpoint;
      auto it = base->checkpoints.find(now.origin);
      if (it == base->checkpoints.end()) continue;
      std::optional<signing::SignedCheckpoint> old;
      for (const signing::NoteVerifier& k : logs.keys) {
        if (Result<signing::SignedCheckpoint> c = signing::OpenCheckpoint(it->second, k); c.ok()) old = *c;
      }
      if (!old) continue;  // not a log this policy trusts
      ConsistencyRecord rec{now.origin, old->checkpoint.size, now.size, {}};
      if (old->checkpoint.size > now.size) {
        return FailedPreconditionError("the base archive holds log " + now.origin + " at " +
                                       std::to_string(old->checkpoint.size) + " entries, more than the registry's " +
                                       std::to_string(now.size) + " now: the log was rolled back");
      }
      if (old->checkpoint.size > 0 && old->checkpoint.size < now.size) {
        ARCA_ASSIGN_OR_RETURN(rec.proof, s.remote->GetConsistencyProof(old->checkpoint.size, now.size));
      }
      if (old->checkpoint.size > 0) {
        Status c = signing::merkle::VerifyConsistency(old->checkpoint.size, now.size, rec.proof,
                                                      old->checkpoint.root_hash, now.root_hash);
        if (!c.ok()) {
          return c.WithContext("log " + now.origin + " is not consistent with the base archive's checkpoint");
        }
      }
      ARCA_ASSIGN_OR_RETURN(std::string body, rec.Encode());
      ARCA_RETURN_IF_ERROR(w->Add(RecordType::kConsistency, AsBytes(body)));
    }
  }

  // Log entries, each once per origin.
  for (const Source& s : sources) {
    const signing::Checkpoint& cp = s.cp.opened.checkpoint;
    std::set<uint64_t> written;
    for (size_t i : s.items) {
      const client::LogEvidence& ev = items[i].log;
      std::vector<const client::IncludedEntry*> entries{&ev.publish};
      if (ev.tag) entries.push_back(&*ev.tag);
      for (const client::IncludedEntry* e : entries) {
        if (!written.insert(e->index).second) continue;
        LogEntryRecord rec{cp.origin, cp.size, e->index, e->entry, e->proof};
        ARCA_ASSIGN_OR_RETURN(std::string body, rec.Encode());
        ARCA_RETURN_IF_ERROR(w->Add(RecordType::kLogEntry, AsBytes(body)));
      }
    }
  }
  for (const Item& it : items) {
    ARCA_ASSIGN_OR_RETURN(std::string body, (TagRecord{it.ref.repository, it.ref.tag, it.bundle.digest}.Encode()));
    ARCA_RETURN_IF_ERROR(w->Add(RecordType::kTag, AsBytes(body)));
  }

  // Objects: file indexes, then manifests; what the base holds is left out.
  std::set<Digest> objects;
  auto add_object = [&](char kind, const Digest& d, const std::string& bytes) -> Status {
    if (!objects.insert(d).second) return Status::Ok();
    if (base && base->objects.count(d)) {
      ++report.objects_left_out;
      return Status::Ok();
    }
    ARCA_ASSIGN_OR_RETURN(std::string body, (ObjectRecord{kind, bytes}.Encode()));
    ++report.objects_written;
    return w->Add(RecordType::kObject, AsBytes(body));
  };
  for (const Item& it : items) {
    for (size_t k = 0; k < it.bundle.index_ids.size(); ++k) {
      ARCA_RETURN_IF_ERROR(add_object(ObjectRecord::kFileIndex, it.bundle.index_ids[k], it.bundle.index_bytes[k]));
    }
  }
  for (const Item& it : items) {
    ARCA_RETURN_IF_ERROR(add_object(ObjectRecord::kManifest, it.bundle.digest, it.bundle.manifest_bytes));
  }
  std::set<std::string> envelopes;
  for (const Item& it : items) {
    for (const std::string& e : it.envelopes) {
      const std::string key = it.bundle.digest.Hex() + ":" + Sha256Of(e).Hex();
      if (!envelopes.insert(key).second || (base && base->attestations.count(key))) continue;
      ARCA_ASSIGN_OR_RETURN(std::string body, (AttestationRecord{it.bundle.digest, e}.Encode()));
      ARCA_RETURN_IF_ERROR(w->Add(RecordType::kAttestation, AsBytes(body)));
    }
  }

  // Packs of the chunks' stored bytes, in file order.
  std::set<Digest> chunks;
  ChunkReader chunk_reader(*store);
  std::optional<format::PackWriter> pack;
  TempFile pack_file;
  auto seal = [&]() -> Status {
    if (!pack) return Status::Ok();
    ARCA_RETURN_IF_ERROR(pack->Finish().status());
    pack.reset();
    struct stat st;
    if (::stat(pack_file.path.c_str(), &st) == 0) report.pack_bytes += uint64_t(st.st_size);
    ++report.packs;
    ARCA_RETURN_IF_ERROR(w->AddFile(RecordType::kPack, pack_file.path));
    ::unlink(pack_file.path.c_str());
    return Status::Ok();
  };
  std::string stored;
  for (const Item& it : items) {
    for (const format::FileIndex& index : it.bundle.indexes) {
      for (const format::ChunkRef& c : index.chunks) {
        if (!chunks.insert(c.digest).second) continue;
        if (base && base->chunks.count(c.digest)) {
          ++report.chunks_left_out;
          continue;
        }
        ARCA_ASSIGN_OR_RETURN(store::ChunkLocation loc, store->FindChunk(c.digest));
        ARCA_RETURN_IF_ERROR(chunk_reader.Read(loc, &stored));
        if (!pack) {
          pack_file.path = store->NewTempPath("export");
          ARCA_ASSIGN_OR_RETURN(format::PackWriter pw, format::PackWriter::Create(pack_file.path));
          pack.emplace(std::move(pw));
        }
        ARCA_RETURN_IF_ERROR(
            pack->Add(c.digest, format::Codec(loc.entry.codec), loc.entry.raw_len, AsBytes(stored)));
        ++report.chunks_written;
        if (pack->size() >= kExportPackTarget) ARCA_RETURN_IF_ERROR(seal());
      }
    }
  }
  ARCA_RETURN_IF_ERROR(seal());
  ARCA_ASSIGN_OR_RETURN(report.archive_id, w->Finish());
  report.records = w->records_written() + 1;
  report.bytes = w->bytes_written();
  if (file.valid()) {
    if (::fsync(file.get()) != 0) return ErrnoToStatus(errno, "fsync " + partial.path);
    file.Reset();
    if (::rename(partial.path.c_str(), eo.output.c_str()) != 0) return ErrnoToStatus(errno, "rename " + eo.output);
    partial.path.clear();
  }
  return report;
}

int ExportCommand(const client::StoreOptions& so, const ExportOptions& eo, std::ostream& out, std::ostream& err) {
  Result<ExportReport> r = ExportArchive(so, eo, err);
  if (!r.ok()) return client::ReportFailure(err, r.status());
  // With -o -, the archive is standard output: the summary goes to stderr.
  std::ostream& say = eo.output == "-" ? err : out;
  const ExportReport& e = *r;
  if (so.json) {
    Json j = {{"archive", e.archive_id.ToString()},
              {"output", e.output},
              {"refs", e.refs},
              {"base", e.base ? Json(e.base->ToString()) : Json(nullptr)},
              {"records", e.records},
              {"bytes", e.bytes},
              {"packs", e.packs},
              {"pack_bytes", e.pack_bytes},
              {"chunks_written", e.chunks_written},
              {"chunks_left_out", e.chunks_left_out},
              {"objects_written", e.objects_written},
              {"objects_left_out", e.objects_left_out}};
    say << j.dump() << "\n";
    return 0;
  }
  if (so.quiet) return 0;
  say << "exported " << e.refs.size() << " ref" << (e.refs.size() == 1 ? "" : "s") << " to "
      << (e.output == "-" ? std::string("standard output") : e.output) << "\n";
  for (const std::string& ref : e.refs) say << "  " << ref << "\n";
  say << "archive  " << e.archive_id.ToString() << "\n";
  if (e.base) say << "base     " << e.base->ToString() << " (incremental)\n";
  say << "records  " << e.records << ", " << client::HumanBytes(e.bytes) << " (" << e.packs << " packs, "
      << client::HumanBytes(e.pack_bytes) << ")\n";
  say << "chunks   " << e.chunks_written << " written, " << e.chunks_left_out << " left out (held by the base)\n";
  say << "objects  " << e.objects_written << " written, " << e.objects_left_out << " left out\n";
  return 0;
}

}  // namespace arca::mirror
