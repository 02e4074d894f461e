#ifndef CASELEDGER_TESTS_TESTING_EVENT_BUILDERS_H_
#define CASELEDGER_TESTS_TESTING_EVENT_BUILDERS_H_

// Builders of valid client-side events for tests.

#include <cstddef>
#include <string>

#include "absl/time/time.h"
#include "caseledger/v1/events.pb.h"

namespace caseledger::testing {

// A valid event with `payload`, a fresh random event id, occurred_at
// `occurred`, and a caseworker actor.
v1::Event MakeEvent(const v1::EventPayload& payload,
                    absl::Time occurred = absl::FromUnixSeconds(1767225600));

// A NoteRecorded event whose note text is `text_bytes` long (a payload of
// about that size).
v1::Event MakeNoteEvent(size_t text_bytes = 32);

// A GoalSet event.
v1::Event MakeGoalSetEvent(const std::string& goal_id,
                           const std::string& statement);

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_EVENT_BUILDERS_H_
