#include "tests/testing/event_builders.h"

#include "engine/ids.h"

namespace caseledger::testing {

v1::Event MakeEvent(const v1::EventPayload& payload, absl::Time occurred) {
  v1::Event event;
  v1::EventEnvelope* envelope = event.mutable_envelope();
  envelope->set_event_id(engine::NewEventId());
  envelope->set_schema_version(1);
  const absl::Duration since_epoch = occurred - absl::UnixEpoch();
  envelope->mutable_occurred_at()->set_seconds(
      absl::ToInt64Seconds(since_epoch));
  envelope->mutable_actor()->set_user_id("cm-anna");
  envelope->mutable_actor()->set_role("caseworker");
  envelope->mutable_actor()->set_organization("org-test");
  envelope->set_source("test");
  *event.mutable_payload() = payload;
  return event;
}

v1::Event MakeNoteEvent(size_t text_bytes) {
  v1::EventPayload payload;
  payload.mutable_note_recorded()->set_note_id("n1");
  payload.mutable_note_recorded()->set_text(std::string(text_bytes, 'x'));
  return MakeEvent(payload);
}

v1::Event MakeGoalSetEvent(const std::string& goal_id,
                           const std::string& statement) {
  v1::EventPayload payload;
  v1::GoalSet* goal = payload.mutable_goal_set();
  goal->set_goal_id(goal_id);
  goal->set_statement(statement);
  goal->set_life_domain("Home/Daily Living");
  goal->set_lifecycle_status(v1::GOAL_LIFECYCLE_STATUS_ACTIVE);
  goal->set_achievement_status(v1::GOAL_ACHIEVEMENT_STATUS_IN_PROGRESS);
  return MakeEvent(payload);
}

}  // namespace caseledger::testing
