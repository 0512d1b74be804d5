// arca-bench-format: the format and store benchmark (see format_bench.h).
#include <CLI/CLI.hpp>

#include "bench/format/format_bench.h"

int main(int argc, char** argv) {
  arca::bench::BenchOptions o;
  CLI::App app{"Measure chunking, hashing, codecs, store ingest and read-back on generated data."};
  app.add_option("--size-mib", o.size_mib, "size of each generated data set, MiB")
      ->check(CLI::Range(4, 16384))
      ->capture_default_str();
  app.add_option("--runs", o.runs, "runs per measurement (medians are reported)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--threads-list", o.threads, "thread counts for ingest and read-back")
      ->delimiter(',')
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--dir", o.dir, "directory under which a temporary work directory is made")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  for (int i = 0; i < argc; ++i) o.command += (i ? " " : "") + std::string(argv[i]);
  return arca::bench::RunFormatBench(o);
}
