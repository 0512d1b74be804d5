// A bandwidth limit: a token bucket that response bytes are taken from as
// they are read (PROTOCOL.md §5.3). It holds one second of its rate, at
// least 1 MiB, so bursts stay short; Take() sleeps until the bytes fit.
// Thread-safe: one bucket is shared by every connection it limits.
#ifndef ARCA_MIRROR_BANDWIDTH_H_
#define ARCA_MIRROR_BANDWIDTH_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>

namespace arca::mirror {

class TokenBucket {
 public:
  // 0: no limit.
  explicit TokenBucket(uint64_t bytes_per_second)
      : rate_(double(bytes_per_second)),
        capacity_(std::max(double(bytes_per_second), double(1 << 20))),
        tokens_(capacity_),
        last_(Clock::now()) {}

  bool limited() const { return rate_ > 0; }

  // Takes `n` bytes, waiting as long as the rate requires. The debt of a
  // read larger than the bucket is paid by sleeping after it.
  void Take(uint64_t n) {
    if (rate_ <= 0) return;
    std::chrono::duration<double> wait{0};
    {
      std::lock_guard<std::mutex> lock(mu_);
      const Clock::time_point now = Clock::now();
      tokens_ = std::min(capacity_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
      last_ = now;
      tokens_ -= double(n);
      if (tokens_ < 0) wait = std::chrono::duration<double>(-tokens_ / rate_);
    }
    if (wait.count() > 0) std::this_thread::sleep_for(wait);
  }

 private:
  using Clock = std::chrono::steady_clock;
  const double rate_, capacity_;
  double tokens_;
  Clock::time_point last_;
  std::mutex mu_;
};

}  // namespace arca::mirror

#endif  // ARCA_MIRROR_BANDWIDTH_H_
