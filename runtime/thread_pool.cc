// Persistent thread pool with claimed chunks; see thread_pool.h.
#include "runtime/thread_pool.h"

#include <algorithm>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace arca::runtime {
namespace {

inline void CpuRelax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

constexpr int kSpins = 1 << 14;       // polling before a worker sleeps
constexpr int kChunksPerThread = 8;   // enough to even out a slow thread

}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  for (int i = 1; i < n_threads; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (std::thread& t : workers_) t.join();
}

// Ticket layout: bits 40..63 job generation (mod 2^24), bits 20..39 the
// job's chunk count, bits 0..19 the next chunk to claim. Everything a claim
// checks is in the one word it swaps.
namespace {
constexpr uint64_t kField = (uint64_t(1) << 20) - 1;
constexpr uint64_t kGenMask = (uint64_t(1) << 24) - 1;
}  // namespace

void ThreadPool::RunChunks(uint32_t gen, int index) {
  uint64_t t = ticket_.load(std::memory_order_acquire);
  while ((t >> 40) == (gen & kGenMask)) {
    const int64_t c = int64_t(t & kField);
    if (c >= int64_t((t >> 20) & kField)) return;
    if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel)) continue;  // t reloaded
    // The claim succeeded, so job `gen` is unfinished and its fields are current.
    const int64_t begin = c * chunk_;
    (*job_)(begin, std::min(job_n_, begin + chunk_), index);
    done_.fetch_add(1, std::memory_order_acq_rel);
    t = ticket_.load(std::memory_order_acquire);
  }
}

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, int64_t grain) {
  if (workers_.empty() || n <= grain) {
    if (n > 0) fn(0, n, 0);
    return;
  }
  const int64_t target = int64_t(size()) * kChunksPerThread;  // far below 2^20 chunks
  chunk_ = std::max(std::max<int64_t>(grain, 1), (n + target - 1) / target);
  n_chunks_ = (n + chunk_ - 1) / chunk_;
  job_ = &fn;
  job_n_ = n;
  done_.store(0, std::memory_order_relaxed);
  const uint32_t gen = generation_.load(std::memory_order_relaxed) + 1;
  ticket_.store(((uint64_t(gen) & kGenMask) << 40) | (uint64_t(n_chunks_) << 20), std::memory_order_release);
  generation_.store(gen, std::memory_order_release);
  generation_.notify_all();
  RunChunks(gen, 0);
  // Chunks claimed by other threads may still be running.
  for (int spin = 0; done_.load(std::memory_order_acquire) != n_chunks_; ++spin) {
    if (spin < kSpins) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
}

void ThreadPool::WorkerLoop(int index) {
  uint32_t seen = 0;
  while (true) {
    uint32_t g = generation_.load(std::memory_order_acquire);
    for (int spin = 0; g == seen && spin < kSpins; ++spin) {
      CpuRelax();
      g = generation_.load(std::memory_order_acquire);
    }
    if (g == seen) {
      generation_.wait(seen, std::memory_order_acquire);
      continue;
    }
    seen = g;
    if (stop_.load()) return;
    RunChunks(g, index);
  }
}

}  // namespace arca::runtime
