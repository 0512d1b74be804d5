// Prints single-thread SHA-256 throughput: OpenSSL EVP one message at a time
// against Sha256Batch with each implementation this CPU supports, on batches
// of chunk-sized messages (all 64 KiB, or random lengths in 8..128 KiB, as
// content-defined chunking makes them), and how throughput grows with the
// batch size. Each figure is the median of 5 runs of about 64 MiB.
//
// Usage: arca-bench-sha256 [MiB per run, default 64]
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/sha256_mb.h"

namespace arca {
namespace {

constexpr int kRuns = 5;

// Median over kRuns of MB/s (10^6 bytes per second) for `rounds` calls of
// `hash`, each hashing `bytes_per_call` bytes.
double MedianMBps(size_t bytes_per_call, size_t rounds, const std::function<void()>& hash) {
  hash();  // Warm up caches and the CPU's vector units.
  std::vector<double> rates;
  for (int run = 0; run < kRuns; ++run) {
    auto start = std::chrono::steady_clock::now();
    for (size_t r = 0; r < rounds; ++r) hash();
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    rates.push_back(double(bytes_per_call) * double(rounds) / took.count() / 1e6);
  }
  std::sort(rates.begin(), rates.end());
  return rates[kRuns / 2];
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

void Run(size_t mib_per_run) {
  const std::vector<Sha256Impl> impls = {Sha256Impl::kOpenssl, Sha256Impl::kAvx2x8,
                                         Sha256Impl::kAvx512x16};
  std::mt19937_64 rng(42);
  std::vector<uint8_t> data(64 * 128 * 1024);
  for (auto& b : data) b = uint8_t(rng());

  std::vector<Workload> workloads;
  for (size_t count : {1, 2, 4, 8, 16, 32, 64}) {
    workloads.push_back(MakeWorkload(std::to_string(count) + " x 64 KiB", data,
                                     std::vector<size_t>(count, 64 * 1024)));
  }
  for (size_t count : {16, 64}) {
    std::vector<size_t> lengths(count);
    for (auto& len : lengths) len = 8 * 1024 + rng() % (120 * 1024 + 1);
    workloads.push_back(MakeWorkload(std::to_string(count) + " x 8..128 KiB", data, lengths));
  }

  // Baseline: OpenSSL EVP, one 64 KiB message per call.
  ByteView one = ByteView(data).first(64 * 1024);
  size_t target = mib_per_run << 20;
  double base = MedianMBps(one.size(), target / one.size(), [&] {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(one.data(), one.size(), md, &len, EVP_sha256(), nullptr);
  });

  std::printf("CPU implementation picked by Sha256Batch: %s\n\n",
              std::string(Sha256BatchImplementation()).c_str());
  std::printf("| %-20s | %-10s | %9s | %7s |\n", "batch", "impl", "MB/s", "ratio");
  std::printf("|%s|%s|%s|%s|\n", std::string(22, '-').c_str(), std::string(12, '-').c_str(),
              std::string(11, '-').c_str(), std::string(9, '-').c_str());
  std::printf("| %-20s | %-10s | %9.0f | %6.2fx |\n", "1 x 64 KiB (EVP)", "openssl", base, 1.0);
  for (const Workload& w : workloads) {
    std::vector<Digest> out(w.messages.size());
    size_t rounds = std::max<size_t>(1, target / w.bytes);
    for (Sha256Impl impl : impls) {
      if (!Sha256ImplSupported(impl)) continue;
      double rate = MedianMBps(w.bytes, rounds, [&] { Sha256BatchWith(impl, w.messages, out); });
      std::printf("| %-20s | %-10s | %9.0f | %6.2fx |\n", w.name.c_str(),
                  std::string(Sha256ImplName(impl)).c_str(), rate, rate / base);
    }
  }
  std::printf("\nratio: against OpenSSL EVP hashing one 64 KiB message per call; MB = 10^6 bytes;"
              " median of %d runs of ~%zu MiB.\n",
              kRuns, mib_per_run);
}

}  // namespace
}  // namespace arca

int main(int argc, char** argv) {
  size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 64;
  arca::Run(mib == 0 ? 64 : mib);
  return 0;
}
