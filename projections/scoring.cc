#include "projections/scoring.h"

#include <array>
#include <cmath>
#include <cstdint>

namespace caseledger::projections {
namespace {

// Tolerance for comparing a computed mean against a band threshold, so that
// a score equal to the threshold up to rounding (e.g. 4.30) falls in the
// inclusive "normal" band. A numerical tolerance, not a practice setting.
constexpr double kBandEpsilon = 1e-9;

// Largest item count of any instrument.
constexpr int kMaxItems = 12;

struct Shape {
  int items;
  int32_t min_value;
  int32_t max_value;
};

constexpr Shape kBrsShape = {6, 1, 5};
constexpr Shape kGseShape = {10, 1, 4};
constexpr Shape kMspssShape = {12, 1, 7};

// MSPSS subscale item numbers (Zimet et al. 1988).
constexpr std::array<int, 4> kMspssSignificantOther = {1, 2, 5, 10};
constexpr std::array<int, 4> kMspssFamily = {3, 4, 8, 11};
constexpr std::array<int, 4> kMspssFriends = {6, 7, 9, 12};

// The answers of one administration, indexed by 1-based item number.
// Responses outside the instrument's item or value range, and repeated
// answers to an item already answered, are ignored (treated as missing); the
// engine rejects such events, so this only guards against bad facts.
struct Answers {
  std::array<bool, kMaxItems + 1> present{};
  std::array<int32_t, kMaxItems + 1> value{};
  int answered = 0;
};

Answers Collect(const v1::MeasureAdministered& measure, const Shape& shape) {
  Answers answers;
  for (const v1::ItemResponse& response : measure.responses()) {
    const uint32_t item = response.item();
    if (item < 1 || item > static_cast<uint32_t>(shape.items)) continue;
    if (response.value() < shape.min_value ||
        response.value() > shape.max_value) {
      continue;
    }
    if (answers.present[item]) continue;
    answers.present[item] = true;
    answers.value[item] = response.value();
    ++answers.answered;
  }
  return answers;
}

std::string BrsBand(double score, const ScoringConfig& config) {
  if (score < config.brs_low_below - kBandEpsilon) return "low";
  if (score > config.brs_high_above + kBandEpsilon) return "high";
  return "normal";
}

// Brief Resilience Scale: items 2, 4 and 6 are reversed (6 - x); the score is
// the mean of all six, each required.
void ScoreBrs(const Answers& answers, const ScoringConfig& config,
              v1::MeasureScore& out) {
  if (answers.answered != kBrsShape.items) return;
  int sum = 0;
  for (int item = 1; item <= kBrsShape.items; ++item) {
    const int32_t x = answers.value[item];
    sum += (item % 2 == 0) ? (kBrsShape.max_value + 1 - x) : x;
  }
  const double score = static_cast<double>(sum) / kBrsShape.items;
  out.set_scorable(true);
  out.set_score(score);
  out.set_band(BrsBand(score, config));
}

// General Self-Efficacy: the sum of ten items; with 1..gse_max_missing items
// missing, the mean of the answered items times ten (which equals the sum
// when none is missing).
void ScoreGse(const Answers& answers, const ScoringConfig& config,
              v1::MeasureScore& out) {
  const int missing = kGseShape.items - answers.answered;
  if (answers.answered == 0 || missing > config.gse_max_missing) return;
  int sum = 0;
  for (int item = 1; item <= kGseShape.items; ++item) {
    if (answers.present[item]) sum += answers.value[item];
  }
  out.set_scorable(true);
  out.set_score(static_cast<double>(sum) * kGseShape.items / answers.answered);
}

double MeanOf(const Answers& answers, const std::array<int, 4>& items) {
  int sum = 0;
  for (int item : items) sum += answers.value[item];
  return static_cast<double>(sum) / items.size();
}

// MSPSS: the mean of all twelve items (each required), and the mean of each
// four-item subscale.
void ScoreMspss(const Answers& answers, v1::MeasureScore& out) {
  if (answers.answered != kMspssShape.items) return;
  int sum = 0;
  for (int item = 1; item <= kMspssShape.items; ++item) {
    sum += answers.value[item];
  }
  out.set_scorable(true);
  out.set_score(static_cast<double>(sum) / kMspssShape.items);
  out.set_subscale_significant_other(MeanOf(answers, kMspssSignificantOther));
  out.set_subscale_family(MeanOf(answers, kMspssFamily));
  out.set_subscale_friends(MeanOf(answers, kMspssFriends));
}

}  // namespace

std::optional<double> GasTScore(const std::vector<GasItem>& items, double rho) {
  double sum_wx = 0;
  double sum_w = 0;
  double sum_w2 = 0;
  for (const GasItem& item : items) {
    sum_wx += item.weight * item.level;
    sum_w += item.weight;
    sum_w2 += item.weight * item.weight;
  }
  const double variance = (1 - rho) * sum_w2 + rho * sum_w * sum_w;
  // Empty input and all-zero weights both leave the variance at 0; so can
  // degenerate settings (rho = 1 with weights summing to 0).
  if (!(variance > 0) || !std::isfinite(variance)) return std::nullopt;
  return 50 + 10 * sum_wx / std::sqrt(variance);
}

v1::MeasureScore ScoreMeasure(const v1::MeasureAdministered& measure,
                              const ScoringConfig& config) {
  v1::MeasureScore out;
  out.set_instrument(measure.instrument());
  out.set_time_point(measure.time_point());
  *out.mutable_administered_on() = measure.administered_on();
  switch (measure.instrument()) {
    case v1::INSTRUMENT_BRS:
      ScoreBrs(Collect(measure, kBrsShape), config, out);
      break;
    case v1::INSTRUMENT_GSE:
      ScoreGse(Collect(measure, kGseShape), config, out);
      break;
    case v1::INSTRUMENT_MSPSS:
      ScoreMspss(Collect(measure, kMspssShape), out);
      break;
    default:
      break;  // Unknown instrument: not scorable.
  }
  return out;
}

}  // namespace caseledger::projections
