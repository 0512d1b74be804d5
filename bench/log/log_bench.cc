// arca-bench-log: what the registry's transparency log (registry/log.h)
// costs, measured against the targets of issue 5:
//
//   (a) appends per second with durable commits (every Append is one synced
//       RocksDB write), in batches of 1, 16, 256 and 4096 entries:
//       >= 10,000 entries/s with batching;
//   (b) on a log of ENTRIES (1,000,000) entries built in batches of 4096:
//       InclusionProof at that size for random indices, median and p99
//       < 1 ms; ConsistencyProof from a random older size; and the time a
//       client takes to verify each;
//   (c) a full local audit: every entry read with Entries() in pages of 1000
//       and the root recomputed with a CompactRange (what an auditor must do
//       after downloading the log; the HTTP part is measured later):
//       < 30 s.
//
// Entries are what the server writes when a tag is set: the bundle's publish
// entry (one claimed key id) and the tag entry, the tag "latest" of one of
// 1000 repositories moving each time. Prints Markdown tables of medians over
// RUNS runs. Every proof must verify and every audit must reach the signed
// root, or the program fails. Never a test.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/format/timing.h"
#include "common/digest.h"
#include "registry/log.h"
#include "signing/log_entry.h"
#include "signing/merkle.h"
#include "signing/note.h"

namespace arca::bench {
namespace {

namespace fs = std::filesystem;
namespace merkle = signing::merkle;
using registry::TransparencyLog;
using signing::LogEntry;

constexpr uint64_t kRepositories = 1000;
constexpr uint64_t kPage = 1000;  // entries per Entries() call, as the HTTP API serves them

// Entry j of the benchmark stream: event j / 2 publishes a bundle (even j)
// and moves its repository's "latest" tag to it (odd j).
LogEntry StreamEntry(uint64_t j, uint64_t now) {
  static const std::string kKeyId = Sha256Of(std::string_view("bench signer")).Hex();
  const uint64_t event = j / 2;
  const std::string repository = "acme/model-" + std::to_string(event % kRepositories);
  const Digest bundle = Sha256Of("bundle " + std::to_string(event));
  if (j % 2 == 0) return signing::PublishEntry(now, repository, bundle, {kKeyId});
  std::optional<Digest> previous;
  if (event >= kRepositories) previous = Sha256Of("bundle " + std::to_string(event - kRepositories));
  return signing::TagEntry(now, repository, "latest", 0, bundle, previous);
}

std::vector<LogEntry> Stream(uint64_t first, uint64_t n, uint64_t now) {
  std::vector<LogEntry> out;
  out.reserve(n);
  for (uint64_t j = first; j < first + n; ++j) out.push_back(StreamEntry(j, now));
  return out;
}

uint64_t Now() { return uint64_t(::time(nullptr)); }

// The value below which a fraction q of `v` lies (nearest rank).
double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(q * double(v.size())))];
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) n += e.file_size(ec);
  }
  return n;
}

// --- (a) durable appends ---------------------------------------------------

struct AppendRow {
  uint64_t batch = 0, calls = 0;
  std::vector<double> rate;     // entries per second, one per run
  std::vector<double> call_ms;  // median milliseconds per Append, one per run
};

// Appends `row.calls` batches of `row.batch` stream entries to a new log in
// `dir`, timing only the Append calls.
Status TimeAppends(const std::string& dir, AppendRow& row) {
  ARCA_ASSIGN_OR_RETURN(std::unique_ptr<TransparencyLog> log, TransparencyLog::Open(dir, "bench.example/log"));
  std::vector<double> calls;
  double total = 0;
  for (uint64_t c = 0; c < row.calls; ++c) {
    const std::vector<LogEntry> batch = Stream(c * row.batch, row.batch, Now());
    Stopwatch sw;
    ARCA_RETURN_IF_ERROR(log->Append(batch, Now()).status());
    const double s = sw.Read().wall;
    calls.push_back(s * 1e3);
    total += s;
  }
  if (log->size() != row.batch * row.calls) return InternalError("the log has the wrong size after the appends");
  row.rate.push_back(double(row.batch * row.calls) / total);
  row.call_ms.push_back(Median(calls));
  return Status::Ok();
}

// --- (b) proofs --------------------------------------------------------------

struct ProofRow {
  std::string what;
  std::vector<double> median_us, p99_us;  // one per run
  uint64_t hashes = 0;                    // proof length, summed over the last run's samples
  uint64_t samples = 0;
};

void AddRun(ProofRow& row, const std::vector<double>& us) {
  row.median_us.push_back(Median(us));
  row.p99_us.push_back(Percentile(us, 0.99));
  row.samples = us.size();
}

// Times `samples` inclusion and consistency proofs at size n and their
// verification, adding one run to each row.
Status TimeProofs(const TransparencyLog& log, uint64_t n, const Digest& root, uint64_t samples, std::mt19937_64& rng,
                  std::vector<ProofRow>& rows) {
  std::vector<double> prove, verify, cprove, cverify;
  uint64_t hashes = 0, chashes = 0;
  for (uint64_t k = 0; k < samples; ++k) {
    const uint64_t index = rng() % n;
    ARCA_ASSIGN_OR_RETURN(Digest leaf, log.LeafHash(index));
    Stopwatch sw;
    ARCA_ASSIGN_OR_RETURN(std::vector<Digest> proof, log.InclusionProof(index, n));
    prove.push_back(sw.Read().wall * 1e6);
    sw.Restart();
    Status ok = merkle::VerifyInclusion(leaf, index, n, proof, root);
    verify.push_back(sw.Read().wall * 1e6);
    ARCA_RETURN_IF_ERROR(ok.WithContext("inclusion proof of " + std::to_string(index)));
    hashes += proof.size();

    const uint64_t m = 1 + rng() % (n - 1);
    ARCA_ASSIGN_OR_RETURN(Digest old_root, log.Root(m));
    sw.Restart();
    ARCA_ASSIGN_OR_RETURN(std::vector<Digest> cproof, log.ConsistencyProof(m, n));
    cprove.push_back(sw.Read().wall * 1e6);
    sw.Restart();
    ok = merkle::VerifyConsistency(m, n, cproof, old_root, root);
    cverify.push_back(sw.Read().wall * 1e6);
    ARCA_RETURN_IF_ERROR(ok.WithContext("consistency proof from " + std::to_string(m)));
    chashes += cproof.size();
  }
  AddRun(rows[0], prove);
  AddRun(rows[1], verify);
  AddRun(rows[2], cprove);
  AddRun(rows[3], cverify);
  rows[0].hashes = rows[1].hashes = hashes;
  rows[2].hashes = rows[3].hashes = chashes;
  return Status::Ok();
}

// --- (c) the audit -----------------------------------------------------------

// Reads every entry in pages of kPage, recomputes the root (and, with
// `decode`, parses every entry as an auditor checking them would) and checks
// it against the signed checkpoint.
Status Audit(const TransparencyLog& log, const signing::Checkpoint& cp, bool decode) {
  merkle::CompactRange range;
  const merkle::NodeWriter discard = [](int, uint64_t, const Digest&) { return Status::Ok(); };
  while (range.size() < cp.size) {
    ARCA_ASSIGN_OR_RETURN(std::vector<std::string> page, log.Entries(range.size(), range.size() + kPage));
    for (const std::string& bytes : page) {
      if (decode) ARCA_RETURN_IF_ERROR(LogEntry::Decode(bytes).status());
      ARCA_RETURN_IF_ERROR(range.Append(merkle::HashLeaf(bytes), discard));
    }
  }
  if (range.Root() != cp.root_hash) return DataLossError("the audit's root differs from the signed checkpoint's");
  return Status::Ok();
}

int Main(int argc, char** argv) {
  uint64_t entries = 1'000'000;
  uint64_t samples = 1000;
  int runs = 5;
  std::string work = (fs::temp_directory_path() / ("arca-bench-log-" + std::to_string(::getpid()))).string();
  bool keep = false;
  CLI::App app{"Measure the registry's transparency log: durable appends, proofs, a full local audit."};
  app.add_option("--entries", entries, "size of the log for proofs and the audit")
      ->check(CLI::Range(uint64_t{2}, uint64_t{100'000'000}))
      ->capture_default_str();
  app.add_option("--samples", samples, "random proofs per run")->check(CLI::Range(1, 1'000'000))->capture_default_str();
  app.add_option("--runs", runs, "runs of each measurement")->check(CLI::Range(1, 100))->capture_default_str();
  app.add_option("--work", work, "scratch directory (removed at the end unless --keep)");
  app.add_flag("--keep", keep, "keep the scratch directory");
  CLI11_PARSE(app, argc, argv);

  int rc = 0;
  auto fail = [&](const Status& s) {
    std::fprintf(stderr, "arca-bench-log: %s\n", s.ToString().c_str());
    rc = 1;
  };
  std::error_code ec;
  fs::remove_all(work, ec);

  // (a) Each run on a fresh log, the batch sizes interleaved.
  std::vector<AppendRow> appends = {{1, 400, {}, {}}, {16, 200, {}, {}}, {256, 60, {}, {}}, {4096, 12, {}, {}}};
  for (int run = 0; run < runs && rc == 0; ++run) {
    for (AppendRow& row : appends) {
      const std::string dir = work + "/append-" + std::to_string(row.batch);
      std::fprintf(stderr, "run %d: %" PRIu64 " appends of %" PRIu64 " ...\n", run + 1, row.calls, row.batch);
      if (Status s = TimeAppends(dir, row); !s.ok()) fail(s);
      fs::remove_all(dir, ec);
    }
  }
  if (rc != 0) return rc;

  // (b) Build the big log.
  std::fprintf(stderr, "building a log of %" PRIu64 " entries ...\n", entries);
  Result<std::unique_ptr<TransparencyLog>> opened = TransparencyLog::Open(work + "/big", "bench.example/log");
  if (!opened.ok()) {
    fail(opened.status());
    return rc;
  }
  TransparencyLog& log = **opened;
  double build_append = 0;
  std::vector<double> batch_seconds;  // of each Append of 4096
  Stopwatch build;
  for (uint64_t first = 0; first < entries && rc == 0; first += 4096) {
    const std::vector<LogEntry> batch = Stream(first, std::min<uint64_t>(4096, entries - first), Now());
    Stopwatch sw;
    if (Result<uint64_t> r = log.Append(batch, Now()); !r.ok()) fail(r.status());
    batch_seconds.push_back(sw.Read().wall);
    build_append += batch_seconds.back();
  }
  const double build_wall = build.Read().wall;
  // Append rate over the first and the last tenth of the build (whole batches).
  const size_t tenth = std::max<size_t>(1, batch_seconds.size() / 10);
  double first_tenth = 0, last_tenth = 0;
  for (size_t i = 0; i < tenth; ++i) {
    first_tenth += batch_seconds[i];
    last_tenth += batch_seconds[batch_seconds.size() - 1 - i];
  }
  if (rc != 0) return rc;
  Result<signing::NoteVerifier> verifier = signing::ParseVerifierKey(log.verifier_key());
  Result<signing::SignedCheckpoint> cp =
      verifier.ok() ? signing::OpenCheckpoint(log.checkpoint(), *verifier) : Result<signing::SignedCheckpoint>(verifier.status());
  if (!cp.ok() || cp->checkpoint.size != entries) {
    fail(cp.ok() ? InternalError("the checkpoint states the wrong size") : cp.status());
    return rc;
  }
  const uint64_t log_bytes = DirBytes(work + "/big/log");

  std::vector<ProofRow> proofs = {{"InclusionProof", {}, {}, 0, 0},
                                  {"VerifyInclusion (client)", {}, {}, 0, 0},
                                  {"ConsistencyProof (random older size)", {}, {}, 0, 0},
                                  {"VerifyConsistency (client)", {}, {}, 0, 0}};
  std::mt19937_64 rng(42);
  for (int run = 0; run < runs && rc == 0; ++run) {
    std::fprintf(stderr, "run %d: %" PRIu64 " proofs of each kind ...\n", run + 1, samples);
    if (Status s = TimeProofs(log, entries, cp->checkpoint.root_hash, samples, rng, proofs); !s.ok()) fail(s);
  }

  // (c) The audit, with and without decoding every entry.
  std::vector<double> audit, audit_decode;
  for (int run = 0; run < runs && rc == 0; ++run) {
    std::fprintf(stderr, "run %d: auditing ...\n", run + 1);
    for (bool decode : {false, true}) {
      Stopwatch sw;
      if (Status s = Audit(log, cp->checkpoint, decode); !s.ok()) fail(s);
      (decode ? audit_decode : audit).push_back(sw.Read().wall);
    }
  }
  if (rc != 0) return rc;

  std::printf("machine: %s, %u hardware threads; scratch directory %s\n", CpuModel().c_str(),
              std::thread::hardware_concurrency(), work.c_str());
  std::printf("entries: publish + tag pairs, %" PRIu64 " repositories; %d runs of each measurement\n\n", kRepositories,
              runs);

  std::printf("### (a) Durable appends (one synced RocksDB write per Append, fresh log per run)\n\n");
  std::printf("| batch | Append calls per run | entries per run | median entries/s | median ms per Append |\n");
  std::printf("| ---: | ---: | ---: | ---: | ---: |\n");
  for (const AppendRow& r : appends) {
    std::printf("| %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %.0f | %.2f |\n", r.batch, r.calls, r.batch * r.calls,
                Median(r.rate), Median(r.call_ms));
  }
  std::printf("\n### (b) Proofs at %" PRIu64 " entries\n\n", entries);
  std::printf("log built in %.1f s wall (%.1f s in Append: %.0f entries/s in batches of 4096; %.0f/s over the first"
              " tenth, %.0f/s over the last); %.0f MB on disk\n\n",
              build_wall, build_append, double(entries) / build_append, double(tenth * 4096) / first_tenth,
              double(tenth * 4096) / last_tenth, double(log_bytes) / 1e6);
  std::printf("| operation | samples per run | median us | p99 us | mean hashes per proof |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: |\n");
  for (const ProofRow& r : proofs) {
    std::printf("| %s | %" PRIu64 " | %.1f | %.1f | %.1f |\n", r.what.c_str(), r.samples, Median(r.median_us),
                Median(r.p99_us), double(r.hashes) / double(r.samples));
  }
  std::printf("\n### (c) Full local audit of %" PRIu64 " entries (Entries() in pages of %" PRIu64 ")\n\n", entries,
              kPage);
  std::printf("| audit | median s | entries/s |\n| --- | ---: | ---: |\n");
  std::printf("| read + HashLeaf + CompactRange | %.2f | %.0f |\n", Median(audit), double(entries) / Median(audit));
  std::printf("| the same + LogEntry::Decode of every entry | %.2f | %.0f |\n", Median(audit_decode),
              double(entries) / Median(audit_decode));

  const double batched = std::max(Median(appends[2].rate), Median(appends[3].rate));
  const double p99 = std::max(Median(proofs[0].median_us), Median(proofs[0].p99_us));
  std::printf("\n### Targets\n\n| target | measured | |\n| --- | ---: | --- |\n");
  std::printf("| >= 10,000 appends/s with batching | %.0f/s | %s |\n", batched, batched >= 10'000 ? "met" : "MISSED");
  std::printf("| inclusion proof < 1 ms (median and p99) | p99 %.0f us | %s |\n", p99, p99 < 1000 ? "met" : "MISSED");
  std::printf("| full audit < 30 s | %.1f s | %s |\n", Median(audit_decode), Median(audit_decode) < 30 ? "met" : "MISSED");

  opened->reset();
  if (!keep) fs::remove_all(work, ec);
  return rc;
}

}  // namespace
}  // namespace arca::bench

int main(int argc, char** argv) { return arca::bench::Main(argc, argv); }
