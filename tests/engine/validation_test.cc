#include "engine/validation.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/unknown_field_set.h"
#include "gtest/gtest.h"
#include "tests/testing/event_builders.h"
#include "tests/testing/status_matchers.h"

namespace caseledger::engine {
namespace {

using ::caseledger::testing::MakeEvent;
using ::caseledger::testing::MakeNoteEvent;
using ::caseledger::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

AppendRequest OneEvent(v1::Event event) {
  AppendRequest request;
  request.case_id = "case-1";
  request.events.push_back(std::move(event));
  return request;
}

absl::Status Check(const v1::Event& event) {
  return ValidateAppendRequest(OneEvent(event), ValidationLimits());
}

absl::Status CheckPayload(const v1::EventPayload& payload) {
  return Check(MakeEvent(payload));
}

TEST(ValidationTest, AcceptsAWellFormedEvent) {
  EXPECT_OK(Check(MakeNoteEvent()));
}

TEST(ValidationTest, EnvelopeFieldsAreNamed) {
  struct Case {
    std::function<void(v1::Event&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](v1::Event& e) { e.mutable_envelope()->set_event_id("nope"); },
       "events[0].envelope.event_id"},
      {[](v1::Event& e) { e.mutable_envelope()->clear_occurred_at(); },
       "events[0].envelope.occurred_at"},
      {[](v1::Event& e) {
         e.mutable_envelope()->mutable_occurred_at()->set_nanos(-1);
       },
       "events[0].envelope.occurred_at"},
      {[](v1::Event& e) {
         e.mutable_envelope()->mutable_actor()->clear_user_id();
       },
       "events[0].envelope.actor.user_id"},
      {[](v1::Event& e) {
         e.mutable_envelope()->mutable_actor()->clear_role();
       },
       "events[0].envelope.actor.role"},
      {[](v1::Event& e) { e.mutable_envelope()->set_stream_version(3); },
       "events[0].envelope.stream_version"},
      {[](v1::Event& e) { e.mutable_envelope()->set_global_position(3); },
       "events[0].envelope.global_position"},
      {[](v1::Event& e) { e.mutable_envelope()->set_event_type("GoalSet"); },
       "events[0].envelope.event_type"},
      {[](v1::Event& e) {
         e.mutable_envelope()->mutable_recorded_at()->set_seconds(1);
       },
       "events[0].envelope.recorded_at"},
      {[](v1::Event& e) { e.mutable_envelope()->set_prev_hash("x"); },
       "events[0].envelope.prev_hash"},
      {[](v1::Event& e) { e.mutable_envelope()->set_case_id("other"); },
       "events[0].envelope.case_id"},
      {[](v1::Event& e) { e.mutable_envelope()->set_schema_version(2); },
       "events[0].envelope.schema_version"},
      {[](v1::Event& e) { e.mutable_envelope()->set_causation_id("x"); },
       "events[0].envelope.causation_id"},
      {[](v1::Event& e) {
         e.mutable_envelope()->add_sensitivity(
             v1::SENSITIVITY_LABEL_UNSPECIFIED);
       },
       "events[0].envelope.sensitivity[0]"},
      {[](v1::Event& e) { e.clear_payload(); }, "events[0].payload"},
  };
  for (const Case& c : cases) {
    v1::Event event = MakeNoteEvent();
    c.mutate(event);
    EXPECT_THAT(Check(event), StatusIs(absl::StatusCode::kInvalidArgument,
                                       StartsWith(c.field + ":")))
        << c.field;
  }
}

TEST(ValidationTest, DuplicateEventIdsInOneAppend) {
  AppendRequest request = OneEvent(MakeNoteEvent());
  request.events.push_back(request.events[0]);
  EXPECT_THAT(ValidateAppendRequest(request, ValidationLimits()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("events[1].envelope.event_id: repeated")));
}

// Fields this schema does not know are refused wherever they are nested,
// by path and number (never by value); known fields alone pass.
TEST(ValidationTest, UnknownFieldsAreRefusedByPath) {
  v1::Event event = MakeNoteEvent();
  event.mutable_payload()
      ->mutable_note_recorded()
      ->GetReflection()
      ->MutableUnknownFields(event.mutable_payload()->mutable_note_recorded())
      ->AddLengthDelimited(99, "secret words");
  absl::Status status = ValidateAppendRequest(OneEvent(event), {});
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               "events[0].payload.note_recorded: unknown "
                               "field 99"));
  v1::Event top = MakeNoteEvent();
  top.GetReflection()->MutableUnknownFields(&top)->AddVarint(1234, 7);
  EXPECT_THAT(ValidateAppendRequest(OneEvent(top), {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "events[0]: unknown field 1234"));
  EXPECT_OK(ValidateKnownFields(MakeNoteEvent(), "events[0]"));
}

TEST(ValidationTest, MessagesDoNotEchoContent) {
  v1::EventPayload payload;
  payload.mutable_goal_set()->set_goal_id("g1");
  payload.mutable_goal_set()->set_statement("Secret words of the client");
  payload.mutable_goal_set()->mutable_target_date()->set_year(2027);
  payload.mutable_goal_set()->mutable_target_date()->set_month(2);
  payload.mutable_goal_set()->mutable_target_date()->set_day(30);
  absl::Status status = CheckPayload(payload);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               StartsWith("events[0].payload.goal_set."
                                          "target_date:")));
  EXPECT_THAT(std::string(status.message()),
              ::testing::Not(HasSubstr("Secret")));
}

TEST(ValidationTest, PayloadRules) {
  struct Case {
    std::function<void(v1::EventPayload&)> build;
    std::string field;  // empty: valid
  };
  const std::vector<Case> cases = {
      {[](v1::EventPayload& p) { p.mutable_goal_set()->set_goal_id("g"); },
       "events[0].payload.goal_set.statement"},
      {[](v1::EventPayload& p) {
         p.mutable_gas_rated()->set_goal_id("g");
         p.mutable_gas_rated()->set_level(3);
         p.mutable_gas_rated()->set_time_point(v1::TIME_POINT_BASELINE);
       },
       "events[0].payload.gas_rated.level"},
      {[](v1::EventPayload& p) {
         p.mutable_gas_rated()->set_goal_id("g");
         p.mutable_gas_rated()->set_level(-2);
         p.mutable_gas_rated()->set_time_point(v1::TIME_POINT_BASELINE);
       },
       ""},
      {[](v1::EventPayload& p) {
         auto* m = p.mutable_measure_administered();
         m->set_instrument(v1::INSTRUMENT_BRS);
         m->set_time_point(v1::TIME_POINT_BASELINE);
         auto* r = m->add_responses();
         r->set_item(7);
         r->set_value(3);
       },
       "events[0].payload.measure_administered.responses[0].item"},
      {[](v1::EventPayload& p) {
         auto* m = p.mutable_measure_administered();
         m->set_instrument(v1::INSTRUMENT_GSE);
         m->set_time_point(v1::TIME_POINT_BASELINE);
         auto* r = m->add_responses();
         r->set_item(1);
         r->set_value(5);
       },
       "events[0].payload.measure_administered.responses[0].value"},
      {[](v1::EventPayload& p) {
         auto* m = p.mutable_measure_administered();
         m->set_instrument(v1::INSTRUMENT_MSPSS);
         m->set_time_point(v1::TIME_POINT_FOLLOW_UP);
         for (int item : {1, 1}) {
           auto* r = m->add_responses();
           r->set_item(item);
           r->set_value(7);
         }
       },
       "events[0].payload.measure_administered.responses[1].item"},
      {[](v1::EventPayload& p) {
         auto* a = p.mutable_absence_started();
         a->set_contracted_percent(80);
       },
       "events[0].payload.absence_started.first_day"},
      {[](v1::EventPayload& p) {
         auto* a = p.mutable_absence_started();
         a->set_contracted_percent(80);
         a->mutable_first_day()->set_year(2024);
         a->mutable_first_day()->set_month(2);
         a->mutable_first_day()->set_day(29);  // leap day
       },
       ""},
      {[](v1::EventPayload& p) {
         p.mutable_event_corrected()->set_target_event_id(
             "123e4567-e89b-42d3-a456-426614174000");
       },
       "events[0].payload.event_corrected.corrected"},
      {[](v1::EventPayload& p) {
         auto* c = p.mutable_event_corrected();
         c->set_target_event_id("123e4567-e89b-42d3-a456-426614174000");
         c->mutable_corrected()->mutable_goal_set()->set_goal_id("g");
       },
       "events[0].payload.event_corrected.corrected.goal_set.statement"},
      {[](v1::EventPayload& p) {
         auto* g = p.mutable_gas_scale_defined();
         g->set_goal_id("g");
         g->set_weight(-1);
       },
       "events[0].payload.gas_scale_defined.weight"},
      {[](v1::EventPayload& p) {
         p.mutable_resource_connected()->set_resource_id("r");
       },
       "events[0].payload.resource_connected.kind"},
      {[](v1::EventPayload& p) { p.mutable_case_closed(); },
       "events[0].payload.case_closed.outcome"},
  };
  for (const Case& c : cases) {
    v1::EventPayload payload;
    c.build(payload);
    const absl::Status status = CheckPayload(payload);
    if (c.field.empty()) {
      EXPECT_OK(status);
    } else {
      EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                                   StartsWith(c.field + ":")))
          << c.field;
    }
  }
}

TEST(ValidationTest, KnownEventTypes) {
  EXPECT_TRUE(IsKnownEventType("GoalSet"));
  EXPECT_TRUE(IsKnownEventType("EmployerDiscussionMediated"));
  EXPECT_TRUE(IsKnownEventType("EventCorrected"));
  EXPECT_FALSE(IsKnownEventType("goal_set"));
  EXPECT_FALSE(IsKnownEventType("Nothing"));
}

}  // namespace
}  // namespace caseledger::engine
