// Clocks, medians and the machine's name for the benchmarks.
//
// A Stopwatch reads three clocks at once: wall time, the calling thread's CPU
// time and the whole process's CPU time (user + system, all threads). On a
// machine shared with other work, thread CPU time is the fair measure of
// single-threaded code "on one core"; wall time is what a user waits for.
#ifndef ARCA_BENCH_FORMAT_TIMING_H_
#define ARCA_BENCH_FORMAT_TIMING_H_

#include <time.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

namespace arca::bench {

// The CPU's model name from /proc/cpuinfo, for benchmark tables.
inline std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return "unknown CPU";
}

inline double ClockSeconds(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

struct Elapsed {
  double wall = 0, thread_cpu = 0, process_cpu = 0;  // seconds
};

class Stopwatch {
 public:
  Stopwatch() { Restart(); }
  void Restart() {
    wall_ = ClockSeconds(CLOCK_MONOTONIC);
    thread_ = ClockSeconds(CLOCK_THREAD_CPUTIME_ID);
    process_ = ClockSeconds(CLOCK_PROCESS_CPUTIME_ID);
  }
  Elapsed Read() const {
    return {ClockSeconds(CLOCK_MONOTONIC) - wall_, ClockSeconds(CLOCK_THREAD_CPUTIME_ID) - thread_,
            ClockSeconds(CLOCK_PROCESS_CPUTIME_ID) - process_};
  }

 private:
  double wall_, thread_, process_;
};

// Median (upper median for an even count); 0 for none.
inline double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// MB/s with MB = 10^6 bytes.
inline double MBps(double bytes, double seconds) {
  return seconds > 0 ? bytes / seconds / 1e6 : 0;
}

}  // namespace arca::bench

#endif  // ARCA_BENCH_FORMAT_TIMING_H_
