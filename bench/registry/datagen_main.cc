// arca-bench-datagen: writes one of the benchmark's data sets
// (bench/format/datasets.h) to a file, for benchmarks run by scripts.
//
//   arca-bench-datagen --kind bf16|v2|random --size-mib N --seed S -o FILE
//
// v2 is derived from the bf16 set of the same --size-mib and --seed, so
// "--kind bf16" and "--kind v2" with equal flags make a v1/v2 pair. On success
// stdout gets `bytes=N` and, for v2, `ideal_new_bytes=N` (the rewritten plus
// inserted bytes: what an ideal delta transfer of v2 after v1 would move).
#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

#include "bench/format/datasets.h"
#include "common/bytes.h"
#include "common/file.h"

int main(int argc, char** argv) {
  std::string kind;
  size_t size_mib = 512;
  uint64_t seed = 1;
  int threads = 2;
  std::string out;
  CLI::App app{"Write a benchmark data set (bf16 weights, its v2, or random bytes) to a file."};
  app.add_option("--kind", kind, "bf16, v2 (of the bf16 set with the same seed) or random")
      ->required()
      ->check(CLI::IsMember({"bf16", "v2", "random"}));
  app.add_option("--size-mib", size_mib, "size of the data set, MiB (v2 is 100 bytes longer)")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  app.add_option("--seed", seed, "generator seed")->capture_default_str();
  app.add_option("--threads", threads, "generator threads (the bytes do not depend on it)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("-o,--output", out, "file to write (replaced atomically)")->required();
  CLI11_PARSE(app, argc, argv);

  using namespace arca::bench;
  const size_t size = size_mib << 20;
  Dataset data;
  V2Edit edit;
  if (kind == "random") {
    data = MakeRandom(size, seed);
  } else {
    data = MakeBf16Weights(size, seed, threads);
    if (kind == "v2") data = MakeV2(data, seed, threads, &edit);
  }

  if (arca::Status s = arca::WriteFileAtomic(out, arca::AsChars(data.view())); !s.ok()) {
    std::fprintf(stderr, "arca-bench-datagen: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("bytes=%zu\n", data.bytes.size());
  if (kind == "v2") {
    std::printf("ideal_new_bytes=%llu\n", (unsigned long long)edit.ideal_new_bytes());
    std::printf("rewritten_blocks=%zu\n", edit.rewritten_blocks.size());
  }
  return 0;
}
