#include "projections/scoring.h"

#include <cmath>
#include <initializer_list>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace caseledger::projections {
namespace {

// DOMAIN.md: exact test vectors, tolerance 1e-4.
constexpr double kTolerance = 1e-4;

std::vector<GasItem> Unweighted(std::initializer_list<int> levels) {
  std::vector<GasItem> items;
  for (int level : levels) items.push_back({1.0, level});
  return items;
}

// A measure answered in item order 1..n.
v1::MeasureAdministered Answered(v1::Instrument instrument,
                                 std::initializer_list<int> values) {
  v1::MeasureAdministered measure;
  measure.set_instrument(instrument);
  measure.set_time_point(v1::TIME_POINT_BASELINE);
  uint32_t item = 1;
  for (int value : values) {
    v1::ItemResponse* response = measure.add_responses();
    response->set_item(item++);
    response->set_value(value);
  }
  return measure;
}

// A measure from explicit (item, value) pairs, in the order given.
v1::MeasureAdministered Responses(
    v1::Instrument instrument,
    std::initializer_list<std::pair<uint32_t, int>> responses) {
  v1::MeasureAdministered measure;
  measure.set_instrument(instrument);
  measure.set_time_point(v1::TIME_POINT_FOLLOW_UP);
  for (const auto& [item, value] : responses) {
    v1::ItemResponse* response = measure.add_responses();
    response->set_item(item);
    response->set_value(value);
  }
  return measure;
}

// The GSE vector of DOMAIN.md with the given items (1-based) left out.
v1::MeasureAdministered GseWithout(std::initializer_list<uint32_t> missing) {
  static constexpr int kValues[] = {4, 3, 3, 2, 4, 3, 3, 2, 3, 4};
  v1::MeasureAdministered measure;
  measure.set_instrument(v1::INSTRUMENT_GSE);
  for (uint32_t item = 1; item <= 10; ++item) {
    bool skip = false;
    for (uint32_t m : missing) skip = skip || m == item;
    if (skip) continue;
    v1::ItemResponse* response = measure.add_responses();
    response->set_item(item);
    response->set_value(kValues[item - 1]);
  }
  return measure;
}

class ScoringTest : public ::testing::Test {
 protected:
  ScoringConfig config_;
};

// --- GAS: DOMAIN.md vectors (rho = 0.3) ---

TEST_F(ScoringTest, GasDomainVectorsSingleGoal) {
  EXPECT_NEAR(*GasTScore(Unweighted({-2}), 0.3), 30.0, kTolerance);
  EXPECT_NEAR(*GasTScore(Unweighted({+2}), 0.3), 70.0, kTolerance);
}

TEST_F(ScoringTest, GasDomainVectorsUnweighted) {
  EXPECT_NEAR(*GasTScore(Unweighted({-1, -1, -1}), 0.3), 36.3069, kTolerance);
  EXPECT_NEAR(*GasTScore(Unweighted({+1, 0, -1}), 0.3), 50.0, kTolerance);
}

TEST_F(ScoringTest, GasDomainVectorWeighted) {
  // sum wx = -2, denominator sqrt(0.7 * 14 + 0.3 * 36) = sqrt(20.6).
  const std::vector<GasItem> items = {{1, +1}, {2, 0}, {3, -1}};
  EXPECT_NEAR(*GasTScore(items, 0.3), 45.5935, kTolerance);
}

TEST_F(ScoringTest, GasDomainVectorChangeFromBaseline) {
  const double baseline = *GasTScore(Unweighted({-1, -1, -1}), 0.3);
  const double follow_up = *GasTScore(Unweighted({0, +1, -1}), 0.3);
  EXPECT_NEAR(follow_up, 50.0, kTolerance);
  EXPECT_NEAR(follow_up - baseline, 13.6931, kTolerance);
}

// --- GAS: derived vectors ---

TEST_F(ScoringTest, GasSingleGoalIgnoresItsWeight) {
  // One goal of weight w: the denominator is sqrt(0.7 w^2 + 0.3 w^2) = w, so
  // T = 50 + 10 x whatever w is; weight 5 at +1 -> 60.
  EXPECT_NEAR(*GasTScore({{5.0, +1}}, 0.3), 60.0, kTolerance);
}

TEST_F(ScoringTest, GasZeroWeightGoalDoesNotCount) {
  // Weights (0, 1), levels (+2, -1): sum wx = -1, sum w^2 = 1, sum w = 1, so
  // the denominator is 1 and T = 50 - 10 = 40; the +2 goal is ignored.
  EXPECT_NEAR(*GasTScore({{0.0, +2}, {1.0, -1}}, 0.3), 40.0, kTolerance);
}

TEST_F(ScoringTest, GasTwoGoalsAtPlusTwo) {
  // sum x = 4, denominator sqrt(0.7 * 2 + 0.3 * 4) = sqrt(2.6) = 1.612452;
  // T = 50 + 40 / 1.612452 = 74.8069.
  EXPECT_NEAR(*GasTScore(Unweighted({+2, +2}), 0.3), 74.8069, kTolerance);
}

TEST_F(ScoringTest, GasRhoIsAParameter) {
  // rho = 0: T = 50 + 10 * sum x / sqrt(n); four goals at +1 -> 50 + 40 / 2.
  EXPECT_NEAR(*GasTScore(Unweighted({1, 1, 1, 1}), 0.0), 70.0, kTolerance);
  // rho = 0.5, (+1, +1): 50 + 20 / sqrt(0.5 * 2 + 0.5 * 4) = 50 + 20 /
  // sqrt(3) = 61.5470.
  EXPECT_NEAR(*GasTScore(Unweighted({1, 1}), 0.5), 61.5470, kTolerance);
}

TEST_F(ScoringTest, GasUndefinedWhenAllWeightsZero) {
  EXPECT_FALSE(GasTScore({{0.0, +1}, {0.0, -2}}, 0.3).has_value());
}

TEST_F(ScoringTest, GasUndefinedWhenEmpty) {
  EXPECT_FALSE(GasTScore({}, 0.3).has_value());
}

// --- Brief Resilience Scale ---

TEST_F(ScoringTest, BrsDomainVectors) {
  // Items 2, 4, 6 reversed: [5, 5, 4, 4, 4, 4] -> 26 / 6.
  v1::MeasureScore high =
      ScoreMeasure(Answered(v1::INSTRUMENT_BRS, {5, 1, 4, 2, 4, 2}), config_);
  EXPECT_TRUE(high.scorable());
  EXPECT_NEAR(high.score(), 4.3333, kTolerance);
  EXPECT_EQ(high.band(), "high");

  v1::MeasureScore normal =
      ScoreMeasure(Answered(v1::INSTRUMENT_BRS, {3, 3, 3, 3, 3, 3}), config_);
  EXPECT_TRUE(normal.scorable());
  EXPECT_NEAR(normal.score(), 3.0, kTolerance);
  EXPECT_EQ(normal.band(), "normal");

  // Reversed: [2, 2, 2, 2, 2, 2].
  v1::MeasureScore low =
      ScoreMeasure(Answered(v1::INSTRUMENT_BRS, {2, 4, 2, 4, 2, 4}), config_);
  EXPECT_TRUE(low.scorable());
  EXPECT_NEAR(low.score(), 2.0, kTolerance);
  EXPECT_EQ(low.band(), "low");
}

TEST_F(ScoringTest, BrsJustBelowHighThresholdIsNormal) {
  // Reversed: [4, 4, 4, 4, 4, 5] -> 25 / 6 = 4.1667, the largest BRS mean
  // below 4.30 (means are multiples of 1/6, so 4.30 itself cannot occur with
  // whole answers; the boundary is tested through the configuration below).
  v1::MeasureScore score =
      ScoreMeasure(Answered(v1::INSTRUMENT_BRS, {4, 2, 4, 2, 4, 1}), config_);
  EXPECT_NEAR(score.score(), 4.1667, kTolerance);
  EXPECT_EQ(score.band(), "normal");
}

TEST_F(ScoringTest, BrsScoreEqualToHighThresholdIsNormal) {
  const v1::MeasureAdministered answers =
      Answered(v1::INSTRUMENT_BRS, {5, 1, 4, 2, 4, 2});  // 26 / 6
  config_.brs_high_above = 26.0 / 6.0;
  EXPECT_EQ(ScoreMeasure(answers, config_).band(), "normal");
  // A threshold that differs from the score only by rounding (3.3e-10) still
  // counts as equal: the comparison uses a small epsilon.
  config_.brs_high_above = 4.333333333;
  EXPECT_EQ(ScoreMeasure(answers, config_).band(), "normal");
  // A real difference (3.3e-5) does not.
  config_.brs_high_above = 4.3333;
  EXPECT_EQ(ScoreMeasure(answers, config_).band(), "high");
}

TEST_F(ScoringTest, BrsScoreEqualToLowThresholdIsNormal) {
  const v1::MeasureAdministered answers =
      Answered(v1::INSTRUMENT_BRS, {3, 3, 3, 3, 3, 3});  // 3.0
  config_.brs_low_below = 3.0000000001;
  EXPECT_EQ(ScoreMeasure(answers, config_).band(), "normal");
  config_.brs_low_below = 3.01;
  EXPECT_EQ(ScoreMeasure(answers, config_).band(), "low");
}

TEST_F(ScoringTest, BrsUsesItemNumbersNotResponseOrder) {
  // The DOMAIN "high" vector answered in scrambled order.
  v1::MeasureScore score =
      ScoreMeasure(Responses(v1::INSTRUMENT_BRS,
                             {{6, 2}, {1, 5}, {4, 2}, {3, 4}, {2, 1}, {5, 4}}),
                   config_);
  EXPECT_NEAR(score.score(), 26.0 / 6.0, kTolerance);
}

TEST_F(ScoringTest, BrsRequiresAllSixItems) {
  v1::MeasureScore score =
      ScoreMeasure(Answered(v1::INSTRUMENT_BRS, {5, 1, 4, 2, 4}), config_);
  EXPECT_FALSE(score.scorable());
  EXPECT_EQ(score.score(), 0);
  EXPECT_EQ(score.band(), "");
}

TEST_F(ScoringTest, BrsOutOfRangeAnswerCountsAsMissing) {
  // Item 6 answered 6 (range 1..5): treated as missing, so not scorable.
  v1::MeasureScore score =
      ScoreMeasure(Answered(v1::INSTRUMENT_BRS, {5, 1, 4, 2, 4, 6}), config_);
  EXPECT_FALSE(score.scorable());
}

TEST_F(ScoringTest, ScoreMeasureCopiesIdentity) {
  v1::MeasureAdministered measure =
      Answered(v1::INSTRUMENT_BRS, {3, 3, 3, 3, 3, 3});
  measure.set_time_point(v1::TIME_POINT_INTERIM);
  measure.mutable_administered_on()->set_year(2024);
  measure.mutable_administered_on()->set_month(5);
  measure.mutable_administered_on()->set_day(17);
  v1::MeasureScore score = ScoreMeasure(measure, config_);
  EXPECT_EQ(score.instrument(), v1::INSTRUMENT_BRS);
  EXPECT_EQ(score.time_point(), v1::TIME_POINT_INTERIM);
  EXPECT_EQ(score.administered_on().year(), 2024);
  EXPECT_EQ(score.administered_on().month(), 5);
  EXPECT_EQ(score.administered_on().day(), 17);
}

TEST_F(ScoringTest, UnknownInstrumentIsNotScorable) {
  v1::MeasureScore score =
      ScoreMeasure(Answered(v1::INSTRUMENT_UNSPECIFIED, {1, 2, 3}), config_);
  EXPECT_FALSE(score.scorable());
  EXPECT_EQ(score.score(), 0);
}

// --- General Self-Efficacy ---

TEST_F(ScoringTest, GseDomainVectorSums) {
  v1::MeasureScore score = ScoreMeasure(GseWithout({}), config_);
  EXPECT_TRUE(score.scorable());
  EXPECT_NEAR(score.score(), 31.0, kTolerance);
  EXPECT_EQ(score.band(), "");
}

TEST_F(ScoringTest, GseDomainVectorFourMissingNotScorable) {
  v1::MeasureScore score = ScoreMeasure(GseWithout({1, 4, 5, 10}), config_);
  EXPECT_FALSE(score.scorable());
  EXPECT_EQ(score.score(), 0);
}

TEST_F(ScoringTest, GseOneMissingProratesMean) {
  // Without item 1 (4): 27 over 9 items -> 3.0 x 10 = 30.0.
  v1::MeasureScore score = ScoreMeasure(GseWithout({1}), config_);
  EXPECT_TRUE(score.scorable());
  EXPECT_NEAR(score.score(), 30.0, kTolerance);
}

TEST_F(ScoringTest, GseTwoMissingProratesMean) {
  // Without items 1 and 4 (4, 2): 25 over 8 items -> 3.125 x 10 = 31.25.
  v1::MeasureScore score = ScoreMeasure(GseWithout({1, 4}), config_);
  EXPECT_TRUE(score.scorable());
  EXPECT_NEAR(score.score(), 31.25, kTolerance);
}

TEST_F(ScoringTest, GseThreeMissingProratesMean) {
  // Without items 1, 4, 5 (4, 2, 4): 21 over 7 items -> 3.0 x 10 = 30.0.
  v1::MeasureScore score = ScoreMeasure(GseWithout({1, 4, 5}), config_);
  EXPECT_TRUE(score.scorable());
  EXPECT_NEAR(score.score(), 30.0, kTolerance);
}

TEST_F(ScoringTest, GseMaxMissingIsConfigurable) {
  config_.gse_max_missing = 0;
  EXPECT_FALSE(ScoreMeasure(GseWithout({1}), config_).scorable());
  EXPECT_TRUE(ScoreMeasure(GseWithout({}), config_).scorable());
}

TEST_F(ScoringTest, GseInvalidAnswerCountsAsMissing) {
  // Item 3 answered 0 (range 1..4) and a stray item 11: both ignored, so 9
  // valid answers summing to 31 - 3 = 28 -> 28 / 9 x 10 = 31.1111.
  v1::MeasureAdministered measure = GseWithout({});
  measure.mutable_responses(2)->set_value(0);
  v1::ItemResponse* stray = measure.add_responses();
  stray->set_item(11);
  stray->set_value(4);
  v1::MeasureScore score = ScoreMeasure(measure, config_);
  EXPECT_TRUE(score.scorable());
  EXPECT_NEAR(score.score(), 31.1111, kTolerance);
}

// --- MSPSS ---

TEST_F(ScoringTest, MspssMeanAndSubscales) {
  // Items 1..12 = [7, 6, 5, 4, 3, 2, 1, 2, 3, 4, 5, 6]:
  //   significant other (1, 2, 5, 10) = 7 + 6 + 3 + 4 = 20 -> 5.0
  //   family (3, 4, 8, 11)            = 5 + 4 + 2 + 5 = 16 -> 4.0
  //   friends (6, 7, 9, 12)           = 2 + 1 + 3 + 6 = 12 -> 3.0
  //   all twelve                      = 48 -> 4.0
  v1::MeasureScore score = ScoreMeasure(
      Answered(v1::INSTRUMENT_MSPSS, {7, 6, 5, 4, 3, 2, 1, 2, 3, 4, 5, 6}),
      config_);
  EXPECT_TRUE(score.scorable());
  EXPECT_NEAR(score.score(), 4.0, kTolerance);
  EXPECT_NEAR(score.subscale_significant_other(), 5.0, kTolerance);
  EXPECT_NEAR(score.subscale_family(), 4.0, kTolerance);
  EXPECT_NEAR(score.subscale_friends(), 3.0, kTolerance);
  EXPECT_EQ(score.band(), "");
}

TEST_F(ScoringTest, MspssSubscalesFollowItemNumbers) {
  // Only the friends items (6, 7, 9, 12) at 7, everything else 1, answered
  // in reverse order: friends 7.0, the others 1.0, mean (4 * 7 + 8) / 12 = 3.
  v1::MeasureScore score =
      ScoreMeasure(Responses(v1::INSTRUMENT_MSPSS, {{12, 7},
                                                    {11, 1},
                                                    {10, 1},
                                                    {9, 7},
                                                    {8, 1},
                                                    {7, 7},
                                                    {6, 7},
                                                    {5, 1},
                                                    {4, 1},
                                                    {3, 1},
                                                    {2, 1},
                                                    {1, 1}}),
                   config_);
  EXPECT_TRUE(score.scorable());
  EXPECT_NEAR(score.score(), 3.0, kTolerance);
  EXPECT_NEAR(score.subscale_friends(), 7.0, kTolerance);
  EXPECT_NEAR(score.subscale_family(), 1.0, kTolerance);
  EXPECT_NEAR(score.subscale_significant_other(), 1.0, kTolerance);
}

TEST_F(ScoringTest, MspssRequiresAllTwelveItems) {
  v1::MeasureScore score = ScoreMeasure(
      Answered(v1::INSTRUMENT_MSPSS, {7, 6, 5, 4, 3, 2, 1, 2, 3, 4, 5}),
      config_);
  EXPECT_FALSE(score.scorable());
  EXPECT_EQ(score.score(), 0);
  EXPECT_EQ(score.subscale_significant_other(), 0);
  EXPECT_EQ(score.subscale_family(), 0);
  EXPECT_EQ(score.subscale_friends(), 0);
}

TEST_F(ScoringTest, MspssRepeatedItemDoesNotFillAGap) {
  // Item 12 missing, item 1 answered twice: still only 11 distinct items.
  v1::MeasureAdministered measure =
      Answered(v1::INSTRUMENT_MSPSS, {7, 6, 5, 4, 3, 2, 1, 2, 3, 4, 5});
  v1::ItemResponse* again = measure.add_responses();
  again->set_item(1);
  again->set_value(7);
  EXPECT_FALSE(ScoreMeasure(measure, config_).scorable());
}

}  // namespace
}  // namespace caseledger::projections
