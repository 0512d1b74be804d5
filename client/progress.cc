// Terminal progress line.
#include "client/progress.h"

#include <unistd.h>

#include <cstdio>

#include "client/store_commands.h"

namespace arca::client {

Progress::Progress(std::string label, bool enabled, std::ostream& err)
    : label_(std::move(label)), enabled_(enabled && ::isatty(2)), err_(err) {
  start_ = last_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
  if (drawn_) err_ << "\r\033[K" << std::flush;
}

void Progress::Update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100) && done < total) return;
  last_ = now;
  drawn_ = true;
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? done / secs : 0;
  int width = 30;
  int filled = total ? int(width * double(done) / double(total)) : 0;
  std::string bar = std::string(filled, '#') + std::string(width - filled, '.');
  char eta[32] = "";
  if (rate > 0 && total >= done) std::snprintf(eta, sizeof eta, "ETA %.0fs", double(total - done) / rate);
  err_ << "\r\033[K" << label_ << " [" << bar << "] " << HumanBytes(done) << " / " << HumanBytes(total) << "  "
       << HumanBytes(uint64_t(rate)) << "/s  " << eta << std::flush;
}

}  // namespace arca::client
