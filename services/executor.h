#ifndef CASELEDGER_SERVICES_EXECUTOR_H_
#define CASELEDGER_SERVICES_EXECUTOR_H_

// A fixed pool of threads for work that may block (storage reads, waits for
// a projection position, verification), so that gRPC's callback threads
// never block. Thread-safe.

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace caseledger::services {

class Executor {
 public:
  // `threads` workers; at most `max_queued` tasks wait (then Submit fails).
  Executor(size_t threads, size_t max_queued);
  // Runs the tasks already queued, then joins the workers.
  ~Executor();

  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `task`. Returns false (and does not run it) when the queue is
  // full or the executor is stopping.
  bool Submit(std::function<void()> task);

 private:
  void Work();

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace caseledger::services

#endif  // CASELEDGER_SERVICES_EXECUTOR_H_
