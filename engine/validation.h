#ifndef CASELEDGER_ENGINE_VALIDATION_H_
#define CASELEDGER_ENGINE_VALIDATION_H_

// Validation of client-supplied events before anything is stored. Every
// failure is INVALID_ARGUMENT with a message that starts with the offending
// field's path (e.g. "events[2].envelope.occurred_at: required") and never
// repeats record content. Pure functions; thread-safe.

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "caseledger/v1/events.pb.h"
#include "engine/event_log.h"
#include "google/protobuf/message.h"

namespace caseledger::engine {

struct ValidationLimits {
  size_t max_event_bytes = 64 * 1024;
  size_t max_events_per_append = 100;
};

// Checks the whole request: case id, event count, per-event envelope (client
// fields present and well-formed, server fields empty), payload, size, and
// that event ids are unique within the request.
absl::Status ValidateAppendRequest(const AppendRequest& request,
                                   const ValidationLimits& limits);

// Checks one client event's envelope (client fields present and
// well-formed, server fields empty); `field` is the event's path
// ("events[2]"), used in messages.
absl::Status ValidateEnvelope(const v1::Event& event, absl::string_view field);

// Checks one payload; `field` is the path used in messages.
absl::Status ValidatePayload(const v1::EventPayload& payload,
                             absl::string_view field);

// Checks that `message` and every message inside it carry no field this
// schema does not know (sent by a newer or a hostile client): the log
// cannot validate, project or export what it does not understand, and one
// such event would make every later export refuse the log. The message
// names the path and the field number, never a value:
// "events[0].payload.goal_set: unknown field 99".
absl::Status ValidateKnownFields(const google::protobuf::Message& message,
                                 absl::string_view field);

// True if `type` names a payload type of this schema ("GoalSet", ...).
bool IsKnownEventType(absl::string_view type);

}  // namespace caseledger::engine

#endif  // CASELEDGER_ENGINE_VALIDATION_H_
