#include "services/executor.h"

#include <pthread.h>

#include <utility>

namespace caseledger::services {

Executor::Executor(size_t threads, size_t max_queued)
    : max_queued_(max_queued) {
  for (size_t i = 0; i < threads; ++i) {
    workers_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "cl-executor");
      Work();
    });
  }
}

Executor::~Executor() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& worker : workers_) worker.join();
}

bool Executor::Submit(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || tasks_.size() >= max_queued_) return false;
  tasks_.push_back(std::move(task));
  return true;
}

void Executor::Work() {
  for (;;) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [](Executor* e) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return !e->tasks_.empty() || e->stopping_;
      };
      mu_.Await(absl::Condition(+ready, this));
      if (tasks_.empty()) return;  // stopping and drained
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace caseledger::services
