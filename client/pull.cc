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

  FetchedBundle b;
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

  {
    Progress progress("pulling", !so.quiet && !so.json, err);
    FetchStats fs;
    Status fetched = FetchBundleChunks(store.get(), remote, endpoint, b, so.jobs, &progress, nullptr, &fs,
                                       &report.chunks_cached);
    report.bytes_fetched = fs.bytes;
    report.chunks_fetched = fs.chunks;
    if (!fetched.ok()) {
      if (fetched.code() == StatusCode::kDataLoss) return fetched;
      return fetched.WithContext("pull interrupted; the " + std::to_string(fs.chunks) +
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
