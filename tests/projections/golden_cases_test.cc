// Golden cases: three realistic cases scripted event by event from the seed
// texts (DOMAIN.md, ../shared/seeds), run through the real log and the
// case projection, with the exact plan, timeline and metrics they must give.
//
//  - Sarah (housing-first): the Resiliency Model's homelessness case study.
//    Strengths assessment over the seven Strengths Model life domains,
//    goals in her words, natural / community / formal resources, a friend
//    as natural support, outreach, BRS and MSPSS at intake and exit, a
//    corrected goal (typed target date), a successful close and a reopening
//    about rent arrears.
//  - Marco (return-to-work after burnout, XpertCenter text): two mediated
//    employer discussions, graded hours 50% -> 75% -> 100% of his 80%
//    contract, a stress-management coping strategy, a dropped step, a
//    duplicate contact entered in error, BRS and GSE at intake and exit.
//  - Ruth (return to work after a brain injury): workplace configuration and
//    work structuring agreed with the employer, 50% -> 100%, a schedule
//    change corrected afterwards, a close, then an AbsenceRecurred within
//    90 days of the return and a reopening.
// The case manager of both return-to-work cases completes the RFCM training
// cycles on her own caseworker stream.
//
// Every expected number below is derived by hand from DOMAIN.md and the
// rules in projections/metrics.h; the derivation is in the comment beside
// it.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/case_projection.h"
#include "projections/dates.h"
#include "projections/metrics.h"
#include "projections/point_in_time.h"
#include "tests/testing/event_builders.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace caseledger::projections {
namespace {

using ::caseledger::testing::MakeEvent;
using ::caseledger::testing::TempDir;
using ::testing::ElementsAre;

constexpr double kTolerance = 1e-4;

// ---------------------------------------------------------------------------
// Time and dates
// ---------------------------------------------------------------------------

// `hour`:`minute` UTC on the given day.
absl::Time At(int year, int month, int day, int hour = 10, int minute = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0),
                         absl::UTCTimeZone());
}

// The end of the given day (UTC), for "as it stood that day".
absl::Time EndOf(int year, int month, int day) {
  return At(year, month, day, 23, 59);
}

v1::Date D(int year, int month, int day) { return MakeDate(year, month, day); }

// ---------------------------------------------------------------------------
// Payload builders
// ---------------------------------------------------------------------------

v1::EventPayload CaseOpened(const std::string& client_ref,
                            const std::string& name, const std::string& program,
                            const std::string& referral,
                            const std::string& manager,
                            const std::string& team) {
  v1::EventPayload p;
  v1::CaseOpened* o = p.mutable_case_opened();
  o->set_client_ref(client_ref);
  o->set_client_name(name);
  o->set_program(program);
  o->set_referral_source(referral);
  o->set_case_manager_id(manager);
  o->set_team(team);
  o->set_organization("org-golden");
  return p;
}

v1::EventPayload Consent(const std::string& id,
                         const std::vector<std::string>& purposes,
                         const std::vector<std::string>& recipients,
                         const std::vector<v1::SensitivityLabel>& categories,
                         const v1::Date& expires = v1::Date()) {
  v1::EventPayload p;
  v1::ConsentGiven* c = p.mutable_consent_given();
  c->set_consent_id(id);
  for (const auto& s : purposes) c->add_purposes(s);
  for (const auto& s : recipients) c->add_recipients(s);
  for (auto l : categories) c->add_data_categories(l);
  *c->mutable_expires_on() = expires;
  return p;
}

v1::EventPayload Outreach(v1::OutreachOutcome outcome, v1::ContactMode mode,
                          v1::ContactLocation location,
                          const std::string& note) {
  v1::EventPayload p;
  v1::OutreachAttempted* o = p.mutable_outreach_attempted();
  o->set_outcome(outcome);
  o->set_mode(mode);
  o->set_location(location);
  o->set_note(note);
  return p;
}

v1::EventPayload Contact(const std::string& id, v1::ContactLocation location,
                         uint32_t minutes, const std::string& purpose,
                         const std::vector<std::string>& participants) {
  v1::EventPayload p;
  v1::ContactRecorded* c = p.mutable_contact_recorded();
  c->set_contact_id(id);
  c->set_mode(v1::CONTACT_MODE_IN_PERSON);
  c->set_location(location);
  c->set_duration_minutes(minutes);
  c->set_purpose(purpose);
  for (const auto& s : participants) c->add_participants(s);
  return p;
}

// Raw answers in item order; 0 leaves the item unanswered.
v1::EventPayload Measure(const std::string& id, v1::Instrument instrument,
                         v1::TimePoint time_point, const v1::Date& on,
                         const std::vector<int>& answers) {
  v1::EventPayload p;
  v1::MeasureAdministered* m = p.mutable_measure_administered();
  m->set_measure_id(id);
  m->set_instrument(instrument);
  m->set_instrument_version("1.0");
  m->set_time_point(time_point);
  *m->mutable_administered_on() = on;
  for (size_t i = 0; i < answers.size(); ++i) {
    if (answers[i] == 0) continue;
    v1::ItemResponse* r = m->add_responses();
    r->set_item(static_cast<uint32_t>(i + 1));
    r->set_value(answers[i]);
  }
  return p;
}

struct DomainRow {
  std::string domain;
  std::string today;  // "What's going on today?"
  std::string want;   // "What do I want?"
  std::string used;   // "What have I used in the past?"
};

struct Priority {
  std::string domain;
  std::string text;
};

v1::EventPayload Assessment(const std::string& id,
                            const std::vector<DomainRow>& rows,
                            const std::vector<Priority>& priorities) {
  v1::EventPayload p;
  v1::StrengthsAssessmentRecorded* a =
      p.mutable_strengths_assessment_recorded();
  a->set_assessment_id(id);
  a->set_domain_config_version("strengths-model-3ed/1");
  for (const DomainRow& row : rows) {
    v1::DomainAssessment* d = a->add_domains();
    d->set_domain(row.domain);
    d->set_current_status(row.today);
    d->set_desires(row.want);
    d->set_resources(row.used);
  }
  for (size_t i = 0; i < priorities.size(); ++i) {
    v1::AssessmentPriority* pr = a->add_priorities();
    pr->set_rank(static_cast<uint32_t>(i + 1));
    pr->set_domain(priorities[i].domain);
    pr->set_text(priorities[i].text);
  }
  return p;
}

v1::EventPayload Goal(const std::string& id, const std::string& statement,
                      const std::string& why, const std::string& domain,
                      const std::vector<std::string>& strengths,
                      const v1::Date& target) {
  v1::EventPayload p;
  v1::GoalSet* g = p.mutable_goal_set();
  g->set_goal_id(id);
  g->set_statement(statement);
  g->set_why_important(why);
  g->set_life_domain(domain);
  for (const auto& s : strengths) g->add_strengths(s);
  g->set_lifecycle_status(v1::GOAL_LIFECYCLE_STATUS_ACTIVE);
  g->set_achievement_status(v1::GOAL_ACHIEVEMENT_STATUS_IN_PROGRESS);
  *g->mutable_target_date() = target;
  return p;
}

v1::EventPayload GoalRevisedTarget(const std::string& goal,
                                   const v1::Date& target,
                                   const std::string& reason) {
  v1::EventPayload p;
  p.mutable_goal_revised()->set_goal_id(goal);
  *p.mutable_goal_revised()->mutable_target_date() = target;
  p.mutable_goal_revised()->set_reason(reason);
  return p;
}

v1::EventPayload GoalStatus(const std::string& goal,
                            v1::GoalLifecycleStatus lifecycle,
                            v1::GoalAchievementStatus achievement,
                            const std::string& reason) {
  v1::EventPayload p;
  v1::GoalStatusChanged* c = p.mutable_goal_status_changed();
  c->set_goal_id(goal);
  c->set_lifecycle_status(lifecycle);
  c->set_achievement_status(achievement);
  c->set_reason(reason);
  return p;
}

v1::EventPayload Step(const std::string& goal, const std::string& step,
                      const std::string& description,
                      v1::ResponsibleParty responsible,
                      const std::string& responsible_name,
                      const v1::Date& target) {
  v1::EventPayload p;
  v1::PlanStepAdded* s = p.mutable_plan_step_added();
  s->set_goal_id(goal);
  s->set_step_id(step);
  s->set_description(description);
  s->set_responsible(responsible);
  s->set_responsible_name(responsible_name);
  *s->mutable_target_date() = target;
  return p;
}

v1::EventPayload StepDone(const std::string& step, const v1::Date& on,
                          const std::string& note = "") {
  v1::EventPayload p;
  p.mutable_plan_step_completed()->set_step_id(step);
  *p.mutable_plan_step_completed()->mutable_completed_on() = on;
  p.mutable_plan_step_completed()->set_note(note);
  return p;
}

v1::EventPayload StepDropped(const std::string& step,
                             const std::string& reason) {
  v1::EventPayload p;
  p.mutable_plan_step_dropped()->set_step_id(step);
  p.mutable_plan_step_dropped()->set_reason(reason);
  return p;
}

v1::EventPayload Reviewed(const std::vector<std::string>& participants,
                          const std::string& summary, const v1::Date& next) {
  v1::EventPayload p;
  v1::PlanReviewed* r = p.mutable_plan_reviewed();
  for (const auto& s : participants) r->add_participants(s);
  r->set_client_agreed(true);
  r->set_summary(summary);
  *r->mutable_next_review_on() = next;
  return p;
}

// `texts` are the level descriptions for -2, -1, 0, +1, +2. weight < 0
// leaves the weight unset (which means 1).
v1::EventPayload GasScale(const std::string& goal,
                          const std::vector<std::string>& texts, int baseline,
                          double weight = -1) {
  v1::EventPayload p;
  v1::GasScaleDefined* g = p.mutable_gas_scale_defined();
  g->set_goal_id(goal);
  for (int level = -2; level <= 2; ++level) {
    v1::GasLevel* l = g->add_levels();
    l->set_level(level);
    l->set_description(texts[level + 2]);
  }
  g->set_baseline_level(baseline);
  if (weight >= 0) g->set_weight(weight);
  return p;
}

v1::EventPayload GasRate(const std::string& goal, int level,
                         v1::TimePoint time_point, const v1::Date& on) {
  v1::EventPayload p;
  v1::GasRated* r = p.mutable_gas_rated();
  r->set_goal_id(goal);
  r->set_level(level);
  r->set_time_point(time_point);
  *r->mutable_rated_on() = on;
  return p;
}

v1::EventPayload Resource(const std::string& id, const std::string& name,
                          v1::ResourceKind kind, const std::string& domain,
                          const std::string& goal) {
  v1::EventPayload p;
  v1::ResourceConnected* r = p.mutable_resource_connected();
  r->set_resource_id(id);
  r->set_name(name);
  r->set_kind(kind);
  r->set_life_domain(domain);
  r->set_goal_id(goal);
  return p;
}

v1::EventPayload Person(const std::string& id, const std::string& name,
                        const std::string& relation,
                        const std::vector<v1::SupportKind>& kinds,
                        bool natural) {
  v1::EventPayload p;
  v1::SupportPersonAdded* a = p.mutable_support_person_added();
  a->set_person_id(id);
  a->set_name(name);
  a->set_relation(relation);
  for (auto k : kinds) a->add_support_kinds(k);
  a->set_natural(natural);
  return p;
}

v1::EventPayload Factor(const std::string& id, v1::ResilienceFactor factor,
                        const std::string& words) {
  v1::EventPayload p;
  v1::ProtectiveFactorIdentified* f = p.mutable_protective_factor_identified();
  f->set_factor_id(id);
  f->set_factor(factor);
  f->set_client_words(words);
  return p;
}

v1::EventPayload Coping(const std::string& id, const std::string& category,
                        const std::string& description,
                        const std::string& practice) {
  v1::EventPayload p;
  v1::CopingStrategyAgreed* c = p.mutable_coping_strategy_agreed();
  c->set_strategy_id(id);
  c->set_category(category);
  c->set_description(description);
  c->set_practice(practice);
  return p;
}

v1::EventPayload LifeStatus(const std::string& income,
                            v1::LivingSituation living, uint32_t friends) {
  v1::EventPayload p;
  p.mutable_life_status_recorded()->set_income_source(income);
  p.mutable_life_status_recorded()->set_living_situation(living);
  p.mutable_life_status_recorded()->set_close_friends(friends);
  return p;
}

v1::EventPayload Absence(const std::string& id, const std::string& employer,
                         const v1::Date& first_day, const std::string& cause,
                         uint32_t contracted_percent) {
  v1::EventPayload p;
  v1::AbsenceStarted* a = p.mutable_absence_started();
  a->set_absence_id(id);
  a->set_employer(employer);
  *a->mutable_first_day() = first_day;
  a->set_cause(cause);
  a->set_contracted_percent(contracted_percent);
  return p;
}

v1::EventPayload Capacity(uint32_t percent, const v1::Date& from,
                          const v1::Date& to, const std::string& by) {
  v1::EventPayload p;
  v1::WorkCapacityCertified* w = p.mutable_work_capacity_certified();
  w->set_capacity_percent(percent);
  *w->mutable_valid_from() = from;
  *w->mutable_valid_to() = to;
  w->set_certified_by(by);
  return p;
}

v1::EmployerAgreement Agreement(const std::string& id, v1::AgreementKind kind,
                                const std::string& description,
                                const std::string& owner, const v1::Date& due) {
  v1::EmployerAgreement a;
  a.set_agreement_id(id);
  a.set_kind(kind);
  a.set_description(description);
  a.set_owner(owner);
  *a.mutable_due_on() = due;
  return a;
}

v1::EventPayload Discussion(const std::string& id, const std::string& employer,
                            const std::vector<std::string>& participants,
                            const std::vector<v1::EmployerAgreement>& agreed,
                            const v1::Date& next) {
  v1::EventPayload p;
  v1::EmployerDiscussionMediated* d = p.mutable_employer_discussion_mediated();
  d->set_discussion_id(id);
  d->set_employer(employer);
  for (const auto& s : participants) d->add_participants(s);
  for (const auto& a : agreed) *d->add_agreements() = a;
  *d->mutable_next_on() = next;
  return p;
}

v1::EventPayload ReturnToWork(uint32_t percent, const v1::Date& first_day,
                              const std::string& employer) {
  v1::EventPayload p;
  p.mutable_return_to_work_started()->set_percent(percent);
  *p.mutable_return_to_work_started()->mutable_first_day() = first_day;
  p.mutable_return_to_work_started()->set_employer(employer);
  return p;
}

v1::EventPayload Schedule(uint32_t percent, const v1::Date& from) {
  v1::EventPayload p;
  p.mutable_work_schedule_changed()->set_percent(percent);
  *p.mutable_work_schedule_changed()->mutable_effective_from() = from;
  return p;
}

v1::EventPayload Recurred(const v1::Date& first_day, const std::string& cause) {
  v1::EventPayload p;
  *p.mutable_absence_recurred()->mutable_first_day() = first_day;
  p.mutable_absence_recurred()->set_cause(cause);
  return p;
}

v1::EventPayload Closed(const std::string& destination,
                        const std::string& summary) {
  v1::EventPayload p;
  p.mutable_case_closed()->set_reason(v1::CLOSE_REASON_GOALS_MET);
  p.mutable_case_closed()->set_destination(destination);
  p.mutable_case_closed()->set_outcome(v1::CASE_OUTCOME_SUCCESSFUL);
  p.mutable_case_closed()->set_summary(summary);
  return p;
}

v1::EventPayload Reopened(const std::string& reason) {
  v1::EventPayload p;
  p.mutable_case_reopened()->set_reason(reason);
  return p;
}

v1::EventPayload Corrected(const std::string& target, const std::string& reason,
                           const v1::EventPayload& corrected) {
  v1::EventPayload p;
  p.mutable_event_corrected()->set_target_event_id(target);
  p.mutable_event_corrected()->set_reason(reason);
  *p.mutable_event_corrected()->mutable_corrected() = corrected;
  return p;
}

v1::EventPayload EnteredInError(const std::string& target,
                                const std::string& reason) {
  v1::EventPayload p;
  p.mutable_event_entered_in_error()->set_target_event_id(target);
  p.mutable_event_entered_in_error()->set_reason(reason);
  return p;
}

v1::EventPayload Training(const std::string& caseworker,
                          v1::TrainingCycle cycle, const v1::Date& on) {
  v1::EventPayload p;
  p.mutable_training_cycle_completed()->set_caseworker_id(caseworker);
  p.mutable_training_cycle_completed()->set_cycle(cycle);
  *p.mutable_training_cycle_completed()->mutable_completed_on() = on;
  return p;
}

// ---------------------------------------------------------------------------
// Readable views of the plan for exact comparison
// ---------------------------------------------------------------------------

std::string GoalLine(const v1::PlanGoal& g) {
  return absl::StrCat(g.goal_id(), " | ", g.statement(), " | ",
                      v1::GoalLifecycleStatus_Name(g.lifecycle_status()), " | ",
                      v1::GoalAchievementStatus_Name(g.achievement_status()),
                      " | target ", FormatDate(g.target_date()), " | set ",
                      FormatDate(g.set_on()));
}

std::vector<std::string> GoalLines(const v1::CasePlan& plan) {
  std::vector<std::string> lines;
  for (const v1::PlanGoal& g : plan.goals()) lines.push_back(GoalLine(g));
  return lines;
}

std::vector<std::string> StepLines(const v1::CasePlan& plan) {
  std::vector<std::string> lines;
  for (const v1::PlanGoal& g : plan.goals()) {
    for (const v1::PlanStep& s : g.steps()) {
      lines.push_back(absl::StrCat(
          g.goal_id(), "/", s.step_id(), " | ", v1::StepStatus_Name(s.status()),
          " | ", v1::ResponsibleParty_Name(s.responsible()),
          s.responsible_name().empty() ? "" : " " + s.responsible_name(),
          " | target ", FormatDate(s.target_date()), " | done ",
          FormatDate(s.completed_on()),
          s.drop_reason().empty() ? "" : " | dropped: " + s.drop_reason()));
    }
  }
  return lines;
}

std::vector<std::string> ResourceLines(const v1::CasePlan& plan) {
  std::vector<std::string> lines;
  for (const v1::ConnectedResource& r : plan.resources()) {
    lines.push_back(absl::StrCat(v1::ResourceKind_Name(r.kind()), " | ",
                                 r.name(), " | ", r.life_domain(), " | ",
                                 r.goal_id(), " | ",
                                 r.active() ? "active" : "inactive", " | ",
                                 FormatDate(r.connected_on())));
  }
  return lines;
}

std::vector<std::string> AgreementLines(const v1::CasePlan& plan) {
  std::vector<std::string> lines;
  for (const v1::PlanAgreement& a : plan.employer_agreements()) {
    lines.push_back(absl::StrCat(
        a.discussion_id(), "/", a.agreement().agreement_id(), " | ",
        FormatDate(a.discussed_on()), " | ", a.employer(), " | ",
        v1::AgreementKind_Name(a.agreement().kind()), " | ",
        a.agreement().description(), " | owner ", a.agreement().owner(),
        " | due ", FormatDate(a.agreement().due_on())));
  }
  return lines;
}

std::vector<std::string> ConsentLines(const v1::CasePlan& plan) {
  std::vector<std::string> lines;
  for (const v1::ConsentInForce& c : plan.consents()) {
    std::vector<std::string> categories;
    for (int l : c.data_categories()) {
      categories.push_back(
          v1::SensitivityLabel_Name(static_cast<v1::SensitivityLabel>(l)));
    }
    lines.push_back(absl::StrCat(
        c.consent_id(), " | ", absl::StrJoin(c.purposes(), ","), " | ",
        absl::StrJoin(c.recipients(), ","), " | ",
        absl::StrJoin(categories, ","), " | given ", FormatDate(c.given_on()),
        " | expires ", FormatDate(c.expires_on())));
  }
  return lines;
}

const v1::MeasureScore* FindMeasure(const v1::CasePlan& plan,
                                    v1::Instrument instrument,
                                    v1::TimePoint time_point) {
  for (const v1::MeasureScore& m : plan.measures()) {
    if (m.instrument() == instrument && m.time_point() == time_point) {
      return &m;
    }
  }
  return nullptr;
}

void ExpectRate(const v1::Rate& rate, uint64_t numerator, uint64_t denominator,
                const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(rate.numerator(), numerator);
  EXPECT_EQ(rate.denominator(), denominator);
  ASSERT_EQ(rate.has_value(), denominator > 0);
  if (denominator > 0) {
    EXPECT_NEAR(rate.value(), static_cast<double>(numerator) / denominator,
                kTolerance);
  }
}

void ExpectTime(const v1::TimeToEvent& t, v1::EventObservation observation,
                int64_t days, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(v1::EventObservation_Name(t.observation()),
            v1::EventObservation_Name(observation));
  EXPECT_EQ(t.days(), days);
}

void ExpectChange(const v1::ScoreChange& c, double intake, double exit,
                  double change, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_TRUE(c.has_intake());
  ASSERT_TRUE(c.has_exit());
  ASSERT_TRUE(c.has_change());
  EXPECT_NEAR(c.intake(), intake, kTolerance);
  EXPECT_NEAR(c.exit(), exit, kTolerance);
  EXPECT_NEAR(c.change(), change, kTolerance);
}

std::vector<std::string> WindowLines(const v1::CaseMetrics& m) {
  std::vector<std::string> lines;
  for (const v1::WindowOutcome& w : m.reopen_after_success()) {
    lines.push_back(
        absl::StrCat(w.window_days(), " ", v1::WindowStatus_Name(w.status())));
  }
  return lines;
}

// ---------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------

// One stream being scripted: its events get fixed ids "<prefix><seq>-...",
// so the timeline's eight-character event references are stable.
struct Stream {
  std::string case_id;
  std::string prefix;  // two hex digits
  std::string actor;
  int seq = 0;
};

class GoldenCasesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine::EventLogOptions options;
    options.path = dir_.Sub("log");
    options.clock = &clock_;
    ASSERT_OK_AND_ASSIGN(log_, engine::EventLog::Open(options));
  }

  // Appends one event to `stream`, occurred at `occurred` and recorded when
  // the server clock reads `recorded` (default: 17:00 UTC the same day).
  // Returns the event id; positions_ maps it to its global position.
  std::string Add(Stream& stream, absl::Time occurred,
                  const v1::EventPayload& payload,
                  absl::Time recorded = absl::InfinitePast(),
                  std::vector<v1::SensitivityLabel> labels = {}) {
    if (recorded == absl::InfinitePast()) {
      const absl::CivilDay day =
          absl::ToCivilDay(occurred, absl::UTCTimeZone());
      recorded = absl::FromCivil(day, absl::UTCTimeZone()) + absl::Hours(17);
    }
    ++stream.seq;
    v1::Event event = MakeEvent(payload, occurred);
    const std::string id = absl::StrFormat(
        "%s%06x-0000-4000-8000-%012x", stream.prefix, stream.seq, stream.seq);
    event.mutable_envelope()->set_event_id(id);
    event.mutable_envelope()->mutable_actor()->set_user_id(stream.actor);
    event.mutable_envelope()->mutable_actor()->set_role("case-manager");
    for (auto l : labels) event.mutable_envelope()->add_sensitivity(l);
    clock_.Set(recorded);
    engine::AppendRequest request;
    request.case_id = stream.case_id;
    request.expected = engine::ExpectedVersion::Exact(stream.seq - 1);
    request.events.push_back(std::move(event));
    absl::StatusOr<engine::AppendResult> r = log_->Append(request);
    EXPECT_OK(r.status()) << stream.case_id << " event " << stream.seq;
    if (r.ok()) positions_[id] = r->last_position;
    return id;
  }

  std::unique_ptr<CaseProjection> CatchUp(int min_group_size = 5) {
    CaseProjectionOptions options;
    options.dir = dir_.Sub("projection");
    options.metrics.min_group_size = min_group_size;
    absl::StatusOr<std::unique_ptr<CaseProjection>> p =
        CaseProjection::Open(options, log_.get());
    EXPECT_OK(p.status());
    if (!p.ok()) return nullptr;
    EXPECT_OK((*p)->CatchUp());
    return std::move(p).value();
  }

  std::vector<v1::TimelineEntry> Timeline(const CaseProjection& projection,
                                          const std::string& case_id) {
    TimelineQuery query;
    query.case_id = case_id;
    query.page_size = 1000;
    absl::StatusOr<TimelinePage> page = projection.GetTimeline(query);
    EXPECT_OK(page.status());
    if (!page.ok()) return {};
    EXPECT_EQ(page->next_version, 0u);
    return page->entries;
  }

  static std::vector<std::string> Summaries(
      const std::vector<v1::TimelineEntry>& entries) {
    std::vector<std::string> lines;
    for (const auto& e : entries) lines.push_back(e.summary());
    return lines;
  }

  static void ExpectLines(const std::vector<std::string>& actual,
                          const std::vector<std::string>& expected) {
    EXPECT_EQ(actual.size(), expected.size());
    for (size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
      EXPECT_EQ(actual[i], expected[i]) << "line " << i + 1;
    }
  }

  // The RFCM cycles of case manager cm-anna, on her own stream (DOMAIN.md,
  // "caseworker (own stream)"): cycle 1 in January 2024, the follow-up
  // cycle in September 2024.
  void ScriptAnnaTraining(bool with_follow_up) {
    Add(anna_, At(2024, 1, 26),
        Training("cm-anna", v1::TRAINING_CYCLE_RFCM_CYCLE_1, D(2024, 1, 26)));
    if (with_follow_up) {
      Add(anna_, At(2024, 9, 20),
          Training("cm-anna", v1::TRAINING_CYCLE_RFCM_FOLLOW_UP,
                   D(2024, 9, 20)));
    }
  }

  void ScriptSarah();
  void ScriptMarco();
  void ScriptRuth();

  TempDir dir_;
  ::caseledger::testing::FakeClock clock_;
  std::unique_ptr<engine::EventLog> log_;
  absl::flat_hash_map<std::string, uint64_t> positions_;

  Stream sarah_{"case-sarah", "5a", "cm-lena"};
  Stream marco_{"case-marco", "b0", "cm-anna"};
  Stream ruth_{"case-ruth", "c0", "cm-anna"};
  Stream anna_{"caseworker-cm-anna", "cc", "cm-anna"};

  // Events the tests refer back to.
  std::string sarah_art_goal_;   // GoalSet with the mistyped target date
  std::string sarah_fix_;        // its EventCorrected
  std::string marco_duplicate_;  // ContactRecorded entered twice
  std::string marco_in_error_;   // its EventEnteredInError
  std::string ruth_schedule_;    // WorkScheduleChanged with the wrong date
  std::string ruth_fix_;         // its EventCorrected
  std::string ruth_absence_;     // AbsenceStarted (labelled HEALTH)
};

// ---------------------------------------------------------------------------
// Sarah: homelessness, housing-first (Resiliency Model case study)
// ---------------------------------------------------------------------------

constexpr char kFlat[] = "Get my own flat";
constexpr char kArt[] = "Paint again and sell my cards at the Saturday market";
constexpr char kSleep[] = "Sleep through the night and panic less";
constexpr char kKeep[] = "Keep my flat";
constexpr char kHome[] = "Home/Daily Living";
constexpr char kAssets[] = "Assets (financial/insurance)";
constexpr char kWork[] = "Employment/Education/Specialized Knowledge";
constexpr char kRelations[] = "Supportive Relationships";
constexpr char kHealth[] = "Wellness/Health";
constexpr char kLeisure[] = "Leisure/Recreation";
constexpr char kSpirit[] = "Spirituality/Culture";

void GoldenCasesTest::ScriptSarah() {
  Stream& s = sarah_;
  // 1-3: opened from the night shelter; consent; first outreach fails.
  Add(s, At(2024, 3, 4),
      CaseOpened("cl-1001", "Sarah", "housing-first", "Riverside night shelter",
                 "cm-lena", "team-north"));
  Add(s, At(2024, 3, 4),
      Consent("cons-sarah-1", {"treatment", "housing-application"},
              {"City Housing Office", "Riverside Mental Health Centre"},
              {v1::SENSITIVITY_LABEL_HEALTH}, D(2026, 3, 4)));
  Add(s, At(2024, 3, 5),
      Outreach(v1::OUTREACH_OUTCOME_NOT_FOUND, v1::CONTACT_MODE_IN_PERSON,
               v1::CONTACT_LOCATION_COMMUNITY,
               "Not at the shelter breakfast or at the day centre"));
  // 4-6: first meeting in the community; intake measures.
  Add(s, At(2024, 3, 7),
      Contact("c-sarah-1", v1::CONTACT_LOCATION_COMMUNITY, 60,
              "First meeting over coffee at the day centre",
              {"Sarah", "cm-lena"}));
  Add(s, At(2024, 3, 7),
      Measure("m-sarah-brs-1", v1::INSTRUMENT_BRS, v1::TIME_POINT_BASELINE,
              D(2024, 3, 7), {2, 4, 2, 4, 2, 3}));
  Add(s, At(2024, 3, 7),
      Measure("m-sarah-mspss-1", v1::INSTRUMENT_MSPSS, v1::TIME_POINT_BASELINE,
              D(2024, 3, 7), {3, 3, 2, 2, 4, 5, 5, 2, 5, 3, 2, 4}));
  // 7-8: strengths assessment at the office.
  Add(s, At(2024, 3, 14),
      Contact("c-sarah-2", v1::CONTACT_LOCATION_OFFICE, 90,
              "Strengths assessment; Sarah looked at flats on the office "
              "computer",
              {"Sarah", "cm-lena"}));
  Add(s, At(2024, 3, 14),
      Assessment(
          "sa-sarah-1",
          {{kHome,
            "Sleeping at the Riverside night shelter since January; "
            "my things are in two bags",
            "A small flat of my own with light to paint by",
            "I kept a tidy room in a shared flat for six years"},
           {kAssets, "Unemployment benefit; no debts except a phone bill",
            "Enough money for rent and paints",
            "I budgeted well when I worked at the print shop"},
           {kWork, "Lost my job at the print shop last autumn",
            "Sell my cards, maybe work in a framing shop",
            "Two years of art school; I am good at lettering"},
           {kRelations, "Split up with my partner; Maria still calls me",
            "See Maria every week and make new friends",
            "Maria and my friends from art school"},
           {kHealth, "Panic attacks at night, four hours of sleep",
            "Sleep through the night", "Walking by the river calmed me"},
           {kLeisure, "Sketching in the library", "Paint every week",
            "Painting on Saturday mornings"},
           {kSpirit, "Sometimes I sit in St Anne's when it is quiet",
            "Feel calm inside", "Singing in the church choir as a teenager"}},
          {{kHome, "A flat of my own"},
           {kWork, "Paint and sell my work"},
           {kHealth, "Sleep better"}}));
  // 9-18: goals in her words, steps, GAS scales with baseline ratings.
  Add(s, At(2024, 3, 21),
      Goal("g-flat", kFlat,
           "I want a door I can lock and somewhere to keep my paints", kHome,
           {"keeps her appointments", "talks easily with people"},
           D(2024, 9, 30)));
  // The target date is mistyped (2042); corrected below.
  sarah_art_goal_ =
      Add(s, At(2024, 3, 21),
          Goal("g-art", kArt, "Painting is who I am, and I could earn from it",
               kWork, {"skilled artist"}, D(2042, 12, 31)));
  Add(s, At(2024, 3, 21),
      Goal("g-sleep", kSleep, "I cannot think straight after four hours",
           kHealth, {"walks a lot"}, D(2024, 8, 31)));
  Add(s, At(2024, 3, 21),
      Step("g-flat", "st-list", "Put my name on the city housing list",
           v1::RESPONSIBLE_PARTY_CLIENT, "", D(2024, 4, 5)));
  Add(s, At(2024, 3, 21),
      Step("g-flat", "st-view", "Go to flat viewings with Maria",
           v1::RESPONSIBLE_PARTY_NATURAL_SUPPORTER, "Maria", D(2024, 7, 31)));
  Add(s, At(2024, 3, 21),
      Step("g-art", "st-class",
           "Join the Tuesday art class at the Eastside community centre",
           v1::RESPONSIBLE_PARTY_CLIENT, "", D(2024, 4, 30)));
  Add(s, At(2024, 3, 21),
      GasScale("g-flat",
               {"Still sleeping at the night shelter",
                "On the city housing list and viewing flats",
                "Offered a flat I can afford", "Living in my own flat",
                "In my own flat for three months, rent paid on time"},
               -2, /*weight=*/2));
  Add(s, At(2024, 3, 21),
      GasRate("g-flat", -2, v1::TIME_POINT_BASELINE, D(2024, 3, 21)));
  Add(s, At(2024, 3, 21),
      GasScale("g-art",
               {"Not painting at all", "Sketching now and then in the library",
                "Painting every week in a class",
                "Selling cards at the Saturday market once a month",
                "Selling cards every Saturday"},
               -1));
  Add(s, At(2024, 3, 21),
      GasRate("g-art", -1, v1::TIME_POINT_BASELINE, D(2024, 3, 21)));
  // 19: the next morning the typo is corrected (recorded 22 March 09:00).
  v1::EventPayload art =
      Goal("g-art", kArt, "Painting is who I am, and I could earn from it",
           kWork, {"skilled artist"}, D(2024, 12, 31));
  sarah_fix_ = Add(s, At(2024, 3, 22, 9),
                   Corrected(sarah_art_goal_, "target date typed as 2042", art),
                   At(2024, 3, 22, 9));
  // 20-25: resources and support network; first steps done.
  Add(s, At(2024, 3, 28),
      Resource("res-maria", "Maria, friend from art school",
               v1::RESOURCE_KIND_NATURAL, kRelations, "g-flat"));
  Add(s, At(2024, 3, 28),
      Person("p-maria", "Maria", "friend",
             {v1::SUPPORT_KIND_EMOTIONAL, v1::SUPPORT_KIND_PRACTICAL},
             /*natural=*/true));
  Add(s, At(2024, 4, 3),
      Resource("res-housing", "City Housing Office", v1::RESOURCE_KIND_FORMAL,
               kHome, "g-flat"));
  Add(s, At(2024, 4, 3), StepDone("st-list", D(2024, 4, 3)));
  Add(s, At(2024, 4, 9),
      Resource("res-art", "Tuesday art class, Eastside Community Centre",
               v1::RESOURCE_KIND_COMMUNITY, kLeisure, "g-art"));
  Add(s, At(2024, 5, 7),
      StepDone("st-class", D(2024, 5, 7),
               "The April class was full; she started in May"));
  // 26-28: plan review at the library with Maria.
  Add(s, At(2024, 6, 12),
      Contact("c-sarah-3", v1::CONTACT_LOCATION_COMMUNITY, 75,
              "Plan review at the library cafe with Maria",
              {"Sarah", "Maria", "cm-lena"}));
  Add(s, At(2024, 6, 12),
      Reviewed({"Sarah", "Maria", "cm-lena"},
               "Housing offer expected in summer; sleep still poor",
               D(2024, 9, 11)));
  Add(s, At(2024, 6, 12),
      GoalRevisedTarget("g-sleep", D(2024, 10, 31),
                        "Still waking at four in the morning"));
  // 29-31: viewings pay off; she moves into her flat.
  Add(s, At(2024, 7, 15), StepDone("st-view", D(2024, 7, 15)));
  Add(s, At(2024, 8, 1),
      GoalStatus("g-flat", v1::GOAL_LIFECYCLE_STATUS_COMPLETED,
                 v1::GOAL_ACHIEVEMENT_STATUS_ACHIEVED,
                 "Moved into her flat on Linden Street"));
  Add(s, At(2024, 8, 1),
      LifeStatus("unemployment benefit and housing allowance",
                 v1::LIVING_SITUATION_OWN_HOME, 2));
  // 32-36: exit review at home: follow-up ratings and measures.
  Add(s, At(2024, 9, 18),
      Contact("c-sarah-4", v1::CONTACT_LOCATION_HOME, 60,
              "Exit review in Sarah's flat", {"Sarah", "cm-lena"}));
  Add(s, At(2024, 9, 18),
      GasRate("g-flat", 1, v1::TIME_POINT_FOLLOW_UP, D(2024, 9, 18)));
  Add(s, At(2024, 9, 18),
      GasRate("g-art", 0, v1::TIME_POINT_FOLLOW_UP, D(2024, 9, 18)));
  Add(s, At(2024, 9, 18),
      Measure("m-sarah-brs-2", v1::INSTRUMENT_BRS, v1::TIME_POINT_FOLLOW_UP,
              D(2024, 9, 18), {4, 2, 4, 2, 3, 2}));
  Add(s, At(2024, 9, 18),
      Measure("m-sarah-mspss-2", v1::INSTRUMENT_MSPSS, v1::TIME_POINT_FOLLOW_UP,
              D(2024, 9, 18), {5, 5, 3, 3, 6, 6, 6, 3, 6, 5, 3, 6}));
  // 37-40: closed; reopened seven months later about rent arrears.
  Add(s, At(2024, 9, 25),
      Closed("own flat", "Housed; painting weekly; sleep improving"));
  Add(s, At(2025, 4, 14),
      Reopened("Letter about rent arrears; Sarah asked for help"));
  Add(s, At(2025, 4, 16),
      Contact("c-sarah-5", v1::CONTACT_LOCATION_HOME, 45,
              "Went through the letters together at her kitchen table",
              {"Sarah", "cm-lena"}));
  Add(s, At(2025, 4, 16),
      Goal("g-keep", kKeep, "I never want to go back to the shelter", kHome,
           {"asks for help early"}, D(2025, 7, 31)));
}

TEST_F(GoldenCasesTest, SarahHousingFirstPlan) {
  ScriptSarah();
  auto projection = CatchUp();
  ASSERT_NE(projection, nullptr);
  ASSERT_OK_AND_ASSIGN(v1::CasePlan plan, projection->GetPlan("case-sarah"));

  // Reopened after the close: open again, close fields cleared.
  EXPECT_EQ(plan.status(), v1::CASE_STATUS_OPEN);
  EXPECT_EQ(plan.program(), "housing-first");
  EXPECT_EQ(plan.case_manager_id(), "cm-lena");
  EXPECT_EQ(plan.team(), "team-north");
  EXPECT_EQ(plan.client_name(), "Sarah");
  EXPECT_EQ(FormatDate(plan.opened_on()), "2024-03-04");
  EXPECT_FALSE(IsSet(plan.closed_on()));
  EXPECT_EQ(plan.close_outcome(), v1::CASE_OUTCOME_UNSPECIFIED);
  EXPECT_EQ(plan.reopen_count(), 1u);
  EXPECT_EQ(plan.version(), 40u);
  EXPECT_EQ(plan.living_situation(), v1::LIVING_SITUATION_OWN_HOME);

  // Strengths assessment: seven domains in order, three columns each, three
  // ranked priorities.
  EXPECT_EQ(plan.assessment_id(), "sa-sarah-1");
  ASSERT_EQ(plan.domains_size(), 7);
  std::vector<std::string> domains;
  for (const auto& d : plan.domains()) domains.push_back(d.domain());
  EXPECT_THAT(domains, ElementsAre(kHome, kAssets, kWork, kRelations, kHealth,
                                   kLeisure, kSpirit));
  EXPECT_EQ(plan.domains(0).current_status(),
            "Sleeping at the Riverside night shelter since January; my things "
            "are in two bags");
  EXPECT_EQ(plan.domains(0).desires(),
            "A small flat of my own with light to paint by");
  EXPECT_EQ(plan.domains(0).resources(),
            "I kept a tidy room in a shared flat for six years");
  ASSERT_EQ(plan.priorities_size(), 3);
  EXPECT_EQ(plan.priorities(0).rank(), 1u);
  EXPECT_EQ(plan.priorities(0).domain(), kHome);
  EXPECT_EQ(plan.priorities(0).text(), "A flat of my own");
  EXPECT_EQ(plan.priorities(2).rank(), 3u);
  EXPECT_EQ(plan.priorities(2).domain(), kHealth);

  // Goals with FHIR statuses. g-art carries the corrected target
  // (2024-12-31, not the typed 2042-12-31); g-sleep the revised one.
  EXPECT_THAT(
      GoalLines(plan),
      ElementsAre(
          "g-flat | Get my own flat | GOAL_LIFECYCLE_STATUS_COMPLETED | "
          "GOAL_ACHIEVEMENT_STATUS_ACHIEVED | target 2024-09-30 | set "
          "2024-03-21",
          "g-art | Paint again and sell my cards at the Saturday market | "
          "GOAL_LIFECYCLE_STATUS_ACTIVE | GOAL_ACHIEVEMENT_STATUS_IN_PROGRESS "
          "| target 2024-12-31 | set 2024-03-21",
          "g-sleep | Sleep through the night and panic less | "
          "GOAL_LIFECYCLE_STATUS_ACTIVE | GOAL_ACHIEVEMENT_STATUS_IN_PROGRESS "
          "| target 2024-10-31 | set 2024-03-21",
          "g-keep | Keep my flat | GOAL_LIFECYCLE_STATUS_ACTIVE | "
          "GOAL_ACHIEVEMENT_STATUS_IN_PROGRESS | target 2025-07-31 | set "
          "2025-04-16"));
  EXPECT_EQ(plan.goals(0).why_important(),
            "I want a door I can lock and somewhere to keep my paints");
  EXPECT_THAT(
      plan.goals(0).strengths(),
      ElementsAre("keeps her appointments", "talks easily with people"));
  EXPECT_THAT(StepLines(plan),
              ElementsAre("g-flat/st-list | STEP_STATUS_COMPLETED | "
                          "RESPONSIBLE_PARTY_CLIENT | target 2024-04-05 | done "
                          "2024-04-03",
                          "g-flat/st-view | STEP_STATUS_COMPLETED | "
                          "RESPONSIBLE_PARTY_NATURAL_SUPPORTER Maria | target "
                          "2024-07-31 | done 2024-07-15",
                          "g-art/st-class | STEP_STATUS_COMPLETED | "
                          "RESPONSIBLE_PARTY_CLIENT | target 2024-04-30 | done "
                          "2024-05-07"));

  // GAS: g-flat weight 2, g-art weight 1 (unset); latest rating per time
  // point, baseline first.
  ASSERT_TRUE(plan.goals(0).has_gas());
  EXPECT_EQ(plan.goals(0).gas().levels_size(), 5);
  EXPECT_EQ(plan.goals(0).gas().levels(3).description(),
            "Living in my own flat");
  EXPECT_EQ(plan.goals(0).gas().baseline_level(), -2);
  EXPECT_DOUBLE_EQ(plan.goals(0).gas().weight(), 2.0);
  ASSERT_EQ(plan.goals(0).gas().latest_ratings_size(), 2);
  EXPECT_EQ(plan.goals(0).gas().latest_ratings(0).level(), -2);
  EXPECT_EQ(plan.goals(0).gas().latest_ratings(0).time_point(),
            v1::TIME_POINT_BASELINE);
  EXPECT_EQ(plan.goals(0).gas().latest_ratings(1).level(), 1);
  EXPECT_EQ(plan.goals(0).gas().latest_ratings(1).time_point(),
            v1::TIME_POINT_FOLLOW_UP);
  EXPECT_EQ(FormatDate(plan.goals(0).gas().latest_ratings(1).rated_on()),
            "2024-09-18");
  ASSERT_TRUE(plan.goals(1).has_gas());
  EXPECT_DOUBLE_EQ(plan.goals(1).gas().weight(), 1.0);
  EXPECT_FALSE(plan.goals(2).has_gas());

  // Resources by kind: one natural, one formal, one community.
  EXPECT_THAT(
      ResourceLines(plan),
      ElementsAre("RESOURCE_KIND_NATURAL | Maria, friend from art school | "
                  "Supportive Relationships | g-flat | active | 2024-03-28",
                  "RESOURCE_KIND_FORMAL | City Housing Office | Home/Daily "
                  "Living | g-flat | active | 2024-04-03",
                  "RESOURCE_KIND_COMMUNITY | Tuesday art class, Eastside "
                  "Community Centre | Leisure/Recreation | g-art | active | "
                  "2024-04-09"));
  ASSERT_EQ(plan.support_network_size(), 1);
  EXPECT_EQ(plan.support_network(0).name(), "Maria");
  EXPECT_EQ(plan.support_network(0).relation(), "friend");
  EXPECT_TRUE(plan.support_network(0).natural());
  EXPECT_TRUE(plan.support_network(0).active());
  EXPECT_THAT(
      plan.support_network(0).support_kinds(),
      ElementsAre(v1::SUPPORT_KIND_EMOTIONAL, v1::SUPPORT_KIND_PRACTICAL));
  EXPECT_THAT(ConsentLines(plan),
              ElementsAre("cons-sarah-1 | treatment,housing-application | "
                          "City Housing Office,Riverside Mental Health Centre "
                          "| SENSITIVITY_LABEL_HEALTH | given 2024-03-04 | "
                          "expires 2026-03-04"));
  EXPECT_EQ(plan.employer_agreements_size(), 0);
  EXPECT_FALSE(plan.has_work());

  // Measures: computed from raw answers.
  // BRS intake [2,4,2,4,2,3]: items 2, 4, 6 reversed -> 2,2,2,2,2,3 = 13/6
  // = 2.1667 (low, < 3.00). Exit [4,2,4,2,3,2] -> 4,4,4,4,3,4 = 23/6 =
  // 3.8333 (normal).
  // MSPSS intake [3,3,2,2,4,5,5,2,5,3,2,4]: sum 40/12 = 3.3333; significant
  // other (1,2,5,10) 3+3+4+3 = 13/4 = 3.25; family (3,4,8,11) 2+2+2+2 = 2.0;
  // friends (6,7,9,12) 5+5+5+4 = 19/4 = 4.75.
  // MSPSS exit [5,5,3,3,6,6,6,3,6,5,3,6]: sum 57/12 = 4.75; SO 5+5+6+5 =
  // 5.25; family 3+3+3+3 = 3.0; friends 6+6+6+6 = 6.0.
  EXPECT_EQ(plan.measures_size(), 4);
  const v1::MeasureScore* brs_in =
      FindMeasure(plan, v1::INSTRUMENT_BRS, v1::TIME_POINT_BASELINE);
  const v1::MeasureScore* brs_out =
      FindMeasure(plan, v1::INSTRUMENT_BRS, v1::TIME_POINT_FOLLOW_UP);
  const v1::MeasureScore* mspss_in =
      FindMeasure(plan, v1::INSTRUMENT_MSPSS, v1::TIME_POINT_BASELINE);
  const v1::MeasureScore* mspss_out =
      FindMeasure(plan, v1::INSTRUMENT_MSPSS, v1::TIME_POINT_FOLLOW_UP);
  ASSERT_NE(brs_in, nullptr);
  ASSERT_NE(brs_out, nullptr);
  ASSERT_NE(mspss_in, nullptr);
  ASSERT_NE(mspss_out, nullptr);
  EXPECT_TRUE(brs_in->scorable());
  EXPECT_NEAR(brs_in->score(), 13.0 / 6, kTolerance);
  EXPECT_EQ(brs_in->band(), "low");
  EXPECT_EQ(FormatDate(brs_in->administered_on()), "2024-03-07");
  EXPECT_NEAR(brs_out->score(), 23.0 / 6, kTolerance);
  EXPECT_EQ(brs_out->band(), "normal");
  EXPECT_NEAR(mspss_in->score(), 3.3333, kTolerance);
  EXPECT_NEAR(mspss_in->subscale_significant_other(), 3.25, kTolerance);
  EXPECT_NEAR(mspss_in->subscale_family(), 2.0, kTolerance);
  EXPECT_NEAR(mspss_in->subscale_friends(), 4.75, kTolerance);
  EXPECT_EQ(mspss_in->band(), "");
  EXPECT_NEAR(mspss_out->score(), 4.75, kTolerance);
  EXPECT_NEAR(mspss_out->subscale_significant_other(), 5.25, kTolerance);
  EXPECT_NEAR(mspss_out->subscale_family(), 3.0, kTolerance);
  EXPECT_NEAR(mspss_out->subscale_friends(), 6.0, kTolerance);

  // Last contact: the home visit of 16 April 2025, 10:00 UTC.
  EXPECT_EQ(plan.last_contact_at().seconds(),
            absl::ToUnixSeconds(At(2025, 4, 16)));

  // plan_revision counts the "goals and plan" events of the resolved record
  // (GAS, resources and corrections themselves do not count): GoalSet x4
  // (the corrected one still once) + PlanStepAdded x3 + PlanStepCompleted
  // x3 + PlanReviewed + GoalRevised + GoalStatusChanged = 13.
  EXPECT_EQ(plan.plan_revision(), 13u);
}

TEST_F(GoldenCasesTest, SarahTimelineLineByLine) {
  ScriptSarah();
  auto projection = CatchUp();
  ASSERT_NE(projection, nullptr);
  const std::vector<v1::TimelineEntry> entries =
      Timeline(*projection, "case-sarah");
  ExpectLines(
      Summaries(entries),
      {
          "Case opened in housing-first, case manager cm-lena, referred by "
          "Riverside night shelter",
          "Consent given for treatment, housing-application until 2026-03-04",
          "Outreach attempted: not-found",
          "Contact (in-person, community, 60 min)",
          "BRS administered (baseline)",
          "MSPSS administered (baseline)",
          "Contact (in-person, office, 90 min)",
          "Strengths assessment recorded: 7 domains, 3 priorities",
          "Goal 'Get my own flat' set (Home/Daily Living), target 2024-09-30",
          "Goal 'Paint again and sell my cards at the Saturday market' set "
          "(Employment/Education/Specialized Knowledge), target 2042-12-31",
          "Goal 'Sleep through the night and panic less' set "
          "(Wellness/Health), target 2024-08-31",
          "Step 'Put my name on the city housing list' added to goal 'Get my "
          "own flat', due 2024-04-05",
          "Step 'Go to flat viewings with Maria' added to goal 'Get my own "
          "flat', due 2024-07-31",
          "Step 'Join the Tuesday art class at the Eastside community "
          "centre' added to goal 'Paint again and sell my cards at the "
          "Saturday market', due 2024-04-30",
          "GAS scale defined for goal 'Get my own flat', baseline -2",
          "Goal 'Get my own flat' rated -2 (baseline)",
          "GAS scale defined for goal 'Paint again and sell my cards at the "
          "Saturday market', baseline -1",
          "Goal 'Paint again and sell my cards at the Saturday market' rated "
          "-1 (baseline)",
          "Corrected: GoalSet 5a00000a (target date typed as 2042)",
          "Resource 'Maria, friend from art school' connected (natural)",
          "Support person Maria (friend) added as natural support",
          "Resource 'City Housing Office' connected (formal)",
          "Step 'Put my name on the city housing list' completed on "
          "2024-04-03",
          "Resource 'Tuesday art class, Eastside Community Centre' connected "
          "(community)",
          "Step 'Join the Tuesday art class at the Eastside community centre' "
          "completed on 2024-05-07",
          "Contact (in-person, community, 75 min)",
          "Plan reviewed with Sarah, Maria, cm-lena; client agreed",
          "Goal 'Sleep through the night and panic less' revised: target "
          "date 2024-08-31 -> 2024-10-31",
          "Step 'Go to flat viewings with Maria' completed on 2024-07-15",
          "Goal 'Get my own flat' status: active -> completed; in-progress -> "
          "achieved",
          "Life status recorded: own-home",
          "Contact (in-person, home, 60 min)",
          "Goal 'Get my own flat' rated +1 (follow-up)",
          "Goal 'Paint again and sell my cards at the Saturday market' rated "
          "0 (follow-up)",
          "BRS administered (follow-up)",
          "MSPSS administered (follow-up)",
          "Case closed (successful, goals-met)",
          "Case reopened",
          "Contact (in-person, home, 45 min)",
          "Goal 'Keep my flat' set (Home/Daily Living), target 2025-07-31",
      });
  ASSERT_EQ(entries.size(), 40u);

  // The mistyped GoalSet stays in the timeline, marked as corrected by the
  // correction (an entry of its own, recorded the next morning).
  EXPECT_EQ(entries[9].event_id(), sarah_art_goal_);
  EXPECT_EQ(entries[9].corrected_by(), sarah_fix_);
  EXPECT_FALSE(entries[9].entered_in_error());
  EXPECT_EQ(entries[18].event_id(), sarah_fix_);
  EXPECT_EQ(entries[18].event_type(), "EventCorrected");
  // Recorded times come from the fake clock: 17:00 on the day by default,
  // the correction at 09:00 on 22 March.
  EXPECT_EQ(entries[0].recorded_at().seconds(),
            absl::ToUnixSeconds(At(2024, 3, 4, 17)));
  EXPECT_EQ(entries[0].occurred_at().seconds(),
            absl::ToUnixSeconds(At(2024, 3, 4, 10)));
  EXPECT_EQ(entries[18].recorded_at().seconds(),
            absl::ToUnixSeconds(At(2024, 3, 22, 9)));
  EXPECT_EQ(entries[39].recorded_at().seconds(),
            absl::ToUnixSeconds(At(2025, 4, 16, 17)));
  EXPECT_EQ(entries[0].actor().user_id(), "cm-lena");
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].stream_version(), i + 1);
    EXPECT_EQ(entries[i].hash().size(), 32u);
  }
}

TEST_F(GoldenCasesTest, SarahMetrics) {
  ScriptSarah();
  auto projection = CatchUp();
  ASSERT_NE(projection, nullptr);
  ASSERT_OK_AND_ASSIGN(v1::CaseMetrics m, projection->GetCaseMetrics(
                                              "case-sarah", D(2025, 6, 30)));
  EXPECT_EQ(m.version(), 40u);

  // GAS, rho 0.3. Weights w = (2, 1) for g-flat, g-art; the other goals have
  // no scale. sum w = 3, sum w^2 = 5, denominator sqrt(0.7*5 + 0.3*9) =
  // sqrt(6.2) = 2.489980.
  //  baseline x = (-2, -1): sum wx = -5 -> T = 50 - 50/2.489980 = 29.919517
  //  follow-up x = (+1, 0): sum wx = 2 -> T = 50 + 20/2.489980 = 58.032193
  //  change (both goals paired) = 28.112677.
  ASSERT_TRUE(m.gas().has_baseline_t());
  ASSERT_TRUE(m.gas().has_follow_up_t());
  ASSERT_TRUE(m.gas().has_change());
  EXPECT_NEAR(m.gas().baseline_t(), 29.919517, kTolerance);
  EXPECT_NEAR(m.gas().follow_up_t(), 58.032193, kTolerance);
  EXPECT_NEAR(m.gas().change(), 28.112677, kTolerance);
  EXPECT_EQ(m.gas().goals_with_baseline(), 2u);
  EXPECT_EQ(m.gas().goals_with_follow_up(), 2u);
  EXPECT_EQ(m.gas().goals_paired(), 2u);

  // Goals achieved / set: g-flat achieved of g-flat, g-art, g-sleep, g-keep.
  ExpectRate(m.goal_attainment(), 1, 4, "goal attainment");
  // Steps: all three completed by as_of, so all due. On time: st-list
  // (04-03 <= 04-05) and st-view (07-15 <= 07-31); st-class was done on
  // 05-07, after its 04-30 target.
  ExpectRate(m.step_completion(), 3, 3, "step completion");
  ExpectRate(m.step_on_time(), 2, 3, "step on time");
  // Opened 2024-03-04; assessment 2024-03-14 (10 days), first goal
  // 2024-03-21 (17 days).
  ExpectTime(m.time_to_first_goal(), v1::EVENT_OBSERVATION_OBSERVED, 17,
             "time to first goal");
  ExpectTime(m.time_to_first_assessment(), v1::EVENT_OBSERVATION_OBSERVED, 10,
             "time to first assessment");
  // Completed contacts: community 03-07, office 03-14, community 06-12,
  // home 2024-09-18, home 2025-04-16 -> 4 of 5 outside the office.
  ExpectRate(m.community_contact_share(), 4, 5, "community contact share");
  // Resources: natural (Maria) + community (art class) of 3.
  ExpectRate(m.natural_resource_share(), 2, 3, "natural resource share");
  // 5 completed contacts, 1 outreach attempt (not found): 5 / 6.
  ExpectRate(m.outreach_yield(), 5, 6, "outreach yield");
  // Last contact 2025-04-16 -> 2025-06-30: 14 + 31 + 30 = 75 days.
  ASSERT_TRUE(m.has_days_since_last_contact());
  EXPECT_EQ(m.days_since_last_contact(), 75);

  // BRS 2.1667 (low) -> 3.8333 (normal): +1.6667.
  ExpectChange(m.brs().score(), 13.0 / 6, 23.0 / 6, 10.0 / 6, "BRS");
  EXPECT_EQ(m.brs().intake_band(), "low");
  EXPECT_EQ(m.brs().exit_band(), "normal");
  // No GSE administered.
  EXPECT_FALSE(m.gse().score().has_intake());
  EXPECT_FALSE(m.gse().score().has_exit());
  // MSPSS 3.3333 -> 4.75 (+1.4167); SO 3.25 -> 5.25 (+2); family 2 -> 3
  // (+1); friends 4.75 -> 6 (+1.25).
  ExpectChange(m.mspss().score(), 40.0 / 12, 4.75, 4.75 - 40.0 / 12, "MSPSS");
  ExpectChange(m.mspss().significant_other(), 3.25, 5.25, 2.0, "MSPSS SO");
  ExpectChange(m.mspss().family(), 2.0, 3.0, 1.0, "MSPSS family");
  ExpectChange(m.mspss().friends(), 4.75, 6.0, 1.25, "MSPSS friends");

  // Support network: Maria, natural.
  EXPECT_EQ(m.support_active_members(), 1u);
  ExpectRate(m.support_natural_share(), 1, 1, "support natural share");

  // No absence: the return-to-work clocks never start.
  ExpectTime(m.time_to_return(), v1::EVENT_OBSERVATION_NOT_APPLICABLE, 0,
             "time to return");
  ExpectTime(m.time_to_full_return(), v1::EVENT_OBSERVATION_NOT_APPLICABLE, 0,
             "time to full return");
  EXPECT_EQ(m.sustained_return().status(), v1::WINDOW_STATUS_NOT_APPLICABLE);

  // Closed successfully 2024-09-25, reopened 2025-04-14: 5 + 31 + 30 + 31 +
  // 31 + 28 + 31 + 14 = 201 days -> not within 180, within 365 and 730.
  EXPECT_THAT(WindowLines(m),
              ElementsAre("180 WINDOW_STATUS_NOT_MET", "365 WINDOW_STATUS_MET",
                          "730 WINDOW_STATUS_MET"));
  // Open at as_of: censored 2024-03-04 -> 2025-06-30 = 365 + 118 = 483
  // days, no bucket.
  ExpectTime(m.open_to_close(), v1::EVENT_OBSERVATION_CENSORED, 483,
             "open to close");
  EXPECT_EQ(m.open_to_close_bucket(), "");
}

TEST_F(GoldenCasesTest, SarahMetricsBeforeTheReopening) {
  ScriptSarah();
  auto projection = CatchUp();
  ASSERT_NE(projection, nullptr);
  // As of 2024-10-31 the case is closed (2024-09-25) and the reopening of
  // 2025-04-14 has not happened yet.
  ASSERT_OK_AND_ASSIGN(v1::CaseMetrics m, projection->GetCaseMetrics(
                                              "case-sarah", D(2024, 10, 31)));
  // Open to close: 2024-03-04 -> 2024-09-25 = 27 + 30 + 31 + 30 + 31 + 31 +
  // 25 = 205 days -> bucket ">180".
  ExpectTime(m.open_to_close(), v1::EVENT_OBSERVATION_OBSERVED, 205,
             "open to close");
  EXPECT_EQ(m.open_to_close_bucket(), ">180");
  // Closed 36 days before as_of, no reopening yet: every window undecided.
  EXPECT_THAT(WindowLines(m), ElementsAre("180 WINDOW_STATUS_UNDETERMINED",
                                          "365 WINDOW_STATUS_UNDETERMINED",
                                          "730 WINDOW_STATUS_UNDETERMINED"));
  // Both BRS administrations (03-07, 09-18) are on or before as_of.
  ExpectChange(m.brs().score(), 13.0 / 6, 23.0 / 6, 10.0 / 6, "BRS");
  // metrics.h: "as_of - last_contact_on; absent with no contact on or before
  // as_of", and a contact dated after as_of "is ignored". The contact of
  // 2025-04-16 is ignored, which leaves the exit review at home on
  // 2024-09-18 as the last contact on or before as_of: 12 + 31 = 43 days.
  ASSERT_TRUE(m.has_days_since_last_contact())
      << "a contact on 2024-09-18 exists on or before as_of 2024-10-31";
  EXPECT_EQ(m.days_since_last_contact(), 43);
}

TEST_F(GoldenCasesTest, SarahPlanAtEarlierPoints) {
  ScriptSarah();
  const ScoringConfig scoring;

  // As the record stood right after the third goal was set (event 11): the
  // art goal still has the mistyped target, no steps yet, three plan
  // revisions (three GoalSet).
  ASSERT_OK_AND_ASSIGN(
      v1::CasePlan early,
      PlanAsRecordedAtPosition(*log_, "case-sarah",
                               positions_["5a00000b-0000-4000-8000-"
                                          "00000000000b"],
                               scoring));
  EXPECT_EQ(early.version(), 11u);
  EXPECT_EQ(early.plan_revision(), 3u);
  ASSERT_EQ(early.goals_size(), 3);
  EXPECT_EQ(FormatDate(early.goals(1).target_date()), "2042-12-31");
  EXPECT_EQ(early.goals(1).steps_size(), 0);
  EXPECT_EQ(early.domains_size(), 7);
  EXPECT_EQ(early.measures_size(), 2);
  EXPECT_EQ(early.resources_size(), 0);

  // As recorded by the end of 21 March (the correction was recorded on the
  // 22nd): still 2042, now with three steps (6 revisions).
  ASSERT_OK_AND_ASSIGN(
      v1::CasePlan recorded,
      PlanAsRecordedAtTime(*log_, "case-sarah", EndOf(2024, 3, 21), scoring));
  EXPECT_EQ(recorded.version(), 18u);
  EXPECT_EQ(recorded.plan_revision(), 6u);
  EXPECT_EQ(FormatDate(recorded.goals(1).target_date()), "2042-12-31");
  // As things were on 21 March: the later correction says what was true.
  ASSERT_OK_AND_ASSIGN(
      v1::CasePlan occurred,
      PlanAsOccurredAt(*log_, "case-sarah", EndOf(2024, 3, 21), scoring));
  EXPECT_EQ(occurred.plan_revision(), 6u);
  EXPECT_EQ(FormatDate(occurred.goals(1).target_date()), "2024-12-31");

  // As things were on 1 October 2024: closed with a successful outcome, in
  // her own flat, three goals (g-keep not yet set), 12 plan revisions
  // (GoalSet x3, steps added x3, completed x3, review, revision, status).
  ASSERT_OK_AND_ASSIGN(
      v1::CasePlan october,
      PlanAsOccurredAt(*log_, "case-sarah", At(2024, 10, 1, 0), scoring));
  EXPECT_EQ(october.status(), v1::CASE_STATUS_CLOSED);
  EXPECT_EQ(FormatDate(october.closed_on()), "2024-09-25");
  EXPECT_EQ(october.close_outcome(), v1::CASE_OUTCOME_SUCCESSFUL);
  EXPECT_EQ(october.close_reason(), v1::CLOSE_REASON_GOALS_MET);
  EXPECT_EQ(october.reopen_count(), 0u);
  EXPECT_EQ(october.living_situation(), v1::LIVING_SITUATION_OWN_HOME);
  EXPECT_EQ(october.plan_revision(), 12u);
  EXPECT_EQ(october.version(), 37u);
  ASSERT_EQ(october.goals_size(), 3);
  EXPECT_EQ(october.goals(0).achievement_status(),
            v1::GOAL_ACHIEVEMENT_STATUS_ACHIEVED);
  EXPECT_EQ(FormatDate(october.goals(2).target_date()), "2024-10-31");
  EXPECT_EQ(october.last_contact_at().seconds(),
            absl::ToUnixSeconds(At(2024, 9, 18)));

  // ... which differs from the plan now: reopened, a fourth goal.
  auto projection = CatchUp();
  ASSERT_NE(projection, nullptr);
  ASSERT_OK_AND_ASSIGN(v1::CasePlan now, projection->GetPlan("case-sarah"));
  EXPECT_EQ(now.status(), v1::CASE_STATUS_OPEN);
  EXPECT_EQ(now.reopen_count(), 1u);
  EXPECT_EQ(now.goals_size(), 4);
  EXPECT_EQ(now.plan_revision(), 13u);
}

// ---------------------------------------------------------------------------
// Marco: return to work after burnout, two mediated employer discussions
// ---------------------------------------------------------------------------

constexpr char kDesk[] =
    "Be back at my desk full time without dreading Mondays";
constexpr char kEvenings[] = "Have energy left for my kids in the evening";
constexpr char kHafen[] = "Hafen Logistik AG";

void GoldenCasesTest::ScriptMarco() {
  Stream& s = marco_;
  // 1-3: referred by the insurer seven weeks into his sick leave.
  Add(s, At(2024, 4, 2),
      CaseOpened("cl-2002", "Marco", "return-to-work",
                 "sickness daily-allowance insurer", "cm-anna", "team-rtw"));
  Add(s, At(2024, 4, 2),
      Consent("cons-marco-1", {"employer-contact"}, {kHafen}, {},
              D(2024, 12, 31)));
  Add(s, At(2024, 4, 2),
      Absence("abs-marco", kHafen, D(2024, 2, 19), "burnout", 80));
  // 4-9: home visit and intake measures; a missed office appointment; the
  // strengths assessment at the office.
  Add(s, At(2024, 4, 4),
      Contact("c-marco-1", v1::CONTACT_LOCATION_HOME, 75,
              "First conversation at Marco's kitchen table",
              {"Marco", "cm-anna"}));
  Add(s, At(2024, 4, 4),
      Measure("m-marco-brs-1", v1::INSTRUMENT_BRS, v1::TIME_POINT_BASELINE,
              D(2024, 4, 4), {3, 4, 2, 4, 2, 3}));
  Add(s, At(2024, 4, 4),
      Measure("m-marco-gse-1", v1::INSTRUMENT_GSE, v1::TIME_POINT_BASELINE,
              D(2024, 4, 4), {2, 2, 2, 1, 2, 2, 3, 2, 2, 2}));
  Add(s, At(2024, 4, 9),
      Outreach(v1::OUTREACH_OUTCOME_NO_SHOW, v1::CONTACT_MODE_IN_PERSON,
               v1::CONTACT_LOCATION_OFFICE,
               "Did not come; said later he could not face the tram"));
  Add(s, At(2024, 4, 11),
      Contact("c-marco-2", v1::CONTACT_LOCATION_OFFICE, 90,
              "Strengths assessment", {"Marco", "cm-anna"}));
  Add(s, At(2024, 4, 11),
      Assessment(
          "sa-marco-1",
          {{kWork, "Off sick from the planning desk since February",
            "Back with my team, without the night shifts in my head",
            "Eight years of peak seasons; the drivers trust my plans"},
           {kRelations, "Elena carries the family right now",
            "Be a father who plays, not one who sleeps",
            "Elena, and my brother on the phone"},
           {kHealth, "Sleeping badly, heart racing on Sunday evenings",
            "Calm evenings", "Running twice a week used to clear my head"},
           {kLeisure, "Nothing since Christmas", "Run again",
            "The running club on Saturdays"},
           {kHome, "Elena does everything at home", "Cook on Sundays again",
            "I liked cooking for friends"}},
          {{kWork, "Back at work, step by step"},
           {kHealth, "Energy for the family"}}));
  // 10-18: goals, a stress-management strategy, GAS, steps.
  Add(s, At(2024, 4, 16),
      Goal("g-work", kDesk, "The team and the work are part of who I am", kWork,
           {"eight years of peak seasons", "well liked by his team"},
           D(2024, 9, 30)));
  Add(s, At(2024, 4, 16),
      Goal("g-evenings", kEvenings,
           "My daughter asked why I am always asleep on the sofa", kHealth,
           {"used to run twice a week"}, D(2024, 8, 31)));
  Add(s, At(2024, 4, 16),
      Coping("cs-breaks", "stress management",
             "Breathing break and a short walk at lunch",
             "Every day at 12:30; the phone stays on the desk"));
  Add(s, At(2024, 4, 16),
      GasScale(
          "g-work",
          {"On full sick leave", "Working up to 50%",
           "Working 75% without extra sick days", "Back at 100% of my contract",
           "At 100% for three months and enjoying Mondays"},
          -2));
  Add(s, At(2024, 4, 16),
      GasRate("g-work", -2, v1::TIME_POINT_BASELINE, D(2024, 4, 16)));
  Add(s, At(2024, 4, 16),
      GasScale("g-evenings",
               {"Asleep on the sofa by seven every evening",
                "One evening a week with energy for the kids",
                "Three evenings a week", "Most evenings",
                "Every evening, and an outing at the weekend"},
               -1));
  Add(s, At(2024, 4, 16),
      GasRate("g-evenings", -1, v1::TIME_POINT_BASELINE, D(2024, 4, 16)));
  Add(s, At(2024, 4, 16),
      Step("g-work", "st-prep", "Prepare the first employer meeting with Anna",
           v1::RESPONSIBLE_PARTY_CLIENT, "", D(2024, 4, 25)));
  Add(s, At(2024, 4, 16),
      Step("g-work", "st-transfer",
           "Ask HR about a transfer to the Basel depot",
           v1::RESPONSIBLE_PARTY_CLIENT, "", D(2024, 5, 31)));
  // 19-22: support network and resources.
  Add(s, At(2024, 4, 16),
      Person("p-elena", "Elena", "wife", {v1::SUPPORT_KIND_EMOTIONAL},
             /*natural=*/true));
  Add(s, At(2024, 4, 23),
      Resource("res-group", "Burnout self-help group, Thursday evenings",
               v1::RESOURCE_KIND_COMMUNITY, kHealth, "g-evenings"));
  Add(s, At(2024, 4, 23),
      Resource("res-therapy", "Psychotherapist Dr. Roth",
               v1::RESOURCE_KIND_FORMAL, kHealth, "g-evenings"));
  Add(s, At(2024, 4, 24), StepDone("st-prep", D(2024, 4, 24)));
  // 23-25: first mediated round table at the workplace.
  Add(s, At(2024, 4, 30),
      Contact("c-marco-3", v1::CONTACT_LOCATION_WORKPLACE, 90,
              "Mediated round table at Hafen Logistik",
              {"Marco", "Petra Vogel", "Jan Brandt", "cm-anna"}));
  Add(s, At(2024, 4, 30),
      Discussion(
          "disc-marco-1", kHafen,
          {"Marco", "Petra Vogel (team lead)", "Jan Brandt (HR)", "cm-anna"},
          {Agreement("a1", v1::AGREEMENT_KIND_GRADED_HOURS,
                     "Start at 50% of the contract, mornings only", "HR",
                     D(2024, 5, 13)),
           Agreement("a2", v1::AGREEMENT_KIND_WORK_STRUCTURING,
                     "No on-call duty and no peak-season planning this year",
                     "team lead", D(2024, 5, 13)),
           Agreement("a3", v1::AGREEMENT_KIND_TASKS,
                     "Hand the customs file over to a colleague", "client",
                     D(2024, 5, 10))},
          D(2024, 6, 10)));
  Add(s, At(2024, 4, 30),
      StepDropped("st-transfer",
                  "Marco wants to stay with his team after the meeting"));
  // 26-27: certified 50%, back at 50% of his contract.
  Add(s, At(2024, 5, 6),
      Capacity(50, D(2024, 5, 13), D(2024, 6, 30), "Dr. Keller (GP)"));
  Add(s, At(2024, 5, 13), ReturnToWork(50, D(2024, 5, 13), kHafen));
  // 28-31: second round table; the contact is entered twice by mistake.
  v1::EventPayload second_contact =
      Contact("c-marco-4", v1::CONTACT_LOCATION_WORKPLACE, 60,
              "Second round table", {"Marco", "Petra Vogel", "cm-anna"});
  Add(s, At(2024, 6, 10), second_contact);
  Add(s, At(2024, 6, 10),
      Discussion(
          "disc-marco-2", kHafen,
          {"Marco", "Petra Vogel (team lead)", "Jan Brandt (HR)", "cm-anna"},
          {Agreement("b1", v1::AGREEMENT_KIND_GRADED_HOURS,
                     "75% from 1 July: full days on Tuesday and "
                     "Thursday",
                     "HR", D(2024, 7, 1)),
           Agreement("b2", v1::AGREEMENT_KIND_WORK_STRUCTURING,
                     "Weekly 15-minute check-in with the team lead",
                     "team lead", D(2024, 6, 17))},
          D(2024, 8, 5)));
  marco_duplicate_ =
      Add(s, At(2024, 6, 10), second_contact, At(2024, 6, 11, 8, 30));
  marco_in_error_ = Add(s, At(2024, 6, 11, 9),
                        EnteredInError(marco_duplicate_, "entered twice"),
                        At(2024, 6, 11, 9));
  // 32-34: graded hours 75%, then full contract from 5 August.
  Add(s, At(2024, 7, 1), Schedule(75, D(2024, 7, 1)));
  Add(s, At(2024, 8, 2),
      Capacity(100, D(2024, 8, 5), v1::Date(), "Dr. Keller (GP)"));
  Add(s, At(2024, 8, 5), Schedule(100, D(2024, 8, 5)));
  // 35-40: exit ratings and measures; closed.
  Add(s, At(2024, 8, 26),
      GasRate("g-work", 1, v1::TIME_POINT_FOLLOW_UP, D(2024, 8, 26)));
  Add(s, At(2024, 8, 26),
      GasRate("g-evenings", 1, v1::TIME_POINT_FOLLOW_UP, D(2024, 8, 26)));
  Add(s, At(2024, 8, 26),
      GoalStatus("g-work", v1::GOAL_LIFECYCLE_STATUS_COMPLETED,
                 v1::GOAL_ACHIEVEMENT_STATUS_ACHIEVED,
                 "Three weeks at 100% without a sick day"));
  Add(s, At(2024, 8, 26),
      Measure("m-marco-brs-2", v1::INSTRUMENT_BRS, v1::TIME_POINT_FOLLOW_UP,
              D(2024, 8, 26), {5, 1, 4, 2, 4, 2}));
  Add(s, At(2024, 8, 26),
      Measure("m-marco-gse-2", v1::INSTRUMENT_GSE, v1::TIME_POINT_FOLLOW_UP,
              D(2024, 8, 26), {3, 3, 3, 3, 3, 4, 3, 3, 3, 3}));
  Add(s, At(2024, 8, 30),
      Closed("Hafen Logistik AG, full contract",
             "Back at 100% of his contract; self-help group continues"));
}

TEST_F(GoldenCasesTest, MarcoBurnoutReturnToWork) {
  ScriptAnnaTraining(/*with_follow_up=*/false);
  ScriptMarco();
  auto projection = CatchUp();
  ASSERT_NE(projection, nullptr);
  ASSERT_OK_AND_ASSIGN(v1::CasePlan plan, projection->GetPlan("case-marco"));

  EXPECT_EQ(plan.status(), v1::CASE_STATUS_CLOSED);
  EXPECT_EQ(FormatDate(plan.closed_on()), "2024-08-30");
  EXPECT_EQ(plan.close_outcome(), v1::CASE_OUTCOME_SUCCESSFUL);
  EXPECT_EQ(plan.close_reason(), v1::CLOSE_REASON_GOALS_MET);
  EXPECT_EQ(plan.reopen_count(), 0u);
  EXPECT_EQ(plan.version(), 40u);
  EXPECT_EQ(plan.domains_size(), 5);
  EXPECT_EQ(plan.priorities_size(), 2);
  EXPECT_THAT(
      GoalLines(plan),
      ElementsAre(
          "g-work | Be back at my desk full time without dreading Mondays | "
          "GOAL_LIFECYCLE_STATUS_COMPLETED | GOAL_ACHIEVEMENT_STATUS_ACHIEVED "
          "| target 2024-09-30 | set 2024-04-16",
          "g-evenings | Have energy left for my kids in the evening | "
          "GOAL_LIFECYCLE_STATUS_ACTIVE | GOAL_ACHIEVEMENT_STATUS_IN_PROGRESS "
          "| target 2024-08-31 | set 2024-04-16"));
  EXPECT_THAT(
      StepLines(plan),
      ElementsAre("g-work/st-prep | STEP_STATUS_COMPLETED | "
                  "RESPONSIBLE_PARTY_CLIENT | target 2024-04-25 | done "
                  "2024-04-24",
                  "g-work/st-transfer | STEP_STATUS_DROPPED | "
                  "RESPONSIBLE_PARTY_CLIENT | target 2024-05-31 | done  | "
                  "dropped: Marco wants to stay with his team after the "
                  "meeting"));
  EXPECT_THAT(ResourceLines(plan),
              ElementsAre("RESOURCE_KIND_COMMUNITY | Burnout self-help group, "
                          "Thursday evenings | Wellness/Health | g-evenings | "
                          "active | 2024-04-23",
                          "RESOURCE_KIND_FORMAL | Psychotherapist Dr. Roth | "
                          "Wellness/Health | g-evenings | active | "
                          "2024-04-23"));
  ASSERT_EQ(plan.coping_strategies_size(), 1);
  EXPECT_EQ(plan.coping_strategies(0).category(), "stress management");
  EXPECT_EQ(plan.coping_strategies(0).practice(),
            "Every day at 12:30; the phone stays on the desk");
  EXPECT_THAT(ConsentLines(plan),
              ElementsAre("cons-marco-1 | employer-contact | Hafen Logistik "
                          "AG |  | given 2024-04-02 | expires 2024-12-31"));

  // Both mediated discussions' agreements, with owner and due date.
  EXPECT_THAT(
      AgreementLines(plan),
      ElementsAre(
          "disc-marco-1/a1 | 2024-04-30 | Hafen Logistik AG | "
          "AGREEMENT_KIND_GRADED_HOURS | Start at 50% of the contract, "
          "mornings only | owner HR | due 2024-05-13",
          "disc-marco-1/a2 | 2024-04-30 | Hafen Logistik AG | "
          "AGREEMENT_KIND_WORK_STRUCTURING | No on-call duty and no "
          "peak-season planning this year | owner team lead | due 2024-05-13",
          "disc-marco-1/a3 | 2024-04-30 | Hafen Logistik AG | "
          "AGREEMENT_KIND_TASKS | Hand the customs file over to a colleague | "
          "owner client | due 2024-05-10",
          "disc-marco-2/b1 | 2024-06-10 | Hafen Logistik AG | "
          "AGREEMENT_KIND_GRADED_HOURS | 75% from 1 July: full days on "
          "Tuesday and Thursday | owner HR | due 2024-07-01",
          "disc-marco-2/b2 | 2024-06-10 | Hafen Logistik AG | "
          "AGREEMENT_KIND_WORK_STRUCTURING | Weekly 15-minute check-in with "
          "the team lead | owner team lead | due 2024-06-17"));

  // Work: 80% contract; certified and working 100% of it since 5 August.
  EXPECT_EQ(plan.work().employer(), kHafen);
  EXPECT_EQ(FormatDate(plan.work().absence_first_day()), "2024-02-19");
  EXPECT_EQ(plan.work().contracted_percent(), 80u);
  EXPECT_EQ(plan.work().certified_capacity_percent(), 100u);
  EXPECT_EQ(plan.work().working_percent(), 100u);
  EXPECT_EQ(FormatDate(plan.work().return_first_day()), "2024-05-13");

  // GSE intake 2+2+2+1+2+2+3+2+2+2 = 20; exit 3*9 + 4 = 31.
  const v1::MeasureScore* gse_in =
      FindMeasure(plan, v1::INSTRUMENT_GSE, v1::TIME_POINT_BASELINE);
  const v1::MeasureScore* gse_out =
      FindMeasure(plan, v1::INSTRUMENT_GSE, v1::TIME_POINT_FOLLOW_UP);
  ASSERT_NE(gse_in, nullptr);
  ASSERT_NE(gse_out, nullptr);
  EXPECT_NEAR(gse_in->score(), 20.0, kTolerance);
  EXPECT_NEAR(gse_out->score(), 31.0, kTolerance);
  // BRS exit [5,1,4,2,4,2] is DOMAIN's test vector: 4.3333, high.
  const v1::MeasureScore* brs_out =
      FindMeasure(plan, v1::INSTRUMENT_BRS, v1::TIME_POINT_FOLLOW_UP);
  ASSERT_NE(brs_out, nullptr);
  EXPECT_NEAR(brs_out->score(), 4.3333, kTolerance);
  EXPECT_EQ(brs_out->band(), "high");

  // The duplicate contact is gone; the last contact is the round table of
  // 10 June.
  EXPECT_EQ(plan.last_contact_at().seconds(),
            absl::ToUnixSeconds(At(2024, 6, 10)));
  // GoalSet x2 + PlanStepAdded x2 + PlanStepCompleted + PlanStepDropped +
  // GoalStatusChanged = 7.
  EXPECT_EQ(plan.plan_revision(), 7u);

  // Timeline, line by line.
  const std::vector<v1::TimelineEntry> entries =
      Timeline(*projection, "case-marco");
  ExpectLines(
      Summaries(entries),
      {
          "Case opened in return-to-work, case manager cm-anna, referred by "
          "sickness daily-allowance insurer",
          "Consent given for employer-contact until 2024-12-31",
          "Absence from Hafen Logistik AG since 2024-02-19 (contracted 80%)",
          "Contact (in-person, home, 75 min)",
          "BRS administered (baseline)",
          "GSE administered (baseline)",
          "Outreach attempted: no-show",
          "Contact (in-person, office, 90 min)",
          "Strengths assessment recorded: 5 domains, 2 priorities",
          "Goal 'Be back at my desk full time without dreading Mondays' set "
          "(Employment/Education/Specialized Knowledge), target 2024-09-30",
          "Goal 'Have energy left for my kids in the evening' set "
          "(Wellness/Health), target 2024-08-31",
          "Coping strategy agreed: stress management",
          "GAS scale defined for goal 'Be back at my desk full time without "
          "dreading Mondays', baseline -2",
          "Goal 'Be back at my desk full time without dreading Mondays' "
          "rated -2 (baseline)",
          "GAS scale defined for goal 'Have energy left for my kids in the "
          "evening', baseline -1",
          "Goal 'Have energy left for my kids in the evening' rated -1 "
          "(baseline)",
          "Step 'Prepare the first employer meeting with Anna' added to goal "
          "'Be back at my desk full time without dreading Mondays', due "
          "2024-04-25",
          "Step 'Ask HR about a transfer to the Basel depot' added to goal "
          "'Be back at my desk full time without dreading Mondays', due "
          "2024-05-31",
          "Support person Elena (wife) added as natural support",
          "Resource 'Burnout self-help group, Thursday evenings' connected "
          "(community)",
          "Resource 'Psychotherapist Dr. Roth' connected (formal)",
          "Step 'Prepare the first employer meeting with Anna' completed on "
          "2024-04-24",
          "Contact (in-person, workplace, 90 min)",
          "Employer discussion with Hafen Logistik AG: 3 agreements",
          "Step 'Ask HR about a transfer to the Basel depot' dropped",
          "Work capacity certified: 50% from 2024-05-13",
          "Return to work at 50% from 2024-05-13",
          "Contact (in-person, workplace, 60 min)",
          "Employer discussion with Hafen Logistik AG: 2 agreements",
          "Contact (in-person, workplace, 60 min)",
          "Entered in error: ContactRecorded b000001e (entered twice)",
          "Work schedule: 50% -> 75% from 2024-07-01",
          "Work capacity certified: 100% from 2024-08-05",
          "Work schedule: 75% -> 100% from 2024-08-05",
          "Goal 'Be back at my desk full time without dreading Mondays' "
          "rated +1 (follow-up)",
          "Goal 'Have energy left for my kids in the evening' rated +1 "
          "(follow-up)",
          "Goal 'Be back at my desk full time without dreading Mondays' "
          "status: active -> completed; in-progress -> achieved",
          "BRS administered (follow-up)",
          "GSE administered (follow-up)",
          "Case closed (successful, goals-met)",
      });
  ASSERT_EQ(entries.size(), 40u);
  EXPECT_EQ(entries[29].event_id(), marco_duplicate_);
  EXPECT_TRUE(entries[29].entered_in_error());
  EXPECT_EQ(entries[29].corrected_by(), marco_in_error_);
  EXPECT_EQ(entries[29].recorded_at().seconds(),
            absl::ToUnixSeconds(At(2024, 6, 11, 8, 30)));
  EXPECT_FALSE(entries[27].entered_in_error());

  // The caseworker's own stream.
  EXPECT_THAT(Summaries(Timeline(*projection, "caseworker-cm-anna")),
              ElementsAre("Training cycle completed: rfcm-cycle-1"));
}

TEST_F(GoldenCasesTest, MarcoMetrics) {
  ScriptAnnaTraining(/*with_follow_up=*/false);
  ScriptMarco();
  auto projection = CatchUp();
  ASSERT_NE(projection, nullptr);
  ASSERT_OK_AND_ASSIGN(v1::CaseMetrics m, projection->GetCaseMetrics(
                                              "case-marco", D(2025, 6, 30)));

  // GAS, unweighted: denominator sqrt(0.7*2 + 0.3*4) = sqrt(2.6) = 1.612452.
  //  baseline (-2, -1): T = 50 - 30/1.612452 = 31.394790
  //  follow-up (+1, +1): T = 50 + 20/1.612452 = 62.403473
  //  change = 31.008684.
  EXPECT_NEAR(m.gas().baseline_t(), 31.394790, kTolerance);
  EXPECT_NEAR(m.gas().follow_up_t(), 62.403473, kTolerance);
  EXPECT_NEAR(m.gas().change(), 31.008684, kTolerance);
  EXPECT_EQ(m.gas().goals_paired(), 2u);

  ExpectRate(m.goal_attainment(), 1, 2, "goal attainment");
  // st-prep done 04-24 (target 04-25): due and on time; st-transfer dropped,
  // so not due.
  ExpectRate(m.step_completion(), 1, 1, "step completion");
  ExpectRate(m.step_on_time(), 1, 1, "step on time");
  // Opened 2024-04-02: assessment 04-11 (9 days), goals 04-16 (14 days).
  ExpectTime(m.time_to_first_goal(), v1::EVENT_OBSERVATION_OBSERVED, 14,
             "time to first goal");
  ExpectTime(m.time_to_first_assessment(), v1::EVENT_OBSERVATION_OBSERVED, 9,
             "time to first assessment");
  // Contacts: home, office, workplace, workplace (the duplicate is entered
  // in error and does not count): 3 of 4 outside the office.
  ExpectRate(m.community_contact_share(), 3, 4, "community contact share");
  // Resources: the self-help group (community) of 2.
  ExpectRate(m.natural_resource_share(), 1, 2, "natural resource share");
  // 4 contacts, 1 no-show: 4 / 5.
  ExpectRate(m.outreach_yield(), 4, 5, "outreach yield");
  // Last contact 2024-06-10 -> 2025-06-30 = 365 + 20 = 385 days.
  ASSERT_TRUE(m.has_days_since_last_contact());
  EXPECT_EQ(m.days_since_last_contact(), 385);

  // BRS intake [3,4,2,4,2,3] -> 3,2,2,2,2,3 = 14/6 = 2.3333 (low); exit
  // 4.3333 (high); change +2.0.
  ExpectChange(m.brs().score(), 14.0 / 6, 26.0 / 6, 2.0, "BRS");
  EXPECT_EQ(m.brs().intake_band(), "low");
  EXPECT_EQ(m.brs().exit_band(), "high");
  // GSE 20 -> 31: +11.
  ExpectChange(m.gse().score(), 20, 31, 11, "GSE");
  EXPECT_FALSE(m.mspss().score().has_intake());

  EXPECT_EQ(m.support_active_members(), 1u);
  ExpectRate(m.support_natural_share(), 1, 1, "support natural share");

  // Absence from 2024-02-19 (leap year): back on 2024-05-13 = 10 + 31 + 30
  // + 13 = 84 days; full contract (100% of the 80%) from 2024-08-05 = 84 +
  // 18 + 30 + 31 + 5 = 168 days.
  ExpectTime(m.time_to_return(), v1::EVENT_OBSERVATION_OBSERVED, 84,
             "time to return");
  ExpectTime(m.time_to_full_return(), v1::EVENT_OBSERVATION_OBSERVED, 168,
             "time to full return");
  // No recurrence, and as_of is more than 90 days after the return.
  EXPECT_EQ(m.sustained_return().window_days(), 90u);
  EXPECT_EQ(m.sustained_return().status(), v1::WINDOW_STATUS_MET);
  // Closed successfully 2024-08-30, never reopened; as_of is 304 days
  // later: past 180 (not met), inside 365 and 730 (undetermined).
  EXPECT_THAT(WindowLines(m), ElementsAre("180 WINDOW_STATUS_NOT_MET",
                                          "365 WINDOW_STATUS_UNDETERMINED",
                                          "730 WINDOW_STATUS_UNDETERMINED"));
  // 2024-04-02 -> 2024-08-30 = 28 + 31 + 30 + 31 + 30 = 150 days.
  ExpectTime(m.open_to_close(), v1::EVENT_OBSERVATION_OBSERVED, 150,
             "open to close");
  EXPECT_EQ(m.open_to_close_bucket(), "91-180");

  // As of 2024-06-30, halfway through the graded return.
  ASSERT_OK_AND_ASSIGN(v1::CaseMetrics june, projection->GetCaseMetrics(
                                                 "case-marco", D(2024, 6, 30)));
  ExpectTime(june.time_to_return(), v1::EVENT_OBSERVATION_OBSERVED, 84,
             "time to return in June");
  // Not yet at 100%: censored at as_of, 2024-02-19 -> 2024-06-30 = 132.
  ExpectTime(june.time_to_full_return(), v1::EVENT_OBSERVATION_CENSORED, 132,
             "time to full return in June");
  // 48 days since the return, no recurrence: undetermined.
  EXPECT_EQ(june.sustained_return().status(), v1::WINDOW_STATUS_UNDETERMINED);
  // Exit measures are dated 2024-08-26, after as_of.
  EXPECT_TRUE(june.brs().score().has_intake());
  EXPECT_FALSE(june.brs().score().has_exit());
  EXPECT_FALSE(june.brs().score().has_change());
  // Open: censored 2024-04-02 -> 2024-06-30 = 89 days.
  ExpectTime(june.open_to_close(), v1::EVENT_OBSERVATION_CENSORED, 89,
             "open to close in June");
  // Days since the round table of 10 June: 20.
  EXPECT_EQ(june.days_since_last_contact(), 20);
}

TEST_F(GoldenCasesTest, MarcoPlanAtEarlierPoint) {
  ScriptMarco();
  // As things were at the end of June 2024: back at 50%, both discussions
  // held (five agreements), neither goal achieved yet; six plan revisions
  // (GoalSet x2, steps added x2, completed, dropped).
  ASSERT_OK_AND_ASSIGN(v1::CasePlan june,
                       PlanAsOccurredAt(*log_, "case-marco", EndOf(2024, 6, 30),
                                        ScoringConfig()));
  EXPECT_EQ(june.status(), v1::CASE_STATUS_OPEN);
  EXPECT_EQ(june.work().working_percent(), 50u);
  EXPECT_EQ(june.work().certified_capacity_percent(), 50u);
  EXPECT_EQ(june.employer_agreements_size(), 5);
  EXPECT_EQ(june.plan_revision(), 6u);
  EXPECT_EQ(june.goals(0).lifecycle_status(), v1::GOAL_LIFECYCLE_STATUS_ACTIVE);
  EXPECT_EQ(june.goals(0).achievement_status(),
            v1::GOAL_ACHIEVEMENT_STATUS_IN_PROGRESS);
  EXPECT_FALSE(IsSet(june.closed_on()));
  // As the record stood after the first round table: three agreements,
  // nobody back at work yet.
  ASSERT_OK_AND_ASSIGN(
      v1::CasePlan april,
      PlanAsRecordedAtPosition(
          *log_, "case-marco",
          positions_["b0000018-0000-4000-8000-000000000018"], ScoringConfig()));
  EXPECT_EQ(april.version(), 24u);
  EXPECT_EQ(april.employer_agreements_size(), 3);
  EXPECT_EQ(april.work().working_percent(), 0u);
  EXPECT_EQ(april.work().certified_capacity_percent(), 0u);
  EXPECT_FALSE(IsSet(april.work().return_first_day()));
}

// ---------------------------------------------------------------------------
// Ruth: return to work after a brain injury, workplace configuration,
// recurrence
// ---------------------------------------------------------------------------

constexpr char kClosing[] = "Do the monthly closing at Stadtwerke Nord again";
constexpr char kEnergy[] =
    "Manage my energy so that I still have some in the evening";
constexpr char kStadtwerke[] = "Stadtwerke Nord";

void GoldenCasesTest::ScriptRuth() {
  Stream& s = ruth_;
  // 1-3: referred by the rehab clinic eight weeks after the accident.
  Add(s, At(2024, 10, 7),
      CaseOpened("cl-3003", "Ruth", "brain-injury-rtw",
                 "Bellevue neurorehabilitation clinic", "cm-anna", "team-rtw"));
  Add(s, At(2024, 10, 7),
      Consent("cons-ruth-1", {"employer-contact", "treatment"},
              {kStadtwerke, "Neuro-Rehab Clinic Bellevue"},
              {v1::SENSITIVITY_LABEL_HEALTH}));
  ruth_absence_ = Add(s, At(2024, 10, 7),
                      Absence("abs-ruth", kStadtwerke, D(2024, 8, 12),
                              "acquired brain injury (cycling accident)", 100),
                      absl::InfinitePast(), {v1::SENSITIVITY_LABEL_HEALTH});
  // 4-9: home visit and intake measures (she stopped the GSE after eight
  // items: too tired); strengths assessment at the office with her husband.
  Add(s, At(2024, 10, 9),
      Contact("c-ruth-1", v1::CONTACT_LOCATION_HOME, 60,
              "First visit at home; Ruth tires after 40 minutes",
              {"Ruth", "Peter", "cm-anna"}));
  Add(s, At(2024, 10, 9),
      Measure("m-ruth-brs-1", v1::INSTRUMENT_BRS, v1::TIME_POINT_BASELINE,
              D(2024, 10, 9), {3, 3, 3, 3, 3, 3}));
  Add(s, At(2024, 10, 9),
      Measure("m-ruth-gse-1", v1::INSTRUMENT_GSE, v1::TIME_POINT_BASELINE,
              D(2024, 10, 9), {3, 2, 3, 2, 3, 2, 3, 2, 0, 0}));
  Add(s, At(2024, 10, 16),
      Contact("c-ruth-2", v1::CONTACT_LOCATION_OFFICE, 60,
              "Strengths assessment with Peter", {"Ruth", "Peter", "cm-anna"}));
  Add(s, At(2024, 10, 16),
      Assessment(
          "sa-ruth-1",
          {{kWork, "On sick leave since the accident in August",
            "Do the monthly closing again",
            "Nineteen years of bookkeeping at Stadtwerke Nord"},
           {kHealth, "Headaches and exhausted by noon",
            "Energy for a whole working day",
            "Routines: the same walk every morning"},
           {kRelations, "Peter drives me everywhere", "Cook with Peter again",
            "Peter, and my sister Anna"},
           {kHome, "Peter does the shopping", "Do the shopping on my own",
            "I always ran the household budget"}},
          {{kWork, "Back to my ledgers"}, {kHealth, "Pace my energy"}}));
  Add(s, At(2024, 10, 16),
      Factor("pf-ruth-1", v1::RESILIENCE_FACTOR_OPTIMISM,
             "I got back on the bike once; I will get back to my ledgers "
             "too"));
  // 10-21: goals, GAS (the job goal weighted 3), steps, network, pacing.
  Add(s, At(2024, 10, 23),
      Goal("g-closing", kClosing,
           "I have done it for nineteen years and I am good at it", kWork,
           {"nineteen years of bookkeeping", "precise and calm"},
           D(2025, 3, 31)));
  Add(s, At(2024, 10, 23),
      Goal("g-energy", kEnergy, "Peter and I want to cook together again",
           kHealth, {"disciplined about routines"}, D(2025, 1, 31)));
  Add(s, At(2024, 10, 23),
      GasScale("g-closing",
               {"Off work", "Working mornings on simple bookings",
                "Doing the monthly closing again, with a colleague checking",
                "Doing the monthly closing on my own",
                "Closing on my own and training the apprentice"},
               -2, /*weight=*/3));
  Add(s, At(2024, 10, 23),
      GasRate("g-closing", -2, v1::TIME_POINT_BASELINE, D(2024, 10, 23)));
  Add(s, At(2024, 10, 23),
      GasScale("g-energy",
               {"Exhausted by noon every day", "Energy until early afternoon",
                "Energy for the working day with two pauses",
                "Energy left for the evening most days",
                "Evenings out twice a week"},
               -1));
  Add(s, At(2024, 10, 23),
      GasRate("g-energy", -1, v1::TIME_POINT_BASELINE, D(2024, 10, 23)));
  Add(s, At(2024, 10, 23),
      Step("g-closing", "st-desk",
           "Try out a quiet desk at Stadtwerke Nord with the team lead",
           v1::RESPONSIBLE_PARTY_CASE_MANAGER, "", D(2024, 11, 15)));
  Add(s, At(2024, 10, 23),
      Step("g-energy", "st-diary", "Keep an energy diary for four weeks",
           v1::RESPONSIBLE_PARTY_CLIENT, "", D(2024, 11, 20)));
  Add(s, At(2024, 10, 23),
      Person("p-peter", "Peter", "husband",
             {v1::SUPPORT_KIND_PRACTICAL, v1::SUPPORT_KIND_EMOTIONAL},
             /*natural=*/true));
  Add(s, At(2024, 10, 23),
      Resource("res-neuro", "Neuropsychology outpatient clinic Bellevue",
               v1::RESOURCE_KIND_FORMAL, kHealth, "g-energy"));
  Add(s, At(2024, 10, 23),
      Resource("res-peers", "Brain injury peer group, Monday evenings",
               v1::RESOURCE_KIND_COMMUNITY, kRelations, "g-energy"));
  Add(s, At(2024, 10, 23),
      Coping("cs-pacing", "work structuring",
             "Work in 45-minute blocks with a 10-minute pause, one task at a "
             "time",
             "At work, with a timer on the desk"));
  // 22-24: round table and workplace visit: workplace configuration, work
  // structuring, graded hours.
  Add(s, At(2024, 11, 12),
      Contact("c-ruth-3", v1::CONTACT_LOCATION_WORKPLACE, 120,
              "Round table and workplace visit at Stadtwerke Nord",
              {"Ruth", "Mr. Baumann", "cm-anna"}));
  Add(s, At(2024, 11, 12),
      Discussion(
          "disc-ruth-1", kStadtwerke,
          {"Ruth", "Mr. Baumann (team lead)", "HR", "occupational physician",
           "cm-anna"},
          {Agreement("r1", v1::AGREEMENT_KIND_WORKPLACE_CONFIGURATION,
                     "Single office away from the printer, noise-cancelling "
                     "headset, second screen",
                     "facility management", D(2024, 11, 29)),
           Agreement("r2", v1::AGREEMENT_KIND_WORK_STRUCTURING,
                     "Written task list every morning; no hotline duty",
                     "team lead", D(2024, 12, 2)),
           Agreement("r3", v1::AGREEMENT_KIND_GRADED_HOURS,
                     "Start at 50%: four hours every morning", "HR",
                     D(2024, 12, 2))},
          D(2024, 12, 16)));
  Add(s, At(2024, 11, 15), StepDone("st-desk", D(2024, 11, 15)));
  // 25-27: certified 50%, back on 2 December; the diary is late.
  Add(s, At(2024, 11, 28),
      Capacity(50, D(2024, 12, 2), D(2025, 1, 5),
               "Neuro-Rehab Clinic Bellevue"));
  Add(s, At(2024, 12, 2), ReturnToWork(50, D(2024, 12, 2), kStadtwerke));
  Add(s, At(2024, 12, 10), StepDone("st-diary", D(2024, 12, 10)));
  // 28-32: second round table; 100% from 6 January, first entered with the
  // wrong start date and corrected the next day.
  Add(s, At(2024, 12, 16),
      Contact("c-ruth-4", v1::CONTACT_LOCATION_WORKPLACE, 60,
              "Review round table", {"Ruth", "Mr. Baumann", "cm-anna"}));
  Add(s, At(2024, 12, 16),
      Discussion(
          "disc-ruth-2", kStadtwerke,
          {"Ruth", "Mr. Baumann (team lead)", "HR", "cm-anna"},
          {Agreement("r4", v1::AGREEMENT_KIND_GRADED_HOURS,
                     "100% from 6 January with two fixed pauses", "HR",
                     D(2025, 1, 6)),
           Agreement("r5", v1::AGREEMENT_KIND_TASKS,
                     "Monthly closing again, a colleague double-checks for "
                     "three months",
                     "team lead", D(2025, 1, 31))},
          D(2025, 2, 10)));
  Add(s, At(2025, 1, 3),
      Capacity(100, D(2025, 1, 6), v1::Date(), "Neuro-Rehab Clinic Bellevue"));
  ruth_schedule_ = Add(s, At(2025, 1, 6), Schedule(100, D(2025, 1, 13)));
  ruth_fix_ = Add(s, At(2025, 1, 7),
                  Corrected(ruth_schedule_,
                            "wrong start date: she started on Monday 6 "
                            "January",
                            Schedule(100, D(2025, 1, 6))));
  // 33-38: exit ratings and measures; closed.
  Add(s, At(2025, 2, 10),
      GasRate("g-closing", 0, v1::TIME_POINT_FOLLOW_UP, D(2025, 2, 10)));
  Add(s, At(2025, 2, 10),
      GasRate("g-energy", 1, v1::TIME_POINT_FOLLOW_UP, D(2025, 2, 10)));
  Add(s, At(2025, 2, 10),
      GoalStatus("g-closing", v1::GOAL_LIFECYCLE_STATUS_COMPLETED,
                 v1::GOAL_ACHIEVEMENT_STATUS_ACHIEVED,
                 "Did the January closing with a colleague checking"));
  Add(s, At(2025, 2, 10),
      Measure("m-ruth-brs-2", v1::INSTRUMENT_BRS, v1::TIME_POINT_FOLLOW_UP,
              D(2025, 2, 10), {4, 2, 4, 2, 4, 3}));
  Add(s, At(2025, 2, 10),
      Measure("m-ruth-gse-2", v1::INSTRUMENT_GSE, v1::TIME_POINT_FOLLOW_UP,
              D(2025, 2, 10), {3, 3, 4, 3, 3, 3, 3, 3, 4, 3}));
  Add(s, At(2025, 2, 14),
      Closed("Stadtwerke Nord, full contract",
             "Back at 100% with workplace adjustments"));
  // 39-40: the employer calls: off sick again since 24 February. Reopened
  // on the 26th; the recurrence is recorded the same day, backdated.
  Add(s, At(2025, 2, 26),
      Reopened("Off work again since 24 February with migraine and fatigue; "
               "the employer asked for support"),
      At(2025, 2, 26, 16));
  Add(s, At(2025, 2, 24),
      Recurred(D(2025, 2, 24), "post-traumatic fatigue and migraine"),
      At(2025, 2, 26, 17));
}

TEST_F(GoldenCasesTest, RuthBrainInjuryReturnToWork) {
  ScriptAnnaTraining(/*with_follow_up=*/true);
  ScriptRuth();
  auto projection = CatchUp(/*min_group_size=*/1);
  ASSERT_NE(projection, nullptr);
  ASSERT_OK_AND_ASSIGN(v1::CasePlan plan, projection->GetPlan("case-ruth"));

  EXPECT_EQ(plan.status(), v1::CASE_STATUS_OPEN);
  EXPECT_EQ(plan.reopen_count(), 1u);
  EXPECT_FALSE(IsSet(plan.closed_on()));
  EXPECT_EQ(plan.version(), 40u);
  EXPECT_EQ(plan.program(), "brain-injury-rtw");
  EXPECT_THAT(
      GoalLines(plan),
      ElementsAre(
          "g-closing | Do the monthly closing at Stadtwerke Nord again | "
          "GOAL_LIFECYCLE_STATUS_COMPLETED | GOAL_ACHIEVEMENT_STATUS_ACHIEVED "
          "| target 2025-03-31 | set 2024-10-23",
          "g-energy | Manage my energy so that I still have some in the "
          "evening | GOAL_LIFECYCLE_STATUS_ACTIVE | "
          "GOAL_ACHIEVEMENT_STATUS_IN_PROGRESS | target 2025-01-31 | set "
          "2024-10-23"));
  EXPECT_THAT(
      StepLines(plan),
      ElementsAre("g-closing/st-desk | STEP_STATUS_COMPLETED | "
                  "RESPONSIBLE_PARTY_CASE_MANAGER | target 2024-11-15 | done "
                  "2024-11-15",
                  "g-energy/st-diary | STEP_STATUS_COMPLETED | "
                  "RESPONSIBLE_PARTY_CLIENT | target 2024-11-20 | done "
                  "2024-12-10"));
  EXPECT_DOUBLE_EQ(plan.goals(0).gas().weight(), 3.0);
  EXPECT_THAT(ResourceLines(plan),
              ElementsAre("RESOURCE_KIND_FORMAL | Neuropsychology outpatient "
                          "clinic Bellevue | Wellness/Health | g-energy | "
                          "active | 2024-10-23",
                          "RESOURCE_KIND_COMMUNITY | Brain injury peer group, "
                          "Monday evenings | Supportive Relationships | "
                          "g-energy | active | 2024-10-23"));
  ASSERT_EQ(plan.protective_factors_size(), 1);
  EXPECT_EQ(plan.protective_factors(0).factor(),
            v1::RESILIENCE_FACTOR_OPTIMISM);
  ASSERT_EQ(plan.coping_strategies_size(), 1);
  EXPECT_EQ(plan.coping_strategies(0).category(), "work structuring");
  EXPECT_THAT(ConsentLines(plan),
              ElementsAre("cons-ruth-1 | employer-contact,treatment | "
                          "Stadtwerke Nord,Neuro-Rehab Clinic Bellevue | "
                          "SENSITIVITY_LABEL_HEALTH | given 2024-10-07 | "
                          "expires "));
  EXPECT_THAT(
      AgreementLines(plan),
      ElementsAre(
          "disc-ruth-1/r1 | 2024-11-12 | Stadtwerke Nord | "
          "AGREEMENT_KIND_WORKPLACE_CONFIGURATION | Single office away from "
          "the printer, noise-cancelling headset, second screen | owner "
          "facility management | due 2024-11-29",
          "disc-ruth-1/r2 | 2024-11-12 | Stadtwerke Nord | "
          "AGREEMENT_KIND_WORK_STRUCTURING | Written task list every morning; "
          "no hotline duty | owner team lead | due 2024-12-02",
          "disc-ruth-1/r3 | 2024-11-12 | Stadtwerke Nord | "
          "AGREEMENT_KIND_GRADED_HOURS | Start at 50%: four hours every "
          "morning | owner HR | due 2024-12-02",
          "disc-ruth-2/r4 | 2024-12-16 | Stadtwerke Nord | "
          "AGREEMENT_KIND_GRADED_HOURS | 100% from 6 January with two fixed "
          "pauses | owner HR | due 2025-01-06",
          "disc-ruth-2/r5 | 2024-12-16 | Stadtwerke Nord | "
          "AGREEMENT_KIND_TASKS | Monthly closing again, a colleague "
          "double-checks for three months | owner team lead | due "
          "2025-01-31"));
  // Work: off again since the recurrence, still certified 100%.
  EXPECT_EQ(plan.work().employer(), kStadtwerke);
  EXPECT_EQ(FormatDate(plan.work().absence_first_day()), "2024-08-12");
  EXPECT_EQ(plan.work().contracted_percent(), 100u);
  EXPECT_EQ(plan.work().certified_capacity_percent(), 100u);
  EXPECT_EQ(plan.work().working_percent(), 0u);
  EXPECT_EQ(FormatDate(plan.work().return_first_day()), "2024-12-02");
  // GSE intake: 8 of 10 items (2 missing <= 3 allowed): (3+2)*4 = 20 over 8
  // items, mean 2.5 x 10 = 25. Exit 3*8 + 4*2 = 32. BRS [3,3,3,3,3,3] =
  // 3.0 (normal, the inclusive lower bound).
  const v1::MeasureScore* gse_in =
      FindMeasure(plan, v1::INSTRUMENT_GSE, v1::TIME_POINT_BASELINE);
  ASSERT_NE(gse_in, nullptr);
  EXPECT_TRUE(gse_in->scorable());
  EXPECT_NEAR(gse_in->score(), 25.0, kTolerance);
  const v1::MeasureScore* brs_in =
      FindMeasure(plan, v1::INSTRUMENT_BRS, v1::TIME_POINT_BASELINE);
  ASSERT_NE(brs_in, nullptr);
  EXPECT_NEAR(brs_in->score(), 3.0, kTolerance);
  EXPECT_EQ(brs_in->band(), "normal");
  // GoalSet x2 + PlanStepAdded x2 + PlanStepCompleted x2 + GoalStatusChanged
  // = 7.
  EXPECT_EQ(plan.plan_revision(), 7u);

  const std::vector<v1::TimelineEntry> entries =
      Timeline(*projection, "case-ruth");
  ExpectLines(
      Summaries(entries),
      {
          "Case opened in brain-injury-rtw, case manager cm-anna, referred by "
          "Bellevue neurorehabilitation clinic",
          "Consent given for employer-contact, treatment",
          "Absence from Stadtwerke Nord since 2024-08-12 (contracted 100%)",
          "Contact (in-person, home, 60 min)",
          "BRS administered (baseline)",
          "GSE administered (baseline)",
          "Contact (in-person, office, 60 min)",
          "Strengths assessment recorded: 4 domains, 2 priorities",
          "Protective factor identified: optimism",
          "Goal 'Do the monthly closing at Stadtwerke Nord again' set "
          "(Employment/Education/Specialized Knowledge), target 2025-03-31",
          "Goal 'Manage my energy so that I still have some in the evening' "
          "set (Wellness/Health), target 2025-01-31",
          "GAS scale defined for goal 'Do the monthly closing at Stadtwerke "
          "Nord again', baseline -2",
          "Goal 'Do the monthly closing at Stadtwerke Nord again' rated -2 "
          "(baseline)",
          "GAS scale defined for goal 'Manage my energy so that I still have "
          "some in the evening', baseline -1",
          "Goal 'Manage my energy so that I still have some in the evening' "
          "rated -1 (baseline)",
          "Step 'Try out a quiet desk at Stadtwerke Nord with the team lead' "
          "added to goal 'Do the monthly closing at Stadtwerke Nord again', "
          "due 2024-11-15",
          "Step 'Keep an energy diary for four weeks' added to goal 'Manage "
          "my energy so that I still have some in the evening', due "
          "2024-11-20",
          "Support person Peter (husband) added as natural support",
          "Resource 'Neuropsychology outpatient clinic Bellevue' connected "
          "(formal)",
          "Resource 'Brain injury peer group, Monday evenings' connected "
          "(community)",
          "Coping strategy agreed: work structuring",
          "Contact (in-person, workplace, 120 min)",
          "Employer discussion with Stadtwerke Nord: 3 agreements",
          "Step 'Try out a quiet desk at Stadtwerke Nord with the team lead' "
          "completed on 2024-11-15",
          "Work capacity certified: 50% from 2024-12-02",
          "Return to work at 50% from 2024-12-02",
          "Step 'Keep an energy diary for four weeks' completed on "
          "2024-12-10",
          "Contact (in-person, workplace, 60 min)",
          "Employer discussion with Stadtwerke Nord: 2 agreements",
          "Work capacity certified: 100% from 2025-01-06",
          "Work schedule: 50% -> 100% from 2025-01-13",
          "Corrected: WorkScheduleChanged c000001f (wrong start date: she "
          "started on Monday 6 January)",
          "Goal 'Do the monthly closing at Stadtwerke Nord again' rated 0 "
          "(follow-up)",
          "Goal 'Manage my energy so that I still have some in the evening' "
          "rated +1 (follow-up)",
          "Goal 'Do the monthly closing at Stadtwerke Nord again' status: "
          "active -> completed; in-progress -> achieved",
          "BRS administered (follow-up)",
          "GSE administered (follow-up)",
          "Case closed (successful, goals-met)",
          "Case reopened",
          "Absence recurred from 2025-02-24",
      });
  ASSERT_EQ(entries.size(), 40u);
  EXPECT_EQ(entries[2].event_id(), ruth_absence_);
  EXPECT_THAT(entries[2].sensitivity(),
              ElementsAre(v1::SENSITIVITY_LABEL_HEALTH));
  EXPECT_EQ(entries[30].event_id(), ruth_schedule_);
  EXPECT_EQ(entries[30].corrected_by(), ruth_fix_);
  EXPECT_FALSE(entries[30].entered_in_error());
  // The recurrence: occurred on the 24th, recorded on the 26th.
  EXPECT_EQ(entries[39].occurred_at().seconds(),
            absl::ToUnixSeconds(At(2025, 2, 24)));
  EXPECT_EQ(entries[39].recorded_at().seconds(),
            absl::ToUnixSeconds(At(2025, 2, 26, 17)));

  EXPECT_THAT(Summaries(Timeline(*projection, "caseworker-cm-anna")),
              ElementsAre("Training cycle completed: rfcm-cycle-1",
                          "Training cycle completed: rfcm-follow-up"));
  // Opened on 2024-10-07, after cm-anna's follow-up cycle of 2024-09-20.
  MetricsQuery query;
  query.group_by = GroupBy::kTrainingCycle;
  query.as_of = D(2025, 6, 30);
  ASSERT_OK_AND_ASSIGN(v1::MetricsReport report, projection->GetMetrics(query));
  ASSERT_EQ(report.groups_size(), 1);
  EXPECT_EQ(report.groups(0).key(), "rfcm-follow-up");
  EXPECT_EQ(report.groups(0).cases(), 1u);
}

TEST_F(GoldenCasesTest, RuthMetrics) {
  ScriptRuth();
  auto projection = CatchUp();
  ASSERT_NE(projection, nullptr);
  ASSERT_OK_AND_ASSIGN(v1::CaseMetrics m,
                       projection->GetCaseMetrics("case-ruth", D(2025, 6, 30)));

  // GAS, weights (3, 1): sum w = 4, sum w^2 = 10, denominator sqrt(0.7*10 +
  // 0.3*16) = sqrt(11.8) = 3.435113.
  //  baseline (-2, -1): sum wx = -7 -> T = 50 - 70/3.435113 = 29.622212
  //  follow-up (0, +1): sum wx = 1 -> T = 50 + 10/3.435113 = 52.911113
  //  change = 23.288900.
  EXPECT_NEAR(m.gas().baseline_t(), 29.622212, kTolerance);
  EXPECT_NEAR(m.gas().follow_up_t(), 52.911113, kTolerance);
  EXPECT_NEAR(m.gas().change(), 23.288900, kTolerance);

  ExpectRate(m.goal_attainment(), 1, 2, "goal attainment");
  // st-desk 11-15 on its target day (on time); st-diary 12-10 after its
  // 11-20 target (late).
  ExpectRate(m.step_completion(), 2, 2, "step completion");
  ExpectRate(m.step_on_time(), 1, 2, "step on time");
  // Opened 2024-10-07: assessment 10-16 (9 days), goals 10-23 (16 days).
  ExpectTime(m.time_to_first_goal(), v1::EVENT_OBSERVATION_OBSERVED, 16,
             "time to first goal");
  ExpectTime(m.time_to_first_assessment(), v1::EVENT_OBSERVATION_OBSERVED, 9,
             "time to first assessment");
  // Home, office, workplace, workplace: 3 of 4 outside the office; no
  // outreach attempt, so the yield is 4 / 4.
  ExpectRate(m.community_contact_share(), 3, 4, "community contact share");
  ExpectRate(m.outreach_yield(), 4, 4, "outreach yield");
  // Peer group (community) of 2 resources.
  ExpectRate(m.natural_resource_share(), 1, 2, "natural resource share");
  // Last contact 2024-12-16 -> 2025-06-30 = 15 + 31 + 28 + 31 + 30 + 31 +
  // 30 = 196 days.
  EXPECT_EQ(m.days_since_last_contact(), 196);

  // BRS 3.0 -> [4,2,4,2,4,3] = 4+4+4+4+4+3 = 23/6 = 3.8333: +0.8333, both
  // normal.
  ExpectChange(m.brs().score(), 3.0, 23.0 / 6, 23.0 / 6 - 3.0, "BRS");
  EXPECT_EQ(m.brs().intake_band(), "normal");
  EXPECT_EQ(m.brs().exit_band(), "normal");
  // GSE 25 (prorated) -> 32: +7.
  ExpectChange(m.gse().score(), 25, 32, 7, "GSE");

  // Absence from 2024-08-12: back on 2024-12-02 = 19 + 30 + 31 + 30 + 2 =
  // 112 days. Full return from 2025-01-06 as corrected (the mistyped
  // 2025-01-13 would give 154): 112 + 29 + 6 = 147 days.
  ExpectTime(m.time_to_return(), v1::EVENT_OBSERVATION_OBSERVED, 112,
             "time to return");
  ExpectTime(m.time_to_full_return(), v1::EVENT_OBSERVATION_OBSERVED, 147,
             "time to full return");
  // Recurrence on 2025-02-24 = 29 + 31 + 24 = 84 days after the return,
  // within 90: not sustained.
  EXPECT_EQ(m.sustained_return().status(), v1::WINDOW_STATUS_NOT_MET);
  // Closed successfully 2025-02-14, reopened 2025-02-26 (12 days).
  EXPECT_THAT(WindowLines(m),
              ElementsAre("180 WINDOW_STATUS_MET", "365 WINDOW_STATUS_MET",
                          "730 WINDOW_STATUS_MET"));
  // Open again: censored 2024-10-07 -> 2025-06-30 = 24 + 30 + 31 + 31 + 28
  // + 31 + 30 + 31 + 30 = 266 days.
  ExpectTime(m.open_to_close(), v1::EVENT_OBSERVATION_CENSORED, 266,
             "open to close");
  EXPECT_EQ(m.open_to_close_bucket(), "");

  // As of 2025-02-20: closed six days ago, the recurrence and reopening
  // still ahead.
  ASSERT_OK_AND_ASSIGN(v1::CaseMetrics feb,
                       projection->GetCaseMetrics("case-ruth", D(2025, 2, 20)));
  // 80 days since the return, no recurrence yet: undetermined.
  EXPECT_EQ(feb.sustained_return().status(), v1::WINDOW_STATUS_UNDETERMINED);
  EXPECT_THAT(WindowLines(feb), ElementsAre("180 WINDOW_STATUS_UNDETERMINED",
                                            "365 WINDOW_STATUS_UNDETERMINED",
                                            "730 WINDOW_STATUS_UNDETERMINED"));
  // 2024-10-07 -> 2025-02-14 = 24 + 30 + 31 + 31 + 14 = 130 days.
  ExpectTime(feb.open_to_close(), v1::EVENT_OBSERVATION_OBSERVED, 130,
             "open to close in February");
  EXPECT_EQ(feb.open_to_close_bucket(), "91-180");
  ExpectTime(feb.time_to_full_return(), v1::EVENT_OBSERVATION_OBSERVED, 147,
             "time to full return in February");
  // 2024-12-16 -> 2025-02-20 = 15 + 31 + 20 = 66 days.
  EXPECT_EQ(feb.days_since_last_contact(), 66);
}

TEST_F(GoldenCasesTest, RuthPlanAtEarlierPoints) {
  ScriptRuth();
  const ScoringConfig scoring;
  // As things were on 20 February 2025: closed, working her full contract.
  ASSERT_OK_AND_ASSIGN(
      v1::CasePlan feb20,
      PlanAsOccurredAt(*log_, "case-ruth", EndOf(2025, 2, 20), scoring));
  EXPECT_EQ(feb20.status(), v1::CASE_STATUS_CLOSED);
  EXPECT_EQ(FormatDate(feb20.closed_on()), "2025-02-14");
  EXPECT_EQ(feb20.close_outcome(), v1::CASE_OUTCOME_SUCCESSFUL);
  EXPECT_EQ(feb20.reopen_count(), 0u);
  EXPECT_EQ(feb20.work().working_percent(), 100u);
  EXPECT_EQ(feb20.version(), 38u);
  EXPECT_EQ(feb20.plan_revision(), 7u);
  // As things were on 25 February: still closed, but already off work again
  // (the recurrence was recorded later, backdated to the 24th).
  ASSERT_OK_AND_ASSIGN(
      v1::CasePlan feb25,
      PlanAsOccurredAt(*log_, "case-ruth", EndOf(2025, 2, 25), scoring));
  EXPECT_EQ(feb25.status(), v1::CASE_STATUS_CLOSED);
  EXPECT_EQ(feb25.work().working_percent(), 0u);
  EXPECT_EQ(feb25.reopen_count(), 0u);
  EXPECT_EQ(feb25.version(), 40u);
  // As the record stood on 25 February (nothing about the recurrence yet).
  ASSERT_OK_AND_ASSIGN(
      v1::CasePlan recorded,
      PlanAsRecordedAtTime(*log_, "case-ruth", EndOf(2025, 2, 25), scoring));
  EXPECT_EQ(recorded.status(), v1::CASE_STATUS_CLOSED);
  EXPECT_EQ(recorded.work().working_percent(), 100u);
  EXPECT_EQ(recorded.version(), 38u);
  // As things were before the first round table: nothing agreed, absent.
  ASSERT_OK_AND_ASSIGN(
      v1::CasePlan october,
      PlanAsOccurredAt(*log_, "case-ruth", EndOf(2024, 10, 31), scoring));
  EXPECT_EQ(october.employer_agreements_size(), 0);
  EXPECT_EQ(october.work().working_percent(), 0u);
  EXPECT_EQ(october.work().certified_capacity_percent(), 0u);
  EXPECT_EQ(october.plan_revision(), 4u);  // GoalSet x2, PlanStepAdded x2
  // Now: reopened and off work.
  auto projection = CatchUp();
  ASSERT_NE(projection, nullptr);
  ASSERT_OK_AND_ASSIGN(v1::CasePlan now, projection->GetPlan("case-ruth"));
  EXPECT_EQ(now.status(), v1::CASE_STATUS_OPEN);
  EXPECT_EQ(now.reopen_count(), 1u);
  EXPECT_EQ(now.work().working_percent(), 0u);
}

// ---------------------------------------------------------------------------
// All three cases in one log, grouped
// ---------------------------------------------------------------------------

TEST_F(GoldenCasesTest, AllThreeGroupedByTrainingCycle) {
  ScriptAnnaTraining(/*with_follow_up=*/true);
  ScriptSarah();
  ScriptMarco();
  ScriptRuth();
  auto projection = CatchUp(/*min_group_size=*/1);
  ASSERT_NE(projection, nullptr);

  // cm-lena has no training stream -> "none" (Sarah). cm-anna completed
  // cycle 1 on 2024-01-26 and the follow-up on 2024-09-20: Marco's case
  // (opened 2024-04-02) -> "rfcm-cycle-1", Ruth's (opened 2024-10-07) ->
  // "rfcm-follow-up". The caseworker stream has no CaseOpened and is not a
  // case.
  MetricsQuery query;
  query.group_by = GroupBy::kTrainingCycle;
  query.as_of = D(2025, 6, 30);
  ASSERT_OK_AND_ASSIGN(v1::MetricsReport report, projection->GetMetrics(query));
  ASSERT_EQ(report.groups_size(), 3);
  EXPECT_EQ(report.groups(0).key(), "none");
  EXPECT_EQ(report.groups(1).key(), "rfcm-cycle-1");
  EXPECT_EQ(report.groups(2).key(), "rfcm-follow-up");
  for (const auto& g : report.groups()) EXPECT_EQ(g.cases(), 1u) << g.key();
  ExpectRate(report.groups(0).figures().goal_attainment(), 1, 4, "none");
  ExpectRate(report.groups(1).figures().goal_attainment(), 1, 2, "cycle 1");
  ExpectRate(report.groups(2).figures().goal_attainment(), 1, 2, "follow-up");

  // One group over all three: rates sum numerators and denominators.
  query.group_by = GroupBy::kNone;
  ASSERT_OK_AND_ASSIGN(v1::MetricsReport all, projection->GetMetrics(query));
  ASSERT_EQ(all.groups_size(), 1);
  EXPECT_EQ(all.groups(0).key(), "all");
  EXPECT_EQ(all.groups(0).cases(), 3u);
  const v1::MetricFigures& f = all.groups(0).figures();
  // Goals 1/4 + 1/2 + 1/2 = 3/8; steps 3/3 + 1/1 + 2/2 = 6/6 completed,
  // 2 + 1 + 1 = 4/6 on time; contacts outside the office 4 + 3 + 3 = 10 of
  // 5 + 4 + 4 = 13; outreach yield 13 / (13 + 2).
  ExpectRate(f.goal_attainment(), 3, 8, "all goals");
  ExpectRate(f.step_completion(), 6, 6, "all steps");
  ExpectRate(f.step_on_time(), 4, 6, "all steps on time");
  ExpectRate(f.community_contact_share(), 10, 13, "all community contacts");
  ExpectRate(f.outreach_yield(), 13, 15, "all outreach");
  // Time to return: Marco 84, Ruth 112 (Sarah has no absence): both
  // observed; the Kaplan-Meier median of two uncensored times is their mean,
  // 98.
  EXPECT_EQ(f.time_to_return().cases(), 2u);
  EXPECT_EQ(f.time_to_return().observed(), 2u);
  ASSERT_TRUE(f.time_to_return().median_reached());
  EXPECT_NEAR(f.time_to_return().median_days(), 98.0, kTolerance);
  // Sustained return: Marco met, Ruth not met.
  ExpectRate(f.sustained_return().rate(), 1, 2, "sustained return");
  // BRS change: Sarah +1.6667, Marco +2.0, Ruth +0.8333; mean 4.5/3 = 1.5,
  // median 1.6667.
  EXPECT_EQ(f.brs().change().n(), 3u);
  EXPECT_NEAR(f.brs().change().mean(), 1.5, kTolerance);
  EXPECT_NEAR(f.brs().change().median(), 10.0 / 6, kTolerance);
  EXPECT_EQ(f.brs().intake_bands().low(), 2u);
  EXPECT_EQ(f.brs().intake_bands().normal(), 1u);
  EXPECT_EQ(f.brs().exit_bands().normal(), 2u);
  EXPECT_EQ(f.brs().exit_bands().high(), 1u);

  // With the default minimum group size of 5, three cases are suppressed.
  auto suppressed_projection = [&] {
    CaseProjectionOptions options;
    options.dir = dir_.Sub("projection-default");
    return CaseProjection::Open(options, log_.get());
  }();
  ASSERT_OK(suppressed_projection.status());
  ASSERT_OK((*suppressed_projection)->CatchUp());
  ASSERT_OK_AND_ASSIGN(v1::MetricsReport small,
                       (*suppressed_projection)->GetMetrics(query));
  ASSERT_EQ(small.groups_size(), 1);
  EXPECT_TRUE(small.groups(0).suppressed());
  EXPECT_EQ(small.groups(0).cases(), 0u);
  EXPECT_FALSE(small.groups(0).has_figures());
}

}  // namespace
}  // namespace caseledger::projections
