#ifndef CASELEDGER_PROJECTIONS_METRICS_H_
#define CASELEDGER_PROJECTIONS_METRICS_H_

// Outcome metrics (DOMAIN.md, "Outcome metrics"), per case and grouped, as
// pure functions over the facts the case folder projects. Thread-safe: no
// state.
//
// Rules the DOMAIN text leaves open, decided here:
//
// As-of date. CaseFacts is the state of a case at some log position; as_of
// is the reference day. Dated facts later than as_of are treated as not yet
// having happened (a step completed after as_of is not completed; a close,
// reopening, return to work, recurrence, goal, assessment, contact or
// measure dated after as_of is ignored). Undated counts (goals, contacts,
// resources, supports, GAS levels) are taken as they stand.
//
// Lifecycle at as_of. Derived from closed_on / reopened_on, which alternate
// close, reopen, close, ... (CaseFacts.status is not consulted). The case is
// closed at as_of when its latest lifecycle change on or before as_of is a
// close; its closing date is that close.
//
// Time to event. The clock starts at the origin (opened_on, or the absence's
// first day). Not applicable when the origin is unset or after as_of.
// Observed when the event date is set and on or before as_of; otherwise
// censored at the end of observation: the closing date if the case is closed
// at as_of, else as_of. Days are never negative (an event dated before its
// origin counts as day 0).
//
// Open-to-close time. From opened_on to the closing date at as_of (so a
// reopened and closed-again case spans all its episodes); censored at as_of
// while open. Buckets: <=30, 31-90, 91-180, >180 by default.
//
// GAS. Baseline T over the goals with a baseline level; follow-up T over the
// goals with a follow-up rating; change = T(follow-up) - T(baseline) both
// over the paired goals (baseline and follow-up), so that a goal rated only
// once does not shift the change. Weights as the facts carry them (the
// folder writes 1 for an unset weight).
//
// Steps. Due: not dropped, and completed (on or before as_of) or with a
// target date on or before as_of. On time: completed on or before the target
// date; a completed step without a target date is on time.
//
// Measures. Intake = the scorable BASELINE score, exit = the scorable
// FOLLOW_UP score of each instrument (the latest by administered_on when the
// facts hold several); INTERIM scores are not used. Change = exit - intake.
//
// Days since last contact. as_of - last_contact_on; absent with no contact on
// or before as_of. Group figures use only cases open at as_of (a closed case's
// silence is expected).
//
// Sustained return. Not applicable without a return on or before as_of. Not
// met if an AbsenceRecurred dated d with 0 <= d - return <= D days (and
// d <= as_of); met if none and as_of - return >= D; undetermined otherwise.
//
// Reopen after successful close. The index close is the case's first close
// with outcome SUCCESSFUL on or before as_of (not applicable without one).
// Per window W: met if the reopening that follows it is dated within W days
// (and on or before as_of); not met if it is later, or there is none and
// as_of - close >= W; undetermined otherwise. Group rates leave undetermined
// cases out of the denominator and count them apart.
//
// Grouping. Program, case manager and team are the facts' current values
// (after transfers); an empty value groups under "(unknown)". Cohort is the
// month of opened_on ("YYYY-MM"); period the calendar quarter of the closing
// date at as_of ("YYYY-Qn") or "open"; training cycle the latest cycle
// (by completed_on; among equal dates the later entry) that the current case
// manager completed on or before opened_on, else "none". Only cases with
// status OPEN or CLOSED and an opened_on on or before as_of are counted.
//
// Suppression. A group with fewer than min_group_size cases reports its key
// and suppressed = true only: no figures, and no case count.
//
// Medians. Scores: the sample median. Time to event: the Kaplan-Meier median
// (see KaplanMeierMedian), "not reached" when the survival estimate stays
// above 0.5.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "caseledger/v1/common.pb.h"
#include "caseledger/v1/metrics.pb.h"
#include "caseledger/v1/projections.pb.h"
#include "projections/scoring.h"

namespace caseledger::projections {

// Every tunable constant of the metrics (DOMAIN.md defaults).
struct MetricsConfig {
  ScoringConfig scoring;
  // Sustained return: no recurrence within this many days after the return.
  // Default: 90.
  int sustained_return_days = 90;
  // Windows for "reopen after successful close", in days, ascending.
  // Default: 180, 365, 730.
  std::vector<int> reopen_windows_days = {180, 365, 730};
  // Upper bounds (inclusive, ascending) of the open-to-close buckets; a last,
  // open-ended bucket follows. Default: <=30, 31-90, 91-180, >180.
  std::vector<int> open_to_close_bucket_upper_days = {30, 90, 180};
  // Groups with fewer cases are suppressed. Default: 5.
  int min_group_size = 5;
};

// OK, or INVALID_ARGUMENT naming the offending field: gas_rho outside
// [0, 1), brs thresholds out of order, gse_max_missing outside 0..9,
// non-positive windows, bucket bounds not strictly ascending and positive,
// negative min_group_size.
absl::Status ValidateMetricsConfig(const MetricsConfig& config);

enum class GroupBy {
  kNone,           // one group, key "all"
  kProgram,        // CaseFacts.program
  kCaseManager,    // CaseFacts.case_manager_id
  kTeam,           // CaseFacts.team
  kCohort,         // month opened, "YYYY-MM"
  kPeriod,         // calendar quarter closed, "YYYY-Qn"; "open" if open
  kTrainingCycle,  // "rfcm-cycle-1", "rfcm-follow-up" or "none"
};

// Group keys of GroupBy::kTrainingCycle (also the values of the
// training_cycle filter).
inline constexpr char kTrainingCycleNone[] = "none";
inline constexpr char kTrainingCycleRfcm1[] = "rfcm-cycle-1";
inline constexpr char kTrainingCycleRfcmFollowUp[] = "rfcm-follow-up";

struct MetricsQuery {
  GroupBy group_by = GroupBy::kNone;
  // Filters: a case is counted only if it matches every present one.
  std::optional<std::string> program;
  std::optional<std::string> case_manager_id;
  std::optional<std::string> team;
  std::optional<std::string> cohort;          // "YYYY-MM"
  std::optional<v1::Date> opened_from;        // inclusive
  std::optional<v1::Date> opened_to;          // inclusive
  std::optional<std::string> training_cycle;  // a kTrainingCycle* key
  // Reference day. Required.
  v1::Date as_of;
};

// OK, or INVALID_ARGUMENT naming the offending field: as_of missing or not a
// calendar date, cohort not "YYYY-MM", opened_from / opened_to not calendar
// dates or in the wrong order, unknown training_cycle or group_by.
absl::Status ValidateMetricsQuery(const MetricsQuery& query);

// The metrics of one case at `as_of`. Sets case_id, as_of, position and
// version (from the facts); projection_version is left 0 for the caller to
// stamp.
// REQUIRES: IsValidDate(as_of) and ValidateMetricsConfig(config).ok().
v1::CaseMetrics ComputeCaseMetrics(const v1::CaseFacts& facts,
                                   const v1::Date& as_of,
                                   const MetricsConfig& config);

// Metrics of the matching cases, one group per key (sorted by key), stamped
// with `position`, `projection_version`, the query's as_of, group_by and
// filters, and config.min_group_size. `caseworkers` maps a caseworker id to
// their facts (needed only for the training-cycle key and filter; a missing
// caseworker counts as "none"). With GroupBy::kNone there is always exactly
// one group, "all".
// REQUIRES: ValidateMetricsQuery(query).ok() and
//           ValidateMetricsConfig(config).ok().
v1::MetricsReport AggregateMetrics(
    const std::vector<v1::CaseFacts>& cases,
    const absl::flat_hash_map<std::string, v1::CaseworkerFacts>& caseworkers,
    const MetricsQuery& query, const MetricsConfig& config, uint64_t position,
    uint32_t projection_version);

// The group key of `facts` under `group_by` (see GroupBy).
// REQUIRES: IsValidDate(as_of).
std::string GroupKey(
    const v1::CaseFacts& facts,
    const absl::flat_hash_map<std::string, v1::CaseworkerFacts>& caseworkers,
    GroupBy group_by, const v1::Date& as_of);

// One subject's time to event: `days` to the event when `observed`, else to
// censoring.
struct SurvivalTime {
  int64_t days = 0;
  bool observed = false;
};

// Kaplan-Meier median: the smallest event time t with S(t) <= 0.5, except
// that when S(t) == 0.5 exactly the median is midway between t and the next
// event time (t itself if there is none), which makes it the ordinary median
// when nothing is censored. Subjects censored at t are at risk at t.
// nullopt when S stays above 0.5 ("not reached"), including for no subjects.
std::optional<double> KaplanMeierMedian(std::vector<SurvivalTime> times);

}  // namespace caseledger::projections

#endif  // CASELEDGER_PROJECTIONS_METRICS_H_
