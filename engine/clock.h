#ifndef CASELEDGER_ENGINE_CLOCK_H_
#define CASELEDGER_ENGINE_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace caseledger::engine {

// Source of the server clock stamped into recorded_at. A seam for tests.
// Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // The process-wide real-time clock. Never null; never destroyed.
  static Clock* Real();
};

}  // namespace caseledger::engine

#endif  // CASELEDGER_ENGINE_CLOCK_H_
