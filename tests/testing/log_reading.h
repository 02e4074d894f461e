#ifndef CASELEDGER_TESTS_TESTING_LOG_READING_H_
#define CASELEDGER_TESTS_TESTING_LOG_READING_H_

#include <vector>

#include "absl/status/statusor.h"
#include "caseledger/v1/events.pb.h"
#include "engine/event_log.h"

namespace caseledger::testing {

// Every event of `log` in global order, page by page (ReadAll), or the first
// read error.
absl::StatusOr<std::vector<v1::Event>> ReadWholeLog(
    const engine::EventLog& log);

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_LOG_READING_H_
