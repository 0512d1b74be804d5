// A one-line progress display on a terminal: bytes, rate, ETA. Silent when
// stderr is not a terminal (scripts get the final summary only).
#ifndef ARCA_CLIENT_PROGRESS_H_
#define ARCA_CLIENT_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace arca::client {

class Progress {
 public:
  // `label` prefixes the line ("adding"); enabled only if `enabled` and
  // stderr is a terminal.
  Progress(std::string label, bool enabled, std::ostream& err);
  ~Progress();  // clears the line
  // Updates the display, at most ten times a second.
  void Update(uint64_t done, uint64_t total);

 private:
  std::string label_;
  bool enabled_;
  std::ostream& err_;
  std::chrono::steady_clock::time_point start_, last_;
  bool drawn_ = false;
};

}  // namespace arca::client

#endif  // ARCA_CLIENT_PROGRESS_H_
