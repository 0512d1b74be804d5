// A small persistent pool of threads for data-parallel loops (the rows of a
// matrix-vector product, the heads of attention).
//
// ParallelFor cuts [0, n) into chunks that the threads, the caller among
// them, claim one at a time from a shared counter, and returns when every
// chunk is done. Claiming (rather than a fixed share per thread) keeps the
// work going when a thread is descheduled on a busy machine: the others take
// its chunks, and the caller never waits for a thread that has not started.
// Which thread runs a chunk does not change what the chunk computes, so
// results do not depend on the thread count or on timing.
//
// Workers spin briefly between jobs, since a forward pass issues a job every
// few tens of microseconds, then sleep on an atomic wait.
#ifndef ARCA_RUNTIME_THREAD_POOL_H_
#define ARCA_RUNTIME_THREAD_POOL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace arca::runtime {

// Not thread-safe: one thread at a time may call ParallelFor.
class ThreadPool {
 public:
  // `n_threads` >= 1 counts the calling thread; n_threads - 1 are started.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(workers_.size()) + 1; }

  // Calls fn(begin, end, thread_index) on disjoint chunks covering [0, n),
  // each at least `grain` long (but the last); thread_index < size() names
  // the thread running the chunk (for per-thread scratch space).
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, int64_t grain = 1);

 private:
  void WorkerLoop(int index);
  // Claims and runs chunks of job `gen` until none is left.
  void RunChunks(uint32_t gen, int index);

  std::vector<std::thread> workers_;
  // The current job; written by the caller before it publishes `ticket_`.
  const std::function<void(int64_t, int64_t, int)>* job_ = nullptr;
  int64_t job_n_ = 0;
  int64_t chunk_ = 1;
  int64_t n_chunks_ = 0;
  // Job generation, chunk count and next chunk in one word (see
  // thread_pool.cc). A claim is a compare-and-swap of it, so a thread that
  // wakes late for an old job can never take a chunk of a newer one.
  std::atomic<uint64_t> ticket_{0};
  std::atomic<int64_t> done_{0};         // chunks finished in the current job
  std::atomic<uint32_t> generation_{0};  // what sleeping workers wait on
  std::atomic<bool> stop_{false};
};

}  // namespace arca::runtime

#endif  // ARCA_RUNTIME_THREAD_POOL_H_
