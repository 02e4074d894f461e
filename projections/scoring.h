#ifndef CASELEDGER_PROJECTIONS_SCORING_H_
#define CASELEDGER_PROJECTIONS_SCORING_H_

// Scoring of goal attainment and of the standard measures, exactly as
// DOMAIN.md defines them. Pure functions; thread-safe.

#include <optional>
#include <vector>

#include "caseledger/v1/events.pb.h"
#include "caseledger/v1/projections.pb.h"

namespace caseledger::projections {

// Tunable constants (DOMAIN.md); defaults are the published values.
struct ScoringConfig {
  // GAS inter-scale correlation (Kiresuk & Sherman 1968).
  double gas_rho = 0.3;
  // Brief Resilience Scale bands: low < brs_low_below; high > brs_high_above.
  double brs_low_below = 3.00;
  double brs_high_above = 4.30;
  // General Self-Efficacy: scorable with at most this many items missing.
  int gse_max_missing = 3;
};

struct GasItem {
  double weight = 1.0;
  int level = 0;  // -2..+2
};

// GAS T-score: T = 50 + 10 * sum(w_i x_i) /
//   sqrt((1 - rho) * sum(w_i^2) + rho * (sum w_i)^2).
// nullopt when `items` is empty or every weight is 0 (undefined).
std::optional<double> GasTScore(const std::vector<GasItem>& items, double rho);

// Scores one administration from its raw item responses. The result's
// `scorable` is false when required items are missing (BRS: all 6;
// GSE: at most config.gse_max_missing missing; MSPSS: all 12), and then
// score/band/subscales are 0/empty. instrument, time_point and
// administered_on are copied from `measure`.
v1::MeasureScore ScoreMeasure(const v1::MeasureAdministered& measure,
                              const ScoringConfig& config);

}  // namespace caseledger::projections

#endif  // CASELEDGER_PROJECTIONS_SCORING_H_
