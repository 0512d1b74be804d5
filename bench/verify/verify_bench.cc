// arca-bench-verify: how fast `arca verify DIR` checks a pulled bundle from
// the page cache (issue 4: at least 1.5 GB/s on two cores).
//
// Builds a bundle of bf16 weight shards (bench/format/datasets.h) plus a few
// small files into a local store, materialises it with the same Materialize
// a pull uses (so DIR/.arca/ is as a pull leaves it), drops the store, warms
// the page cache, then times, RUNS times each:
//   - VerifyDirectory with 1 and 2 threads (the engine of `arca verify`);
//   - a plain pread of every byte with 1 and 2 threads (what the page cache
//     and memory copy allow; no hashing);
//   - single-stream OpenSSL SHA-256 of every file (sha256sum's equivalent:
//     what whole-file digests would cost), 1 thread.
// Prints a Markdown table of medians. Every verify run must report every file
// ok, or the program fails.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/format/datasets.h"
#include "bench/format/timing.h"
#include "client/verify_dir.h"
#include "client/worktree.h"
#include "common/digest.h"
#include "common/file.h"
#include "common/sha256_mb.h"
#include "format/file_index.h"
#include "store/store.h"

namespace arca::bench {
namespace {

namespace fs = std::filesystem;

struct Bundle {
  format::Manifest manifest;
  uint64_t bytes = 0;
};

Status WriteBytes(const std::string& path, ByteView data) {
  return WriteFileAtomic(path, std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

// Writes the source directory, builds it into a store under work/, writes it
// to work/out with Materialize, removes the store and the source.
Result<Bundle> MakePulledDir(const std::string& work, size_t size_mib, int shards) {
  const std::string src = work + "/src";
  ARCA_RETURN_IF_ERROR(MakeDirs(src));
  const size_t shard_bytes = (size_mib << 20) / size_t(shards);
  for (int i = 0; i < shards; ++i) {
    Dataset d = MakeBf16Weights(shard_bytes, uint64_t(100 + i), 2);
    char name[64];
    std::snprintf(name, sizeof name, "/model-%05d-of-%05d.safetensors", i + 1, shards);
    ARCA_RETURN_IF_ERROR(WriteBytes(src + name, d.view()));
  }
  ARCA_RETURN_IF_ERROR(WriteFileAtomic(src + "/config.json", "{\"architectures\": [\"LlamaForCausalLM\"]}\n"));
  ARCA_RETURN_IF_ERROR(WriteFileAtomic(src + "/README.md", "# bench model\n"));
  ARCA_RETURN_IF_ERROR(WriteFileAtomic(src + "/LICENSE", "MIT License\n"));

  ARCA_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> st, store::Store::Open(work + "/store"));
  format::Metadata meta;
  meta.name = "bench/verify";
  ARCA_ASSIGN_OR_RETURN(store::AddResult added, st->AddDirectory(src, meta, "", 2));
  std::vector<format::FileIndex> indexes;
  for (const std::string& idx : added.built.file_indexes) {
    ARCA_ASSIGN_OR_RETURN(format::FileIndex fi, format::FileIndex::Parse(AsBytes(idx)));
    indexes.push_back(std::move(fi));
  }
  client::MaterializeOptions mo;
  mo.threads = 2;
  ARCA_RETURN_IF_ERROR(client::Materialize(*st, added.built.manifest, added.built.manifest_bytes, indexes, {},
                                           work + "/out", mo)
                           .status());
  st.reset();
  std::error_code ec;
  fs::remove_all(work + "/store", ec);
  fs::remove_all(src, ec);
  Bundle b;
  b.manifest = added.built.manifest;
  for (const format::ManifestFile& f : b.manifest.files) b.bytes += f.size;
  return b;
}

// Reads every file of the bundle with `threads` threads, each taking whole
// 4 MiB blocks in turn; returns the bytes read. With `hash`, one thread runs
// a single SHA-256 stream per file instead (threads must be 1).
Result<uint64_t> ReadAll(const std::string& dir, const format::Manifest& m, int threads, bool hash) {
  std::atomic<uint64_t> total{0};
  std::atomic<bool> failed{false};
  constexpr size_t kBlock = 4 << 20;
  auto worker = [&](int t) {
    std::vector<uint8_t> buf(kBlock);
    for (const format::ManifestFile& f : m.files) {
      Result<UniqueFd> fd = OpenForRead(dir + "/" + f.path);
      if (!fd.ok()) {
        failed = true;
        return;
      }
      Sha256 sha;
      uint64_t block = 0;
      for (uint64_t off = 0; off < f.size; off += kBlock, ++block) {
        if (int(block % uint64_t(threads)) != t) continue;
        const size_t n = size_t(std::min<uint64_t>(kBlock, f.size - off));
        if (!PreadAll(fd->get(), std::span<uint8_t>(buf.data(), n), off, f.path).ok()) {
          failed = true;
          return;
        }
        if (hash) sha.Update(ByteView(buf.data(), n));
        total += n;
      }
      if (hash && sha.Finish() != f.digest) failed = true;
    }
  };
  std::vector<std::jthread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker, t);
  pool.clear();  // joins
  if (failed) return InternalError("reading the bundle failed, or a whole-file digest did not match");
  return total.load();
}

struct Row {
  std::string what;
  int threads;
  std::vector<double> wall, cpu;
};

void Print(const Row& r, uint64_t bytes) {
  const double wall = Median(r.wall), cpu = Median(r.cpu);
  std::printf("| %-44s | %d | %zu | %8.3f | %7.2f | %7.2f |\n", r.what.c_str(), r.threads, r.wall.size(), wall,
              double(bytes) / wall / 1e9, double(bytes) / cpu / 1e9);
}

int Main(int argc, char** argv) {
  size_t size_mib = 2048;
  int shards = 4;
  int runs = 5;
  std::string work = (fs::temp_directory_path() / ("arca-bench-verify-" + std::to_string(::getpid()))).string();
  bool keep = false;
  CLI::App app{"Measure offline directory verification (arca verify DIR) from the page cache."};
  app.add_option("--size-mib", size_mib, "bundle size, MiB (split over the shards)")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  app.add_option("--shards", shards, "weight files")->check(CLI::Range(1, 64))->capture_default_str();
  app.add_option("--runs", runs, "timed runs of each measurement")->check(CLI::Range(1, 100))->capture_default_str();
  app.add_option("--work", work, "scratch directory (removed at the end unless --keep)");
  app.add_flag("--keep", keep, "keep the scratch directory");
  CLI11_PARSE(app, argc, argv);

  std::fprintf(stderr, "generating a %zu MiB bundle under %s ...\n", size_mib, work.c_str());
  Stopwatch gen;
  Result<Bundle> bundle = MakePulledDir(work, size_mib, shards);
  if (!bundle.ok()) {
    std::fprintf(stderr, "arca-bench-verify: %s\n", bundle.status().ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "generated in %.1f s\n", gen.Read().wall);
  const std::string dir = work + "/out";
  const uint64_t bytes = bundle->bytes;

  int rc = 0;
  auto fail = [&](const std::string& what) {
    std::fprintf(stderr, "arca-bench-verify: %s\n", what.c_str());
    rc = 1;
  };
  // Warm the page cache (twice: the first pass may still be evicting the store).
  for (int i = 0; i < 2; ++i) {
    if (!ReadAll(dir, bundle->manifest, 1, false).ok()) fail("warming the page cache failed");
  }

  Result<client::Offline> offline = client::LoadOffline(dir);
  if (!offline.ok()) {
    fail(offline.status().ToString());
    return 1;
  }
  std::vector<Row> rows = {{"VerifyDirectory (chunks, multi-buffer SHA-256)", 1, {}, {}},
                           {"VerifyDirectory (chunks, multi-buffer SHA-256)", 2, {}, {}},
                           {"pread of every byte, no hashing", 1, {}, {}},
                           {"pread of every byte, no hashing", 2, {}, {}},
                           {"whole-file SHA-256, one OpenSSL stream", 1, {}, {}}};
  // Interleaved, so that a burst of other load on the machine hits every row.
  for (int run = 0; run < runs && rc == 0; ++run) {
    for (Row& row : rows) {
      Stopwatch sw;
      if (row.what[0] == 'V') {
        client::VerifyDirOptions o;
        o.threads = row.threads;
        Result<client::DirCheck> r =
            client::VerifyDirectory(dir, offline->manifest, client::DirIndexSource(dir), o);
        if (!r.ok() || !r->files_ok() || r->bytes_hashed != bytes) {
          fail("verify run failed: " + (r.ok() ? std::to_string(r->bad_files()) + " bad files" : r.status().ToString()));
        }
      } else {
        Result<uint64_t> n = ReadAll(dir, bundle->manifest, row.threads, row.what[0] == 'w');
        if (!n.ok() || *n != bytes) fail(n.ok() ? "short read" : n.status().ToString());
      }
      Elapsed e = sw.Read();
      row.wall.push_back(e.wall);
      row.cpu.push_back(e.process_cpu);
    }
  }

  std::printf("bundle: %.2f GiB in %zu files (%d bf16 shards), page cache warm\n", double(bytes) / double(1 << 30),
              bundle->manifest.files.size(), shards);
  std::printf("machine: %s, %u hardware threads; Sha256Batch: %s\n\n", CpuModel().c_str(),
              std::thread::hardware_concurrency(), std::string(Sha256BatchImplementation()).c_str());
  std::printf("| %-44s | threads | runs | median s | GB/s wall | GB/s per CPU-second |\n", "measurement");
  std::printf("| --- | --- | --- | --- | --- | --- |\n");
  for (const Row& r : rows) Print(r, bytes);
  const double verify2 = double(bytes) / Median(rows[1].wall) / 1e9;
  std::printf("\ntarget: >= 1.50 GB/s with 2 threads; measured %.2f GB/s: %s\n", verify2,
              verify2 >= 1.5 ? "met" : "MISSED");

  if (!keep) {
    std::error_code ec;
    fs::remove_all(work, ec);
  }
  return rc;
}

}  // namespace
}  // namespace arca::bench

int main(int argc, char** argv) { return arca::bench::Main(argc, argv); }
