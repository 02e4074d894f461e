#include "projections/timeline.h"

#include "gtest/gtest.h"
#include "projections/dates.h"
#include "tests/testing/event_builders.h"

namespace caseledger::projections {
namespace {

using ::caseledger::testing::MakeEvent;

v1::CasePlan PlanWithGoal() {
  v1::CasePlan plan;
  v1::PlanGoal* goal = plan.add_goals();
  goal->set_goal_id("g1");
  goal->set_statement("Get my own flat");
  goal->set_lifecycle_status(v1::GOAL_LIFECYCLE_STATUS_ACTIVE);
  goal->set_achievement_status(v1::GOAL_ACHIEVEMENT_STATUS_IN_PROGRESS);
  *goal->mutable_target_date() = MakeDate(2027, 3, 1);
  v1::PlanStep* step = goal->add_steps();
  step->set_step_id("s1");
  step->set_description("Visit the housing office");
  plan.mutable_work()->set_working_percent(50);
  return plan;
}

TEST(TimelineTest, GoalRevisionShowsOldAndNewTarget) {
  v1::EventPayload p;
  p.mutable_goal_revised()->set_goal_id("g1");
  *p.mutable_goal_revised()->mutable_target_date() = MakeDate(2027, 5, 1);
  EXPECT_EQ(SummarizeEvent(MakeEvent(p), PlanWithGoal()),
            "Goal 'Get my own flat' revised: target date 2027-03-01 -> "
            "2027-05-01");
}

TEST(TimelineTest, SummariesNameThingsByTheirWords) {
  const v1::CasePlan plan = PlanWithGoal();
  v1::EventPayload status;
  status.mutable_goal_status_changed()->set_goal_id("g1");
  status.mutable_goal_status_changed()->set_achievement_status(
      v1::GOAL_ACHIEVEMENT_STATUS_ACHIEVED);
  EXPECT_EQ(SummarizeEvent(MakeEvent(status), plan),
            "Goal 'Get my own flat' status: in-progress -> achieved");

  v1::EventPayload done;
  done.mutable_plan_step_completed()->set_step_id("s1");
  *done.mutable_plan_step_completed()->mutable_completed_on() =
      MakeDate(2027, 2, 3);
  EXPECT_EQ(SummarizeEvent(MakeEvent(done), plan),
            "Step 'Visit the housing office' completed on 2027-02-03");

  v1::EventPayload schedule;
  schedule.mutable_work_schedule_changed()->set_percent(80);
  *schedule.mutable_work_schedule_changed()->mutable_effective_from() =
      MakeDate(2027, 4, 1);
  EXPECT_EQ(SummarizeEvent(MakeEvent(schedule), plan),
            "Work schedule: 50% -> 80% from 2027-04-01");

  v1::EventPayload gas;
  gas.mutable_gas_rated()->set_goal_id("g1");
  gas.mutable_gas_rated()->set_level(1);
  gas.mutable_gas_rated()->set_time_point(v1::TIME_POINT_FOLLOW_UP);
  EXPECT_EQ(SummarizeEvent(MakeEvent(gas), plan),
            "Goal 'Get my own flat' rated +1 (follow-up)");
}

TEST(TimelineTest, NotesDoNotRepeatTheirText) {
  v1::EventPayload note;
  note.mutable_note_recorded()->set_text("private counselling content");
  EXPECT_EQ(SummarizeEvent(MakeEvent(note), v1::CasePlan()), "Note recorded");
}

TEST(TimelineTest, EntryCarriesEnvelopeFields) {
  v1::EventPayload p;
  p.mutable_case_reopened()->set_reason("relapse");
  v1::Event event = MakeEvent(p);
  event.mutable_envelope()->set_case_id("c9");
  event.mutable_envelope()->set_stream_version(7);
  event.mutable_envelope()->set_global_position(70);
  event.mutable_envelope()->set_event_type("CaseReopened");
  event.set_hash(std::string(32, 'h'));
  const v1::TimelineEntry entry = MakeTimelineEntry(event, v1::CasePlan());
  EXPECT_EQ(entry.summary(), "Case reopened");
  EXPECT_EQ(entry.stream_version(), 7u);
  EXPECT_EQ(entry.global_position(), 70u);
  EXPECT_EQ(entry.event_type(), "CaseReopened");
  EXPECT_EQ(entry.hash(), std::string(32, 'h'));
  EXPECT_EQ(entry.actor().user_id(), "cm-anna");
}

TEST(TimelineTest, UnknownTypesAreNamedAsSuch) {
  EXPECT_EQ(SummarizeEvent(v1::Event(), v1::CasePlan()), "Unknown event type");
}

}  // namespace
}  // namespace caseledger::projections
