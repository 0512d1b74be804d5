// A small persistent pool of threads for data-parallel loops (the rows of a
// matrix-vector product, the heads of attention).
//
// ParallelFor splits [0, n) into one contiguous range per thread, the caller
// being one of them, and returns when all ranges are done. Workers spin
// briefly between jobs, since a forward pass issues a job every few tens of
// microseconds, then sleep on an atomic wait.
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

  // Calls fn(begin, end, thread_index) on disjoint ranges covering [0, n).
  // Ranges are given in thread order, so results do not depend on timing.
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn);

 private:
  void WorkerLoop(int index);
  void RunShare(int index);

  std::vector<std::thread> workers_;
  const std::function<void(int64_t, int64_t, int)>* job_ = nullptr;
  int64_t job_n_ = 0;
  std::atomic<uint64_t> generation_{0};  // bumped once per job
  std::atomic<int> pending_{0};          // workers still running the job
  std::atomic<bool> stop_{false};
};

}  // namespace arca::runtime

#endif  // ARCA_RUNTIME_THREAD_POOL_H_
