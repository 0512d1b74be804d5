// The format and store benchmark: generates the data sets, measures them
// (format_measure.h, store_measure.h) and prints Markdown tables, the
// reference figures measured in the same run, and the targets met or missed.
#ifndef ARCA_BENCH_FORMAT_FORMAT_BENCH_H_
#define ARCA_BENCH_FORMAT_FORMAT_BENCH_H_

#include <string>
#include <vector>

namespace arca::bench {

struct BenchOptions {
  size_t size_mib = 512;              // of each generated data set
  int runs = 3;                       // medians of this many
  std::vector<int> threads = {1, 2};  // for ingest and read-back
  std::string dir = "/tmp";           // the work directory is made under it
  std::string command;                // as invoked, for the report
};

// Runs everything and prints the report on stdout (progress on stderr).
// Returns the process exit code.
int RunFormatBench(const BenchOptions& options);

}  // namespace arca::bench

#endif  // ARCA_BENCH_FORMAT_FORMAT_BENCH_H_
