// Kill test: a projection killed during catch-up resumes from its checkpoint
// and ends byte for byte where a clean build ends.
//
// The fixture writes a log of a few thousand realistic events (about fifty
// cases plus caseworker streams; most event types, including corrections and
// entries in error) and closes it. Each cycle then spawns
// tests/projections/projection_crash_writer on the same projection
// directory. The child opens the projection with a small chunk size, starts
// its background thread and prints a POS line whenever the position
// advances; after a random number K of POS lines this process kills it with
// SIGKILL. Per cycle it checks:
//  - the child resumed at or after every position a previous child reported
//    (a reported position is committed);
//  - the reported positions increase and stay within the log.
// After the cycles it opens the killed-and-resumed projection in this
// process and catches it up, builds a second projection from scratch in a
// fresh directory over the same log, and checks:
//  - both dumps are identical, key by key and value by value (the first
//    differing keys are reported, with their values decoded);
//  - both checkpoints count exactly LastPosition() applied events and none
//    skipped (every event is of a known type), so no event was applied twice
//    or skipped.
//
// No timing is involved: the kill moment is defined by the number of POS
// lines read. K comes from a seeded RNG; the seed is printed and can be
// fixed with the environment variable CASELEDGER_CRASH_SEED. (Thread
// scheduling in the child still varies between runs with the same seed, and
// the log's event ids are random.)

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "caseledger/v1/events.pb.h"
#include "caseledger/v1/projections.pb.h"
#include "engine/event_log.h"
#include "engine/options.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/case_projection.h"
#include "projections/dates.h"
#include "tests/testing/child_process.h"
#include "tests/testing/event_builders.h"
#include "tests/testing/projection_dump.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

#ifndef PROJECTION_CRASH_WRITER_PATH
#error \
    "PROJECTION_CRASH_WRITER_PATH must name the projection_crash_writer binary"
#endif

extern char** environ;

namespace caseledger::projections {
namespace {

using ::caseledger::testing::MakeEvent;

// The log: client cases, their events, and caseworkers (each with an own
// stream of training and supervision events).
constexpr int kCases = 50;
constexpr int kMinEventsPerCase = 40;
constexpr int kMaxEventsPerCase = 80;
constexpr int kCaseworkers = 6;
// Largest number of events in one append while populating.
constexpr uint64_t kMaxEventsPerAppend = 4;

// Events per projection chunk (WriteBatch + checkpoint) in the child, in the
// final catch-up, and in the clean build.
constexpr size_t kChunkEvents = 7;
// Kill cycles per run, all on the same projection directory.
constexpr int kCycles = 8;
// One cycle in this many (on average) kills the child as soon as it is
// spawned, without reading anything: usually while it opens the stores.
constexpr uint64_t kKillAtSpawnOneIn = 8;

uint64_t ChooseSeed() {
  const char* fixed = std::getenv("CASELEDGER_CRASH_SEED");
  uint64_t seed = 0;
  if (fixed != nullptr && absl::SimpleAtoi(fixed, &seed)) return seed;
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) | device();
}

// ---------------------------------------------------------------------------
// The log's content
// ---------------------------------------------------------------------------

// The events of one stream, in append order.
struct Stream {
  std::string case_id;
  std::vector<v1::Event> events;
};

constexpr const char* kPrograms[] = {"housing-first", "return-to-work",
                                     "brain-injury-rtw"};
constexpr const char* kTeams[] = {"team-north", "team-south", "team-east"};
constexpr const char* kDomains[] = {"Home/Daily Living",
                                    "Assets: Financial/Insurance",
                                    "Employment/Education",
                                    "Social Supports",
                                    "Health",
                                    "Leisure/Recreational",
                                    "Spirituality/Culture"};
constexpr const char* kGoalStatements[] = {
    "Get my own flat by the river",
    "Go back to my job at the bakery, mornings first",
    "See my daughter every weekend",
    "Walk to the shop without getting lost",
    "Pay off the electricity debt",
    "Join the Tuesday choir again",
    "Cook a warm meal three times a week",
    "Finish the forklift licence"};
constexpr const char* kStepDescriptions[] = {
    "Call the housing association about the waiting list",
    "Visit the job centre together",
    "Write down the bus route on a card",
    "Ask sister to come along to the first rehearsal",
    "Set up a payment plan with the utility",
    "Trial two half days with the team lead",
    "Make a weekly shopping list"};
constexpr const char* kStrengths[] = {"persistent", "good with people",
                                      "reliable",   "knows the city",
                                      "humour",     "handy with tools"};
constexpr const char* kResourceNames[] = {
    "Neighbour Maria",          "Community kitchen",  "Public library",
    "Debt counselling service", "Peer support group", "Brother Tom",
    "Occupational therapist"};
constexpr const char* kClientNames[] = {"Alex", "Sam",  "Robin", "Kim",
                                        "Jo",   "Noor", "Mika",  "Lou"};

v1::Date DateOf(absl::Time t) { return DateFromTime(t); }

// Builds one client case's events: realistic, valid, and with corrections
// and entries in error aimed at earlier events of the same case.
class CaseGenerator {
 public:
  CaseGenerator(std::mt19937_64* rng, std::string case_id, std::string manager,
                absl::Time start)
      : rng_(rng),
        manager_(std::move(manager)),
        time_(start),
        stream_{std::move(case_id), {}} {}

  Stream Generate(int events) {
    Opened();
    const bool closes_midway = Rand(6) == 0;
    const int close_at = events / 2 + static_cast<int>(Rand(events / 4 + 1));
    const bool closes_at_end = Rand(3) == 0;
    while (static_cast<int>(stream_.events.size()) < events) {
      if (closes_midway &&
          static_cast<int>(stream_.events.size()) == close_at) {
        Closed(v1::CASE_OUTCOME_PARTIAL);
        Reopened();
        continue;
      }
      NextOrdinaryEvent();
    }
    if (closes_at_end) Closed(v1::CASE_OUTCOME_SUCCESSFUL);
    return std::move(stream_);
  }

 private:
  // A previous event and its payload, for corrections.
  struct Target {
    std::string event_id;
    v1::EventPayload payload;
  };

  uint64_t Rand(uint64_t n) { return (*rng_)() % n; }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Rand(N)];
  }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[Rand(items.size())];
  }

  absl::Time NextTime() {
    time_ += absl::Minutes(30 + static_cast<int64_t>(Rand(5 * 24 * 60)));
    return time_;
  }

  // Appends an event with `payload` to the stream. `correctable`: a later
  // EventCorrected may replace it; `erroneous`: a later EventEnteredInError
  // may target it.
  const v1::Event& Add(const v1::EventPayload& payload, bool correctable,
                       bool erroneous) {
    v1::Event event = MakeEvent(payload, NextTime());
    event.mutable_envelope()->set_case_id(stream_.case_id);
    event.mutable_envelope()->mutable_actor()->set_user_id(manager_);
    event.mutable_envelope()->set_source("web/2.4");
    event.mutable_envelope()->set_correlation_id(
        absl::StrCat("visit-", stream_.events.size() / 3));
    if (payload.has_measure_administered() || payload.has_note_recorded()) {
      event.mutable_envelope()->add_sensitivity(v1::SENSITIVITY_LABEL_HEALTH);
    }
    if (correctable)
      correctable_.push_back({event.envelope().event_id(), payload});
    if (erroneous) erroneous_.push_back(event.envelope().event_id());
    stream_.events.push_back(std::move(event));
    return stream_.events.back();
  }

  void Opened() {
    v1::EventPayload p;
    v1::CaseOpened* o = p.mutable_case_opened();
    o->set_client_ref(absl::StrCat("client-", stream_.case_id));
    o->set_client_name(Pick(kClientNames));
    o->set_program(Pick(kPrograms));
    o->set_referral_source(Rand(2) == 0 ? "GP" : "shelter outreach");
    o->set_case_manager_id(manager_);
    o->set_team(Pick(kTeams));
    o->set_organization("org-riverside");
    Add(p, /*correctable=*/false, /*erroneous=*/false);
  }

  void Closed(v1::CaseOutcome outcome) {
    v1::EventPayload p;
    p.mutable_case_closed()->set_reason(v1::CLOSE_REASON_GOALS_MET);
    p.mutable_case_closed()->set_destination("own flat");
    p.mutable_case_closed()->set_outcome(outcome);
    p.mutable_case_closed()->set_summary("Plan completed together");
    Add(p, false, false);
  }

  void Reopened() {
    v1::EventPayload p;
    p.mutable_case_reopened()->set_reason("client asked for support again");
    Add(p, false, false);
  }

  void GoalSet() {
    v1::EventPayload p;
    v1::GoalSet* g = p.mutable_goal_set();
    const std::string goal_id = absl::StrCat("g", ++serial_);
    g->set_goal_id(goal_id);
    g->set_statement(Pick(kGoalStatements));
    g->set_why_important("It would make me feel like myself again");
    g->set_life_domain(Pick(kDomains));
    g->add_strengths(Pick(kStrengths));
    if (Rand(2) == 0) g->add_strengths(Pick(kStrengths));
    g->set_lifecycle_status(Rand(4) == 0 ? v1::GOAL_LIFECYCLE_STATUS_PROPOSED
                                         : v1::GOAL_LIFECYCLE_STATUS_ACTIVE);
    g->set_achievement_status(v1::GOAL_ACHIEVEMENT_STATUS_IN_PROGRESS);
    *g->mutable_target_date() = DateOf(time_ + absl::Hours(24 * 120));
    Add(p, true, false);
    goals_.push_back(goal_id);
    goals_without_scale_.push_back(goal_id);
  }

  void GoalRevised() {
    v1::EventPayload p;
    v1::GoalRevised* r = p.mutable_goal_revised();
    r->set_goal_id(Pick(goals_));
    if (Rand(2) == 0) r->set_statement(Pick(kGoalStatements));
    if (Rand(2) == 0) {
      *r->mutable_target_date() = DateOf(time_ + absl::Hours(24 * 200));
    }
    if (Rand(3) == 0) r->add_add_strengths(Pick(kStrengths));
    if (Rand(4) == 0) r->set_life_domain(Pick(kDomains));
    r->set_reason("agreed at the home visit");
    Add(p, true, true);
  }

  void GoalStatusChanged() {
    v1::EventPayload p;
    v1::GoalStatusChanged* c = p.mutable_goal_status_changed();
    c->set_goal_id(Pick(goals_));
    static constexpr v1::GoalAchievementStatus kAchievement[] = {
        v1::GOAL_ACHIEVEMENT_STATUS_IMPROVING,
        v1::GOAL_ACHIEVEMENT_STATUS_NO_CHANGE,
        v1::GOAL_ACHIEVEMENT_STATUS_ACHIEVED,
        v1::GOAL_ACHIEVEMENT_STATUS_WORSENING};
    c->set_achievement_status(Pick(kAchievement));
    if (c->achievement_status() == v1::GOAL_ACHIEVEMENT_STATUS_ACHIEVED) {
      c->set_lifecycle_status(v1::GOAL_LIFECYCLE_STATUS_COMPLETED);
    }
    c->set_reason("reviewed with the client");
    Add(p, false, false);
  }

  void PlanStepAdded() {
    v1::EventPayload p;
    v1::PlanStepAdded* s = p.mutable_plan_step_added();
    const std::string step_id = absl::StrCat("s", ++serial_);
    s->set_goal_id(Pick(goals_));
    s->set_step_id(step_id);
    s->set_description(Pick(kStepDescriptions));
    const auto responsible = static_cast<v1::ResponsibleParty>(1 + Rand(4));
    s->set_responsible(responsible);
    if (responsible == v1::RESPONSIBLE_PARTY_NATURAL_SUPPORTER ||
        responsible == v1::RESPONSIBLE_PARTY_OTHER) {
      s->set_responsible_name("Sister Ana");
    }
    *s->mutable_target_date() = DateOf(time_ + absl::Hours(24 * 21));
    Add(p, true, false);
    open_steps_.push_back(step_id);
  }

  void PlanStepCompleted() {
    const size_t index = Rand(open_steps_.size());
    v1::EventPayload p;
    p.mutable_plan_step_completed()->set_step_id(open_steps_[index]);
    *p.mutable_plan_step_completed()->mutable_completed_on() = DateOf(time_);
    p.mutable_plan_step_completed()->set_note("done, went well");
    Add(p, false, true);
    open_steps_.erase(open_steps_.begin() + static_cast<ptrdiff_t>(index));
  }

  void PlanStepDropped() {
    const size_t index = Rand(open_steps_.size());
    v1::EventPayload p;
    p.mutable_plan_step_dropped()->set_step_id(open_steps_[index]);
    p.mutable_plan_step_dropped()->set_reason("no longer needed");
    Add(p, false, false);
    open_steps_.erase(open_steps_.begin() + static_cast<ptrdiff_t>(index));
  }

  void PlanReviewed() {
    v1::EventPayload p;
    p.mutable_plan_reviewed()->add_participants("client");
    p.mutable_plan_reviewed()->add_participants(manager_);
    p.mutable_plan_reviewed()->set_client_agreed(true);
    p.mutable_plan_reviewed()->set_summary("Plan still fits");
    *p.mutable_plan_reviewed()->mutable_next_review_on() =
        DateOf(time_ + absl::Hours(24 * 60));
    Add(p, false, false);
  }

  void GasScaleDefined() {
    const size_t index = Rand(goals_without_scale_.size());
    const std::string goal_id = goals_without_scale_[index];
    v1::EventPayload p;
    v1::GasScaleDefined* d = p.mutable_gas_scale_defined();
    d->set_goal_id(goal_id);
    static constexpr const char* kLevels[] = {
        "much less than expected", "somewhat less than expected",
        "expected level", "somewhat more than expected",
        "much more than expected"};
    for (int level = -2; level <= 2; ++level) {
      v1::GasLevel* l = d->add_levels();
      l->set_level(level);
      l->set_description(kLevels[level + 2]);
    }
    d->set_baseline_level(Rand(2) == 0 ? -2 : -1);
    if (Rand(3) == 0) d->set_weight(static_cast<double>(1 + Rand(3)));
    Add(p, false, false);
    goals_without_scale_.erase(goals_without_scale_.begin() +
                               static_cast<ptrdiff_t>(index));
    goals_with_scale_.push_back(goal_id);
  }

  void GasRated() {
    v1::EventPayload p;
    v1::GasRated* r = p.mutable_gas_rated();
    r->set_goal_id(Pick(goals_with_scale_));
    r->set_level(static_cast<int32_t>(Rand(5)) - 2);
    r->set_time_point(static_cast<v1::TimePoint>(1 + Rand(3)));
    *r->mutable_rated_on() = DateOf(time_);
    Add(p, true, true);
  }

  void ResourceConnected() {
    v1::EventPayload p;
    v1::ResourceConnected* r = p.mutable_resource_connected();
    r->set_resource_id(absl::StrCat("r", ++serial_));
    r->set_name(Pick(kResourceNames));
    r->set_kind(static_cast<v1::ResourceKind>(1 + Rand(3)));
    r->set_life_domain(Pick(kDomains));
    if (!goals_.empty() && Rand(2) == 0) r->set_goal_id(Pick(goals_));
    r->set_description("met there twice already");
    Add(p, true, true);
  }

  void SupportPersonAdded() {
    v1::EventPayload p;
    v1::SupportPersonAdded* s = p.mutable_support_person_added();
    s->set_person_id(absl::StrCat("p", ++serial_));
    s->set_name(Pick(kClientNames));
    s->set_relation(Rand(2) == 0 ? "sister" : "neighbour");
    s->add_support_kinds(v1::SUPPORT_KIND_EMOTIONAL);
    if (Rand(2) == 0) s->add_support_kinds(v1::SUPPORT_KIND_PRACTICAL);
    s->set_natural(Rand(4) != 0);
    Add(p, false, true);
  }

  void ContactRecorded() {
    v1::EventPayload p;
    v1::ContactRecorded* c = p.mutable_contact_recorded();
    c->set_contact_id(absl::StrCat("ct", ++serial_));
    const auto mode = static_cast<v1::ContactMode>(1 + Rand(4));
    c->set_mode(mode);
    c->set_location(mode == v1::CONTACT_MODE_IN_PERSON
                        ? static_cast<v1::ContactLocation>(1 + Rand(4))
                        : v1::CONTACT_LOCATION_REMOTE);
    c->set_duration_minutes(static_cast<uint32_t>(10 + Rand(110)));
    c->set_purpose(Rand(2) == 0 ? "plan review" : "accompany to appointment");
    c->add_participants("client");
    Add(p, true, true);
  }

  void OutreachAttempted() {
    v1::EventPayload p;
    p.mutable_outreach_attempted()->set_outcome(
        static_cast<v1::OutreachOutcome>(1 + Rand(3)));
    p.mutable_outreach_attempted()->set_mode(v1::CONTACT_MODE_IN_PERSON);
    p.mutable_outreach_attempted()->set_location(v1::CONTACT_LOCATION_HOME);
    p.mutable_outreach_attempted()->set_note("nobody opened");
    Add(p, false, true);
  }

  void NoteRecorded() {
    v1::EventPayload p;
    p.mutable_note_recorded()->set_note_id(absl::StrCat("n", ++serial_));
    p.mutable_note_recorded()->set_text(
        "Client mentioned sleeping badly since the move; follow up next week.");
    Add(p, true, true);
  }

  void MeasureAdministered() {
    v1::EventPayload p;
    v1::MeasureAdministered* m = p.mutable_measure_administered();
    m->set_measure_id(absl::StrCat("m", ++serial_));
    m->set_instrument(v1::INSTRUMENT_BRS);
    m->set_instrument_version("2008");
    // Occasionally one item unanswered.
    const uint32_t skipped =
        Rand(5) == 0 ? 1 + static_cast<uint32_t>(Rand(6)) : 0;
    for (uint32_t item = 1; item <= 6; ++item) {
      if (item == skipped) continue;
      v1::ItemResponse* r = m->add_responses();
      r->set_item(item);
      r->set_value(1 + static_cast<int32_t>(Rand(5)));
    }
    m->set_time_point(measures_ == 0 ? v1::TIME_POINT_BASELINE
                      : Rand(2) == 0 ? v1::TIME_POINT_INTERIM
                                     : v1::TIME_POINT_FOLLOW_UP);
    *m->mutable_administered_on() = DateOf(time_);
    ++measures_;
    Add(p, true, true);
  }

  void EnteredInError() {
    const size_t index = Rand(erroneous_.size());
    v1::EventPayload p;
    p.mutable_event_entered_in_error()->set_target_event_id(erroneous_[index]);
    p.mutable_event_entered_in_error()->set_reason(
        "recorded in the wrong case");
    erroneous_.erase(erroneous_.begin() + static_cast<ptrdiff_t>(index));
    Add(p, false, false);
  }

  void Corrected() {
    const Target target = Pick(correctable_);
    v1::EventPayload fixed = target.payload;
    switch (fixed.kind_case()) {
      case v1::EventPayload::kContactRecorded:
        fixed.mutable_contact_recorded()->set_duration_minutes(
            fixed.contact_recorded().duration_minutes() + 15);
        fixed.mutable_contact_recorded()->set_purpose("crisis support");
        break;
      case v1::EventPayload::kNoteRecorded:
        fixed.mutable_note_recorded()->set_text(
            "Client mentioned sleeping well since the move.");
        break;
      case v1::EventPayload::kMeasureAdministered:
        if (fixed.measure_administered().responses_size() > 0) {
          v1::ItemResponse* r =
              fixed.mutable_measure_administered()->mutable_responses(0);
          r->set_value(r->value() == 5 ? 4 : r->value() + 1);
        }
        break;
      case v1::EventPayload::kResourceConnected:
        fixed.mutable_resource_connected()->set_name("Community garden");
        fixed.mutable_resource_connected()->set_kind(
            v1::RESOURCE_KIND_COMMUNITY);
        break;
      case v1::EventPayload::kGoalSet:
        fixed.mutable_goal_set()->set_statement(
            "Get my own flat near my daughter");
        break;
      case v1::EventPayload::kGoalRevised:
        fixed.mutable_goal_revised()->set_statement(
            "Find a flat with a small garden");
        break;
      case v1::EventPayload::kPlanStepAdded:
        fixed.mutable_plan_step_added()->set_description(
            "Call the housing association and ask for the form");
        *fixed.mutable_plan_step_added()->mutable_target_date() =
            DateOf(time_ + absl::Hours(24 * 30));
        break;
      case v1::EventPayload::kGasRated:
        fixed.mutable_gas_rated()->set_level(
            fixed.gas_rated().level() == 2 ? 1 : fixed.gas_rated().level() + 1);
        break;
      default:
        break;
    }
    v1::EventPayload p;
    p.mutable_event_corrected()->set_target_event_id(target.event_id);
    p.mutable_event_corrected()->set_reason("typo in the original entry");
    *p.mutable_event_corrected()->mutable_corrected() = std::move(fixed);
    // A correction may itself be entered in error later (it then has no
    // effect).
    Add(p, false, true);
  }

  // One event of a type chosen by weight among those possible now.
  void NextOrdinaryEvent() {
    struct Choice {
      int weight;
      bool possible;
      void (CaseGenerator::*make)();
    };
    const Choice choices[] = {
        {8, goals_.size() < 6, &CaseGenerator::GoalSet},
        {5, !goals_.empty(), &CaseGenerator::GoalRevised},
        {2, !goals_.empty(), &CaseGenerator::GoalStatusChanged},
        {9, !goals_.empty(), &CaseGenerator::PlanStepAdded},
        {6, !open_steps_.empty(), &CaseGenerator::PlanStepCompleted},
        {1, !open_steps_.empty(), &CaseGenerator::PlanStepDropped},
        {1, true, &CaseGenerator::PlanReviewed},
        {4, !goals_without_scale_.empty(), &CaseGenerator::GasScaleDefined},
        {5, !goals_with_scale_.empty(), &CaseGenerator::GasRated},
        {5, true, &CaseGenerator::ResourceConnected},
        {2, true, &CaseGenerator::SupportPersonAdded},
        {14, true, &CaseGenerator::ContactRecorded},
        {2, true, &CaseGenerator::OutreachAttempted},
        {4, true, &CaseGenerator::NoteRecorded},
        {4, true, &CaseGenerator::MeasureAdministered},
        {2, !erroneous_.empty(), &CaseGenerator::EnteredInError},
        {3, !correctable_.empty(), &CaseGenerator::Corrected},
    };
    int total = 0;
    for (const Choice& c : choices) total += c.possible ? c.weight : 0;
    int roll = static_cast<int>(Rand(static_cast<uint64_t>(total)));
    for (const Choice& c : choices) {
      if (!c.possible) continue;
      if (roll < c.weight) {
        (this->*c.make)();
        return;
      }
      roll -= c.weight;
    }
  }

  std::mt19937_64* const rng_;
  const std::string manager_;
  absl::Time time_;
  Stream stream_;
  uint64_t serial_ = 0;
  int measures_ = 0;
  std::vector<std::string> goals_;
  std::vector<std::string> goals_without_scale_;
  std::vector<std::string> goals_with_scale_;
  std::vector<std::string> open_steps_;
  std::vector<Target> correctable_;
  std::vector<std::string> erroneous_;
};

// A caseworker's own stream: supervisions and completed RFCM training
// cycles.
Stream CaseworkerStream(std::mt19937_64* rng, const std::string& worker,
                        absl::Time start) {
  Stream stream{absl::StrCat("cw-", worker), {}};
  absl::Time t = start;
  const auto add = [&](const v1::EventPayload& p) {
    t += absl::Hours(24 * (7 + static_cast<int64_t>((*rng)() % 60)));
    v1::Event event = MakeEvent(p, t);
    event.mutable_envelope()->set_case_id(stream.case_id);
    event.mutable_envelope()->mutable_actor()->set_user_id(worker);
    stream.events.push_back(std::move(event));
  };
  for (const v1::TrainingCycle cycle :
       {v1::TRAINING_CYCLE_RFCM_CYCLE_1, v1::TRAINING_CYCLE_RFCM_FOLLOW_UP}) {
    v1::EventPayload supervision;
    supervision.mutable_supervision_held()->set_caseworker_id(worker);
    supervision.mutable_supervision_held()->set_supervisor_id("sup-lena");
    supervision.mutable_supervision_held()->add_topics("strengths assessment");
    supervision.mutable_supervision_held()->set_reflection(
        "Practise using the client's own words in goals");
    add(supervision);
    v1::EventPayload training;
    v1::TrainingCycleCompleted* done =
        training.mutable_training_cycle_completed();
    done->set_caseworker_id(worker);
    done->set_cycle(cycle);
    *done->mutable_completed_on() = DateOf(t + absl::Hours(24));
    add(training);
  }
  return stream;
}

// ---------------------------------------------------------------------------
// The child process
// ---------------------------------------------------------------------------

// A running projection_crash_writer whose stdout is a pipe read by this

using Dump = ::caseledger::testing::ProjectionDump;
using ::caseledger::testing::ExpectSameDump;

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

class ProjectionCrashTest : public ::testing::Test {
 protected:
  std::string LogDir() const { return temp_dir_.Sub("log"); }
  std::string ProjectionDir() const { return temp_dir_.Sub("projection"); }
  std::string CleanDir() const { return temp_dir_.Sub("clean"); }

  CaseProjectionOptions Options(const std::string& dir) const {
    CaseProjectionOptions options;
    options.dir = dir;
    options.chunk_events = kChunkEvents;
    return options;
  }

  // Writes the streams to a new log, interleaved in random appends of a few
  // events, and closes it.
  void PopulateLog(std::mt19937_64* rng) {
    std::vector<Stream> streams;
    const absl::Time start =
        absl::FromCivil(absl::CivilDay(2025, 1, 6), absl::UTCTimeZone());
    std::vector<std::string> workers;
    for (int w = 0; w < kCaseworkers; ++w) {
      workers.push_back(absl::StrCat("cm-", w + 1));
    }
    for (int c = 0; c < kCases; ++c) {
      const int events =
          kMinEventsPerCase +
          static_cast<int>((*rng)() % (kMaxEventsPerCase - kMinEventsPerCase));
      CaseGenerator generator(rng, absl::StrCat("case-", 1000 + c),
                              workers[c % kCaseworkers],
                              start + absl::Hours(24 * 3 * c));
      streams.push_back(generator.Generate(events));
    }
    for (const std::string& worker : workers) {
      streams.push_back(CaseworkerStream(rng, worker, start));
    }

    engine::EventLogOptions options;
    options.path = LogDir();
    // The log is closed cleanly before any kill and the test is about the
    // projection store, not log durability: skip the fsync per append.
    options.sync = false;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<engine::EventLog> log,
                         engine::EventLog::Open(options));
    std::vector<size_t> appended(streams.size(), 0);
    std::vector<size_t> active(streams.size());
    for (size_t s = 0; s < streams.size(); ++s) active[s] = s;
    while (!active.empty()) {
      const size_t pick = (*rng)() % active.size();
      const size_t s = active[pick];
      Stream& stream = streams[s];
      const size_t count = std::min<size_t>(1 + (*rng)() % kMaxEventsPerAppend,
                                            stream.events.size() - appended[s]);
      engine::AppendRequest request;
      request.case_id = stream.case_id;
      request.expected = engine::ExpectedVersion::Exact(appended[s]);
      for (size_t e = 0; e < count; ++e) {
        const v1::Event& event = stream.events[appended[s] + e];
        request.events.push_back(event);
        ++events_by_type_[engine::EventTypeOf(event.payload())];
      }
      ASSERT_OK(log->Append(request)) << "append to " << stream.case_id;
      appended[s] += count;
      if (appended[s] == stream.events.size()) {
        active[pick] = active.back();
        active.pop_back();
      }
    }
    events_in_log_ = log->LastPosition();
    uint64_t total = 0;
    for (const auto& [type, count] : events_by_type_) total += count;
    ASSERT_EQ(events_in_log_, total);
  }

  // One kill cycle: spawns the child on the projection directory and kills
  // it after K POS lines (right after spawning if `kill_at_spawn`). K is
  // `draw` scaled to the chunks still to apply, so that the remaining cycles
  // still find work. Checks the lines as described in the file comment.
  void RunCycle(int cycle, bool kill_at_spawn, uint64_t draw) {
    ::caseledger::testing::ChildProcess child;
    ASSERT_NO_FATAL_FAILURE(
        child.Spawn(PROJECTION_CRASH_WRITER_PATH,
                    {LogDir(), ProjectionDir(), absl::StrCat(kChunkEvents)}));

    std::string fragment;
    bool eof = false;
    bool ready = false;
    bool done = false;
    uint64_t ready_position = 0;
    uint64_t last_position = 0;
    uint64_t pos_lines = 0;
    uint64_t reported = 0;  // highest position reported in this cycle
    uint64_t kill_after = 0;
    // Checks one line; returns false on ERR or an unparsable line.
    const auto handle = [&](const std::string& line) {
      const std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
      if (f[0] == "READY" && f.size() == 3 && !ready &&
          absl::SimpleAtoi(f[1], &ready_position) &&
          absl::SimpleAtoi(f[2], &last_position)) {
        ready = true;
        EXPECT_EQ(last_position, events_in_log_);
        EXPECT_GE(ready_position, max_reported_)
            << "the projection resumed before a position an earlier child "
               "reported as applied";
        reported = ready_position;
        return true;
      }
      uint64_t position = 0;
      if (f[0] == "POS" && f.size() == 2 && ready &&
          absl::SimpleAtoi(f[1], &position)) {
        ++pos_lines;
        EXPECT_GT(position, reported) << "positions must increase";
        EXPECT_LE(position, last_position);
        reported = position;
        max_reported_ = std::max(max_reported_, position);
        return true;
      }
      if (f[0] == "DONE" && f.size() == 2 && ready &&
          absl::SimpleAtoi(f[1], &position)) {
        done = true;
        EXPECT_EQ(position, last_position);
        max_reported_ = std::max(max_reported_, position);
        return true;
      }
      ADD_FAILURE() << "projection_crash_writer: " << line;
      return false;
    };

    if (!kill_at_spawn) {
      while (!done && (!ready || pos_lines < kill_after)) {
        std::optional<std::string> line = child.ReadLine(&fragment);
        if (!line.has_value()) {
          eof = true;
          break;
        }
        if (!handle(*line)) break;
        if (ready && kill_after == 0) {
          const uint64_t chunks_left =
              (last_position - ready_position + kChunkEvents - 1) /
              kChunkEvents;
          const uint64_t share =
              std::max<uint64_t>(1, chunks_left / (kCycles - cycle));
          kill_after = 1 + draw % share;
        }
      }
    }
    const int status = child.KillAndWait();
    // Lines written before the kill are still in the pipe.
    while (!eof) {
      std::optional<std::string> line = child.ReadLine(&fragment);
      if (!line.has_value()) break;
      handle(*line);
    }

    if (done) {
      EXPECT_TRUE((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
                  (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
          << "projection_crash_writer "
          << ::caseledger::testing::DescribeWaitStatus(status) << " after DONE";
    } else {
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
          << "projection_crash_writer was not killed but "
          << ::caseledger::testing::DescribeWaitStatus(status) << " after "
          << pos_lines << " POS lines (wanted to kill after " << kill_after
          << ")";
    }
    EXPECT_EQ(fragment, "") << "projection_crash_writer left a torn line";

    const bool mid_catch_up = !done && ready && pos_lines > 0;
    if (mid_catch_up) ++kills_mid_catch_up_;
    std::cout << "cycle " << cycle << ": "
              << (kill_at_spawn
                      ? std::string("killed at spawn")
                      : absl::StrCat("kill after ", kill_after, " POS lines"))
              << (ready ? absl::StrCat(", resumed at ", ready_position)
                        : std::string(", not ready"))
              << ", " << pos_lines << " POS lines up to " << reported << " of "
              << events_in_log_
              << (done           ? ", finished before the kill"
                  : mid_catch_up ? ", killed mid catch-up"
                                 : "")
              << std::endl;
  }

  // Catches up the killed-and-resumed projection and a clean one and
  // compares them.
  void CompareWithCleanBuild() {
    engine::EventLogOptions log_options;
    log_options.path = LogDir();
    log_options.create_if_missing = false;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<engine::EventLog> log,
                         engine::EventLog::Open(log_options));
    const uint64_t last = log->LastPosition();
    ASSERT_EQ(last, events_in_log_);

    Dump resumed_dump;
    {
      ASSERT_OK_AND_ASSIGN(
          std::unique_ptr<CaseProjection> resumed,
          CaseProjection::Open(Options(ProjectionDir()), log.get()));
      EXPECT_GE(resumed->Position(), max_reported_)
          << "the projection lost a position a child reported as applied";
      std::cout << "final catch-up resumes at " << resumed->Position()
                << std::endl;
      ASSERT_OK(resumed->CatchUp());
      ASSERT_NO_FATAL_FAILURE(ExpectCaughtUp(*resumed, last, "resumed"));
      ASSERT_OK_AND_ASSIGN(resumed_dump, resumed->Dump());
    }
    Dump clean_dump;
    {
      ASSERT_OK_AND_ASSIGN(
          std::unique_ptr<CaseProjection> clean,
          CaseProjection::Open(Options(CleanDir()), log.get()));
      ASSERT_EQ(clean->Position(), 0u);
      ASSERT_OK(clean->CatchUp());
      ASSERT_NO_FATAL_FAILURE(ExpectCaughtUp(*clean, last, "clean"));
      ASSERT_OK_AND_ASSIGN(clean_dump, clean->Dump());
    }
    // Sanity: the stores hold a checkpoint, cases, timelines, facts and
    // caseworkers.
    for (const char* prefix : {"m/checkpoint", "c/", "f/", "t/", "w/"}) {
      EXPECT_TRUE(std::any_of(
          clean_dump.begin(), clean_dump.end(),
          [&](const auto& kv) { return absl::StartsWith(kv.first, prefix); }))
          << "the clean build holds no key starting with " << prefix;
    }
    std::cout << "dumps: resumed " << resumed_dump.size() << " keys, clean "
              << clean_dump.size() << " keys" << std::endl;
    ExpectSameDump(resumed_dump, clean_dump);
  }

  // Every event is of a known type, so a projection at `last` has applied
  // exactly `last` events: none twice, none skipped.
  void ExpectCaughtUp(const CaseProjection& projection, uint64_t last,
                      const std::string& which) {
    const std::vector<ProjectionStatus> status = projection.Status();
    ASSERT_FALSE(status.empty());
    for (const ProjectionStatus& s : status) {
      EXPECT_EQ(s.position, last) << which << " " << s.name;
      EXPECT_EQ(s.events_applied, last)
          << which << " " << s.name << ": events applied twice or skipped (all "
          << last << " events are of known types)";
      EXPECT_EQ(s.skipped_unknown, 0u) << which << " " << s.name;
      EXPECT_EQ(s.last_error, "") << which << " " << s.name;
    }
    // The stored checkpoint says the same.
    ASSERT_OK_AND_ASSIGN(const Dump dump, projection.Dump());
    const auto it = std::find_if(dump.begin(), dump.end(), [](const auto& kv) {
      return kv.first == "m/checkpoint";
    });
    ASSERT_NE(it, dump.end()) << which << ": no checkpoint stored";
    v1::ProjectionCheckpoint checkpoint;
    ASSERT_TRUE(checkpoint.ParseFromString(it->second));
    EXPECT_EQ(checkpoint.position(), last) << which;
    EXPECT_EQ(checkpoint.events_applied(), last)
        << which << ": stored checkpoint counts events applied twice or "
        << "skipped";
    EXPECT_EQ(checkpoint.skipped_unknown(), 0u) << which;
  }

  ::caseledger::testing::TempDir temp_dir_;
  std::map<std::string, uint64_t> events_by_type_;
  uint64_t events_in_log_ = 0;
  // The highest position any child reported as applied.
  uint64_t max_reported_ = 0;
  int kills_mid_catch_up_ = 0;
};

TEST_F(ProjectionCrashTest, KilledCatchUpResumesToTheCleanBuild) {
  const uint64_t seed = ChooseSeed();
  std::cout << "projection_crash_test seed: " << seed
            << " (rerun with CASELEDGER_CRASH_SEED=" << seed << ")"
            << std::endl;
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);
  const absl::Time start = absl::Now();

  ASSERT_NO_FATAL_FAILURE(PopulateLog(&rng));
  std::cout << "log: " << events_in_log_ << " events (";
  const char* separator = "";
  for (const auto& [type, count] : events_by_type_) {
    std::cout << separator << type << " " << count;
    separator = ", ";
  }
  std::cout << ")" << std::endl;
  for (const char* type :
       {"CaseOpened", "GoalSet", "GoalRevised", "PlanStepAdded",
        "PlanStepCompleted", "ResourceConnected", "ContactRecorded",
        "MeasureAdministered", "GasScaleDefined", "GasRated",
        "TrainingCycleCompleted", "EventEnteredInError", "EventCorrected"}) {
    EXPECT_GT(events_by_type_[type], 0u) << "no " << type << " in the log";
  }

  int cycles_done = 0;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    const bool kill_at_spawn = rng() % kKillAtSpawnOneIn == 0;
    const uint64_t draw = rng();
    SCOPED_TRACE(absl::StrCat("seed ", seed, ", cycle ", cycle));
    ASSERT_NO_FATAL_FAILURE(RunCycle(cycle, kill_at_spawn, draw));
    ++cycles_done;
    if (HasFailure()) break;
  }
  if (cycles_done == kCycles) {
    // Otherwise the test proved nothing about resuming.
    EXPECT_GT(kills_mid_catch_up_, 0)
        << "no child was killed in the middle of its catch-up";
  }
  // Also after a failed cycle: the comparison tells what the failure did.
  {
    SCOPED_TRACE(absl::StrCat("seed ", seed, ", final comparison"));
    ASSERT_NO_FATAL_FAILURE(CompareWithCleanBuild());
  }
  std::cout << "projection_crash_test: " << cycles_done << " cycles, "
            << kills_mid_catch_up_ << " killed mid catch-up, "
            << absl::ToDoubleSeconds(absl::Now() - start) << " s" << std::endl;
}

}  // namespace
}  // namespace caseledger::projections
