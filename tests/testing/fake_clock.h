#ifndef CASELEDGER_TESTS_TESTING_FAKE_CLOCK_H_
#define CASELEDGER_TESTS_TESTING_FAKE_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/clock.h"

namespace caseledger::testing {

// A server clock the test sets by hand (recorded_at). Thread-safe.
class FakeClock : public engine::Clock {
 public:
  explicit FakeClock(absl::Time start = absl::UnixEpoch()) : now_(start) {}

  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_FAKE_CLOCK_H_
