#include "projections/metrics.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/dates.h"
#include "projections/scoring.h"
#include "tests/testing/status_matchers.h"

namespace caseledger::projections {
namespace {

using ::caseledger::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr double kTolerance = 1e-4;

v1::Date D(int year, int month, int day) { return MakeDate(year, month, day); }

// A case opened on `opened`, otherwise empty.
v1::CaseFacts OpenCase(const std::string& id, const v1::Date& opened) {
  v1::CaseFacts facts;
  facts.set_case_id(id);
  facts.set_program("housing-first");
  facts.set_case_manager_id("cm-a");
  facts.set_team("north");
  facts.set_status(v1::CASE_STATUS_OPEN);
  *facts.mutable_opened_on() = opened;
  return facts;
}

void Close(v1::CaseFacts& facts, const v1::Date& on, v1::CaseOutcome outcome) {
  facts.set_status(v1::CASE_STATUS_CLOSED);
  *facts.add_closed_on() = on;
  facts.add_close_outcomes(outcome);
}

void Reopen(v1::CaseFacts& facts, const v1::Date& on) {
  facts.set_status(v1::CASE_STATUS_OPEN);
  *facts.add_reopened_on() = on;
}

v1::CaseFacts::Step* AddStep(v1::CaseFacts& facts, const v1::Date& target,
                             const v1::Date& completed, bool dropped = false) {
  v1::CaseFacts::Step* step = facts.add_steps();
  *step->mutable_target_date() = target;
  *step->mutable_completed_on() = completed;
  step->set_dropped(dropped);
  return step;
}

void AddGasGoal(v1::CaseFacts& facts, std::optional<int> baseline,
                std::optional<int> follow_up, double weight = 1.0) {
  v1::CaseFacts::GasGoal* goal = facts.add_gas_goals();
  goal->set_weight(weight);
  if (baseline) {
    goal->set_has_baseline(true);
    goal->set_baseline(*baseline);
  }
  if (follow_up) {
    goal->set_has_follow_up(true);
    goal->set_follow_up(*follow_up);
  }
}

// Scores raw answers (items 1..n) the way the folder does and stores the
// score in the facts.
void AddMeasure(v1::CaseFacts& facts, v1::Instrument instrument,
                v1::TimePoint time_point, const v1::Date& on,
                std::vector<int> values) {
  v1::MeasureAdministered measure;
  measure.set_instrument(instrument);
  measure.set_time_point(time_point);
  *measure.mutable_administered_on() = on;
  for (size_t i = 0; i < values.size(); ++i) {
    v1::ItemResponse* response = measure.add_responses();
    response->set_item(i + 1);
    response->set_value(values[i]);
  }
  *facts.add_measures() = ScoreMeasure(measure, ScoringConfig());
}

void ExpectRate(const v1::Rate& rate, uint64_t numerator,
                uint64_t denominator) {
  EXPECT_EQ(rate.numerator(), numerator);
  EXPECT_EQ(rate.denominator(), denominator);
  if (denominator == 0) {
    EXPECT_FALSE(rate.has_value());
  } else {
    ASSERT_TRUE(rate.has_value());
    EXPECT_NEAR(rate.value(), static_cast<double>(numerator) / denominator,
                1e-12);
  }
}

void ExpectTime(const v1::TimeToEvent& t, v1::EventObservation observation,
                int64_t days) {
  EXPECT_EQ(t.observation(), observation);
  EXPECT_EQ(t.days(), days);
}

class MetricsTest : public ::testing::Test {
 protected:
  v1::CaseMetrics Compute(const v1::CaseFacts& facts, const v1::Date& as_of) {
    return ComputeCaseMetrics(facts, as_of, config_);
  }

  v1::MetricsReport Aggregate(const std::vector<v1::CaseFacts>& cases,
                              const MetricsQuery& query) {
    EXPECT_OK(ValidateMetricsQuery(query));
    return AggregateMetrics(cases, caseworkers_, query, config_,
                            /*position=*/1234, /*projection_version=*/3);
  }

  MetricsQuery Query(GroupBy group_by, const v1::Date& as_of) {
    MetricsQuery query;
    query.group_by = group_by;
    query.as_of = as_of;
    return query;
  }

  MetricsConfig config_;
  absl::flat_hash_map<std::string, v1::CaseworkerFacts> caseworkers_;
};

// ---------------------------------------------------------------------------
// Per case
// ---------------------------------------------------------------------------

TEST_F(MetricsTest, StampsCaseIdentityAndAsOf) {
  v1::CaseFacts facts = OpenCase("case-1", D(2024, 1, 10));
  facts.set_position(77);
  facts.set_version(12);
  const v1::CaseMetrics m = Compute(facts, D(2024, 6, 30));
  EXPECT_EQ(m.case_id(), "case-1");
  EXPECT_EQ(FormatDate(m.as_of()), "2024-06-30");
  EXPECT_EQ(m.position(), 77u);
  EXPECT_EQ(m.version(), 12u);
  EXPECT_EQ(m.projection_version(), 0u);
}

TEST_F(MetricsTest, StepCompletionAndOnTime) {
  // as_of 2024-06-30.
  v1::CaseFacts facts = OpenCase("c", D(2024, 1, 1));
  AddStep(facts, D(2024, 3, 1), D(2024, 2, 20));  // a: due, done, on time
  AddStep(facts, D(2024, 3, 1), D(2024, 3, 5));   // b: due, done, late
  AddStep(facts, v1::Date(), D(2024, 4, 1));      // c: due, done, no target
  AddStep(facts, D(2024, 5, 1), v1::Date());      // d: due, open
  AddStep(facts, D(2024, 8, 1), v1::Date());      // e: not yet due
  AddStep(facts, D(2024, 1, 1), v1::Date(), /*dropped=*/true);  // f: dropped
  AddStep(facts, D(2024, 1, 1), D(2024, 1, 1), /*dropped=*/true);
  // g: target passed, completed only after as_of -> due, not done.
  AddStep(facts, D(2024, 6, 1), D(2024, 7, 10));
  // h: completed after as_of, target after as_of -> not due.
  AddStep(facts, D(2024, 9, 1), D(2024, 7, 15));
  // Due: a, b, c, d, g = 5; completed: a, b, c = 3; on time: a, c = 2.
  const v1::CaseMetrics m = Compute(facts, D(2024, 6, 30));
  ExpectRate(m.step_completion(), 3, 5);
  ExpectRate(m.step_on_time(), 2, 5);
}

TEST_F(MetricsTest, StepCompletedOnTargetDayIsOnTime) {
  v1::CaseFacts facts = OpenCase("c", D(2024, 1, 1));
  AddStep(facts, D(2024, 3, 1), D(2024, 3, 1));
  const v1::CaseMetrics m = Compute(facts, D(2024, 6, 30));
  ExpectRate(m.step_on_time(), 1, 1);
}

TEST_F(MetricsTest, CountRates) {
  v1::CaseFacts facts = OpenCase("c", D(2024, 1, 1));
  facts.set_goals_set(4);
  facts.set_goals_achieved(1);
  facts.set_contacts_completed(8);
  facts.set_contacts_outside_office(6);
  facts.set_outreach_attempts(2);
  facts.set_resources_natural(2);
  facts.set_resources_community(1);
  facts.set_resources_formal(3);
  facts.set_support_active(4);
  facts.set_support_active_natural(3);
  *facts.mutable_last_contact_on() = D(2024, 6, 20);
  const v1::CaseMetrics m = Compute(facts, D(2024, 6, 30));
  ExpectRate(m.goal_attainment(), 1, 4);
  ExpectRate(m.community_contact_share(), 6, 8);
  ExpectRate(m.outreach_yield(), 8, 10);         // 8 / (8 + 2)
  ExpectRate(m.natural_resource_share(), 3, 6);  // (2 + 1) / (2 + 1 + 3)
  EXPECT_EQ(m.support_active_members(), 4u);
  ExpectRate(m.support_natural_share(), 3, 4);
  ASSERT_TRUE(m.has_days_since_last_contact());
  EXPECT_EQ(m.days_since_last_contact(), 10);  // June 20 -> June 30
}

TEST_F(MetricsTest, EmptyCaseHasZeroDenominatorsAndNoValues) {
  const v1::CaseMetrics m =
      Compute(OpenCase("c", D(2024, 1, 1)), D(2024, 6, 30));
  ExpectRate(m.goal_attainment(), 0, 0);
  ExpectRate(m.step_completion(), 0, 0);
  ExpectRate(m.step_on_time(), 0, 0);
  ExpectRate(m.community_contact_share(), 0, 0);
  ExpectRate(m.natural_resource_share(), 0, 0);
  ExpectRate(m.outreach_yield(), 0, 0);
  ExpectRate(m.support_natural_share(), 0, 0);
  EXPECT_FALSE(m.has_days_since_last_contact());
  EXPECT_FALSE(m.gas().has_baseline_t());
  EXPECT_FALSE(m.gas().has_follow_up_t());
  EXPECT_FALSE(m.gas().has_change());
  EXPECT_FALSE(m.brs().score().has_intake());
}

TEST_F(MetricsTest, LastContactAfterAsOfIsNotYetKnown) {
  v1::CaseFacts facts = OpenCase("c", D(2024, 1, 1));
  *facts.mutable_last_contact_on() = D(2024, 7, 2);
  EXPECT_FALSE(Compute(facts, D(2024, 6, 30)).has_days_since_last_contact());
}

TEST_F(MetricsTest, GasDomainVectorThroughFacts) {
  // Baseline (-1, -1, -1) -> 36.3069; follow-up (0, +1, -1) -> 50.0; all
  // three goals paired, so change = 50 - 36.3069 = 13.6931.
  v1::CaseFacts facts = OpenCase("c", D(2024, 1, 1));
  AddGasGoal(facts, -1, 0);
  AddGasGoal(facts, -1, +1);
  AddGasGoal(facts, -1, -1);
  const v1::GasOutcome gas = Compute(facts, D(2024, 6, 30)).gas();
  EXPECT_NEAR(gas.baseline_t(), 36.3069, kTolerance);
  EXPECT_NEAR(gas.follow_up_t(), 50.0, kTolerance);
  EXPECT_NEAR(gas.change(), 13.6931, kTolerance);
  EXPECT_EQ(gas.goals_paired(), 3u);
}

TEST_F(MetricsTest, GasChangeUsesPairedGoalsOnly) {
  // Goals A (-1 -> +1), B (-1 -> 0), C (-2, never rated at follow-up).
  // Baseline T over A, B, C: 50 - 40 / sqrt(4.8) = 31.7426.
  // Follow-up T over A, B: 50 + 10 / sqrt(2.6) = 56.2017.
  // Change over A, B: 10 * ((1 + 0) - (-1 - 1)) / sqrt(2.6) = 18.6052, not
  // 56.2017 - 31.7426: C must not count as a loss or a gain.
  v1::CaseFacts facts = OpenCase("c", D(2024, 1, 1));
  AddGasGoal(facts, -1, +1);
  AddGasGoal(facts, -1, 0);
  AddGasGoal(facts, -2, std::nullopt);
  const v1::GasOutcome gas = Compute(facts, D(2024, 6, 30)).gas();
  EXPECT_NEAR(gas.baseline_t(), 31.7426, kTolerance);
  EXPECT_NEAR(gas.follow_up_t(), 56.2017, kTolerance);
  EXPECT_NEAR(gas.change(), 18.6052, kTolerance);
  EXPECT_EQ(gas.goals_with_baseline(), 3u);
  EXPECT_EQ(gas.goals_with_follow_up(), 2u);
  EXPECT_EQ(gas.goals_paired(), 2u);
}

TEST_F(MetricsTest, GasGoalWithoutBaselineIsNotPaired) {
  // Goal A (-1 -> +1) and goal D rated +2 at follow-up with no baseline.
  // Baseline T over A: 50 - 10 = 40. Follow-up T over A, D:
  // 50 + 30 / sqrt(2.6) = 68.6052. Change over A alone: 60 - 40 = 20.
  v1::CaseFacts facts = OpenCase("c", D(2024, 1, 1));
  AddGasGoal(facts, -1, +1);
  AddGasGoal(facts, std::nullopt, +2);
  const v1::GasOutcome gas = Compute(facts, D(2024, 6, 30)).gas();
  EXPECT_NEAR(gas.baseline_t(), 40.0, kTolerance);
  EXPECT_NEAR(gas.follow_up_t(), 68.6052, kTolerance);
  EXPECT_NEAR(gas.change(), 20.0, kTolerance);
  EXPECT_EQ(gas.goals_paired(), 1u);
}

TEST_F(MetricsTest, GasUsesConfiguredRho) {
  // rho = 0: unweighted T = 50 + 10 * sum x / sqrt(n); (+1 x 4) -> 70.
  config_.scoring.gas_rho = 0.0;
  v1::CaseFacts facts = OpenCase("c", D(2024, 1, 1));
  for (int i = 0; i < 4; ++i) AddGasGoal(facts, std::nullopt, +1);
  EXPECT_NEAR(Compute(facts, D(2024, 6, 30)).gas().follow_up_t(), 70.0,
              kTolerance);
}

TEST_F(MetricsTest, GasAllWeightsZeroLeavesTUndefined) {
  v1::CaseFacts facts = OpenCase("c", D(2024, 1, 1));
  AddGasGoal(facts, -1, +1, /*weight=*/0.0);
  const v1::GasOutcome gas = Compute(facts, D(2024, 6, 30)).gas();
  EXPECT_FALSE(gas.has_baseline_t());
  EXPECT_FALSE(gas.has_follow_up_t());
  EXPECT_FALSE(gas.has_change());
}

TEST_F(MetricsTest, MeasureIntakeExitAndChange) {
  v1::CaseFacts facts = OpenCase("c", D(2024, 1, 1));
  // BRS intake [2,4,2,4,2,4] -> 2.0 low; exit [4,2,4,2,4,2] -> 4.0 normal.
  AddMeasure(facts, v1::INSTRUMENT_BRS, v1::TIME_POINT_BASELINE, D(2024, 1, 5),
             {2, 4, 2, 4, 2, 4});
  AddMeasure(facts, v1::INSTRUMENT_BRS, v1::TIME_POINT_FOLLOW_UP, D(2024, 6, 1),
             {4, 2, 4, 2, 4, 2});
  // GSE intake 31; the follow-up is dated after as_of, so no exit yet; the
  // interim score is never used.
  AddMeasure(facts, v1::INSTRUMENT_GSE, v1::TIME_POINT_BASELINE, D(2024, 1, 5),
             {4, 3, 3, 2, 4, 3, 3, 2, 3, 4});
  AddMeasure(facts, v1::INSTRUMENT_GSE, v1::TIME_POINT_INTERIM, D(2024, 3, 5),
             {4, 4, 4, 4, 4, 4, 4, 4, 4, 4});
  AddMeasure(facts, v1::INSTRUMENT_GSE, v1::TIME_POINT_FOLLOW_UP, D(2024, 7, 5),
             {4, 4, 4, 4, 4, 4, 4, 4, 4, 4});
  // MSPSS intake all 4 -> 4.0 everywhere; exit [7,6,5,4,3,2,1,2,3,4,5,6] ->
  // 4.0, significant other 5.0, family 4.0, friends 3.0.
  AddMeasure(facts, v1::INSTRUMENT_MSPSS, v1::TIME_POINT_BASELINE,
             D(2024, 1, 5), {4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4});
  AddMeasure(facts, v1::INSTRUMENT_MSPSS, v1::TIME_POINT_FOLLOW_UP,
             D(2024, 6, 1), {7, 6, 5, 4, 3, 2, 1, 2, 3, 4, 5, 6});

  const v1::CaseMetrics m = Compute(facts, D(2024, 6, 30));
  EXPECT_EQ(m.brs().instrument(), v1::INSTRUMENT_BRS);
  EXPECT_NEAR(m.brs().score().intake(), 2.0, kTolerance);
  EXPECT_NEAR(m.brs().score().exit(), 4.0, kTolerance);
  EXPECT_NEAR(m.brs().score().change(), 2.0, kTolerance);
  EXPECT_EQ(m.brs().intake_band(), "low");
  EXPECT_EQ(m.brs().exit_band(), "normal");

  EXPECT_NEAR(m.gse().score().intake(), 31.0, kTolerance);
  EXPECT_FALSE(m.gse().score().has_exit());
  EXPECT_FALSE(m.gse().score().has_change());

  EXPECT_NEAR(m.mspss().score().change(), 0.0, kTolerance);
  EXPECT_NEAR(m.mspss().significant_other().change(), 1.0, kTolerance);
  EXPECT_NEAR(m.mspss().family().change(), 0.0, kTolerance);
  EXPECT_NEAR(m.mspss().friends().change(), -1.0, kTolerance);
  EXPECT_NEAR(m.mspss().friends().exit(), 3.0, kTolerance);
}

TEST_F(MetricsTest, MeasureSkipsUnscorableAndTakesLatest) {
  v1::CaseFacts facts = OpenCase("c", D(2024, 1, 1));
  // Two scorable BRS intakes: the later (3.0) wins over the earlier (2.0)
  // whatever the order in the facts; an unscorable later one is skipped.
  AddMeasure(facts, v1::INSTRUMENT_BRS, v1::TIME_POINT_BASELINE, D(2024, 1, 9),
             {3, 3, 3, 3, 3, 3});
  AddMeasure(facts, v1::INSTRUMENT_BRS, v1::TIME_POINT_BASELINE, D(2024, 1, 5),
             {2, 4, 2, 4, 2, 4});
  AddMeasure(facts, v1::INSTRUMENT_BRS, v1::TIME_POINT_BASELINE, D(2024, 1, 20),
             {5, 1, 5});
  const v1::CaseMetrics m = Compute(facts, D(2024, 6, 30));
  EXPECT_NEAR(m.brs().score().intake(), 3.0, kTolerance);
  EXPECT_EQ(m.brs().intake_band(), "normal");
}

TEST_F(MetricsTest, TimeToPlanObservedAndCensoredWhileOpen) {
  // Opened 2024-01-10, first goal 2024-02-09 (30 days); no assessment yet:
  // censored at as_of 2024-06-30, 172 days after opening.
  v1::CaseFacts facts = OpenCase("c", D(2024, 1, 10));
  *facts.mutable_first_goal_on() = D(2024, 2, 9);
  const v1::CaseMetrics m = Compute(facts, D(2024, 6, 30));
  ExpectTime(m.time_to_first_goal(), v1::EVENT_OBSERVATION_OBSERVED, 30);
  ExpectTime(m.time_to_first_assessment(), v1::EVENT_OBSERVATION_CENSORED, 172);
  ExpectTime(m.open_to_close(), v1::EVENT_OBSERVATION_CENSORED, 172);
  EXPECT_EQ(m.open_to_close_bucket(), "");
}

TEST_F(MetricsTest, ClosedCaseCensorsAtClosingDate) {
  // Opened 2024-01-10, closed 2024-03-10 (60 days) without an assessment;
  // the first goal is dated after as_of, so not yet observed either.
  v1::CaseFacts facts = OpenCase("c", D(2024, 1, 10));
  *facts.mutable_first_goal_on() = D(2024, 7, 15);
  Close(facts, D(2024, 3, 10), v1::CASE_OUTCOME_PARTIAL);
  const v1::CaseMetrics m = Compute(facts, D(2024, 6, 30));
  ExpectTime(m.time_to_first_assessment(), v1::EVENT_OBSERVATION_CENSORED, 60);
  ExpectTime(m.time_to_first_goal(), v1::EVENT_OBSERVATION_CENSORED, 60);
  ExpectTime(m.open_to_close(), v1::EVENT_OBSERVATION_OBSERVED, 60);
  EXPECT_EQ(m.open_to_close_bucket(), "31-90");
}

TEST_F(MetricsTest, CaseOpenedAfterAsOfIsNotApplicable) {
  v1::CaseFacts facts = OpenCase("c", D(2024, 7, 1));
  const v1::CaseMetrics m = Compute(facts, D(2024, 6, 30));
  ExpectTime(m.time_to_first_goal(), v1::EVENT_OBSERVATION_NOT_APPLICABLE, 0);
  ExpectTime(m.open_to_close(), v1::EVENT_OBSERVATION_NOT_APPLICABLE, 0);
}

TEST_F(MetricsTest, OpenToCloseSpansReopenedEpisodes) {
  // Opened 2024-01-01, closed 01-31, reopened 02-15, closed again 05-01.
  v1::CaseFacts facts = OpenCase("c", D(2024, 1, 1));
  Close(facts, D(2024, 1, 31), v1::CASE_OUTCOME_PARTIAL);
  Reopen(facts, D(2024, 2, 15));
  Close(facts, D(2024, 5, 1), v1::CASE_OUTCOME_SUCCESSFUL);
  // At 06-30 closed since 05-01: 121 days -> "91-180".
  v1::CaseMetrics m = Compute(facts, D(2024, 6, 30));
  ExpectTime(m.open_to_close(), v1::EVENT_OBSERVATION_OBSERVED, 121);
  EXPECT_EQ(m.open_to_close_bucket(), "91-180");
  // At 03-01 open again (reopened 02-15): censored at 60 days.
  m = Compute(facts, D(2024, 3, 1));
  ExpectTime(m.open_to_close(), v1::EVENT_OBSERVATION_CENSORED, 60);
  // At 02-01 closed since 01-31: 30 days -> "<=30".
  m = Compute(facts, D(2024, 2, 1));
  ExpectTime(m.open_to_close(), v1::EVENT_OBSERVATION_OBSERVED, 30);
  EXPECT_EQ(m.open_to_close_bucket(), "<=30");
}

TEST_F(MetricsTest, OpenToCloseBucketEdges) {
  const std::vector<std::pair<int, std::string>> cases = {
      {0, "<=30"},    {30, "<=30"},    {31, "31-90"}, {90, "31-90"},
      {91, "91-180"}, {180, "91-180"}, {181, ">180"}, {1000, ">180"}};
  for (const auto& [days, label] : cases) {
    v1::CaseFacts facts = OpenCase("c", D(2020, 1, 1));
    Close(facts, AddDays(D(2020, 1, 1), days), v1::CASE_OUTCOME_PARTIAL);
    EXPECT_EQ(Compute(facts, D(2024, 1, 1)).open_to_close_bucket(), label)
        << days;
  }
}

TEST_F(MetricsTest, OpenToCloseBucketsAreConfigurable) {
  config_.open_to_close_bucket_upper_days = {7};
  v1::CaseFacts facts = OpenCase("c", D(2024, 1, 1));
  Close(facts, D(2024, 1, 9), v1::CASE_OUTCOME_PARTIAL);  // 8 days
  EXPECT_EQ(Compute(facts, D(2024, 6, 30)).open_to_close_bucket(), ">7");
}

TEST_F(MetricsTest, TimeToReturnAndFullReturn) {
  // Absence from 2024-01-01; back 03-01 (60 days); full 04-15 (105 days).
  v1::CaseFacts facts = OpenCase("c", D(2023, 12, 1));
  *facts.mutable_absence_first_day() = D(2024, 1, 1);
  facts.set_contracted_percent(80);
  *facts.mutable_return_first_day() = D(2024, 3, 1);
  *facts.mutable_full_return_on() = D(2024, 4, 15);
  const v1::CaseMetrics m = Compute(facts, D(2024, 6, 30));
  ExpectTime(m.time_to_return(), v1::EVENT_OBSERVATION_OBSERVED, 60);
  ExpectTime(m.time_to_full_return(), v1::EVENT_OBSERVATION_OBSERVED, 105);
}

TEST_F(MetricsTest, NoReturnYetIsCensored) {
  // Absence from 2024-05-01, nothing since: censored at 06-30, 60 days.
  v1::CaseFacts facts = OpenCase("c", D(2024, 4, 1));
  *facts.mutable_absence_first_day() = D(2024, 5, 1);
  const v1::CaseMetrics m = Compute(facts, D(2024, 6, 30));
  ExpectTime(m.time_to_return(), v1::EVENT_OBSERVATION_CENSORED, 60);
  ExpectTime(m.time_to_full_return(), v1::EVENT_OBSERVATION_CENSORED, 60);
  EXPECT_EQ(m.sustained_return().status(), v1::WINDOW_STATUS_NOT_APPLICABLE);
}

TEST_F(MetricsTest, NoAbsenceMeansNotApplicable) {
  const v1::CaseMetrics m =
      Compute(OpenCase("c", D(2024, 1, 1)), D(2024, 6, 30));
  ExpectTime(m.time_to_return(), v1::EVENT_OBSERVATION_NOT_APPLICABLE, 0);
  ExpectTime(m.time_to_full_return(), v1::EVENT_OBSERVATION_NOT_APPLICABLE, 0);
  EXPECT_EQ(m.sustained_return().status(), v1::WINDOW_STATUS_NOT_APPLICABLE);
}

// Sustained return with the default D = 90, return on 2024-03-01 (90 days
// later is 2024-05-30).
v1::CaseFacts ReturnedOn20240301() {
  v1::CaseFacts facts = OpenCase("c", D(2023, 12, 1));
  *facts.mutable_absence_first_day() = D(2024, 1, 1);
  *facts.mutable_return_first_day() = D(2024, 3, 1);
  return facts;
}

TEST_F(MetricsTest, SustainedReturnRecurrenceOnDayDIsNotSustained) {
  v1::CaseFacts facts = ReturnedOn20240301();
  *facts.add_absence_recurred_on() = D(2024, 5, 30);  // day 90
  const v1::WindowOutcome w = Compute(facts, D(2024, 6, 30)).sustained_return();
  EXPECT_EQ(w.window_days(), 90u);
  EXPECT_EQ(w.status(), v1::WINDOW_STATUS_NOT_MET);
}

TEST_F(MetricsTest, SustainedReturnRecurrenceAfterDIsSustained) {
  v1::CaseFacts facts = ReturnedOn20240301();
  *facts.add_absence_recurred_on() = D(2024, 5, 31);  // day 91
  EXPECT_EQ(Compute(facts, D(2024, 6, 30)).sustained_return().status(),
            v1::WINDOW_STATUS_MET);
}

TEST_F(MetricsTest, SustainedReturnUndeterminedUntilWindowElapses) {
  const v1::CaseFacts facts = ReturnedOn20240301();
  EXPECT_EQ(Compute(facts, D(2024, 5, 29)).sustained_return().status(),
            v1::WINDOW_STATUS_UNDETERMINED);  // 89 days
  EXPECT_EQ(Compute(facts, D(2024, 5, 30)).sustained_return().status(),
            v1::WINDOW_STATUS_MET);  // 90 days
}

TEST_F(MetricsTest, SustainedReturnIgnoresRecurrenceAfterAsOf) {
  v1::CaseFacts facts = ReturnedOn20240301();
  *facts.add_absence_recurred_on() = D(2024, 5, 1);
  // At 04-30 (60 days) the recurrence has not happened yet.
  EXPECT_EQ(Compute(facts, D(2024, 4, 30)).sustained_return().status(),
            v1::WINDOW_STATUS_UNDETERMINED);
  EXPECT_EQ(Compute(facts, D(2024, 5, 1)).sustained_return().status(),
            v1::WINDOW_STATUS_NOT_MET);
}

TEST_F(MetricsTest, SustainedReturnWindowIsConfigurable) {
  config_.sustained_return_days = 30;
  v1::CaseFacts facts = ReturnedOn20240301();
  *facts.add_absence_recurred_on() = D(2024, 5, 30);  // day 90 > 30
  const v1::WindowOutcome w = Compute(facts, D(2024, 6, 30)).sustained_return();
  EXPECT_EQ(w.window_days(), 30u);
  EXPECT_EQ(w.status(), v1::WINDOW_STATUS_MET);
}

std::vector<v1::WindowStatus> ReopenStatuses(const v1::CaseMetrics& m) {
  std::vector<v1::WindowStatus> statuses;
  for (const v1::WindowOutcome& w : m.reopen_after_success()) {
    statuses.push_back(w.status());
  }
  return statuses;
}

TEST_F(MetricsTest, ReopenAfterSuccessfulClose) {
  // Closed successfully 2023-01-01, reopened 2023-08-01: 212 days, so not
  // within 180 but within 365 and 730.
  v1::CaseFacts facts = OpenCase("c", D(2022, 6, 1));
  Close(facts, D(2023, 1, 1), v1::CASE_OUTCOME_SUCCESSFUL);
  Reopen(facts, D(2023, 8, 1));
  const v1::CaseMetrics m = Compute(facts, D(2024, 6, 30));
  ASSERT_EQ(m.reopen_after_success_size(), 3);
  EXPECT_EQ(m.reopen_after_success(0).window_days(), 180u);
  EXPECT_EQ(m.reopen_after_success(1).window_days(), 365u);
  EXPECT_EQ(m.reopen_after_success(2).window_days(), 730u);
  EXPECT_THAT(ReopenStatuses(m),
              ElementsAre(v1::WINDOW_STATUS_NOT_MET, v1::WINDOW_STATUS_MET,
                          v1::WINDOW_STATUS_MET));
}

TEST_F(MetricsTest, ReopenWindowsUndeterminedUntilElapsed) {
  // Closed successfully 2024-03-01 and not reopened. At 06-30 (121 days)
  // nothing is decided; at 08-28 (180 days) the 180-day window is.
  v1::CaseFacts facts = OpenCase("c", D(2024, 1, 1));
  Close(facts, D(2024, 3, 1), v1::CASE_OUTCOME_SUCCESSFUL);
  EXPECT_THAT(ReopenStatuses(Compute(facts, D(2024, 6, 30))),
              ElementsAre(v1::WINDOW_STATUS_UNDETERMINED,
                          v1::WINDOW_STATUS_UNDETERMINED,
                          v1::WINDOW_STATUS_UNDETERMINED));
  EXPECT_THAT(
      ReopenStatuses(Compute(facts, D(2024, 8, 28))),
      ElementsAre(v1::WINDOW_STATUS_NOT_MET, v1::WINDOW_STATUS_UNDETERMINED,
                  v1::WINDOW_STATUS_UNDETERMINED));
}

TEST_F(MetricsTest, ReopenCountsFromFirstSuccessfulClose) {
  // Closed unsuccessfully, reopened, then closed successfully 2024-01-01 and
  // reopened 2024-03-01 (60 days): the first reopening does not count.
  v1::CaseFacts facts = OpenCase("c", D(2023, 1, 1));
  Close(facts, D(2023, 3, 1), v1::CASE_OUTCOME_UNSUCCESSFUL);
  Reopen(facts, D(2023, 3, 10));
  Close(facts, D(2024, 1, 1), v1::CASE_OUTCOME_SUCCESSFUL);
  Reopen(facts, D(2024, 3, 1));
  EXPECT_THAT(ReopenStatuses(Compute(facts, D(2024, 6, 30))),
              ElementsAre(v1::WINDOW_STATUS_MET, v1::WINDOW_STATUS_MET,
                          v1::WINDOW_STATUS_MET));
}

TEST_F(MetricsTest, ReopenIgnoresLaterSuccessfulCloses) {
  // First successful close 2023-01-01, reopened 2023-12-01 (334 days): not
  // within 180, within 365 and 730. A second successful close 2024-01-01,
  // reopened after 31 days, does not replace it.
  v1::CaseFacts facts = OpenCase("c", D(2022, 6, 1));
  Close(facts, D(2023, 1, 1), v1::CASE_OUTCOME_SUCCESSFUL);
  Reopen(facts, D(2023, 12, 1));
  Close(facts, D(2024, 1, 1), v1::CASE_OUTCOME_SUCCESSFUL);
  Reopen(facts, D(2024, 2, 1));
  EXPECT_THAT(ReopenStatuses(Compute(facts, D(2024, 6, 30))),
              ElementsAre(v1::WINDOW_STATUS_NOT_MET, v1::WINDOW_STATUS_MET,
                          v1::WINDOW_STATUS_MET));
}

TEST_F(MetricsTest, ReopenNotApplicableWithoutSuccessfulClose) {
  v1::CaseFacts facts = OpenCase("c", D(2023, 1, 1));
  Close(facts, D(2023, 3, 1), v1::CASE_OUTCOME_PARTIAL);
  Reopen(facts, D(2023, 3, 10));
  EXPECT_THAT(ReopenStatuses(Compute(facts, D(2024, 6, 30))),
              ElementsAre(v1::WINDOW_STATUS_NOT_APPLICABLE,
                          v1::WINDOW_STATUS_NOT_APPLICABLE,
                          v1::WINDOW_STATUS_NOT_APPLICABLE));
}

// ---------------------------------------------------------------------------
// Kaplan-Meier median
// ---------------------------------------------------------------------------

TEST(KaplanMeierMedianTest, NoCensoringIsTheOrdinaryMedian) {
  // 10, 20, 30, 40 all observed: S(20) = 0.5 exactly -> (20 + 30) / 2.
  EXPECT_DOUBLE_EQ(
      *KaplanMeierMedian({{10, true}, {20, true}, {30, true}, {40, true}}),
      25.0);
  // Odd count: S(10) = 2/3, S(20) = 1/3 -> 20.
  EXPECT_DOUBLE_EQ(*KaplanMeierMedian({{30, true}, {10, true}, {20, true}}),
                   20.0);
}

TEST(KaplanMeierMedianTest, CensoringShiftsTheMedian) {
  // 10 observed, 12 and 14 censored, 50 observed: S(10) = 3/4, and at 50 the
  // one case still at risk has the event, S = 0 -> median 50 (the naive
  // median of the observed times would be 30).
  EXPECT_DOUBLE_EQ(
      *KaplanMeierMedian({{10, true}, {12, false}, {14, false}, {50, true}}),
      50.0);
  // 10 observed, 15 censored, 20 and 30 observed, 40 censored. At risk: 5
  // at 10, 3 at 20 (the case censored at 15 has left), 2 at 30.
  // S(10) = 4/5, S(20) = 4/5 * 2/3 = 8/15 (> 0.5), S(30) = 8/15 * 1/2 = 4/15
  // -> 30.
  EXPECT_DOUBLE_EQ(
      *KaplanMeierMedian(
          {{10, true}, {15, false}, {20, true}, {30, true}, {40, false}}),
      30.0);
}

TEST(KaplanMeierMedianTest, CensoredSubjectsLeaveTheRiskSet) {
  // 10 observed; 11, 12, 13 censored; 20 and 30 observed. At risk: 6 at 10,
  // 2 at 20. S(10) = 5/6, S(20) = 5/6 * 1/2 = 5/12 -> 20. (Keeping the
  // censored cases at risk would give S(20) = 5/6 * 4/5 = 2/3 and S(30) =
  // 1/2, a median of 30.)
  EXPECT_DOUBLE_EQ(*KaplanMeierMedian({{10, true},
                                       {11, false},
                                       {12, false},
                                       {13, false},
                                       {20, true},
                                       {30, true}}),
                   20.0);
}

TEST(KaplanMeierMedianTest, CensoredAtEventTimeIsStillAtRisk) {
  // Two observed and one censored at 10, one observed at 20. All four are
  // at risk at 10: S(10) = 1 - 2/4 = 1/2 exactly -> midway to the next event
  // time, 15. (Dropping the censored case before the events would give
  // S(10) = 1/3 and a median of 10.)
  EXPECT_DOUBLE_EQ(
      *KaplanMeierMedian({{10, true}, {10, true}, {10, false}, {20, true}}),
      15.0);
}

TEST(KaplanMeierMedianTest, NotReached) {
  // S(10) = 3/4 and everyone else is censored.
  EXPECT_FALSE(
      KaplanMeierMedian({{10, true}, {20, false}, {30, false}, {40, false}})
          .has_value());
  EXPECT_FALSE(KaplanMeierMedian({}).has_value());
  EXPECT_FALSE(KaplanMeierMedian({{5, false}}).has_value());
}

TEST(KaplanMeierMedianTest, HalfAtLastEventTimeReportsThatTime) {
  // 10 observed, 20 censored: S(10) = 1/2 with no later event -> 10.
  EXPECT_DOUBLE_EQ(*KaplanMeierMedian({{10, true}, {20, false}}), 10.0);
}

// ---------------------------------------------------------------------------
// Aggregation
// ---------------------------------------------------------------------------

// Five "housing-first" cases and two "return-to-work" cases.
std::vector<v1::CaseFacts> TwoPrograms() {
  std::vector<v1::CaseFacts> cases;
  for (int i = 0; i < 5; ++i) {
    cases.push_back(OpenCase("hf-" + std::to_string(i), D(2024, 1, 1 + i)));
  }
  for (int i = 0; i < 2; ++i) {
    v1::CaseFacts facts = OpenCase("rtw-" + std::to_string(i), D(2024, 2, 1));
    facts.set_program("return-to-work");
    facts.set_goals_set(3);
    cases.push_back(facts);
  }
  return cases;
}

TEST_F(MetricsTest, ReportIsStamped) {
  MetricsQuery query = Query(GroupBy::kProgram, D(2024, 6, 30));
  query.team = "north";
  query.opened_from = D(2024, 1, 1);
  const v1::MetricsReport report = Aggregate(TwoPrograms(), query);
  EXPECT_EQ(report.position(), 1234u);
  EXPECT_EQ(report.projection_version(), 3u);
  EXPECT_EQ(FormatDate(report.as_of()), "2024-06-30");
  EXPECT_EQ(report.group_by(), v1::METRICS_GROUP_BY_PROGRAM);
  EXPECT_EQ(report.min_group_size(), 5u);
  ASSERT_TRUE(report.filters().has_team());
  EXPECT_EQ(report.filters().team(), "north");
  EXPECT_EQ(FormatDate(report.filters().opened_from()), "2024-01-01");
  EXPECT_FALSE(report.filters().has_opened_to());
  EXPECT_FALSE(report.filters().has_program());
  EXPECT_FALSE(report.filters().has_cohort());
  EXPECT_FALSE(report.filters().has_training_cycle());
}

TEST_F(MetricsTest, SmallGroupsAreSuppressed) {
  const v1::MetricsReport report =
      Aggregate(TwoPrograms(), Query(GroupBy::kProgram, D(2024, 6, 30)));
  ASSERT_EQ(report.groups_size(), 2);
  const v1::MetricGroup& hf = report.groups(0);
  EXPECT_EQ(hf.key(), "housing-first");
  EXPECT_FALSE(hf.suppressed());
  EXPECT_EQ(hf.cases(), 5u);
  EXPECT_TRUE(hf.has_figures());
  const v1::MetricGroup& rtw = report.groups(1);
  EXPECT_EQ(rtw.key(), "return-to-work");
  EXPECT_TRUE(rtw.suppressed());
  EXPECT_EQ(rtw.cases(), 0u);  // the small count is not disclosed either
  EXPECT_FALSE(rtw.has_figures());
}

TEST_F(MetricsTest, MinGroupSizeIsConfigurable) {
  config_.min_group_size = 2;
  const v1::MetricsReport report =
      Aggregate(TwoPrograms(), Query(GroupBy::kProgram, D(2024, 6, 30)));
  ASSERT_EQ(report.groups_size(), 2);
  EXPECT_FALSE(report.groups(1).suppressed());
  EXPECT_EQ(report.groups(1).cases(), 2u);
  ExpectRate(report.groups(1).figures().goal_attainment(), 0, 6);
  EXPECT_EQ(report.min_group_size(), 2u);
}

TEST_F(MetricsTest, NoGroupingGivesOneGroupEvenWhenEmpty) {
  v1::MetricsReport report =
      Aggregate(TwoPrograms(), Query(GroupBy::kNone, D(2024, 6, 30)));
  ASSERT_EQ(report.groups_size(), 1);
  EXPECT_EQ(report.groups(0).key(), "all");
  EXPECT_EQ(report.groups(0).cases(), 7u);

  report = Aggregate({}, Query(GroupBy::kNone, D(2024, 6, 30)));
  ASSERT_EQ(report.groups_size(), 1);
  EXPECT_EQ(report.groups(0).key(), "all");
  EXPECT_TRUE(report.groups(0).suppressed());
}

TEST_F(MetricsTest, GroupRatesPoolNumeratorsAndDenominators) {
  // Goals achieved/set per case: 1/2, 0/0, 3/4, 1/1, 0/3. Pooled: 5/10 = 0.5
  // (the mean of the per-case rates would be 0.5625).
  const std::vector<std::pair<int, int>> goals = {
      {1, 2}, {0, 0}, {3, 4}, {1, 1}, {0, 3}};
  std::vector<v1::CaseFacts> cases;
  for (size_t i = 0; i < goals.size(); ++i) {
    v1::CaseFacts facts = OpenCase("c" + std::to_string(i), D(2024, 1, 1));
    facts.set_goals_achieved(goals[i].first);
    facts.set_goals_set(goals[i].second);
    facts.set_contacts_completed(4);
    facts.set_contacts_outside_office(i);  // 0+1+2+3+4 = 10 of 20
    cases.push_back(facts);
  }
  const v1::MetricsReport report =
      Aggregate(cases, Query(GroupBy::kNone, D(2024, 6, 30)));
  const v1::MetricFigures& f = report.groups(0).figures();
  ExpectRate(f.goal_attainment(), 5, 10);
  ExpectRate(f.community_contact_share(), 10, 20);
  ExpectRate(f.step_completion(), 0, 0);
}

TEST_F(MetricsTest, GroupScoreSummaries) {
  // One GAS goal per case rated at follow-up: T = 50 + 10 x, so levels
  // -1, 0, +1, +2, +2 give 40, 50, 60, 70, 70: mean 58, median 60. A sixth
  // case without GAS adds nothing to n.
  std::vector<v1::CaseFacts> cases;
  int i = 0;
  for (int level : {-1, 0, 1, 2, 2}) {
    v1::CaseFacts facts = OpenCase("c" + std::to_string(i++), D(2024, 1, 1));
    AddGasGoal(facts, std::nullopt, level);
    facts.set_support_active(level + 1);  // 0, 1, 2, 3, 3
    cases.push_back(facts);
  }
  cases.push_back(OpenCase("no-gas", D(2024, 1, 1)));
  const v1::MetricsReport report =
      Aggregate(cases, Query(GroupBy::kNone, D(2024, 6, 30)));
  const v1::MetricFigures& f = report.groups(0).figures();
  EXPECT_EQ(f.gas().follow_up_t().n(), 5u);
  EXPECT_NEAR(f.gas().follow_up_t().mean(), 58.0, kTolerance);
  EXPECT_NEAR(f.gas().follow_up_t().median(), 60.0, kTolerance);
  EXPECT_EQ(f.gas().baseline_t().n(), 0u);
  EXPECT_FALSE(f.gas().baseline_t().has_mean());
  EXPECT_FALSE(f.gas().baseline_t().has_median());
  // Support members 0, 1, 2, 3, 3, 0 (six cases): mean 9 / 6 = 1.5; sorted
  // 0, 0, 1, 2, 3, 3 -> median (1 + 2) / 2 = 1.5.
  EXPECT_EQ(f.support_active_members().n(), 6u);
  EXPECT_NEAR(f.support_active_members().mean(), 1.5, kTolerance);
  EXPECT_NEAR(f.support_active_members().median(), 1.5, kTolerance);
}

TEST_F(MetricsTest, GroupOpenToCloseWithCensoring) {
  // Five cases opened 2024-01-01, as_of 2024-12-31 (365 days later): closed
  // after 30, 100 and 200 days; two still open (censored at 365).
  // Kaplan-Meier: S(30) = 4/5, S(100) = 4/5 * 3/4 = 3/5,
  // S(200) = 3/5 * 2/3 = 2/5 -> median 200 (the closed cases alone would
  // give 100). Buckets: <=30: 1, 31-90: 0, 91-180: 1, >180: 1.
  std::vector<v1::CaseFacts> cases;
  int i = 0;
  for (const v1::Date& closed :
       {D(2024, 1, 31), D(2024, 4, 10), D(2024, 7, 19)}) {
    v1::CaseFacts facts =
        OpenCase("closed" + std::to_string(i++), D(2024, 1, 1));
    Close(facts, closed, v1::CASE_OUTCOME_PARTIAL);
    cases.push_back(facts);
  }
  cases.push_back(OpenCase("open1", D(2024, 1, 1)));
  cases.push_back(OpenCase("open2", D(2024, 1, 1)));
  const v1::MetricsReport report =
      Aggregate(cases, Query(GroupBy::kNone, D(2024, 12, 31)));
  const v1::MetricFigures& f = report.groups(0).figures();
  EXPECT_EQ(f.open_to_close().cases(), 5u);
  EXPECT_EQ(f.open_to_close().observed(), 3u);
  EXPECT_EQ(f.open_to_close().censored(), 2u);
  EXPECT_TRUE(f.open_to_close().median_reached());
  EXPECT_DOUBLE_EQ(f.open_to_close().median_days(), 200.0);
  ASSERT_EQ(f.open_to_close_buckets_size(), 4);
  std::vector<std::string> labels;
  std::vector<uint64_t> counts;
  for (const v1::DurationBucket& b : f.open_to_close_buckets()) {
    labels.push_back(b.label());
    counts.push_back(b.cases());
  }
  EXPECT_THAT(labels, ElementsAre("<=30", "31-90", "91-180", ">180"));
  EXPECT_THAT(counts, ElementsAre(1u, 0u, 1u, 1u));
  EXPECT_EQ(f.open_to_close_buckets(1).min_days(), 31);
  EXPECT_EQ(f.open_to_close_buckets(1).max_days(), 90);
  EXPECT_FALSE(f.open_to_close_buckets(3).has_max_days());
  EXPECT_EQ(f.open_to_close_buckets(3).min_days(), 181);
}

TEST_F(MetricsTest, GroupMedianNotReached) {
  // Two of five closed (after 30 and 100 days): S = 3/5 > 0.5 at the end.
  std::vector<v1::CaseFacts> cases;
  v1::CaseFacts a = OpenCase("a", D(2024, 1, 1));
  Close(a, D(2024, 1, 31), v1::CASE_OUTCOME_PARTIAL);
  v1::CaseFacts b = OpenCase("b", D(2024, 1, 1));
  Close(b, D(2024, 4, 10), v1::CASE_OUTCOME_PARTIAL);
  cases = {a, b, OpenCase("c", D(2024, 1, 1)), OpenCase("d", D(2024, 1, 1)),
           OpenCase("e", D(2024, 1, 1))};
  const v1::MetricsReport report =
      Aggregate(cases, Query(GroupBy::kNone, D(2024, 12, 31)));
  const v1::MetricFigures& f = report.groups(0).figures();
  EXPECT_EQ(f.open_to_close().observed(), 2u);
  EXPECT_EQ(f.open_to_close().censored(), 3u);
  EXPECT_FALSE(f.open_to_close().median_reached());
  EXPECT_FALSE(f.open_to_close().has_median_days());
}

TEST_F(MetricsTest, GroupWindowsLeaveUndeterminedOutOfTheRate) {
  // Returns on 2024-03-01 (D = 90, as_of 2024-06-30): two sustained, one
  // recurred on day 10; returns on 2024-06-01 (29 days) are undetermined;
  // one case never returned (not applicable). Rate 2 / 3, 2 undetermined.
  std::vector<v1::CaseFacts> cases;
  for (int i = 0; i < 2; ++i) cases.push_back(ReturnedOn20240301());
  v1::CaseFacts recurred = ReturnedOn20240301();
  *recurred.add_absence_recurred_on() = D(2024, 3, 11);
  cases.push_back(recurred);
  for (int i = 0; i < 2; ++i) {
    v1::CaseFacts recent = ReturnedOn20240301();
    *recent.mutable_return_first_day() = D(2024, 6, 1);
    cases.push_back(recent);
  }
  cases.push_back(OpenCase("never", D(2024, 1, 1)));
  const v1::MetricsReport report =
      Aggregate(cases, Query(GroupBy::kNone, D(2024, 6, 30)));
  const v1::MetricFigures& f = report.groups(0).figures();
  EXPECT_EQ(f.sustained_return().window_days(), 90u);
  ExpectRate(f.sustained_return().rate(), 2, 3);
  EXPECT_EQ(f.sustained_return().undetermined(), 2u);
  // Time to return: 60 days (x3) and 152 days (x2, Jan 1 -> Jun 1) observed;
  // the case without absence is not counted.
  EXPECT_EQ(f.time_to_return().cases(), 5u);
  EXPECT_EQ(f.time_to_return().observed(), 5u);
  EXPECT_DOUBLE_EQ(f.time_to_return().median_days(), 60.0);
  ASSERT_EQ(f.reopen_after_success_size(), 3);
  EXPECT_EQ(f.reopen_after_success(2).window_days(), 730u);
  ExpectRate(f.reopen_after_success(0).rate(), 0, 0);
}

TEST_F(MetricsTest, GroupMeasureSummaries) {
  // Five cases with BRS intake 2.0 (low) and exit 4.0 (normal) except the
  // last, whose exit is 4.3333 (high): change mean (4 * 2 + 2.3333) / 5.
  std::vector<v1::CaseFacts> cases;
  for (int i = 0; i < 5; ++i) {
    v1::CaseFacts facts = OpenCase("c" + std::to_string(i), D(2024, 1, 1));
    AddMeasure(facts, v1::INSTRUMENT_BRS, v1::TIME_POINT_BASELINE,
               D(2024, 1, 5), {2, 4, 2, 4, 2, 4});
    AddMeasure(facts, v1::INSTRUMENT_BRS, v1::TIME_POINT_FOLLOW_UP,
               D(2024, 6, 1),
               i < 4 ? std::vector<int>{4, 2, 4, 2, 4, 2}
                     : std::vector<int>{5, 1, 4, 2, 4, 2});
    cases.push_back(facts);
  }
  const v1::MetricsReport report =
      Aggregate(cases, Query(GroupBy::kNone, D(2024, 6, 30)));
  const v1::MetricFigures& f = report.groups(0).figures();
  EXPECT_EQ(f.brs().instrument(), v1::INSTRUMENT_BRS);
  EXPECT_EQ(f.brs().change().n(), 5u);
  EXPECT_NEAR(f.brs().change().mean(), (4 * 2 + (26.0 / 6 - 2)) / 5,
              kTolerance);
  EXPECT_NEAR(f.brs().change().median(), 2.0, kTolerance);
  EXPECT_EQ(f.brs().intake_bands().low(), 5u);
  EXPECT_EQ(f.brs().exit_bands().normal(), 4u);
  EXPECT_EQ(f.brs().exit_bands().high(), 1u);
  EXPECT_EQ(f.gse().intake().n(), 0u);
}

TEST_F(MetricsTest, DaysSinceLastContactCountsOpenCasesOnly) {
  // Five cases last contacted 2024-06-20, 19, 18, 17, 16 (10..14 days
  // before as_of); the last two are closed and must not count.
  std::vector<v1::CaseFacts> cases;
  for (int i = 0; i < 5; ++i) {
    v1::CaseFacts facts = OpenCase("c" + std::to_string(i), D(2024, 1, 1));
    *facts.mutable_last_contact_on() = D(2024, 6, 20 - i);
    if (i >= 3) Close(facts, D(2024, 6, 25), v1::CASE_OUTCOME_PARTIAL);
    cases.push_back(facts);
  }
  const v1::MetricsReport report =
      Aggregate(cases, Query(GroupBy::kNone, D(2024, 6, 30)));
  const v1::MetricFigures& f = report.groups(0).figures();
  // Open cases: 10, 11, 12 days.
  EXPECT_EQ(f.days_since_last_contact().n(), 3u);
  EXPECT_NEAR(f.days_since_last_contact().mean(), 11.0, kTolerance);
}

std::vector<std::string> Keys(const v1::MetricsReport& report) {
  std::vector<std::string> keys;
  for (const v1::MetricGroup& group : report.groups()) {
    keys.push_back(group.key());
  }
  return keys;
}

TEST_F(MetricsTest, GroupByCaseManagerTeamAndUnknown) {
  config_.min_group_size = 0;
  std::vector<v1::CaseFacts> cases = TwoPrograms();
  cases[0].set_case_manager_id("cm-z");
  cases[1].set_case_manager_id("");
  cases[2].set_team("south");
  EXPECT_THAT(
      Keys(Aggregate(cases, Query(GroupBy::kCaseManager, D(2024, 6, 30)))),
      ElementsAre("(unknown)", "cm-a", "cm-z"));
  EXPECT_THAT(Keys(Aggregate(cases, Query(GroupBy::kTeam, D(2024, 6, 30)))),
              ElementsAre("north", "south"));
}

TEST_F(MetricsTest, GroupByCohortAndPeriod) {
  config_.min_group_size = 0;
  std::vector<v1::CaseFacts> cases;
  v1::CaseFacts jan = OpenCase("jan", D(2024, 1, 15));
  Close(jan, D(2024, 3, 31), v1::CASE_OUTCOME_PARTIAL);  // Q1
  v1::CaseFacts feb = OpenCase("feb", D(2024, 2, 1));
  Close(feb, D(2024, 4, 1), v1::CASE_OUTCOME_PARTIAL);  // Q2
  v1::CaseFacts dec = OpenCase("dec", D(2023, 12, 31));
  Close(dec, D(2024, 10, 1), v1::CASE_OUTCOME_PARTIAL);  // after as_of: open
  v1::CaseFacts reopened = OpenCase("reopened", D(2024, 2, 20));
  Close(reopened, D(2024, 3, 1), v1::CASE_OUTCOME_SUCCESSFUL);
  Reopen(reopened, D(2024, 3, 15));  // open again
  cases = {jan, feb, dec, reopened};
  const v1::Date as_of = D(2024, 6, 30);

  const v1::MetricsReport cohorts =
      Aggregate(cases, Query(GroupBy::kCohort, as_of));
  EXPECT_THAT(Keys(cohorts), ElementsAre("2023-12", "2024-01", "2024-02"));
  EXPECT_EQ(cohorts.groups(2).cases(), 2u);

  const v1::MetricsReport periods =
      Aggregate(cases, Query(GroupBy::kPeriod, as_of));
  EXPECT_THAT(Keys(periods), ElementsAre("2024-Q1", "2024-Q2", "open"));
  EXPECT_EQ(periods.groups(2).cases(), 2u);
  EXPECT_EQ(periods.group_by(), v1::METRICS_GROUP_BY_PERIOD);
}

TEST_F(MetricsTest, QuarterBoundaries) {
  const std::vector<std::pair<v1::Date, std::string>> closes = {
      {D(2024, 1, 1), "2024-Q1"},  {D(2024, 3, 31), "2024-Q1"},
      {D(2024, 4, 1), "2024-Q2"},  {D(2024, 6, 30), "2024-Q2"},
      {D(2024, 7, 1), "2024-Q3"},  {D(2024, 9, 30), "2024-Q3"},
      {D(2024, 10, 1), "2024-Q4"}, {D(2024, 12, 31), "2024-Q4"}};
  for (const auto& [closed, key] : closes) {
    v1::CaseFacts facts = OpenCase("c", D(2023, 6, 1));
    Close(facts, closed, v1::CASE_OUTCOME_PARTIAL);
    EXPECT_EQ(GroupKey(facts, caseworkers_, GroupBy::kPeriod, D(2025, 1, 1)),
              key);
  }
}

TEST_F(MetricsTest, GroupByTrainingCycle) {
  config_.min_group_size = 0;
  // cm-a: RFCM cycle 1 on 2023-06-01, follow-up on 2024-03-01.
  v1::CaseworkerFacts a;
  a.set_caseworker_id("cm-a");
  auto* first = a.add_cycles();
  first->set_cycle(v1::TRAINING_CYCLE_RFCM_CYCLE_1);
  *first->mutable_completed_on() = D(2023, 6, 1);
  auto* follow = a.add_cycles();
  follow->set_cycle(v1::TRAINING_CYCLE_RFCM_FOLLOW_UP);
  *follow->mutable_completed_on() = D(2024, 3, 1);
  caseworkers_["cm-a"] = a;

  v1::CaseFacts before = OpenCase("before", D(2023, 5, 31));  // none yet
  v1::CaseFacts cycle1 = OpenCase("cycle1", D(2024, 2, 29));
  v1::CaseFacts same_day = OpenCase("same-day", D(2024, 3, 1));  // inclusive
  v1::CaseFacts other = OpenCase("other", D(2024, 4, 1));
  other.set_case_manager_id("cm-b");  // no caseworker facts
  const std::vector<v1::CaseFacts> cases = {before, cycle1, same_day, other};

  const v1::Date as_of = D(2024, 6, 30);
  EXPECT_EQ(GroupKey(before, caseworkers_, GroupBy::kTrainingCycle, as_of),
            "none");
  EXPECT_EQ(GroupKey(cycle1, caseworkers_, GroupBy::kTrainingCycle, as_of),
            "rfcm-cycle-1");
  EXPECT_EQ(GroupKey(same_day, caseworkers_, GroupBy::kTrainingCycle, as_of),
            "rfcm-follow-up");
  EXPECT_EQ(GroupKey(other, caseworkers_, GroupBy::kTrainingCycle, as_of),
            "none");

  const v1::MetricsReport report =
      Aggregate(cases, Query(GroupBy::kTrainingCycle, as_of));
  EXPECT_THAT(Keys(report),
              ElementsAre("none", "rfcm-cycle-1", "rfcm-follow-up"));
  EXPECT_EQ(report.groups(0).cases(), 2u);

  MetricsQuery query = Query(GroupBy::kNone, as_of);
  query.training_cycle = "rfcm-cycle-1";
  EXPECT_EQ(Aggregate(cases, query).groups(0).cases(), 1u);
  EXPECT_EQ(Aggregate(cases, query).filters().training_cycle(), "rfcm-cycle-1");
}

TEST_F(MetricsTest, TrainingCycleSameDayTakesLaterEntry) {
  v1::CaseworkerFacts a;
  for (auto cycle :
       {v1::TRAINING_CYCLE_RFCM_FOLLOW_UP, v1::TRAINING_CYCLE_RFCM_CYCLE_1}) {
    auto* done = a.add_cycles();
    done->set_cycle(cycle);
    *done->mutable_completed_on() = D(2024, 1, 10);
  }
  caseworkers_["cm-a"] = a;
  EXPECT_EQ(GroupKey(OpenCase("c", D(2024, 2, 1)), caseworkers_,
                     GroupBy::kTrainingCycle, D(2024, 6, 30)),
            "rfcm-cycle-1");
}

TEST_F(MetricsTest, Filters) {
  config_.min_group_size = 0;
  std::vector<v1::CaseFacts> cases = TwoPrograms();
  // hf-0..hf-4 opened 2024-01-01..05, team north, cm-a; rtw-0/1 2024-02-01.
  cases[1].set_team("south");
  cases[2].set_case_manager_id("cm-b");
  const v1::Date as_of = D(2024, 6, 30);

  MetricsQuery query = Query(GroupBy::kNone, as_of);
  query.program = "return-to-work";
  EXPECT_EQ(Aggregate(cases, query).groups(0).cases(), 2u);

  query = Query(GroupBy::kNone, as_of);
  query.team = "south";
  EXPECT_EQ(Aggregate(cases, query).groups(0).cases(), 1u);

  query = Query(GroupBy::kNone, as_of);
  query.case_manager_id = "cm-b";
  EXPECT_EQ(Aggregate(cases, query).groups(0).cases(), 1u);

  query = Query(GroupBy::kNone, as_of);
  query.cohort = "2024-01";
  EXPECT_EQ(Aggregate(cases, query).groups(0).cases(), 5u);

  // Inclusive bounds: 01-02 .. 01-04 is hf-1, hf-2, hf-3.
  query = Query(GroupBy::kNone, as_of);
  query.opened_from = D(2024, 1, 2);
  query.opened_to = D(2024, 1, 4);
  EXPECT_EQ(Aggregate(cases, query).groups(0).cases(), 3u);

  // Several filters combine with AND.
  query = Query(GroupBy::kNone, as_of);
  query.program = "housing-first";
  query.team = "north";
  query.case_manager_id = "cm-a";
  EXPECT_EQ(Aggregate(cases, query).groups(0).cases(), 3u);
}

TEST_F(MetricsTest, UncountableCasesAreLeftOut) {
  config_.min_group_size = 0;
  v1::CaseFacts never_opened;  // status unspecified
  never_opened.set_case_id("x");
  v1::CaseFacts future = OpenCase("future", D(2024, 7, 1));
  v1::CaseFacts today = OpenCase("today", D(2024, 6, 30));
  const v1::MetricsReport report = Aggregate(
      {never_opened, future, today}, Query(GroupBy::kNone, D(2024, 6, 30)));
  EXPECT_EQ(report.groups(0).cases(), 1u);
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

TEST_F(MetricsTest, ValidateQuery) {
  MetricsQuery query = Query(GroupBy::kCohort, D(2024, 6, 30));
  EXPECT_OK(ValidateMetricsQuery(query));

  MetricsQuery bad = query;
  bad.as_of = v1::Date();
  EXPECT_THAT(ValidateMetricsQuery(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("as_of")));
  bad.as_of = D(2023, 2, 29);
  EXPECT_THAT(ValidateMetricsQuery(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("as_of")));

  for (const char* cohort : {"2024-13", "2024-1", "24-01", "2024/01", "2024-00",
                             "abcd-01", "0000-01"}) {
    bad = query;
    bad.cohort = cohort;
    EXPECT_THAT(
        ValidateMetricsQuery(bad),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cohort")))
        << cohort;
  }
  bad = query;
  bad.cohort = "2024-12";
  EXPECT_OK(ValidateMetricsQuery(bad));

  bad = query;
  bad.opened_from = D(2024, 2, 1);
  bad.opened_to = D(2024, 1, 31);
  EXPECT_THAT(
      ValidateMetricsQuery(bad),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("opened_from")));
  bad.opened_from = D(2024, 2, 30);
  EXPECT_THAT(
      ValidateMetricsQuery(bad),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("opened_from")));

  bad = query;
  bad.training_cycle = "cycle-2";
  EXPECT_THAT(ValidateMetricsQuery(bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training_cycle")));
  bad.training_cycle = "none";
  EXPECT_OK(ValidateMetricsQuery(bad));

  bad = query;
  bad.group_by = static_cast<GroupBy>(42);
  EXPECT_THAT(
      ValidateMetricsQuery(bad),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("group_by")));
}

TEST_F(MetricsTest, ValidateConfig) {
  EXPECT_OK(ValidateMetricsConfig(MetricsConfig()));

  MetricsConfig bad;
  bad.scoring.gas_rho = 1.0;
  EXPECT_THAT(
      ValidateMetricsConfig(bad),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("gas_rho")));
  bad = MetricsConfig();
  bad.scoring.brs_low_below = 4.5;
  EXPECT_THAT(
      ValidateMetricsConfig(bad),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("brs_low_below")));
  bad = MetricsConfig();
  bad.scoring.gse_max_missing = 10;
  EXPECT_THAT(ValidateMetricsConfig(bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("gse_max_missing")));
  bad = MetricsConfig();
  bad.sustained_return_days = 0;
  EXPECT_THAT(ValidateMetricsConfig(bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("sustained_return_days")));
  bad = MetricsConfig();
  bad.reopen_windows_days = {365, 180};
  EXPECT_THAT(ValidateMetricsConfig(bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("reopen_windows_days[1]")));
  bad = MetricsConfig();
  bad.open_to_close_bucket_upper_days = {30, 30};
  EXPECT_THAT(ValidateMetricsConfig(bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("open_to_close_bucket_upper_days[1]")));
  bad = MetricsConfig();
  bad.min_group_size = -1;
  EXPECT_THAT(ValidateMetricsConfig(bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("min_group_size")));
}

}  // namespace
}  // namespace caseledger::projections
