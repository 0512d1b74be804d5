// A one-line progress display on a terminal: bytes, rate, ETA. Silent when
// disabled or when stderr is not a terminal (scripts get the command's final
// summary only).
//
// Thread-safety: Add and SetTotal may be called from any number of threads
// (transfer workers); the line is redrawn at most ten times a second, by
// whichever caller finds the drawing lock free. Update is for a single
// producer that knows both counts.
#ifndef ARCA_CLIENT_PROGRESS_H_
#define ARCA_CLIENT_PROGRESS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <string>

namespace arca::client {

class Progress {
 public:
  // `label` prefixes the line ("pushing"); enabled only if `enabled` and
  // stderr is a terminal.
  Progress(std::string label, bool enabled, std::ostream& err);
  ~Progress();  // clears the line
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Sets both counts and redraws (rate-limited).
  void Update(uint64_t done, uint64_t total);
  // Adds `delta` bytes (negative when a failed attempt is taken back).
  void Add(int64_t delta);
  void SetTotal(uint64_t total);
  uint64_t done() const { return done_.load(std::memory_order_relaxed); }

 private:
  void Draw();

  std::string label_;
  bool enabled_;
  std::ostream& err_;
  std::atomic<uint64_t> done_{0}, total_{0};
  std::mutex draw_mu_;  // guards the fields below and the output
  std::chrono::steady_clock::time_point start_, last_;
  bool drawn_ = false;
};

}  // namespace arca::client

#endif  // ARCA_CLIENT_PROGRESS_H_
