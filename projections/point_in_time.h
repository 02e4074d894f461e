#ifndef CASELEDGER_PROJECTIONS_POINT_IN_TIME_H_
#define CASELEDGER_PROJECTIONS_POINT_IN_TIME_H_

// A case's plan at a point in time, on either time axis, computed by folding
// the case's events from the log (no projection state is involved):
//
//  - as the record stood: only events recorded up to a global position or a
//    recorded-at time, with the corrections recorded by then. This is what
//    an auditor saw then.
//  - as things were: every event recorded so far (corrections included)
//    whose occurred-at is on or before the time, folded in occurred order
//    (ties in record order). Entries recorded later about earlier dates
//    count; corrections recorded later count too, since they say what was
//    true.
//
// NOT_FOUND when the case has no event in the chosen window.
// Thread-safe (reads only).

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "caseledger/v1/projections.pb.h"
#include "engine/event_log.h"
#include "projections/scoring.h"

namespace caseledger::projections {

absl::StatusOr<v1::CasePlan> PlanAsRecordedAtPosition(
    const engine::EventLog& log, const std::string& case_id, uint64_t position,
    const ScoringConfig& scoring);

absl::StatusOr<v1::CasePlan> PlanAsRecordedAtTime(const engine::EventLog& log,
                                                  const std::string& case_id,
                                                  absl::Time recorded_at,
                                                  const ScoringConfig& scoring);

absl::StatusOr<v1::CasePlan> PlanAsOccurredAt(const engine::EventLog& log,
                                              const std::string& case_id,
                                              absl::Time occurred_at,
                                              const ScoringConfig& scoring);

}  // namespace caseledger::projections

#endif  // CASELEDGER_PROJECTIONS_POINT_IN_TIME_H_
