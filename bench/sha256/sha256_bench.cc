// Prints single-thread SHA-256 throughput: OpenSSL EVP hashing one message
// per call against Sha256Batch with each multi-buffer implementation this CPU
// supports, on batches of chunk-sized messages (all 64 KiB, or random lengths
// in 8..128 KiB as content-defined chunking makes them), for several batch
// sizes.
//
// Every figure is the median of 5 runs of about 64 MiB each, timed in the
// thread's CPU time. Within a run all implementations are timed back to back
// on the same messages, and each ratio is the median of the per-run ratios,
// so that load from other processes on a shared machine skews the ratios less
// than the absolute figures.
//
// Usage: arca-bench-sha256 [MiB per run, default 64]
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/sha256_mb.h"

namespace arca {
namespace {

constexpr int kRuns = 5;

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Workload {
  std::string name;
  std::vector<ByteView> messages;
  size_t bytes = 0;
};

Workload MakeWorkload(std::string name, const std::vector<uint8_t>& data,
                      const std::vector<size_t>& lengths) {
  Workload w{std::move(name), {}, 0};
  size_t offset = 0;
  for (size_t len : lengths) {
    w.messages.push_back(ByteView(data).subspan(offset, len));
    offset += len;
    w.bytes += len;
  }
  return w;
}

// MB/s (10^6 bytes per second of thread CPU time) of `rounds` calls of `hash`
// over `w`.
template <class Fn>
double Rate(const Workload& w, size_t rounds, Fn hash) {
  double start = ThreadCpuSeconds();
  for (size_t r = 0; r < rounds; ++r) hash();
  return double(w.bytes) * double(rounds) / (ThreadCpuSeconds() - start) / 1e6;
}

void Run(size_t mib_per_run) {
  std::vector<Sha256Impl> impls;
  for (Sha256Impl impl : {Sha256Impl::kAvx2x8, Sha256Impl::kAvx512x16}) {
    if (Sha256ImplSupported(impl)) impls.push_back(impl);
  }
  std::mt19937_64 rng(42);
  std::vector<uint8_t> data(64 * 128 * 1024);
  for (auto& b : data) b = uint8_t(rng());

  std::vector<Workload> workloads;
  for (size_t count : {1, 2, 4, 8, 16, 32, 64}) {
    workloads.push_back(MakeWorkload(std::to_string(count) + " x 64 KiB", data,
                                     std::vector<size_t>(count, 64 * 1024)));
  }
  for (size_t count : {8, 16, 32, 64}) {
    std::vector<size_t> lengths(count);
    for (auto& len : lengths) len = 8 * 1024 + rng() % (120 * 1024 + 1);
    workloads.push_back(MakeWorkload(std::to_string(count) + " x 8..128 KiB", data, lengths));
  }

  std::printf("Sha256Batch picks: %s\n\n", std::string(Sha256BatchImplementation()).c_str());
  std::printf("| %-16s | %12s |", "batch", "EVP MB/s");
  for (Sha256Impl impl : impls) {
    std::printf(" %9s MB/s | ratio |", std::string(Sha256ImplName(impl)).c_str());
  }
  std::printf("\n|------------------|-------------:|");
  for (size_t i = 0; i < impls.size(); ++i) std::printf("---------------:|------:|");
  std::printf("\n");

  for (const Workload& w : workloads) {
    size_t rounds = std::max<size_t>(1, (mib_per_run << 20) / w.bytes);
    std::vector<Digest> out(w.messages.size());
    auto evp = [&] {
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      for (ByteView m : w.messages) EVP_Digest(m.data(), m.size(), md, &len, EVP_sha256(), nullptr);
    };
    evp();  // Warm up.
    std::vector<double> base_rates;
    std::vector<std::vector<double>> rates(impls.size()), ratios(impls.size());
    for (int run = 0; run < kRuns; ++run) {
      double base = Rate(w, rounds, evp);
      base_rates.push_back(base);
      for (size_t i = 0; i < impls.size(); ++i) {
        double rate = Rate(w, rounds, [&] { Sha256BatchWith(impls[i], w.messages, out); });
        rates[i].push_back(rate);
        ratios[i].push_back(rate / base);
      }
    }
    std::printf("| %-16s | %12.0f |", w.name.c_str(), Median(base_rates));
    for (size_t i = 0; i < impls.size(); ++i) {
      std::printf(" %14.0f | %4.2fx |", Median(rates[i]), Median(ratios[i]));
    }
    std::printf("\n");
  }
  std::printf("\nEVP: OpenSSL EVP_Digest, one message per call. MB = 10^6 bytes; thread CPU time;\n"
              "median of %d runs of ~%zu MiB; ratio = median of per-run ratios to EVP.\n",
              kRuns, mib_per_run);
}

}  // namespace
}  // namespace arca

int main(int argc, char** argv) {
  size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 64;
  arca::Run(mib == 0 ? 64 : mib);
  return 0;
}
