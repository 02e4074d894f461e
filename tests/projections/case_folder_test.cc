#include "projections/case_folder.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/dates.h"
#include "tests/testing/event_builders.h"

namespace caseledger::projections {
namespace {

using ::caseledger::testing::MakeEvent;
using ::caseledger::testing::MakeGoalSetEvent;

// Gives events consecutive versions and positions, as the log would.
std::vector<v1::Event> Numbered(std::vector<v1::Event> events) {
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].mutable_envelope()->set_case_id("c1");
    events[i].mutable_envelope()->set_stream_version(i + 1);
    events[i].mutable_envelope()->set_global_position(i + 1);
  }
  return events;
}

v1::Event Payload(const std::function<void(v1::EventPayload&)>& fill) {
  v1::EventPayload p;
  fill(p);
  return MakeEvent(p);
}

TEST(CaseFolderTest, EnteredInErrorDropsAndCorrectionReplaces) {
  v1::Event a = MakeGoalSetEvent("g1", "Wrong");
  v1::Event b = MakeGoalSetEvent("g2", "Get a jbo");
  v1::Event drop = Payload([&](v1::EventPayload& p) {
    p.mutable_event_entered_in_error()->set_target_event_id(
        a.envelope().event_id());
  });
  v1::Event fix = Payload([&](v1::EventPayload& p) {
    p.mutable_event_corrected()->set_target_event_id(b.envelope().event_id());
    p.mutable_event_corrected()
        ->mutable_corrected()
        ->mutable_goal_set()
        ->set_goal_id("g2");
    p.mutable_event_corrected()
        ->mutable_corrected()
        ->mutable_goal_set()
        ->set_statement("Get a job");
  });
  const std::vector<v1::Event> events = Numbered({a, b, drop, fix});
  const std::vector<v1::Event> resolved = ResolveCorrections(events);
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].envelope().event_id(), b.envelope().event_id());
  EXPECT_EQ(resolved[0].payload().goal_set().statement(), "Get a job");

  CaseFolder folder = FoldCase(events, ScoringConfig());
  ASSERT_EQ(folder.plan().goals_size(), 1);
  EXPECT_EQ(folder.plan().goals(0).statement(), "Get a job");
  EXPECT_EQ(folder.plan().version(), 4u);
}

TEST(CaseFolderTest, CorrectionEnteredInErrorIsUndoneAndTypeChangeIgnored) {
  v1::Event goal = MakeGoalSetEvent("g1", "Original");
  v1::Event fix = Payload([&](v1::EventPayload& p) {
    p.mutable_event_corrected()->set_target_event_id(
        goal.envelope().event_id());
    p.mutable_event_corrected()
        ->mutable_corrected()
        ->mutable_goal_set()
        ->set_statement("Changed");
  });
  v1::Event undo = Payload([&](v1::EventPayload& p) {
    p.mutable_event_entered_in_error()->set_target_event_id(
        fix.envelope().event_id());
  });
  CaseFolder folder = FoldCase(Numbered({goal, fix, undo}), ScoringConfig());
  EXPECT_EQ(folder.plan().goals(0).statement(), "Original");

  v1::Event wrong_type = Payload([&](v1::EventPayload& p) {
    p.mutable_event_corrected()->set_target_event_id(
        goal.envelope().event_id());
    p.mutable_event_corrected()->mutable_corrected()->mutable_note_recorded();
  });
  CaseFolder kept = FoldCase(Numbered({goal, wrong_type}), ScoringConfig());
  EXPECT_EQ(kept.plan().goals(0).statement(), "Original");
}

TEST(CaseFolderTest, PlanAndFactsFollowTheEvents) {
  std::vector<v1::Event> events;
  events.push_back(Payload([](v1::EventPayload& p) {
    p.mutable_case_opened()->set_program("return-to-work");
    p.mutable_case_opened()->set_case_manager_id("cm-1");
  }));
  events.push_back(MakeGoalSetEvent("g1", "Back at my desk"));
  events.push_back(Payload([](v1::EventPayload& p) {
    auto* s = p.mutable_plan_step_added();
    s->set_goal_id("g1");
    s->set_step_id("s1");
    s->set_description("Talk to the team lead");
    *s->mutable_target_date() = MakeDate(2026, 2, 1);
  }));
  events.push_back(Payload([](v1::EventPayload& p) {
    p.mutable_plan_step_completed()->set_step_id("s1");
    *p.mutable_plan_step_completed()->mutable_completed_on() =
        MakeDate(2026, 1, 30);
  }));
  events.push_back(Payload([](v1::EventPayload& p) {
    auto* a = p.mutable_absence_started();
    a->set_employer("Acme");
    *a->mutable_first_day() = MakeDate(2025, 11, 1);
    a->set_contracted_percent(80);
  }));
  events.push_back(Payload([](v1::EventPayload& p) {
    p.mutable_return_to_work_started()->set_percent(50);
    *p.mutable_return_to_work_started()->mutable_first_day() =
        MakeDate(2026, 2, 2);
  }));
  events.push_back(Payload([](v1::EventPayload& p) {
    p.mutable_work_schedule_changed()->set_percent(100);
    *p.mutable_work_schedule_changed()->mutable_effective_from() =
        MakeDate(2026, 3, 2);
  }));
  events.push_back(Payload([](v1::EventPayload& p) {
    auto* r = p.mutable_resource_connected();
    r->set_resource_id("r1");
    r->set_name("Sister");
    r->set_kind(v1::RESOURCE_KIND_NATURAL);
  }));
  events.push_back(Payload([](v1::EventPayload& p) {
    auto* m = p.mutable_measure_administered();
    m->set_instrument(v1::INSTRUMENT_BRS);
    m->set_time_point(v1::TIME_POINT_BASELINE);
    const int answers[] = {5, 1, 4, 2, 4, 2};
    for (int i = 0; i < 6; ++i) {
      auto* r = m->add_responses();
      r->set_item(i + 1);
      r->set_value(answers[i]);
    }
  }));
  events.push_back(Payload([](v1::EventPayload& p) {
    p.mutable_contact_recorded()->set_location(v1::CONTACT_LOCATION_WORKPLACE);
  }));
  events.push_back(Payload([](v1::EventPayload& p) {
    p.mutable_contact_recorded()->set_location(v1::CONTACT_LOCATION_OFFICE);
  }));
  events.push_back(Payload([](v1::EventPayload& p) {
    p.mutable_case_closed()->set_outcome(v1::CASE_OUTCOME_SUCCESSFUL);
  }));
  CaseFolder folder = FoldCase(Numbered(events), ScoringConfig());
  const v1::CasePlan& plan = folder.plan();
  EXPECT_EQ(plan.status(), v1::CASE_STATUS_CLOSED);
  EXPECT_EQ(plan.goals(0).steps(0).status(), v1::STEP_STATUS_COMPLETED);
  EXPECT_EQ(plan.work().working_percent(), 100u);
  EXPECT_EQ(plan.plan_revision(), 3u);  // goal set, step added, step done
  ASSERT_EQ(plan.measures_size(), 1);
  EXPECT_NEAR(plan.measures(0).score(), 4.3333, 1e-4);
  EXPECT_EQ(plan.measures(0).band(), "high");

  const v1::CaseFacts facts = folder.Facts();
  EXPECT_EQ(facts.goals_set(), 1u);
  EXPECT_EQ(facts.steps_size(), 1);
  EXPECT_EQ(FormatDate(facts.return_first_day()), "2026-02-02");
  EXPECT_EQ(FormatDate(facts.full_return_on()), "2026-03-02");
  EXPECT_EQ(facts.contacts_completed(), 2u);
  EXPECT_EQ(facts.contacts_outside_office(), 1u);
  EXPECT_EQ(facts.resources_natural(), 1u);
  ASSERT_EQ(facts.close_outcomes_size(), 1);
  EXPECT_EQ(facts.close_outcomes(0), v1::CASE_OUTCOME_SUCCESSFUL);
}

v1::Event WithLabel(v1::Event e, v1::SensitivityLabel label) {
  e.mutable_envelope()->add_sensitivity(label);
  return e;
}

// The element_labels entry of `kind`/`id`, as label numbers (empty: none).
std::vector<int> LabelsOf(const v1::CasePlan& plan, v1::PlanElementKind kind,
                          const std::string& id) {
  for (const v1::PlanElementLabels& e : plan.element_labels()) {
    if (e.kind() == kind && e.element_id() == id) {
      return std::vector<int>(e.labels().begin(), e.labels().end());
    }
  }
  return {};
}

TEST(CaseFolderTest, PlanElementsKeepTheLabelsOfTheirEvents) {
  v1::Event plain = MakeGoalSetEvent("g1", "Own flat");
  v1::Event corrected_later = MakeGoalSetEvent("g2", "Get a jbo");
  v1::Event step = Payload([](v1::EventPayload& p) {
    p.mutable_plan_step_added()->set_goal_id("g1");
    p.mutable_plan_step_added()->set_step_id("s1");
  });
  v1::Event step_done = Payload([](v1::EventPayload& p) {
    p.mutable_plan_step_completed()->set_step_id("s1");
  });
  v1::Event consent = Payload([](v1::EventPayload& p) {
    p.mutable_consent_given()->set_consent_id("c1");
  });
  v1::Event revoked = Payload([](v1::EventPayload& p) {
    p.mutable_consent_revoked()->set_consent_id("c1");
  });
  v1::Event work = Payload([](v1::EventPayload& p) {
    p.mutable_absence_started()->set_employer("Acme");
  });
  v1::Event fix = Payload([&](v1::EventPayload& p) {
    p.mutable_event_corrected()->set_target_event_id(
        corrected_later.envelope().event_id());
    p.mutable_event_corrected()
        ->mutable_corrected()
        ->mutable_goal_set()
        ->set_goal_id("g2");
  });
  const std::vector<v1::Event> events = Numbered(
      {plain, corrected_later, WithLabel(step, v1::SENSITIVITY_LABEL_TRAUMA),
       WithLabel(step_done, v1::SENSITIVITY_LABEL_HEALTH),
       WithLabel(consent, v1::SENSITIVITY_LABEL_HEALTH), revoked,
       WithLabel(WithLabel(work, v1::SENSITIVITY_LABEL_FINANCIAL),
                 v1::SENSITIVITY_LABEL_HEALTH),
       WithLabel(fix, v1::SENSITIVITY_LABEL_SUBSTANCE_USE_PART2)});
  const v1::CasePlan plan = FoldCase(events, ScoringConfig()).plan();
  // A step's labels are its goal's (the completion names only the step).
  EXPECT_THAT(LabelsOf(plan, v1::PLAN_ELEMENT_KIND_GOAL, "g1"),
              ::testing::ElementsAre(v1::SENSITIVITY_LABEL_TRAUMA,
                                     v1::SENSITIVITY_LABEL_HEALTH));
  // A correction's labels join the corrected event's.
  EXPECT_THAT(
      LabelsOf(plan, v1::PLAN_ELEMENT_KIND_GOAL, "g2"),
      ::testing::ElementsAre(v1::SENSITIVITY_LABEL_SUBSTANCE_USE_PART2));
  // Distinct and ascending; singletons have no id.
  EXPECT_THAT(LabelsOf(plan, v1::PLAN_ELEMENT_KIND_WORK, ""),
              ::testing::ElementsAre(v1::SENSITIVITY_LABEL_HEALTH,
                                     v1::SENSITIVITY_LABEL_FINANCIAL));
  // A revoked consent is gone, and its labels with it.
  EXPECT_TRUE(LabelsOf(plan, v1::PLAN_ELEMENT_KIND_CONSENT, "c1").empty());
  EXPECT_EQ(plan.element_labels_size(), 3);
  // Folding one event at a time (corrections aside) gives the same labels.
  CaseFolder incremental{ScoringConfig()};
  for (size_t i = 0; i + 1 < events.size(); ++i) incremental.Apply(events[i]);
  EXPECT_THAT(LabelsOf(incremental.plan(), v1::PLAN_ELEMENT_KIND_GOAL, "g1"),
              ::testing::ElementsAre(v1::SENSITIVITY_LABEL_TRAUMA,
                                     v1::SENSITIVITY_LABEL_HEALTH));
  EXPECT_TRUE(
      LabelsOf(incremental.plan(), v1::PLAN_ELEMENT_KIND_GOAL, "g2").empty());
}

TEST(CaseFolderTest, IncrementalApplyEqualsFold) {
  std::vector<v1::Event> events =
      Numbered({MakeGoalSetEvent("g1", "One"), MakeGoalSetEvent("g2", "Two")});
  CaseFolder incremental{ScoringConfig()};
  for (const auto& e : events) incremental.Apply(e);
  CaseFolder folded = FoldCase(events, ScoringConfig());
  EXPECT_EQ(incremental.plan().SerializeAsString(),
            folded.plan().SerializeAsString());
  EXPECT_EQ(incremental.Facts().SerializeAsString(),
            folded.Facts().SerializeAsString());
}

}  // namespace
}  // namespace caseledger::projections
