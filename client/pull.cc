// arca pull: resolve, fetch what the cache lacks (verified), record, write out.
#include "client/pull.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <unordered_map>

#include "client/fetch.h"
#include "client/progress.h"
#include "client/reference.h"
#include "client/remote_commands.h"
#include "client/remote.h"
#include "client/worktree.h"
#include "format/file_index.h"
#include "format/manifest.h"
#include "store/store.h"

namespace arca::client {

namespace {

using Clock = std::chrono::steady_clock;

// Objects of at most this size are file indexes (docs/API.md, Limits).
constexpr uint64_t kMaxObjectBytes = 64ull << 20;

// A bundle's objects, verified and parsed.
struct Bundle {
  Digest digest;
  std::string manifest_bytes;
  format::Manifest manifest;
  std::vector<Digest> index_ids;           // distinct file index digests
  std::vector<std::string> index_bytes;    // by distinct index
  std::vector<format::FileIndex> indexes;  // by manifest file
};

// The manifest from the cache if it holds it, else from the registry.
Result<std::string> FetchManifest(const store::Store& store, Remote& remote, const Digest& d) {
  if (store.HasObject(d)) {
    Result<std::string> b = store.GetObject(d, store::ObjectKind::kManifest);
    if (b.ok() && Sha256Of(*b) == d) return b;
  }
  return remote.GetObject(d, format::kMaxManifestBytes);
}

// Every file index, from the cache where held, the rest from the registry
// on several connections; each checked against its digest and the manifest.
Status FetchIndexes(const store::Store& store, const Endpoint& endpoint, int jobs, Bundle* b) {
  std::unordered_map<Digest, size_t, DigestHash> slot;
  std::vector<size_t> file_slot;
  for (const format::ManifestFile& f : b->manifest.files) {
    auto [it, fresh] = slot.emplace(f.index, b->index_ids.size());
    if (fresh) b->index_ids.push_back(f.index);
    file_slot.push_back(it->second);
  }
  b->index_bytes.assign(b->index_ids.size(), std::string());
  std::vector<size_t> remote_slots;
  for (size_t i = 0; i < b->index_ids.size(); ++i) {
    const Digest& d = b->index_ids[i];
    Result<std::string> local = store.HasObject(d) ? store.GetObject(d, store::ObjectKind::kFileIndex)
                                                   : Result<std::string>(NotFoundError(""));
    if (local.ok() && Sha256Of(*local) == d) {
      b->index_bytes[i] = std::move(*local);
    } else {
      remote_slots.push_back(i);
    }
  }
  ARCA_RETURN_IF_ERROR(ForEachOnConnections(endpoint, jobs, remote_slots.size(), [&](Remote& r, int, size_t k) {
    size_t i = remote_slots[k];
    Result<std::string> bytes = r.GetObject(b->index_ids[i], kMaxObjectBytes);
    if (!bytes.ok()) return bytes.status();
    b->index_bytes[i] = std::move(*bytes);
    return Status::Ok();
  }));
  std::vector<format::FileIndex> parsed;
  for (size_t i = 0; i < b->index_ids.size(); ++i) {
    Result<format::FileIndex> fi = format::FileIndex::Parse(AsBytes(b->index_bytes[i]));
    if (!fi.ok()) return fi.status().WithContext("file index " + b->index_ids[i].ToString());
    parsed.push_back(std::move(*fi));
  }
  for (size_t i = 0; i < b->manifest.files.size(); ++i) {
    const format::ManifestFile& f = b->manifest.files[i];
    b->indexes.push_back(parsed[file_slot[i]]);
    if (b->indexes.back().file_size != f.size) {
      return DataLossError(f.path + ": its file index says " + std::to_string(b->indexes.back().file_size) +
                           " bytes, the manifest says " + std::to_string(f.size));
    }
  }
  return Status::Ok();
}

// "a.gguf", "a.gguf and b.bin", "a.gguf, b.bin, c.bin and 4 more files".
std::string FilesWithChunk(const Bundle& b, const Digest& d) {
  std::vector<std::string> files;
  for (size_t i = 0; i < b.indexes.size(); ++i) {
    for (const format::ChunkRef& c : b.indexes[i].chunks) {
      if (c.digest == d) {
        files.push_back(b.manifest.files[i].path);
        break;
      }
    }
  }
  if (files.empty()) return "(no file)";
  std::string out = "file " + files[0];
  size_t shown = std::min<size_t>(files.size(), 3);
  for (size_t i = 1; i < shown; ++i) out += (i + 1 == files.size() ? " and " : ", ") + files[i];
  if (files.size() > shown) out += " and " + std::to_string(files.size() - shown) + " more files";
  return out;
}

std::string DefaultOutDir(const std::string& repository) {
  return "./" + repository.substr(repository.rfind('/') + 1);
}

}  // namespace

Result<PullReport> PullBundle(const StoreOptions& so, const PullOptions& po, std::ostream& err) {
  const auto t0 = Clock::now();
  ARCA_ASSIGN_OR_RETURN(Reference ref, ParseReference(po.ref, InsecureHttpFromEnv()));
  ARCA_ASSIGN_OR_RETURN(Endpoint endpoint, EndpointFor(ref.registry));
  Remote remote(endpoint);
  PullReport report;
  report.ref = ref.ToString();
  report.out_dir = po.out_dir.empty() ? DefaultOutDir(ref.repository) : po.out_dir;

  Bundle b;
  if (ref.digest) {
    b.digest = *ref.digest;
  } else {
    ARCA_ASSIGN_OR_RETURN(b.digest, remote.GetTag(ref.repository, ref.tag));
  }
  report.digest = b.digest;
  ARCA_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, OpenStore(so));
  ARCA_ASSIGN_OR_RETURN(b.manifest_bytes, FetchManifest(*store, remote, b.digest));
  Result<format::Manifest> manifest = format::Manifest::Parse(b.manifest_bytes);
  if (!manifest.ok()) return manifest.status().WithContext("manifest " + b.digest.ToString());
  b.manifest = std::move(*manifest);

  // The trust policy decides before any chunk is fetched or file written.
  ARCA_ASSIGN_OR_RETURN(std::vector<std::string> envelopes, remote.GetAttestations(b.digest));
  ARCA_ASSIGN_OR_RETURN(report.trust, EnforcePolicy(po.trust, ref.repository, b.manifest_bytes, b.digest, envelopes,
                                                    err, so.quiet || so.json));
  std::optional<std::pair<std::string, std::string>> tag;
  if (!ref.digest) tag = std::make_pair(ref.repository, ref.tag);
  ARCA_ASSIGN_OR_RETURN(std::optional<LogEvidence> log,
                        EnforceLog(po.trust, remote, b.digest, tag, err, so.quiet || so.json));
  if (log) report.log_size = log->opened.checkpoint.size;

  ARCA_RETURN_IF_ERROR(FetchIndexes(*store, endpoint, so.jobs, &b));

  // The chunks the cache lacks.
  std::unordered_map<Digest, uint32_t, DigestHash> raw_len;
  std::vector<Digest> all;
  for (const format::FileIndex& fi : b.indexes) {
    for (const format::ChunkRef& c : fi.chunks) {
      if (raw_len.emplace(c.digest, c.raw_len).second) all.push_back(c.digest);
    }
  }
  std::vector<std::optional<store::ChunkLocation>> held = store->FindChunks(all);
  std::vector<Digest> wanted;
  std::unordered_map<Digest, uint32_t, DigestHash> wanted_len;
  for (size_t i = 0; i < all.size(); ++i) {
    if (held[i]) continue;
    wanted.push_back(all[i]);
    wanted_len[all[i]] = raw_len[all[i]];
  }
  report.chunks_cached = all.size() - wanted.size();

  auto describe = [&b](const Digest& d) { return FilesWithChunk(b, d); };
  if (!wanted.empty()) {
    ARCA_ASSIGN_OR_RETURN(LocateResult located, remote.Locate(wanted));
    ARCA_RETURN_IF_ERROR(CheckLocations(located, wanted_len, ref.registry, describe));
    std::vector<PackRange> ranges = CoalesceRanges(located.chunks);
    uint64_t total = 0;
    for (const PackRange& r : ranges) total += r.length;
    Progress progress("pulling", !so.quiet && !so.json, err);
    progress.SetTotal(total);
    FetchStats fs;
    Status s = FetchRanges(endpoint, store.get(), located.chunks, ranges, so.jobs, &progress, describe, &fs);
    report.bytes_fetched = fs.bytes;
    report.chunks_fetched = fs.chunks;
    if (!s.ok()) {
      if (s.code() == StatusCode::kDataLoss) return s;
      return s.WithContext("pull interrupted; the " + std::to_string(fs.chunks) +
                           " chunks verified so far are kept, run the same pull again to resume");
    }
  }

  // Record the bundle in the cache, then write the files.
  for (size_t i = 0; i < b.index_ids.size(); ++i) {
    ARCA_RETURN_IF_ERROR(store->PutFileIndex(b.index_ids[i], b.index_bytes[i]).status());
  }
  ARCA_RETURN_IF_ERROR(store->PutManifest(b.digest, b.manifest_bytes).status());
  if (!ref.digest || ref.tag_given) ARCA_RETURN_IF_ERROR(store->SetRef(ref.LocalRef(), b.digest));

  MaterializeOptions mo;
  mo.verify_existing = po.verify_existing;
  mo.threads = ThreadCount(so);
  Result<MaterializeReport> materialized = [&] {
    Progress progress("writing", !so.quiet && !so.json, err);
    mo.progress = &progress;
    return Materialize(*store, b.manifest, b.manifest_bytes, b.indexes, envelopes, report.out_dir, mo);
  }();
  ARCA_ASSIGN_OR_RETURN(MaterializeReport mr, std::move(materialized));
  report.files_written = mr.files_written;
  report.files_unchanged = mr.files_unchanged;
  report.files_removed = mr.files_removed;
  report.bytes_written = mr.bytes_written;
  // The log evidence, for `arca verify DIR --proof` with no network.
  if (log) {
    ARCA_RETURN_IF_ERROR(WriteFileAtomic(report.out_dir + "/.arca/log-proof.txt", FormatProof(*log, b.digest)));
  }
  report.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return report;
}

int PullCommand(const StoreOptions& so, const PullOptions& po, std::ostream& out, std::ostream& err) {
  if (Result<Reference> r = ParseReference(po.ref, InsecureHttpFromEnv()); !r.ok()) {
    ReportFailure(err, r.status());
    return 2;
  }
  Result<PullReport> r = PullBundle(so, po, err);
  if (!r.ok()) return ReportFailure(err, r.status());
  const PullReport& p = *r;
  if (so.json) {
    out << nlohmann::json{{"ref", p.ref},
                          {"digest", p.digest.ToString()},
                          {"dir", p.out_dir},
                          {"bytes_fetched", p.bytes_fetched},
                          {"chunks_fetched", p.chunks_fetched},
                          {"chunks_cached", p.chunks_cached},
                          {"files_written", p.files_written},
                          {"files_unchanged", p.files_unchanged},
                          {"files_removed", p.files_removed},
                          {"signed_by", p.trust.signers},
                          {"rule", p.trust.rule},
                          {"unsigned_accepted", p.trust.unsigned_accepted},
                          {"log_size", p.log_size ? nlohmann::json(*p.log_size) : nlohmann::json(nullptr)},
                          {"seconds", p.seconds}}
               .dump()
        << "\n";
    return 0;
  }
  if (so.quiet) return 0;
  char line[256];
  out << "pulled   " << p.ref << " into " << p.out_dir << "\n"
      << "digest   " << p.digest.ToString() << "\n";
  if (p.trust.unsigned_accepted) {
    out << "trust    UNVERIFIED: accepted without signatures (see the warning above)\n";
  } else {
    std::string who;
    for (const std::string& s : p.trust.signers) who += (who.empty() ? "" : ", ") + SafeText(s);
    out << "trust    signed by " << who << " (" << p.trust.rule_label << ")"
        << (p.trust.license_decision.empty() ? "" : "; " + p.trust.license_decision) << "\n";
  }
  std::snprintf(line, sizeof line, "fetched  %s in %llu chunks; %llu chunks from the cache\n",
                HumanBytes(p.bytes_fetched).c_str(), (unsigned long long)p.chunks_fetched,
                (unsigned long long)p.chunks_cached);
  out << line;
  std::snprintf(line, sizeof line, "files    %llu written (%s), %llu unchanged%s\n",
                (unsigned long long)p.files_written, HumanBytes(p.bytes_written).c_str(),
                (unsigned long long)p.files_unchanged,
                p.files_removed ? (", " + std::to_string(p.files_removed) + " removed").c_str() : "");
  out << line;
  std::snprintf(line, sizeof line, "time     %.2f s, %.0f MB/s fetched\n", p.seconds,
                p.seconds > 0 ? double(p.bytes_fetched) / p.seconds / 1e6 : 0.0);
  out << line;
  return 0;
}

}  // namespace arca::client
