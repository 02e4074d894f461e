// Plan elements: which element an event changes, and removing one element
// (with its labels) from a plan while the rest stays.

#include "projections/plan_elements.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/event_builders.h"

namespace caseledger::projections {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

v1::CasePlan TwoGoalsPlan() {
  v1::CasePlan plan;
  v1::PlanGoal* g1 = plan.add_goals();
  g1->set_goal_id("g1");
  g1->add_steps()->set_step_id("s1");
  plan.add_goals()->set_goal_id("g2");
  plan.add_resources()->set_resource_id("r1");
  v1::PlanAgreement* a = plan.add_employer_agreements();
  a->set_discussion_id("d1");
  a->mutable_agreement()->set_agreement_id("a1");
  plan.mutable_work()->set_employer("Acme");
  v1::MeasureScore* m = plan.add_measures();
  m->set_instrument(v1::INSTRUMENT_BRS);
  m->set_time_point(v1::TIME_POINT_BASELINE);
  return plan;
}

TEST(PlanElementsTest, EventsNameTheElementsTheyChange) {
  const v1::CasePlan plan = TwoGoalsPlan();
  v1::EventPayload p;
  p.mutable_plan_step_dropped()->set_step_id("s1");
  EXPECT_THAT(ElementsOf(testing::MakeEvent(p), plan),
              ElementsAre(Pair(v1::PLAN_ELEMENT_KIND_GOAL, "g1")));
  p.mutable_plan_step_dropped()->set_step_id("unknown");
  EXPECT_TRUE(ElementsOf(testing::MakeEvent(p), plan).empty());
  p.mutable_employer_discussion_mediated()->set_discussion_id("d1");
  p.mutable_employer_discussion_mediated()->add_agreements()->set_agreement_id(
      "a1");
  EXPECT_THAT(
      ElementsOf(testing::MakeEvent(p), plan),
      ElementsAre(Pair(v1::PLAN_ELEMENT_KIND_EMPLOYER_AGREEMENT, "d1/a1")));
  p.mutable_return_to_work_started()->set_percent(50);
  EXPECT_THAT(ElementsOf(testing::MakeEvent(p), plan),
              ElementsAre(Pair(v1::PLAN_ELEMENT_KIND_WORK, "")));
  // Lifecycle and notes change no element.
  p.mutable_case_assigned()->set_case_manager_id("cm-x");
  EXPECT_TRUE(ElementsOf(testing::MakeEvent(p), plan).empty());
  p.mutable_note_recorded()->set_text("x");
  EXPECT_TRUE(ElementsOf(testing::MakeEvent(p), plan).empty());
}

TEST(PlanElementsTest, RemoveTakesOnlyThatElementAndItsLabels) {
  v1::CasePlan plan = TwoGoalsPlan();
  google::protobuf::RepeatedField<int> labels;
  labels.Add(v1::SENSITIVITY_LABEL_TRAUMA);
  AddElementLabels(&plan, {v1::PLAN_ELEMENT_KIND_GOAL, "g1"}, labels);
  AddElementLabels(&plan, {v1::PLAN_ELEMENT_KIND_WORK, ""}, labels);
  labels.Set(0, v1::SENSITIVITY_LABEL_HEALTH);
  AddElementLabels(&plan, {v1::PLAN_ELEMENT_KIND_GOAL, "g1"}, labels);
  ASSERT_EQ(plan.element_labels_size(), 2);
  EXPECT_THAT(
      plan.element_labels(0).labels(),
      ElementsAre(v1::SENSITIVITY_LABEL_TRAUMA, v1::SENSITIVITY_LABEL_HEALTH));

  RemovePlanElement(&plan, {v1::PLAN_ELEMENT_KIND_GOAL, "g1"});
  ASSERT_EQ(plan.goals_size(), 1);
  EXPECT_EQ(plan.goals(0).goal_id(), "g2");
  ASSERT_EQ(plan.element_labels_size(), 1);
  EXPECT_EQ(plan.element_labels(0).kind(), v1::PLAN_ELEMENT_KIND_WORK);

  RemovePlanElement(&plan, {v1::PLAN_ELEMENT_KIND_WORK, ""});
  EXPECT_FALSE(plan.has_work());
  EXPECT_EQ(plan.element_labels_size(), 0);
  RemovePlanElement(&plan, {v1::PLAN_ELEMENT_KIND_EMPLOYER_AGREEMENT, "d1/a1"});
  EXPECT_EQ(plan.employer_agreements_size(), 0);
  RemovePlanElement(&plan, {v1::PLAN_ELEMENT_KIND_MEASURE,
                            std::to_string(v1::INSTRUMENT_BRS) + "/" +
                                std::to_string(v1::TIME_POINT_BASELINE)});
  EXPECT_EQ(plan.measures_size(), 0);
  // Unknown ids leave the plan as it is.
  RemovePlanElement(&plan, {v1::PLAN_ELEMENT_KIND_RESOURCE, "r9"});
  EXPECT_EQ(plan.resources_size(), 1);
  EXPECT_EQ(PlanElementKindName(v1::PLAN_ELEMENT_KIND_EMPLOYER_AGREEMENT),
            "employer_agreement");
}

}  // namespace
}  // namespace caseledger::projections
