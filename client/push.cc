// arca push: build into the cache, send what the registry lacks, tag.
#include "client/push.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <unordered_set>

#include "client/model_card.h"
#include "client/progress.h"
#include "client/reference.h"
#include "client/remote_commands.h"
#include "client/remote.h"
#include "common/crc32c.h"
#include "common/file.h"
#include "format/file_index.h"
#include "format/pack.h"
#include "store/store.h"

namespace arca::client {

namespace {

using Clock = std::chrono::steady_clock;

// The server refuses larger uploads (docs/API.md, Limits).
constexpr uint64_t kMaxUploadPack = 256ull << 20;

// A chunk stored in one of the cache's packs.
struct LocalChunk {
  Digest pack;
  format::PackEntry entry;
};

// One pack to upload: a cache pack as it is (`path`), or chunks to copy into
// a new pack first (`chunks`).
struct UploadTask {
  std::string path;
  std::vector<LocalChunk> chunks;
  uint64_t size = 0;  // bytes of the pack file that will be sent
};

// Removes a temporary file when it goes out of scope.
struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

uint64_t PackFileSize(uint64_t stored_bytes, uint64_t chunks) {
  return format::kPackHeaderSize + stored_bytes + chunks * format::kPackEntrySize + format::kPackTrailerSize;
}

// Copies the chunks' stored bytes (still compressed) from the cache's packs
// into a new pack at `path`.
Status BuildPack(const store::Store& store, const std::vector<LocalChunk>& chunks, const std::string& path) {
  ARCA_ASSIGN_OR_RETURN(format::PackWriter writer, format::PackWriter::Create(path));
  UniqueFd fd;
  Digest open_pack;
  std::string buf;
  for (const LocalChunk& c : chunks) {
    if (!fd.valid() || c.pack != open_pack) {
      ARCA_ASSIGN_OR_RETURN(fd, OpenForRead(store.PackPath(c.pack)));
      open_pack = c.pack;
    }
    buf.resize(c.entry.stored_len);
    auto view = std::span<uint8_t>(reinterpret_cast<uint8_t*>(buf.data()), buf.size());
    ARCA_RETURN_IF_ERROR(PreadAll(fd.get(), view, c.entry.offset, store.PackPath(c.pack)));
    if (Crc32c(AsBytes(buf)) != c.entry.crc32c) {
      return DataLossError("chunk " + c.entry.digest.ToString() + " in the local cache is corrupt (pack " +
                           c.pack.ToString() + "); run `arca store fsck`");
    }
    ARCA_RETURN_IF_ERROR(writer.Add(c.entry.digest, format::Codec(c.entry.codec), c.entry.raw_len, AsBytes(buf)));
  }
  return writer.Finish().status();
}

// Plans the uploads for the chunks the registry lacks.
Result<std::vector<UploadTask>> PlanUploads(const store::Store& store, const std::vector<Digest>& missing) {
  std::vector<std::optional<store::ChunkLocation>> locs = store.FindChunks(missing);
  std::map<Digest, std::vector<format::PackEntry>> by_pack;
  for (size_t i = 0; i < missing.size(); ++i) {
    if (!locs[i]) return InternalError("chunk " + missing[i].ToString() + " was just added but is not in the cache");
    by_pack[locs[i]->pack].push_back(locs[i]->entry);
  }
  std::vector<UploadTask> tasks;
  std::vector<LocalChunk> loose;
  for (auto& [pack, entries] : by_pack) {
    ARCA_ASSIGN_OR_RETURN(store::PackInfo info, store.GetPack(pack));
    if (entries.size() == info.chunks && info.size <= kMaxUploadPack) {
      tasks.push_back(UploadTask{store.PackPath(pack), {}, info.size});
      continue;
    }
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.offset < b.offset; });
    for (const format::PackEntry& e : entries) loose.push_back(LocalChunk{pack, e});
  }
  UploadTask cur;
  uint64_t stored = 0;
  for (const LocalChunk& c : loose) {
    if (!cur.chunks.empty() && stored + c.entry.stored_len > format::kPackTargetSize) {
      cur.size = PackFileSize(stored, cur.chunks.size());
      tasks.push_back(std::move(cur));
      cur = UploadTask();
      stored = 0;
    }
    cur.chunks.push_back(c);
    stored += c.entry.stored_len;
  }
  if (!cur.chunks.empty()) {
    cur.size = PackFileSize(stored, cur.chunks.size());
    tasks.push_back(std::move(cur));
  }
  // Largest first, so that the last connections to finish are not the ones
  // left with the biggest packs.
  std::stable_sort(tasks.begin(), tasks.end(), [](const auto& a, const auto& b) { return a.size > b.size; });
  return tasks;
}

Result<std::vector<Digest>> ParseBaseModels(const std::vector<std::string>& texts) {
  std::vector<Digest> out;
  for (const std::string& b : texts) {
    Result<Digest> d = Digest::Parse(b);
    if (!d.ok()) return d.status().WithContext("--base-model " + b);
    out.push_back(*d);
  }
  return out;
}

}  // namespace

Result<PushReport> PushBundle(const StoreOptions& so, const PushOptions& po, std::ostream& err) {
  const auto t0 = Clock::now();
  ARCA_ASSIGN_OR_RETURN(Reference ref, ParseReference(po.ref, InsecureHttpFromEnv()));
  if (ref.digest) {
    return InvalidArgumentError("push to a tag, not a digest: e.g. " + ref.registry.Address() + "/" + ref.repository +
                                ":v1");
  }
  format::Metadata meta = po.meta;
  if (meta.name.empty()) meta.name = ref.repository;
  ARCA_RETURN_IF_ERROR(format::ValidateBundleName(meta.name));
  ARCA_ASSIGN_OR_RETURN(std::vector<Digest> bases, ParseBaseModels(po.base_models));
  meta.provenance.base_models.insert(meta.provenance.base_models.end(), bases.begin(), bases.end());

  // The key is unlocked first: a wrong passphrase should cost nothing.
  std::optional<signing::KeyPair> key;
  signing::KeyInfo key_info;
  if (!po.sign_key.empty()) {
    Result<signing::KeyPair> k = LoadSigningKey(po.keys, po.sign_key, &key_info);
    if (!k.ok()) return k.status().WithContext("--sign " + po.sign_key);
    key = std::move(*k);
  }

  ARCA_ASSIGN_OR_RETURN(Endpoint endpoint, EndpointFor(ref.registry));
  Remote remote(endpoint);
  ARCA_RETURN_IF_ERROR(remote.Ping().status());  // fail before minutes of chunking, not after
  ARCA_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, OpenStore(so));
  const bool show = !so.quiet && !so.json;

  store::AddResult added;
  {
    Progress scan("scanning", show, err);
    ARCA_ASSIGN_OR_RETURN(added, store->AddDirectory(po.dir, meta, ref.LocalRef(), ThreadCount(so),
                                                     [&](uint64_t d, uint64_t t) { scan.Update(d, t); }));
  }
  const format::BuiltBundle& built = added.built;

  // The bundle's distinct chunks, and which of them the registry lacks.
  std::vector<Digest> digests;
  std::unordered_set<Digest, DigestHash> seen;
  for (const std::string& idx : built.file_indexes) {
    ARCA_ASSIGN_OR_RETURN(format::FileIndex fi, format::FileIndex::Parse(AsBytes(idx)));
    for (const format::ChunkRef& c : fi.chunks) {
      if (seen.insert(c.digest).second) digests.push_back(c.digest);
    }
  }
  ARCA_ASSIGN_OR_RETURN(std::vector<Digest> missing, remote.Missing(digests));
  std::unordered_set<Digest, DigestHash> missing_set;
  for (const Digest& d : missing) {
    if (!seen.count(d) || !missing_set.insert(d).second) {
      return DataLossError("registry " + ref.registry.Address() + " answered `missing` with a digest it was not asked about");
    }
  }

  PushReport report;
  report.ref = ref.ToString();
  report.digest = added.bundle;
  report.bytes_scanned = built.stats.raw_bytes;
  report.chunks = digests.size();
  report.chunks_sent = missing.size();

  ARCA_ASSIGN_OR_RETURN(std::vector<UploadTask> tasks, PlanUploads(*store, missing));
  if (!tasks.empty()) ARCA_RETURN_IF_ERROR(remote.CheckCanUpload());
  uint64_t total = 0;
  for (const UploadTask& t : tasks) total += t.size;
  std::atomic<uint64_t> sent{0};
  {
    Progress upload("pushing", show, err);
    upload.SetTotal(total);
    ByteCounter count = [&](int64_t d) { upload.Add(d); };
    Status uploaded = ForEachOnConnections(endpoint, so.jobs, tasks.size(), [&](Remote& r, int, size_t i) -> Status {
      const UploadTask& t = tasks[i];
      TempFile temp;
      std::string path = t.path;
      if (!t.chunks.empty()) {
        path = temp.path = store->NewTempPath("push");
        ARCA_RETURN_IF_ERROR(BuildPack(*store, t.chunks, path));
      }
      ARCA_RETURN_IF_ERROR(r.UploadPack(path, count).status());
      sent += t.size;
      return Status::Ok();
    });
    ARCA_RETURN_IF_ERROR(uploaded);
  }
  report.packs_sent = tasks.size();

  // File indexes (each distinct one once), then the manifest, then the tag.
  std::vector<size_t> index_files;
  std::unordered_set<Digest, DigestHash> seen_index;
  for (size_t i = 0; i < built.manifest.files.size(); ++i) {
    if (seen_index.insert(built.manifest.files[i].index).second) index_files.push_back(i);
  }
  ARCA_RETURN_IF_ERROR(ForEachOnConnections(endpoint, so.jobs, index_files.size(), [&](Remote& r, int, size_t k) {
    size_t i = index_files[k];
    const std::string& bytes = built.file_indexes[i];
    sent += bytes.size();
    return r.PutObject(built.manifest.files[i].index, "file-index", bytes).status();
  }));
  ARCA_RETURN_IF_ERROR(remote.PutObject(added.bundle, "manifest", built.manifest_bytes).status());
  sent += built.manifest_bytes.size();
  // The signature goes up before the tag moves, so that nobody who follows
  // the tag sees the new bundle unsigned.
  if (key) {
    std::string envelope = SignBundle(built.manifest, added.bundle, *key);
    ARCA_RETURN_IF_ERROR(remote.PutAttestation(added.bundle, envelope).status());
    sent += envelope.size();
    report.signed_by = key_info.name + " (" + key_info.keyid.Hex() + ")";
  }
  ARCA_ASSIGN_OR_RETURN(report.previous, remote.PutTag(ref.repository, ref.tag, added.bundle));
  report.bytes_sent = sent.load();
  report.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return report;
}

int PushCommand(const StoreOptions& so, const PushOptions& po, std::ostream& out, std::ostream& err) {
  Result<Reference> ref = ParseReference(po.ref, InsecureHttpFromEnv());
  if (!ref.ok() || ref->digest) {
    ReportFailure(err, ref.ok() ? InvalidArgumentError("push to a tag, not a digest: e.g. " + ref->registry.Address() +
                                                       "/" + ref->repository + ":v1")
                                : ref.status());
    return 2;
  }
  Result<PushReport> r = PushBundle(so, po, err);
  if (!r.ok()) return ReportFailure(err, r.status());
  const PushReport& p = *r;
  if (so.json) {
    out << nlohmann::json{{"ref", p.ref},
                          {"digest", p.digest.ToString()},
                          {"bytes_scanned", p.bytes_scanned},
                          {"bytes_sent", p.bytes_sent},
                          {"chunks", p.chunks},
                          {"chunks_sent", p.chunks_sent},
                          {"packs_sent", p.packs_sent},
                          {"signed_by", p.signed_by},
                          {"seconds", p.seconds}}
               .dump()
        << "\n";
    return 0;
  }
  if (so.quiet) return 0;
  char line[256];
  double ratio = p.bytes_sent ? double(p.bytes_scanned) / double(p.bytes_sent) : 0;
  double rate = p.seconds > 0 ? double(p.bytes_scanned) / p.seconds / 1e6 : 0;
  out << "pushed   " << p.ref << "\n"
      << "digest   " << p.digest.ToString() << "\n";
  if (p.previous && *p.previous != p.digest) out << "previous " << p.previous->ToString() << "\n";
  if (!p.signed_by.empty()) out << "signed   by key " << p.signed_by << "\n";
  out << "scanned  " << HumanBytes(p.bytes_scanned) << " in " << p.chunks << " distinct chunks\n";
  std::snprintf(line, sizeof line, "sent     %s: %llu new chunks in %llu packs (dedup ratio %.1fx, %llu chunks already there)\n",
                HumanBytes(p.bytes_sent).c_str(), (unsigned long long)p.chunks_sent,
                (unsigned long long)p.packs_sent, ratio, (unsigned long long)(p.chunks - p.chunks_sent));
  out << line;
  std::snprintf(line, sizeof line, "time     %.2f s, %.0f MB/s\n", p.seconds, rate);
  out << line;
  return 0;
}

int ImportCommand(const StoreOptions& so, PushOptions po, std::ostream& out, std::ostream& err) {
  Result<format::Metadata> meta = MetadataFromModelDir(po.dir, po.meta);
  if (!meta.ok()) return ReportFailure(err, meta.status().WithContext("model card of " + po.dir));
  po.meta = std::move(*meta);
  if (!so.json && !so.quiet) {
    const format::Metadata& m = po.meta;
    out << "model card " << po.dir << "/README.md\n";
    out << "license    " << (m.license.spdx.empty() ? "(none stated)" : SafeText(m.license.spdx))
        << (m.license.file.empty() ? "" : " (" + SafeText(m.license.file) + ")") << "\n";
    for (const std::string& b : m.provenance.base_model_names) out << "base model " << SafeText(b) << " (name only)\n";
    for (const std::string& d : m.provenance.datasets) out << "dataset    " << SafeText(d) << "\n";
  }
  return PushCommand(so, po, out, err);
}

}  // namespace arca::client
