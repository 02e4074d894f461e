#include "projections/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "projections/dates.h"

namespace caseledger::projections {
namespace {

constexpr char kAllKey[] = "all";
constexpr char kUnknownKey[] = "(unknown)";
constexpr char kOpenPeriod[] = "open";
constexpr char kBandLow[] = "low";
constexpr char kBandNormal[] = "normal";
constexpr char kBandHigh[] = "high";

// Tolerance for "the survival estimate equals 0.5": products such as
// 0.75 * (2 / 3) miss 0.5 by an ulp.
constexpr double kSurvivalEpsilon = 1e-9;

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

// True if `date` is set and on or before `as_of`: the fact has happened.
bool HappenedBy(const v1::Date& date, const v1::Date& as_of) {
  return IsSet(date) && Compare(date, as_of) <= 0;
}

v1::Rate MakeRate(uint64_t numerator, uint64_t denominator) {
  v1::Rate rate;
  rate.set_numerator(numerator);
  rate.set_denominator(denominator);
  if (denominator > 0) {
    rate.set_value(static_cast<double>(numerator) /
                   static_cast<double>(denominator));
  }
  return rate;
}

// ---------------------------------------------------------------------------
// Per case
// ---------------------------------------------------------------------------

struct Lifecycle {
  bool closed = false;
  v1::Date closing_date;  // set when closed
};

// closed_on and reopened_on alternate: close[0], reopen[0], close[1], ...
Lifecycle LifecycleAt(const v1::CaseFacts& facts, const v1::Date& as_of) {
  Lifecycle life;
  for (int i = 0; i < facts.closed_on_size(); ++i) {
    if (!HappenedBy(facts.closed_on(i), as_of)) break;
    life.closed = true;
    life.closing_date = facts.closed_on(i);
    if (i >= facts.reopened_on_size() ||
        !HappenedBy(facts.reopened_on(i), as_of)) {
      break;
    }
    life.closed = false;
    life.closing_date.Clear();
  }
  return life;
}

v1::TimeToEvent TimeTo(const v1::Date& origin, const v1::Date& event,
                       const v1::Date& end_of_observation,
                       const v1::Date& as_of) {
  v1::TimeToEvent t;
  if (!HappenedBy(origin, as_of)) {
    t.set_observation(v1::EVENT_OBSERVATION_NOT_APPLICABLE);
  } else if (HappenedBy(event, as_of)) {
    t.set_observation(v1::EVENT_OBSERVATION_OBSERVED);
    t.set_days(std::max<int64_t>(0, DaysBetween(origin, event)));
  } else {
    t.set_observation(v1::EVENT_OBSERVATION_CENSORED);
    t.set_days(std::max<int64_t>(0, DaysBetween(origin, end_of_observation)));
  }
  return t;
}

v1::GasOutcome ComputeGas(const v1::CaseFacts& facts, double rho) {
  std::vector<GasItem> baseline, follow_up, paired_baseline, paired_follow_up;
  for (const v1::CaseFacts::GasGoal& goal : facts.gas_goals()) {
    if (goal.has_baseline()) {
      baseline.push_back({goal.weight(), goal.baseline()});
    }
    if (goal.has_follow_up()) {
      follow_up.push_back({goal.weight(), goal.follow_up()});
    }
    if (goal.has_baseline() && goal.has_follow_up()) {
      paired_baseline.push_back({goal.weight(), goal.baseline()});
      paired_follow_up.push_back({goal.weight(), goal.follow_up()});
    }
  }
  v1::GasOutcome gas;
  gas.set_goals_with_baseline(baseline.size());
  gas.set_goals_with_follow_up(follow_up.size());
  gas.set_goals_paired(paired_baseline.size());
  if (auto t = GasTScore(baseline, rho)) gas.set_baseline_t(*t);
  if (auto t = GasTScore(follow_up, rho)) gas.set_follow_up_t(*t);
  auto paired_before = GasTScore(paired_baseline, rho);
  auto paired_after = GasTScore(paired_follow_up, rho);
  if (paired_before && paired_after) {
    gas.set_change(*paired_after - *paired_before);
  }
  return gas;
}

// The latest scorable score of `instrument` at `time_point` administered on
// or before as_of (an undated one counts), or nullptr.
const v1::MeasureScore* LatestScore(const v1::CaseFacts& facts,
                                    v1::Instrument instrument,
                                    v1::TimePoint time_point,
                                    const v1::Date& as_of) {
  const v1::MeasureScore* latest = nullptr;
  for (const v1::MeasureScore& score : facts.measures()) {
    if (score.instrument() != instrument || score.time_point() != time_point ||
        !score.scorable()) {
      continue;
    }
    if (IsSet(score.administered_on()) &&
        Compare(score.administered_on(), as_of) > 0) {
      continue;
    }
    if (latest == nullptr ||
        Compare(score.administered_on(), latest->administered_on()) >= 0) {
      latest = &score;
    }
  }
  return latest;
}

using ScoreField = double (v1::MeasureScore::*)() const;

void FillChange(const v1::MeasureScore* intake, const v1::MeasureScore* exit,
                ScoreField field, v1::ScoreChange& change) {
  if (intake != nullptr) change.set_intake((intake->*field)());
  if (exit != nullptr) change.set_exit((exit->*field)());
  if (intake != nullptr && exit != nullptr) {
    change.set_change((exit->*field)() - (intake->*field)());
  }
}

v1::MeasureChange ComputeMeasure(const v1::CaseFacts& facts,
                                 v1::Instrument instrument,
                                 const v1::Date& as_of) {
  const v1::MeasureScore* intake =
      LatestScore(facts, instrument, v1::TIME_POINT_BASELINE, as_of);
  const v1::MeasureScore* exit =
      LatestScore(facts, instrument, v1::TIME_POINT_FOLLOW_UP, as_of);
  v1::MeasureChange out;
  out.set_instrument(instrument);
  FillChange(intake, exit, &v1::MeasureScore::score, *out.mutable_score());
  if (instrument == v1::INSTRUMENT_BRS) {
    if (intake != nullptr) out.set_intake_band(intake->band());
    if (exit != nullptr) out.set_exit_band(exit->band());
  }
  if (instrument == v1::INSTRUMENT_MSPSS) {
    FillChange(intake, exit, &v1::MeasureScore::subscale_significant_other,
               *out.mutable_significant_other());
    FillChange(intake, exit, &v1::MeasureScore::subscale_family,
               *out.mutable_family());
    FillChange(intake, exit, &v1::MeasureScore::subscale_friends,
               *out.mutable_friends());
  }
  return out;
}

v1::WindowOutcome Window(int window_days, v1::WindowStatus status) {
  v1::WindowOutcome outcome;
  outcome.set_window_days(window_days);
  outcome.set_status(status);
  return outcome;
}

v1::WindowOutcome SustainedReturn(const v1::CaseFacts& facts,
                                  const v1::Date& as_of, int window_days) {
  const v1::Date& back = facts.return_first_day();
  if (!HappenedBy(back, as_of)) {
    return Window(window_days, v1::WINDOW_STATUS_NOT_APPLICABLE);
  }
  for (const v1::Date& recurred : facts.absence_recurred_on()) {
    if (!HappenedBy(recurred, as_of)) continue;
    const int64_t after = DaysBetween(back, recurred);
    if (after >= 0 && after <= window_days) {
      return Window(window_days, v1::WINDOW_STATUS_NOT_MET);
    }
  }
  return Window(window_days, DaysBetween(back, as_of) >= window_days
                                 ? v1::WINDOW_STATUS_MET
                                 : v1::WINDOW_STATUS_UNDETERMINED);
}

void ReopenAfterSuccess(const v1::CaseFacts& facts, const v1::Date& as_of,
                        const std::vector<int>& windows_days,
                        v1::CaseMetrics& out) {
  int index = -1;
  for (int i = 0; i < facts.closed_on_size(); ++i) {
    if (!HappenedBy(facts.closed_on(i), as_of)) break;
    if (i < facts.close_outcomes_size() &&
        facts.close_outcomes(i) == v1::CASE_OUTCOME_SUCCESSFUL) {
      index = i;
      break;
    }
  }
  for (int window_days : windows_days) {
    v1::WindowStatus status;
    if (index < 0) {
      status = v1::WINDOW_STATUS_NOT_APPLICABLE;
    } else {
      const v1::Date& closed = facts.closed_on(index);
      const bool reopened = index < facts.reopened_on_size() &&
                            HappenedBy(facts.reopened_on(index), as_of);
      if (reopened) {
        status = DaysBetween(closed, facts.reopened_on(index)) <= window_days
                     ? v1::WINDOW_STATUS_MET
                     : v1::WINDOW_STATUS_NOT_MET;
      } else {
        status = DaysBetween(closed, as_of) >= window_days
                     ? v1::WINDOW_STATUS_NOT_MET
                     : v1::WINDOW_STATUS_UNDETERMINED;
      }
    }
    *out.add_reopen_after_success() = Window(window_days, status);
  }
}

struct Bucket {
  std::string label;
  int64_t min_days;
  std::optional<int64_t> max_days;
};

// <=U0, (U0+1)-U1, ..., >Un; one bucket "all" when there are no bounds.
std::vector<Bucket> Buckets(const std::vector<int>& upper_days) {
  std::vector<Bucket> buckets;
  if (upper_days.empty()) {
    buckets.push_back({kAllKey, 0, std::nullopt});
    return buckets;
  }
  int64_t min_days = 0;
  for (size_t i = 0; i < upper_days.size(); ++i) {
    const int64_t max_days = upper_days[i];
    std::string label = i == 0 ? absl::StrCat("<=", max_days)
                               : absl::StrCat(min_days, "-", max_days);
    buckets.push_back({std::move(label), min_days, max_days});
    min_days = max_days + 1;
  }
  buckets.push_back(
      {absl::StrCat(">", upper_days.back()), min_days, std::nullopt});
  return buckets;
}

size_t BucketIndex(const std::vector<Bucket>& buckets, int64_t days) {
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (!buckets[i].max_days.has_value() || days <= *buckets[i].max_days) {
      return i;
    }
  }
  return buckets.size() - 1;
}

// ---------------------------------------------------------------------------
// Grouping and filters
// ---------------------------------------------------------------------------

std::string MonthKey(const v1::Date& date) {
  return absl::StrFormat("%04d-%02d", date.year(), date.month());
}

std::string QuarterKey(const v1::Date& date) {
  return absl::StrFormat("%04d-Q%d", date.year(), (date.month() - 1) / 3 + 1);
}

std::string OrUnknown(const std::string& value) {
  return value.empty() ? kUnknownKey : value;
}

std::string CohortKey(const v1::CaseFacts& facts) {
  return IsSet(facts.opened_on()) ? MonthKey(facts.opened_on()) : kUnknownKey;
}

std::string TrainingCycleKey(
    const v1::CaseFacts& facts,
    const absl::flat_hash_map<std::string, v1::CaseworkerFacts>& caseworkers) {
  const auto it = caseworkers.find(facts.case_manager_id());
  if (it == caseworkers.end() || !IsSet(facts.opened_on())) {
    return kTrainingCycleNone;
  }
  const v1::CaseworkerFacts::Completed* latest = nullptr;
  for (const v1::CaseworkerFacts::Completed& done : it->second.cycles()) {
    if (done.cycle() != v1::TRAINING_CYCLE_RFCM_CYCLE_1 &&
        done.cycle() != v1::TRAINING_CYCLE_RFCM_FOLLOW_UP) {
      continue;
    }
    if (!HappenedBy(done.completed_on(), facts.opened_on())) continue;
    if (latest == nullptr ||
        Compare(done.completed_on(), latest->completed_on()) >= 0) {
      latest = &done;
    }
  }
  if (latest == nullptr) return kTrainingCycleNone;
  return latest->cycle() == v1::TRAINING_CYCLE_RFCM_CYCLE_1
             ? kTrainingCycleRfcm1
             : kTrainingCycleRfcmFollowUp;
}

bool IsTrainingCycleKey(absl::string_view key) {
  return key == kTrainingCycleNone || key == kTrainingCycleRfcm1 ||
         key == kTrainingCycleRfcmFollowUp;
}

bool IsCountable(const v1::CaseFacts& facts, const v1::Date& as_of) {
  return (facts.status() == v1::CASE_STATUS_OPEN ||
          facts.status() == v1::CASE_STATUS_CLOSED) &&
         HappenedBy(facts.opened_on(), as_of);
}

bool Matches(
    const v1::CaseFacts& facts,
    const absl::flat_hash_map<std::string, v1::CaseworkerFacts>& caseworkers,
    const MetricsQuery& query) {
  if (query.program && facts.program() != *query.program) return false;
  if (query.case_manager_id &&
      facts.case_manager_id() != *query.case_manager_id) {
    return false;
  }
  if (query.team && facts.team() != *query.team) return false;
  if (query.cohort && CohortKey(facts) != *query.cohort) return false;
  if (query.opened_from && Compare(facts.opened_on(), *query.opened_from) < 0) {
    return false;
  }
  if (query.opened_to && Compare(facts.opened_on(), *query.opened_to) > 0) {
    return false;
  }
  if (query.training_cycle &&
      TrainingCycleKey(facts, caseworkers) != *query.training_cycle) {
    return false;
  }
  return true;
}

v1::MetricsGroupBy ToProto(GroupBy group_by) {
  switch (group_by) {
    case GroupBy::kNone:
      return v1::METRICS_GROUP_BY_NONE;
    case GroupBy::kProgram:
      return v1::METRICS_GROUP_BY_PROGRAM;
    case GroupBy::kCaseManager:
      return v1::METRICS_GROUP_BY_CASE_MANAGER;
    case GroupBy::kTeam:
      return v1::METRICS_GROUP_BY_TEAM;
    case GroupBy::kCohort:
      return v1::METRICS_GROUP_BY_COHORT;
    case GroupBy::kPeriod:
      return v1::METRICS_GROUP_BY_PERIOD;
    case GroupBy::kTrainingCycle:
      return v1::METRICS_GROUP_BY_TRAINING_CYCLE;
  }
  return v1::METRICS_GROUP_BY_UNSPECIFIED;
}

// ---------------------------------------------------------------------------
// Accumulators
// ---------------------------------------------------------------------------

struct RateSum {
  uint64_t numerator = 0;
  uint64_t denominator = 0;

  void Add(const v1::Rate& rate) {
    numerator += rate.numerator();
    denominator += rate.denominator();
  }
  v1::Rate Build() const { return MakeRate(numerator, denominator); }
};

struct Scores {
  std::vector<double> values;

  void Add(double value) { values.push_back(value); }
  v1::ScoreSummary Build() const {
    v1::ScoreSummary summary;
    summary.set_n(values.size());
    if (values.empty()) return summary;
    std::vector<double> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    double sum = 0;
    for (double v : sorted) sum += v;
    summary.set_mean(sum / sorted.size());
    const size_t mid = sorted.size() / 2;
    summary.set_median(sorted.size() % 2 == 1
                           ? sorted[mid]
                           : (sorted[mid - 1] + sorted[mid]) / 2);
    return summary;
  }
};

struct Survival {
  std::vector<SurvivalTime> times;
  uint64_t observed = 0;
  uint64_t censored = 0;

  void Add(const v1::TimeToEvent& t) {
    switch (t.observation()) {
      case v1::EVENT_OBSERVATION_OBSERVED:
        ++observed;
        times.push_back({t.days(), true});
        break;
      case v1::EVENT_OBSERVATION_CENSORED:
        ++censored;
        times.push_back({t.days(), false});
        break;
      default:
        break;
    }
  }
  v1::TimeToEventSummary Build() const {
    v1::TimeToEventSummary summary;
    summary.set_cases(observed + censored);
    summary.set_observed(observed);
    summary.set_censored(censored);
    if (auto median = KaplanMeierMedian(times)) {
      summary.set_median_reached(true);
      summary.set_median_days(*median);
    }
    return summary;
  }
};

struct WindowSum {
  int window_days = 0;
  uint64_t met = 0;
  uint64_t not_met = 0;
  uint64_t undetermined = 0;

  void Add(const v1::WindowOutcome& outcome) {
    switch (outcome.status()) {
      case v1::WINDOW_STATUS_MET:
        ++met;
        break;
      case v1::WINDOW_STATUS_NOT_MET:
        ++not_met;
        break;
      case v1::WINDOW_STATUS_UNDETERMINED:
        ++undetermined;
        break;
      default:
        break;
    }
  }
  v1::WindowSummary Build() const {
    v1::WindowSummary summary;
    summary.set_window_days(window_days);
    *summary.mutable_rate() = MakeRate(met, met + not_met);
    summary.set_undetermined(undetermined);
    return summary;
  }
};

struct ChangeScores {
  Scores intake;
  Scores exit;
  Scores change;

  void Add(const v1::ScoreChange& c) {
    if (c.has_intake()) intake.Add(c.intake());
    if (c.has_exit()) exit.Add(c.exit());
    if (c.has_change()) change.Add(c.change());
  }
};

void CountBand(const std::string& band, v1::BandCounts& counts) {
  if (band == kBandLow) counts.set_low(counts.low() + 1);
  if (band == kBandNormal) counts.set_normal(counts.normal() + 1);
  if (band == kBandHigh) counts.set_high(counts.high() + 1);
}

struct MeasureSum {
  v1::Instrument instrument = v1::INSTRUMENT_UNSPECIFIED;
  ChangeScores score;
  v1::BandCounts intake_bands;
  v1::BandCounts exit_bands;
  ChangeScores significant_other;
  ChangeScores family;
  ChangeScores friends;

  void Add(const v1::MeasureChange& m) {
    score.Add(m.score());
    CountBand(m.intake_band(), intake_bands);
    CountBand(m.exit_band(), exit_bands);
    significant_other.Add(m.significant_other());
    family.Add(m.family());
    friends.Add(m.friends());
  }
  v1::MeasureSummary Build() const {
    v1::MeasureSummary summary;
    summary.set_instrument(instrument);
    *summary.mutable_intake() = score.intake.Build();
    *summary.mutable_exit() = score.exit.Build();
    *summary.mutable_change() = score.change.Build();
    if (instrument == v1::INSTRUMENT_BRS) {
      *summary.mutable_intake_bands() = intake_bands;
      *summary.mutable_exit_bands() = exit_bands;
    }
    if (instrument == v1::INSTRUMENT_MSPSS) {
      *summary.mutable_significant_other_change() =
          significant_other.change.Build();
      *summary.mutable_family_change() = family.change.Build();
      *summary.mutable_friends_change() = friends.change.Build();
    }
    return summary;
  }
};

// Everything one group accumulates, fed one CaseMetrics at a time.
class GroupSum {
 public:
  explicit GroupSum(const MetricsConfig& config)
      : buckets_(Buckets(config.open_to_close_bucket_upper_days)),
        bucket_counts_(buckets_.size(), 0) {
    brs_.instrument = v1::INSTRUMENT_BRS;
    gse_.instrument = v1::INSTRUMENT_GSE;
    mspss_.instrument = v1::INSTRUMENT_MSPSS;
    sustained_return_.window_days = config.sustained_return_days;
    for (int days : config.reopen_windows_days) {
      reopen_.emplace_back().window_days = days;
    }
  }

  uint64_t cases() const { return cases_; }

  void Add(const v1::CaseMetrics& m) {
    ++cases_;
    if (m.gas().has_baseline_t()) gas_baseline_.Add(m.gas().baseline_t());
    if (m.gas().has_follow_up_t()) gas_follow_up_.Add(m.gas().follow_up_t());
    if (m.gas().has_change()) gas_change_.Add(m.gas().change());
    goal_attainment_.Add(m.goal_attainment());
    step_completion_.Add(m.step_completion());
    step_on_time_.Add(m.step_on_time());
    first_goal_.Add(m.time_to_first_goal());
    first_assessment_.Add(m.time_to_first_assessment());
    community_contact_.Add(m.community_contact_share());
    natural_resource_.Add(m.natural_resource_share());
    outreach_.Add(m.outreach_yield());
    const bool open =
        m.open_to_close().observation() == v1::EVENT_OBSERVATION_CENSORED;
    if (open && m.has_days_since_last_contact()) {
      days_since_contact_.Add(m.days_since_last_contact());
    }
    brs_.Add(m.brs());
    gse_.Add(m.gse());
    mspss_.Add(m.mspss());
    support_active_.Add(m.support_active_members());
    support_natural_.Add(m.support_natural_share());
    return_.Add(m.time_to_return());
    full_return_.Add(m.time_to_full_return());
    sustained_return_.Add(m.sustained_return());
    for (size_t i = 0; i < reopen_.size() &&
                       i < static_cast<size_t>(m.reopen_after_success_size());
         ++i) {
      reopen_[i].Add(m.reopen_after_success(i));
    }
    open_to_close_.Add(m.open_to_close());
    if (m.open_to_close().observation() == v1::EVENT_OBSERVATION_OBSERVED) {
      ++bucket_counts_[BucketIndex(buckets_, m.open_to_close().days())];
    }
  }

  v1::MetricFigures Build() const {
    v1::MetricFigures f;
    *f.mutable_gas()->mutable_baseline_t() = gas_baseline_.Build();
    *f.mutable_gas()->mutable_follow_up_t() = gas_follow_up_.Build();
    *f.mutable_gas()->mutable_change() = gas_change_.Build();
    *f.mutable_goal_attainment() = goal_attainment_.Build();
    *f.mutable_step_completion() = step_completion_.Build();
    *f.mutable_step_on_time() = step_on_time_.Build();
    *f.mutable_time_to_first_goal() = first_goal_.Build();
    *f.mutable_time_to_first_assessment() = first_assessment_.Build();
    *f.mutable_community_contact_share() = community_contact_.Build();
    *f.mutable_natural_resource_share() = natural_resource_.Build();
    *f.mutable_outreach_yield() = outreach_.Build();
    *f.mutable_days_since_last_contact() = days_since_contact_.Build();
    *f.mutable_brs() = brs_.Build();
    *f.mutable_gse() = gse_.Build();
    *f.mutable_mspss() = mspss_.Build();
    *f.mutable_support_active_members() = support_active_.Build();
    *f.mutable_support_natural_share() = support_natural_.Build();
    *f.mutable_time_to_return() = return_.Build();
    *f.mutable_time_to_full_return() = full_return_.Build();
    *f.mutable_sustained_return() = sustained_return_.Build();
    for (const WindowSum& window : reopen_) {
      *f.add_reopen_after_success() = window.Build();
    }
    *f.mutable_open_to_close() = open_to_close_.Build();
    for (size_t i = 0; i < buckets_.size(); ++i) {
      v1::DurationBucket* bucket = f.add_open_to_close_buckets();
      bucket->set_label(buckets_[i].label);
      bucket->set_min_days(buckets_[i].min_days);
      if (buckets_[i].max_days) bucket->set_max_days(*buckets_[i].max_days);
      bucket->set_cases(bucket_counts_[i]);
    }
    return f;
  }

 private:
  std::vector<Bucket> buckets_;
  std::vector<uint64_t> bucket_counts_;
  uint64_t cases_ = 0;
  Scores gas_baseline_;
  Scores gas_follow_up_;
  Scores gas_change_;
  RateSum goal_attainment_;
  RateSum step_completion_;
  RateSum step_on_time_;
  Survival first_goal_;
  Survival first_assessment_;
  RateSum community_contact_;
  RateSum natural_resource_;
  RateSum outreach_;
  Scores days_since_contact_;
  MeasureSum brs_;
  MeasureSum gse_;
  MeasureSum mspss_;
  Scores support_active_;
  RateSum support_natural_;
  Survival return_;
  Survival full_return_;
  WindowSum sustained_return_;
  std::vector<WindowSum> reopen_;
  Survival open_to_close_;
};

}  // namespace

absl::Status ValidateMetricsConfig(const MetricsConfig& config) {
  const ScoringConfig& scoring = config.scoring;
  if (!(scoring.gas_rho >= 0 && scoring.gas_rho < 1)) {
    return Invalid("scoring.gas_rho", "must be in [0, 1)");
  }
  if (!(scoring.brs_low_below <= scoring.brs_high_above)) {
    return Invalid("scoring.brs_low_below",
                   "must not be above scoring.brs_high_above");
  }
  if (scoring.gse_max_missing < 0 || scoring.gse_max_missing > 9) {
    return Invalid("scoring.gse_max_missing", "must be 0..9");
  }
  if (config.sustained_return_days <= 0) {
    return Invalid("sustained_return_days", "must be positive");
  }
  for (size_t i = 0; i < config.reopen_windows_days.size(); ++i) {
    if (config.reopen_windows_days[i] <= 0 ||
        (i > 0 &&
         config.reopen_windows_days[i] <= config.reopen_windows_days[i - 1])) {
      return Invalid(absl::StrCat("reopen_windows_days[", i, "]"),
                     "must be positive and ascending");
    }
  }
  const std::vector<int>& bounds = config.open_to_close_bucket_upper_days;
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (bounds[i] < 0 || (i > 0 && bounds[i] <= bounds[i - 1])) {
      return Invalid(absl::StrCat("open_to_close_bucket_upper_days[", i, "]"),
                     "must be non-negative and ascending");
    }
  }
  if (config.min_group_size < 0) {
    return Invalid("min_group_size", "must not be negative");
  }
  return absl::OkStatus();
}

absl::Status ValidateMetricsQuery(const MetricsQuery& query) {
  if (!IsValidDate(query.as_of)) {
    return Invalid(
        "as_of", IsSet(query.as_of) ? "not a valid calendar date" : "required");
  }
  const int group_by = static_cast<int>(query.group_by);
  if (group_by < static_cast<int>(GroupBy::kNone) ||
      group_by > static_cast<int>(GroupBy::kTrainingCycle)) {
    return Invalid("group_by", "unknown");
  }
  if (query.cohort) {
    const std::string& c = *query.cohort;
    bool ok = c.size() == 7 && c[4] == '-';
    for (int i : {0, 1, 2, 3, 5, 6}) {
      ok = ok && absl::ascii_isdigit(static_cast<unsigned char>(c[i]));
    }
    if (ok) {
      const int year = std::stoi(c.substr(0, 4));
      const int month = std::stoi(c.substr(5, 2));
      ok = year >= 1 && month >= 1 && month <= 12;
    }
    if (!ok) return Invalid("cohort", "must be YYYY-MM");
  }
  if (query.opened_from && !IsValidDate(*query.opened_from)) {
    return Invalid("opened_from", "not a valid calendar date");
  }
  if (query.opened_to && !IsValidDate(*query.opened_to)) {
    return Invalid("opened_to", "not a valid calendar date");
  }
  if (query.opened_from && query.opened_to &&
      Compare(*query.opened_from, *query.opened_to) > 0) {
    return Invalid("opened_from", "after opened_to");
  }
  if (query.training_cycle && !IsTrainingCycleKey(*query.training_cycle)) {
    return Invalid(
        "training_cycle",
        absl::StrCat("must be ", kTrainingCycleNone, ", ", kTrainingCycleRfcm1,
                     " or ", kTrainingCycleRfcmFollowUp));
  }
  return absl::OkStatus();
}

v1::CaseMetrics ComputeCaseMetrics(const v1::CaseFacts& facts,
                                   const v1::Date& as_of,
                                   const MetricsConfig& config) {
  v1::CaseMetrics m;
  m.set_case_id(facts.case_id());
  *m.mutable_as_of() = as_of;
  m.set_position(facts.position());
  m.set_version(facts.version());

  const Lifecycle life = LifecycleAt(facts, as_of);
  const v1::Date end_of_observation = life.closed ? life.closing_date : as_of;

  *m.mutable_gas() = ComputeGas(facts, config.scoring.gas_rho);
  *m.mutable_goal_attainment() =
      MakeRate(facts.goals_achieved(), facts.goals_set());

  uint64_t due = 0, completed = 0, on_time = 0;
  for (const v1::CaseFacts::Step& step : facts.steps()) {
    if (step.dropped()) continue;
    const bool done = HappenedBy(step.completed_on(), as_of);
    if (!done && !HappenedBy(step.target_date(), as_of)) continue;
    ++due;
    if (!done) continue;
    ++completed;
    if (!IsSet(step.target_date()) ||
        Compare(step.completed_on(), step.target_date()) <= 0) {
      ++on_time;
    }
  }
  *m.mutable_step_completion() = MakeRate(completed, due);
  *m.mutable_step_on_time() = MakeRate(on_time, due);

  *m.mutable_time_to_first_goal() = TimeTo(
      facts.opened_on(), facts.first_goal_on(), end_of_observation, as_of);
  *m.mutable_time_to_first_assessment() =
      TimeTo(facts.opened_on(), facts.first_assessment_on(), end_of_observation,
             as_of);

  const uint64_t contacts = facts.contacts_completed();
  *m.mutable_community_contact_share() =
      MakeRate(facts.contacts_outside_office(), contacts);
  const uint64_t natural_or_community =
      uint64_t{facts.resources_natural()} + facts.resources_community();
  *m.mutable_natural_resource_share() = MakeRate(
      natural_or_community, natural_or_community + facts.resources_formal());
  *m.mutable_outreach_yield() =
      MakeRate(contacts, contacts + facts.outreach_attempts());
  // The last contact on or before as_of (a later one does not count yet).
  v1::Date last_contact;
  for (const v1::Date& on : facts.contacts_on()) {
    if (HappenedBy(on, as_of) && Compare(on, last_contact) > 0) {
      last_contact = on;
    }
  }
  if (facts.contacts_on_size() == 0 &&
      HappenedBy(facts.last_contact_on(), as_of)) {
    last_contact = facts.last_contact_on();  // facts that list no dates
  }
  if (IsSet(last_contact)) {
    m.set_days_since_last_contact(DaysBetween(last_contact, as_of));
  }

  *m.mutable_brs() = ComputeMeasure(facts, v1::INSTRUMENT_BRS, as_of);
  *m.mutable_gse() = ComputeMeasure(facts, v1::INSTRUMENT_GSE, as_of);
  *m.mutable_mspss() = ComputeMeasure(facts, v1::INSTRUMENT_MSPSS, as_of);

  m.set_support_active_members(facts.support_active());
  *m.mutable_support_natural_share() =
      MakeRate(facts.support_active_natural(), facts.support_active());

  *m.mutable_time_to_return() =
      TimeTo(facts.absence_first_day(), facts.return_first_day(),
             end_of_observation, as_of);
  *m.mutable_time_to_full_return() =
      TimeTo(facts.absence_first_day(), facts.full_return_on(),
             end_of_observation, as_of);
  *m.mutable_sustained_return() =
      SustainedReturn(facts, as_of, config.sustained_return_days);
  ReopenAfterSuccess(facts, as_of, config.reopen_windows_days, m);

  *m.mutable_open_to_close() =
      TimeTo(facts.opened_on(), life.closing_date, as_of, as_of);
  if (m.open_to_close().observation() == v1::EVENT_OBSERVATION_OBSERVED) {
    const std::vector<Bucket> buckets =
        Buckets(config.open_to_close_bucket_upper_days);
    m.set_open_to_close_bucket(
        buckets[BucketIndex(buckets, m.open_to_close().days())].label);
  }
  return m;
}

std::string GroupKey(
    const v1::CaseFacts& facts,
    const absl::flat_hash_map<std::string, v1::CaseworkerFacts>& caseworkers,
    GroupBy group_by, const v1::Date& as_of) {
  switch (group_by) {
    case GroupBy::kNone:
      return kAllKey;
    case GroupBy::kProgram:
      return OrUnknown(facts.program());
    case GroupBy::kCaseManager:
      return OrUnknown(facts.case_manager_id());
    case GroupBy::kTeam:
      return OrUnknown(facts.team());
    case GroupBy::kCohort:
      return CohortKey(facts);
    case GroupBy::kPeriod: {
      const Lifecycle life = LifecycleAt(facts, as_of);
      return life.closed ? QuarterKey(life.closing_date) : kOpenPeriod;
    }
    case GroupBy::kTrainingCycle:
      return TrainingCycleKey(facts, caseworkers);
  }
  return kUnknownKey;
}

v1::MetricsReport AggregateMetrics(
    const std::vector<v1::CaseFacts>& cases,
    const absl::flat_hash_map<std::string, v1::CaseworkerFacts>& caseworkers,
    const MetricsQuery& query, const MetricsConfig& config, uint64_t position,
    uint32_t projection_version) {
  std::map<std::string, GroupSum> groups;
  if (query.group_by == GroupBy::kNone) groups.emplace(kAllKey, config);
  for (const v1::CaseFacts& facts : cases) {
    if (!IsCountable(facts, query.as_of)) continue;
    if (!Matches(facts, caseworkers, query)) continue;
    const std::string key =
        GroupKey(facts, caseworkers, query.group_by, query.as_of);
    auto it = groups.try_emplace(key, config).first;
    it->second.Add(ComputeCaseMetrics(facts, query.as_of, config));
  }

  v1::MetricsReport report;
  report.set_group_by(ToProto(query.group_by));
  v1::MetricsFilters& filters = *report.mutable_filters();
  if (query.program) filters.set_program(*query.program);
  if (query.case_manager_id)
    filters.set_case_manager_id(*query.case_manager_id);
  if (query.team) filters.set_team(*query.team);
  if (query.cohort) filters.set_cohort(*query.cohort);
  if (query.opened_from) *filters.mutable_opened_from() = *query.opened_from;
  if (query.opened_to) *filters.mutable_opened_to() = *query.opened_to;
  if (query.training_cycle) filters.set_training_cycle(*query.training_cycle);
  report.set_projection_version(projection_version);
  report.set_position(position);
  *report.mutable_as_of() = query.as_of;
  report.set_min_group_size(std::max(0, config.min_group_size));

  for (const auto& [key, sum] : groups) {
    v1::MetricGroup* group = report.add_groups();
    group->set_key(key);
    if (sum.cases() <
        static_cast<uint64_t>(std::max(0, config.min_group_size))) {
      group->set_suppressed(true);
      continue;
    }
    group->set_cases(sum.cases());
    *group->mutable_figures() = sum.Build();
  }
  return report;
}

std::optional<double> KaplanMeierMedian(std::vector<SurvivalTime> times) {
  std::sort(times.begin(), times.end(),
            [](const SurvivalTime& a, const SurvivalTime& b) {
              return a.days < b.days;
            });
  size_t at_risk = times.size();
  double survival = 1.0;
  std::optional<int64_t> half_at;  // event time where survival hit 0.5
  size_t i = 0;
  while (i < times.size()) {
    const int64_t t = times[i].days;
    size_t events = 0;
    size_t leaving = 0;
    for (; i < times.size() && times[i].days == t; ++i) {
      if (times[i].observed) ++events;
      ++leaving;
    }
    if (events > 0) {
      if (half_at) return (static_cast<double>(*half_at) + t) / 2;
      survival *= 1.0 - static_cast<double>(events) / at_risk;
      if (std::abs(survival - 0.5) < kSurvivalEpsilon) {
        half_at = t;
      } else if (survival < 0.5) {
        return static_cast<double>(t);
      }
    }
    at_risk -= leaving;
  }
  if (half_at) return static_cast<double>(*half_at);
  return std::nullopt;
}

}  // namespace caseledger::projections
