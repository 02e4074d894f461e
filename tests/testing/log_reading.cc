#include "tests/testing/log_reading.h"

#include <utility>

namespace caseledger::testing {

absl::StatusOr<std::vector<v1::Event>> ReadWholeLog(
    const engine::EventLog& log) {
  std::vector<v1::Event> all;
  engine::ReadAllRequest request;
  for (;;) {
    absl::StatusOr<engine::ReadPage> page = log.ReadAll(request);
    if (!page.ok()) return page.status();
    for (v1::Event& e : page->events) all.push_back(std::move(e));
    if (page->end) return all;
    request.from_position = page->next;
  }
}

}  // namespace caseledger::testing
