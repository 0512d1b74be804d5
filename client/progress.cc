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
  std::lock_guard<std::mutex> lock(draw_mu_);
  if (drawn_) err_ << "\r\033[K" << std::flush;
}

void Progress::Update(uint64_t done, uint64_t total) {
  done_.store(done, std::memory_order_relaxed);
  total_.store(total, std::memory_order_relaxed);
  Draw();
}

void Progress::Add(int64_t delta) {
  done_.fetch_add(uint64_t(delta), std::memory_order_relaxed);  // wraps back for negative deltas
  Draw();
}

void Progress::SetTotal(uint64_t total) {
  total_.store(total, std::memory_order_relaxed);
  Draw();
}

void Progress::Draw() {
  if (!enabled_) return;
  std::unique_lock<std::mutex> lock(draw_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return;  // another thread is drawing; this update shows next time
  auto now = std::chrono::steady_clock::now();
  uint64_t done = done_.load(std::memory_order_relaxed);
  uint64_t total = total_.load(std::memory_order_relaxed);
  if (drawn_ && now - last_ < std::chrono::milliseconds(100) && done < total) return;
  last_ = now;
  drawn_ = true;
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? done / secs : 0;
  int width = 30;
  int filled = total ? int(width * std::min(1.0, double(done) / double(total))) : 0;
  std::string bar = std::string(filled, '#') + std::string(width - filled, '.');
  char eta[32] = "";
  if (rate > 0 && total >= done) std::snprintf(eta, sizeof eta, "ETA %.0fs", double(total - done) / rate);
  err_ << "\r\033[K" << label_ << " [" << bar << "] " << HumanBytes(done) << " / " << HumanBytes(total) << "  "
       << HumanBytes(uint64_t(rate)) << "/s  " << eta << std::flush;
}

}  // namespace arca::client
