#include "tools/caseload/caseload.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "caseledger/v1/common.pb.h"
#include "caseledger/v1/events.pb.h"
#include "engine/ids.h"
#include "tools/caseload/caseload_text.h"

namespace caseledger::caseload {
namespace {

namespace txt = ::caseledger::caseload::text;

using absl::CivilDay;
using absl::CivilMinute;

// Events per append: engine limits allow 100; sessions are written as appends
// of at most this many, as a client app would.
constexpr size_t kMaxEventsPerAppend = 5;

// Most cases CasesForEvents() will consider.
constexpr int kMaxCases = 10'000'000;

// Progress is reported at least every this many events.
constexpr uint64_t kProgressEvery = 10'000;

constexpr char kSourceWeb[] = "web/2.3";
constexpr char kSourceMobile[] = "mobile-app/3.2";
constexpr char kSourcePortal[] = "client-portal/1.4";

// ---------------------------------------------------------------------------
// Deterministic randomness and ids
// ---------------------------------------------------------------------------

// The SplitMix64 finaliser: a bijective 64-bit mixer.
uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Combine(uint64_t a, uint64_t b) {
  return Mix64(a ^ (Mix64(b) + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2)));
}

// FNV-1a, mixed.
uint64_t HashString(absl::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return Mix64(h);
}

// SplitMix64: small, fast, and its output is fixed by its definition (unlike
// absl::BitGen or the std distributions), so content is stable across
// library versions and platforms.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return Mix64(state_);
  }
  // Uniform in [0, n). REQUIRES: n > 0
  uint64_t Below(uint64_t n) { return Next() % n; }
  // Uniform in [lo, hi].
  int Between(int lo, int hi) {
    return lo + static_cast<int>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Range(double lo, double hi) { return lo + (hi - lo) * Unit(); }
  bool Chance(double p) { return Unit() < p; }

  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Below(N)];
  }

 private:
  uint64_t state_;
};

// A version-4-shaped UUID in lower-case RFC 4122 text form whose bits come
// from `hi` and `lo` (derived from the seed, not from a random source).
std::string FormatUuid(uint64_t hi, uint64_t lo) {
  hi = (hi & ~uint64_t{0xF000}) | uint64_t{0x4000};            // version 4
  lo = (lo & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out.push_back('-');
    const uint64_t word = i < 16 ? hi : lo;
    out.push_back(kHex[(word >> (60 - 4 * (i % 16))) & 0xF]);
  }
  return out;
}

v1::Date ToDate(CivilDay day) {
  v1::Date date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

void SetTimestamp(CivilMinute at, google::protobuf::Timestamp* out) {
  out->set_seconds(
      absl::ToUnixSeconds(absl::FromCivil(at, absl::UTCTimeZone())));
  out->set_nanos(0);
}

// ---------------------------------------------------------------------------
// Stream layout: which stream index is which case or caseworker
// ---------------------------------------------------------------------------

// Cases are dealt round-robin to a rotation of W case managers; a rotation
// ("wave") takes W * C cases, then W fresh managers start. In stream order,
// manager k's caseworker stream comes just before k's first case.
struct Layout {
  int rotation;     // W
  int per_manager;  // C
  int64_t WaveCases() const { return int64_t{rotation} * per_manager; }
  int64_t WaveStreams() const { return int64_t{rotation} * (per_manager + 1); }

  int ManagerOf(int case_index) const {
    const int64_t wave = case_index / WaveCases();
    const int64_t j = case_index % WaveCases();
    return static_cast<int>(wave * rotation + j % rotation);
  }
  int Managers(int cases) const {
    const int64_t full = cases / WaveCases();
    const int64_t rem = cases % WaveCases();
    return static_cast<int>(full * rotation + std::min<int64_t>(rem, rotation));
  }
  size_t Streams(int cases) const {
    return static_cast<size_t>(cases) + static_cast<size_t>(Managers(cases));
  }
  // Stream `s` -> (is_caseworker, index).
  std::pair<bool, int> Decode(size_t s) const {
    const int64_t wave = static_cast<int64_t>(s) / WaveStreams();
    const int64_t r = static_cast<int64_t>(s) % WaveStreams();
    if (r < 2 * int64_t{rotation}) {
      if (r % 2 == 0) {
        return {true, static_cast<int>(wave * rotation + r / 2)};
      }
      return {false, static_cast<int>(wave * WaveCases() + r / 2)};
    }
    return {false, static_cast<int>(wave * WaveCases() + (r - rotation))};
  }
};

Layout LayoutOf(const CaseloadOptions& options) {
  return Layout{options.rotation_case_managers, options.cases_per_case_manager};
}

int TeamOf(const CaseloadOptions& options, int manager) {
  return manager / options.case_managers_per_team;
}

std::string TeamName(int team) {
  const size_t n = txt::Count(txt::kTeamAreas);
  std::string name = absl::StrCat("team-", txt::kTeamAreas[team % n]);
  if (static_cast<size_t>(team) >= n) absl::StrAppend(&name, "-", team / n + 1);
  return name;
}

std::string OrganizationOf(int team) {
  return txt::kOrganizations[team % txt::Count(txt::kOrganizations)];
}

// ---------------------------------------------------------------------------
// StreamBuilder: events -> sessions -> appends
// ---------------------------------------------------------------------------

// Collects the events of one stream into appends. A session is what one
// sitting records (one actor, source and correlation id, minutes apart); it
// becomes one append, or several of at most kMaxEventsPerAppend events.
class StreamBuilder {
 public:
  StreamBuilder(uint64_t seed, std::string stream_id, Rng* rng)
      : id_key_(Combine(seed, HashString(stream_id))),
        stream_id_(std::move(stream_id)),
        rng_(rng) {}

  // Starts a session on `day` in working hours (after the previous session
  // if that was the same day).
  void Begin(CivilDay day, const v1::Actor& actor, absl::string_view source) {
    End();
    CivilMinute at(day.year(), day.month(), day.day(), rng_->Between(8, 16),
                   5 * rng_->Between(0, 11));
    if (at <= clock_) at = clock_ + rng_->Between(10, 40);
    clock_ = at;
    actor_ = actor;
    source_ = std::string(source);
    correlation_.clear();
  }

  // Adds an event to the session; returns its event id.
  // REQUIRES: a session is open.
  std::string Add(
      v1::EventPayload payload,
      v1::SensitivityLabel label = v1::SENSITIVITY_LABEL_UNSPECIFIED,
      const std::string& causation = "") {
    if (current_.events.size() == kMaxEventsPerAppend) Flush();
    v1::Event& event = current_.events.emplace_back();
    v1::EventEnvelope* env = event.mutable_envelope();
    std::string id = FormatUuid(Combine(id_key_, 2 * ordinal_),
                                Combine(id_key_, 2 * ordinal_ + 1));
    ++ordinal_;
    if (correlation_.empty()) correlation_ = id;
    env->set_event_id(id);
    env->set_case_id(stream_id_);
    env->set_schema_version(1);
    SetTimestamp(clock_, env->mutable_occurred_at());
    *env->mutable_actor() = actor_;
    env->set_source(source_);
    env->set_correlation_id(correlation_);
    if (!causation.empty()) env->set_causation_id(causation);
    if (label != v1::SENSITIVITY_LABEL_UNSPECIFIED) env->add_sensitivity(label);
    *event.mutable_payload() = std::move(payload);
    clock_ += rng_->Between(1, 4);
    return id;
  }

  // Ends the session (no-op when none is open).
  void End() { Flush(); }

  std::vector<engine::AppendRequest> Take() {
    End();
    return std::move(appends_);
  }

  CivilDay today() const { return CivilDay(clock_); }

 private:
  void Flush() {
    if (current_.events.empty()) return;
    current_.case_id = stream_id_;
    current_.expected = engine::ExpectedVersion::Exact(version_);
    version_ += current_.events.size();
    appends_.push_back(std::move(current_));
    current_ = engine::AppendRequest();
  }

  const uint64_t id_key_;
  const std::string stream_id_;
  Rng* const rng_;
  uint64_t ordinal_ = 0;
  uint64_t version_ = 0;
  CivilMinute clock_ = CivilMinute(1970);
  v1::Actor actor_;
  std::string source_;
  std::string correlation_;
  engine::AppendRequest current_;
  std::vector<engine::AppendRequest> appends_;
};

// ---------------------------------------------------------------------------
// Payload helpers
// ---------------------------------------------------------------------------

v1::EventPayload ContactPayload(const std::string& id, v1::ContactMode mode,
                                v1::ContactLocation location, int minutes,
                                absl::string_view purpose,
                                std::initializer_list<std::string> who) {
  v1::EventPayload p;
  v1::ContactRecorded* c = p.mutable_contact_recorded();
  c->set_contact_id(id);
  c->set_mode(mode);
  c->set_location(location);
  c->set_duration_minutes(static_cast<uint32_t>(minutes));
  c->set_purpose(std::string(purpose));
  for (const std::string& w : who) c->add_participants(w);
  return p;
}

int Clamp(int v, int lo, int hi) { return std::max(lo, std::min(hi, v)); }

// Sessions happen on working days: a weekend day moves to Monday.
CivilDay Workday(CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::saturday:
      return day + 2;
    case absl::Weekday::sunday:
      return day + 1;
    default:
      return day;
  }
}

// ---------------------------------------------------------------------------
// CaseWriter: one client case
// ---------------------------------------------------------------------------

class CaseWriter {
 public:
  CaseWriter(const CaseloadOptions& options, int index)
      : options_(options),
        index_(index),
        rng_(Combine(Combine(options.seed, 0x63617365 /* "case" */),
                     static_cast<uint64_t>(index))),
        case_id_(CaseIdOf(options, index)),
        out_(options.seed, case_id_, &rng_) {}

  StreamScript Write() {
    Setup();
    Intake();
    Baseline();
    Assessment();
    GoalsAndPlan();
    Resources();
    Monitoring(/*reopened=*/false);
    Exit(/*reopened=*/false);
    if (plan_reopen_) Reopen();

    StreamScript script;
    script.kind = StreamKind::kCase;
    script.stream_id = case_id_;
    script.case_index = index_;
    script.case_manager_index = first_manager_;
    script.archetype = archetype_;
    script.reopened = plan_reopen_;
    script.appends = out_.Take();
    return script;
  }

 private:
  struct Goal {
    std::string id;
    const txt::GoalTemplate* tmpl;
    int baseline = -1;
    int level = -1;
    bool open = true;
    std::string set_event_id;
    v1::EventPayload set_payload;
  };
  struct Step {
    std::string id;
    size_t goal;
    bool open = true;
  };
  struct Person {
    std::string id;
    bool natural;
    bool active = true;
  };
  struct Referral {
    std::string id;
    std::string event_id;
    v1::ReferralStatus status = v1::REFERRAL_STATUS_PENDING;
  };
  // A dated session in the monitoring phase.
  enum class Visit {
    kRoutine,
    kMoveIn,
    kOwnHome,
    kHospital,
    kSubstanceConsent,
    kMediation,
    kReturn,
    kSchedule,
    kRecurrence,
    kPermanentReduction,
    kCorrection,
    kMistake,
    kTransfer,
    kRevokeResearch,
  };
  struct Planned {
    CivilDay day;
    Visit what;
    int arg = 0;
  };

  int A() const { return static_cast<int>(archetype_); }
  bool IsWork() const { return archetype_ != Archetype::kHousingFirst; }

  std::string NextId(absl::string_view prefix, int* counter) {
    return absl::StrCat(prefix, "-", ++*counter);
  }

  v1::Actor ManagerActor() const {
    v1::Actor a;
    a.set_user_id(cm_id_);
    a.set_role("case_manager");
    a.set_organization(org_);
    return a;
  }
  v1::Actor ClientActor() const {
    v1::Actor a;
    a.set_user_id(absl::StrCat("client:", client_ref_));
    a.set_role("client");
    a.set_organization(org_);
    return a;
  }
  v1::Actor LeadActor() const {
    v1::Actor a;
    a.set_user_id(absl::StrCat("lead-", team_index_));
    a.set_role("team_lead");
    a.set_organization(org_);
    return a;
  }

  static int GenderOf(absl::string_view relation) {
    for (const txt::Relation& r : txt::kNaturalRelations) {
      if (relation == r.relation) return r.gender;
    }
    return -1;
  }

  // --- setup ---------------------------------------------------------------

  void Setup() {
    const Layout layout = LayoutOf(options_);
    first_manager_ = layout.ManagerOf(index_);
    manager_ = first_manager_;
    cm_id_ = CaseManagerIdOf(manager_);
    team_index_ = TeamOf(options_, manager_);
    org_ = OrganizationOf(team_index_);

    // The first three cases show one archetype each (so even a tiny caseload
    // has all three) with reopening, corrections and a recurrence.
    if (index_ < 3) {
      archetype_ = static_cast<Archetype>(index_);
    } else {
      const double total = options_.housing_first_weight +
                           options_.burnout_weight +
                           options_.brain_injury_weight;
      const double u = rng_.Unit() * total;
      archetype_ = u < options_.housing_first_weight ? Archetype::kHousingFirst
                   : u < options_.housing_first_weight + options_.burnout_weight
                       ? Archetype::kBurnoutReturnToWork
                       : Archetype::kBrainInjuryReturnToWork;
    }
    first_name_ = rng_.Pick(txt::kFirstNames);
    client_name_ = absl::StrCat(first_name_, " ", rng_.Pick(txt::kSurnames));
    client_ref_ = absl::StrFormat(
        "cl-%08x", static_cast<uint32_t>(Combine(options_.seed, index_)));
    open_day_ = Workday(
        CivilDay(absl::ToCivilDay(options_.start, absl::UTCTimeZone())) +
        rng_.Between(0, options_.open_window_days - 1));
    progress_ = std::pow(rng_.Unit(), 0.7);  // skewed towards progress
    employer_ = rng_.Pick(txt::kEmployers);
    const int pct = rng_.Between(0, 9);
    contracted_ = pct < 6 ? 100 : pct < 9 ? 80 : 60;

    plan_reopen_ = index_ == 0 || rng_.Chance(options_.reopen_probability);
    plan_correction_ = index_ == 1 || index_ == 2 ||
                       rng_.Chance(options_.correction_probability);
    plan_mistake_ =
        index_ == 0 || rng_.Chance(options_.entered_in_error_probability);
    correction_kind_ = index_ == 1 ? 0 : index_ == 2 ? 2 : rng_.Between(0, 2);
    plan_recurrence_ = archetype_ == Archetype::kBrainInjuryReturnToWork
                           ? (index_ == 2 || rng_.Chance(0.4))
                           : archetype_ == Archetype::kBurnoutReturnToWork &&
                                 rng_.Chance(0.12);
    plan_transfer_ = manager_ > 0 && rng_.Chance(0.08);
    research_consent_ = rng_.Chance(0.3);
  }

  // --- intake ----------------------------------------------------------------

  void Intake() {
    out_.Begin(open_day_, ManagerActor(), kSourceWeb);
    {
      v1::EventPayload p;
      v1::CaseOpened* o = p.mutable_case_opened();
      o->set_client_ref(client_ref_);
      o->set_client_name(client_name_);
      o->set_program(std::string(ProgramOf(archetype_)));
      o->set_referral_source(rng_.Pick(txt::kReferralSources[A()]));
      o->set_case_manager_id(cm_id_);
      o->set_team(TeamName(team_index_));
      o->set_organization(org_);
      out_.Add(std::move(p));
    }
    {
      v1::EventPayload p;
      v1::ConsentGiven* c = p.mutable_consent_given();
      c->set_consent_id("consent-1");
      c->add_purposes("case-management");
      c->add_purposes("treatment-coordination");
      if (IsWork()) {
        c->add_recipients("GP");
        c->add_recipients("daily-allowance insurer");
      } else {
        c->add_recipients("Harbour Housing Association");
        c->add_recipients("community mental health team");
      }
      c->add_data_categories(v1::SENSITIVITY_LABEL_HEALTH);
      *c->mutable_expires_on() = ToDate(open_day_ + 365);
      out_.Add(std::move(p));
    }
    const bool outreach = !IsWork() && rng_.Chance(0.6);
    out_.Add(ContactPayload(
        NextId("contact", &contacts_), v1::CONTACT_MODE_IN_PERSON,
        outreach ? v1::CONTACT_LOCATION_COMMUNITY : v1::CONTACT_LOCATION_OFFICE,
        rng_.Between(45, 90),
        outreach ? "First conversation at the day centre; what matters to the "
                   "client now"
                 : "Intake conversation; what the client wants from case "
                   "management",
        {first_name_}));
    {
      v1::EventPayload p;
      v1::LifeStatusRecorded* l = p.mutable_life_status_recorded();
      if (IsWork()) {
        l->set_income_source("sick pay");
        l->set_living_situation(rng_.Chance(0.8)
                                    ? v1::LIVING_SITUATION_OWN_HOME
                                    : v1::LIVING_SITUATION_WITH_FAMILY);
        l->set_education("vocational training");
        l->set_close_friends(static_cast<uint32_t>(rng_.Between(1, 5)));
      } else {
        l->set_income_source(rng_.Chance(0.7) ? "social assistance"
                                              : "no regular income");
        l->set_living_situation(rng_.Chance(0.6)
                                    ? v1::LIVING_SITUATION_HOMELESS
                                    : v1::LIVING_SITUATION_SHELTER);
        l->set_education(rng_.Chance(0.5) ? "compulsory school"
                                          : "apprenticeship");
        l->set_close_friends(static_cast<uint32_t>(rng_.Between(0, 2)));
      }
      out_.Add(std::move(p), v1::SENSITIVITY_LABEL_FINANCIAL);
    }
    if (IsWork()) {
      absence_day_ = open_day_ - (archetype_ == Archetype::kBurnoutReturnToWork
                                      ? rng_.Between(14, 45)
                                      : rng_.Between(30, 120));
      v1::EventPayload p;
      v1::AbsenceStarted* a = p.mutable_absence_started();
      a->set_absence_id("absence-1");
      a->set_employer(employer_);
      *a->mutable_first_day() = ToDate(absence_day_);
      a->set_cause(rng_.Pick(txt::kAbsenceCauses[A()]));
      a->set_contracted_percent(static_cast<uint32_t>(contracted_));
      out_.Add(std::move(p), v1::SENSITIVITY_LABEL_HEALTH);

      // Employer contact needs its own consent: work capacity only, no
      // diagnosis.
      out_.Begin(open_day_, ManagerActor(), kSourceWeb);
      v1::EventPayload c;
      v1::ConsentGiven* consent = c.mutable_consent_given();
      consent->set_consent_id("consent-2");
      consent->add_purposes("employer-contact");
      consent->add_purposes("return-to-work");
      consent->add_recipients(employer_);
      *consent->mutable_expires_on() = ToDate(open_day_ + 365);
      out_.Add(std::move(c));
      out_.Add(Capacity(0, absence_day_, open_day_ + 28),
               v1::SENSITIVITY_LABEL_HEALTH);
    }
    if (research_consent_) {
      out_.Begin(open_day_, ManagerActor(), kSourceWeb);
      v1::EventPayload p;
      v1::ConsentGiven* c = p.mutable_consent_given();
      c->set_consent_id("consent-research");
      c->add_purposes("research");
      c->add_recipients("university evaluation team");
      *c->mutable_expires_on() = ToDate(open_day_ + 730);
      out_.Add(std::move(p));
    }
    out_.End();
  }

  v1::EventPayload Capacity(int percent, CivilDay from, CivilDay to) {
    v1::EventPayload p;
    v1::WorkCapacityCertified* w = p.mutable_work_capacity_certified();
    w->set_capacity_percent(static_cast<uint32_t>(percent));
    *w->mutable_valid_from() = ToDate(from);
    *w->mutable_valid_to() = ToDate(to);
    w->set_certified_by(txt::kDoctors[A()][rng_.Below(2)]);
    return p;
  }

  // --- measures
  // ----------------------------------------------------------------

  // Raw answers of a respondent whose latent level is `latent` on the
  // item scale [lo, hi]; `reversed` items answer from the other end.
  void Answer(v1::MeasureAdministered* m, int items, int lo, int hi,
              double latent, std::initializer_list<int> reversed, int missing) {
    std::vector<bool> skip(items + 1, false);
    for (int i = 0; i < missing; ++i) skip[rng_.Between(1, items)] = true;
    for (int item = 1; item <= items; ++item) {
      if (skip[item]) continue;
      double v = latent + rng_.Range(-0.9, 0.9);
      for (int r : reversed) {
        if (r == item) v = lo + hi - v;
      }
      v1::ItemResponse* r = m->add_responses();
      r->set_item(static_cast<uint32_t>(item));
      r->set_value(Clamp(static_cast<int>(std::lround(v)), lo, hi));
    }
  }

  // Adds BRS, GSE and MSPSS at `time_point` to the open session; returns
  // the BRS event id (a correction target).
  std::string Measures(v1::TimePoint time_point, CivilDay day) {
    const bool follow_up = time_point == v1::TIME_POINT_FOLLOW_UP;
    const double gain = follow_up ? progress_ * 1.4 - 0.3 : 0.0;
    std::string brs_id;
    {
      v1::EventPayload p;
      v1::MeasureAdministered* m = p.mutable_measure_administered();
      m->set_measure_id(NextId("measure", &measures_));
      m->set_instrument(v1::INSTRUMENT_BRS);
      m->set_instrument_version("BRS-2008");
      Answer(m, 6, 1, 5, std::clamp(resilience_ + gain, 1.0, 5.0), {2, 4, 6},
             0);
      m->set_time_point(time_point);
      *m->mutable_administered_on() = ToDate(day);
      if (!follow_up) brs_payload_ = p;
      brs_id = out_.Add(std::move(p), v1::SENSITIVITY_LABEL_HEALTH);
    }
    {
      v1::EventPayload p;
      v1::MeasureAdministered* m = p.mutable_measure_administered();
      m->set_measure_id(NextId("measure", &measures_));
      m->set_instrument(v1::INSTRUMENT_GSE);
      m->set_instrument_version("GSE-1995");
      const int r = rng_.Between(0, 99);
      const int missing = r < 2 ? 4 : r < 12 ? rng_.Between(1, 3) : 0;
      Answer(m, 10, 1, 4, std::clamp(self_efficacy_ + gain * 0.7, 1.0, 4.0), {},
             missing);
      m->set_time_point(time_point);
      *m->mutable_administered_on() = ToDate(day);
      out_.Add(std::move(p), v1::SENSITIVITY_LABEL_HEALTH);
    }
    {
      v1::EventPayload p;
      v1::MeasureAdministered* m = p.mutable_measure_administered();
      m->set_measure_id(NextId("measure", &measures_));
      m->set_instrument(v1::INSTRUMENT_MSPSS);
      m->set_instrument_version("MSPSS-1988");
      // Items 1, 2, 5, 10 significant other; 3, 4, 8, 11 family; 6, 7, 9,
      // 12 friends.
      static constexpr int kSubscale[13] = {0, 0, 0, 1, 1, 0, 2,
                                            2, 1, 2, 0, 1, 2};
      for (int item = 1; item <= 12; ++item) {
        const double latent = support_[kSubscale[item]] + gain * 1.2;
        v1::ItemResponse* r = m->add_responses();
        r->set_item(static_cast<uint32_t>(item));
        r->set_value(
            Clamp(static_cast<int>(std::lround(latent + rng_.Range(-1.0, 1.0))),
                  1, 7));
      }
      m->set_time_point(time_point);
      *m->mutable_administered_on() = ToDate(day);
      out_.Add(std::move(p), v1::SENSITIVITY_LABEL_HEALTH);
    }
    return brs_id;
  }

  void Baseline() {
    day_ = Workday(open_day_ + rng_.Between(2, 6));
    resilience_ = IsWork() ? rng_.Range(2.0, 3.4) : rng_.Range(1.7, 3.2);
    self_efficacy_ = IsWork() ? rng_.Range(2.0, 3.2) : rng_.Range(1.6, 3.0);
    support_[0] = rng_.Range(2.0, 6.5);
    support_[1] = IsWork() ? rng_.Range(3.5, 6.5) : rng_.Range(1.5, 4.5);
    support_[2] = IsWork() ? rng_.Range(3.0, 6.0) : rng_.Range(1.5, 5.0);
    const bool portal = IsWork() && rng_.Chance(0.4);
    out_.Begin(day_, portal ? ClientActor() : ManagerActor(),
               portal ? kSourcePortal : kSourceWeb);
    brs_event_id_ = Measures(v1::TIME_POINT_BASELINE, day_);
    if (!portal) AddFactor();
    out_.End();
  }

  void AddFactor() {
    v1::EventPayload p;
    v1::ProtectiveFactorIdentified* f =
        p.mutable_protective_factor_identified();
    const int factor = rng_.Between(0, 4);
    f->set_factor_id(NextId("factor", &factors_));
    f->set_factor(static_cast<v1::ResilienceFactor>(factor + 1));
    f->set_client_words(rng_.Pick(txt::kFactorWords[A()][factor]));
    out_.Add(std::move(p));
  }

  // --- assessment ------------------------------------------------------------

  void Assessment() {
    day_ = Workday(day_ + rng_.Between(2, 7));
    out_.Begin(day_, ManagerActor(), kSourceMobile);
    v1::EventPayload p;
    v1::StrengthsAssessmentRecorded* a =
        p.mutable_strengths_assessment_recorded();
    a->set_assessment_id("assessment-1");
    a->set_domain_config_version(txt::kDomainConfigVersion);
    for (int d = 0; d < 7; ++d) {
      const txt::DomainText& t = txt::kDomainTexts[A()][d][rng_.Below(2)];
      v1::DomainAssessment* domain = a->add_domains();
      domain->set_domain(txt::kDomains[d]);
      domain->set_current_status(t.current);
      domain->set_desires(t.desires);
      domain->set_resources(t.resources);
    }
    const int priorities = rng_.Between(2, 4);
    for (int i = 0; i < priorities; ++i) {
      v1::AssessmentPriority* pr = a->add_priorities();
      pr->set_rank(static_cast<uint32_t>(i + 1));
      static constexpr int kPriorityDomain[3][4] = {
          {0, 1, 3, 5}, {4, 2, 3, 5}, {0, 2, 4, 5}};
      pr->set_domain(txt::kDomains[kPriorityDomain[A()][i]]);
      pr->set_text(txt::kPriorityTexts[A()][i]);
    }
    out_.Add(std::move(p));
    Contact(rng_.Chance(0.6) ? v1::CONTACT_LOCATION_HOME
                             : v1::CONTACT_LOCATION_COMMUNITY,
            "Strengths assessment, all seven life domains");
    out_.End();
  }

  // --- goals and plan
  // ----------------------------------------------------------

  // Picks `n` goal templates: the archetype's core goal and n - 1 others.
  void ChooseGoals(int n) {
    std::vector<int> others = {1, 2, 3, 4};
    for (int i = 0; i < 4; ++i) {
      std::swap(others[i], others[i + rng_.Below(4 - i)]);
    }
    available_goals_.assign(others.begin() + (n - 1), others.end());
    std::vector<int> picked = {0};
    picked.insert(picked.end(), others.begin(), others.begin() + (n - 1));
    for (int t : picked) AddGoal(&txt::kGoals[A()][t]);
  }

  // GoalSet + GasScaleDefined + GasRated (baseline) in the open session.
  void AddGoal(const txt::GoalTemplate* t) {
    Goal goal;
    goal.id = NextId("goal", &goal_counter_);
    goal.tmpl = t;
    goal.baseline = rng_.Chance(0.6) ? -1 : -2;
    goal.level = goal.baseline;
    // The case's goal correction restates the first goal in the client's
    // words; until then the record holds a hurried paraphrase.
    const bool paraphrase =
        plan_correction_ && correction_kind_ == 0 && goals_.empty();
    v1::EventPayload p;
    v1::GoalSet* g = p.mutable_goal_set();
    g->set_goal_id(goal.id);
    g->set_statement(paraphrase ? t->paraphrase : t->statement);
    g->set_why_important(t->why);
    g->set_life_domain(t->domain);
    for (const char* s : t->strengths) g->add_strengths(s);
    g->set_lifecycle_status(v1::GOAL_LIFECYCLE_STATUS_ACTIVE);
    g->set_achievement_status(v1::GOAL_ACHIEVEMENT_STATUS_IN_PROGRESS);
    *g->mutable_target_date() = ToDate(day_ + rng_.Between(120, 270));
    goal.set_payload = p;
    goal.set_event_id = out_.Add(std::move(p));

    v1::EventPayload s;
    v1::GasScaleDefined* d = s.mutable_gas_scale_defined();
    d->set_goal_id(goal.id);
    for (int level = -2; level <= 2; ++level) {
      v1::GasLevel* l = d->add_levels();
      l->set_level(level);
      l->set_description(t->gas[level + 2]);
    }
    d->set_baseline_level(goal.baseline);
    if (rng_.Chance(0.3)) d->set_weight(rng_.Between(1, 3));
    out_.Add(std::move(s));
    out_.Add(Rating(goal.id, goal.baseline, v1::TIME_POINT_BASELINE));
    goals_.push_back(std::move(goal));
  }

  v1::EventPayload Rating(const std::string& goal_id, int level,
                          v1::TimePoint time_point) {
    v1::EventPayload p;
    v1::GasRated* r = p.mutable_gas_rated();
    r->set_goal_id(goal_id);
    r->set_level(level);
    r->set_time_point(time_point);
    *r->mutable_rated_on() = ToDate(day_);
    return p;
  }

  // PlanStepAdded for the template's steps of goal `g`.
  void AddSteps(size_t g) {
    for (const txt::StepTemplate& t : goals_[g].tmpl->steps) {
      AddStep(g, t.text, t.who, t.who_name);
    }
  }

  void AddStep(size_t g, absl::string_view text, v1::ResponsibleParty who,
               absl::string_view who_name) {
    v1::EventPayload p;
    v1::PlanStepAdded* s = p.mutable_plan_step_added();
    s->set_goal_id(goals_[g].id);
    Step step{NextId("step", &step_counter_), g};
    s->set_step_id(step.id);
    s->set_description(std::string(text));
    s->set_responsible(who);
    if (!who_name.empty()) {
      s->set_responsible_name(
          who == v1::RESPONSIBLE_PARTY_NATURAL_SUPPORTER
              ? absl::StrCat(SupporterName(GenderOf(who_name)), " (", who_name,
                             ")")
              : std::string(who_name));
    }
    *s->mutable_target_date() = ToDate(day_ + rng_.Between(14, 60));
    out_.Add(std::move(p));
    steps_.push_back(std::move(step));
  }

  void Review(absl::string_view summary, int next_in_days) {
    v1::EventPayload p;
    v1::PlanReviewed* r = p.mutable_plan_reviewed();
    r->add_participants(first_name_);
    r->add_participants(cm_id_);
    if (!people_.empty() && rng_.Chance(0.4)) r->add_participants("supporter");
    r->set_client_agreed(rng_.Chance(0.95));
    r->set_summary(std::string(summary));
    if (next_in_days > 0)
      *r->mutable_next_review_on() = ToDate(day_ + next_in_days);
    out_.Add(std::move(p));
  }

  void GoalsAndPlan() {
    day_ = Workday(day_ + rng_.Between(0, 5));
    goals_day_ = day_;
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    ChooseGoals(rng_.Chance(0.5) ? 2 : 3);
    out_.End();
    day_ = Workday(day_ + rng_.Between(0, 3));
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    for (size_t g = 0; g < goals_.size(); ++g) AddSteps(g);
    Review(
        "First recovery plan agreed; goals in the client's own words, "
        "small steps with who does what.",
        42);
    out_.End();
  }

  // --- resources
  // ---------------------------------------------------------------

  // A supporter's name that fits `gender` (0 female, 1 male, -1 either).
  const char* SupporterName(int gender) {
    if (gender < 0) gender = rng_.Between(0, 1);
    return rng_.Pick(txt::kSupporterNames[gender]);
  }

  void AddPerson(bool natural) {
    v1::EventPayload p;
    v1::SupportPersonAdded* a = p.mutable_support_person_added();
    Person person{NextId("person", &person_counter_), natural};
    a->set_person_id(person.id);
    if (natural) {
      const txt::Relation& r = rng_.Pick(txt::kNaturalRelations);
      a->set_name(SupporterName(r.gender));
      a->set_relation(r.relation);
    } else {
      a->set_name(SupporterName(-1));
      a->set_relation(rng_.Pick(txt::kPaidRelations));
    }
    a->add_support_kinds(natural ? v1::SUPPORT_KIND_EMOTIONAL
                                 : v1::SUPPORT_KIND_INFORMATIONAL);
    if (rng_.Chance(0.5)) {
      a->add_support_kinds(natural ? v1::SUPPORT_KIND_PRACTICAL
                                   : v1::SUPPORT_KIND_SOCIAL);
    }
    a->set_natural(natural);
    out_.Add(std::move(p));
    people_.push_back(std::move(person));
  }

  // ResourceConnected for the archetype's resource `r` (0..5).
  void Connect(int r) {
    if (std::find(connected_.begin(), connected_.end(), r) !=
        connected_.end()) {
      return;
    }
    const txt::ResourceText& t = txt::kResources[A()][r];
    v1::EventPayload p;
    v1::ResourceConnected* c = p.mutable_resource_connected();
    c->set_resource_id(absl::StrCat("resource-", r + 1));
    c->set_name(t.name);
    c->set_kind(t.kind);
    c->set_life_domain(t.domain);
    for (const Goal& g : goals_) {
      if (g.tmpl->domain == t.domain) {
        c->set_goal_id(g.id);
        break;
      }
    }
    c->set_description(t.description);
    out_.Add(std::move(p));
    connected_.push_back(r);
  }

  void Refer(int r) {
    const txt::ReferralText& t = txt::kReferrals[A()][r];
    v1::EventPayload p;
    v1::ReferralMade* m = p.mutable_referral_made();
    Referral referral;
    referral.id = NextId("referral", &referral_counter_);
    m->set_referral_id(referral.id);
    m->set_to_organization(t.organization);
    m->set_service(t.service);
    m->set_kind(t.kind);
    m->set_goal_id(goals_[rng_.Below(goals_.size())].id);
    referral.event_id = out_.Add(std::move(p));
    referrals_.push_back(std::move(referral));
  }

  void AgreeStrategy() {
    std::vector<int> left;
    for (int i = 0; i < 3; ++i) {
      if (std::find(strategies_.begin(), strategies_.end(), i) ==
          strategies_.end()) {
        left.push_back(i);
      }
    }
    if (left.empty()) return;
    const int s = left[rng_.Below(left.size())];
    const txt::CopingText& t = txt::kCoping[A()][s];
    v1::EventPayload p;
    v1::CopingStrategyAgreed* c = p.mutable_coping_strategy_agreed();
    c->set_strategy_id(absl::StrCat("strategy-", s + 1));
    c->set_category(t.category);
    c->set_description(t.description);
    c->set_practice(t.practice);
    out_.Add(std::move(p));
    strategies_.push_back(s);
  }

  void Resources() {
    day_ = Workday(day_ + rng_.Between(2, 7));
    out_.Begin(day_, ManagerActor(), kSourceMobile);
    AddPerson(/*natural=*/true);
    if (rng_.Chance(0.6)) AddPerson(/*natural=*/true);
    if (rng_.Chance(0.4)) AddPerson(/*natural=*/false);
    Connect(rng_.Between(0, 1));  // natural
    out_.End();

    day_ = Workday(day_ + rng_.Between(0, 4));
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    Connect(rng_.Between(2, 3));  // community
    // Housing First clients get their flat at the move-in visit.
    if (IsWork() || rng_.Chance(0.5)) Connect(5);  // formal
    Refer(archetype_ == Archetype::kHousingFirst ? 0 : rng_.Between(0, 1));
    if (rng_.Chance(0.4)) Refer(2);
    out_.End();

    out_.Begin(day_, ManagerActor(), kSourceWeb);
    AgreeStrategy();
    if (rng_.Chance(0.6)) AgreeStrategy();
    AddFactor();
    out_.End();
    setup_end_ = day_;
  }

  // --- monitoring
  // --------------------------------------------------------------

  void PlanWork(std::vector<Planned>* plan) {
    CivilDay d = setup_end_ + rng_.Between(5, 18);
    if (archetype_ == Archetype::kHousingFirst) {
      if (rng_.Chance(0.85)) {
        plan->push_back(
            {open_day_ + std::max(20, int(d - open_day_)) + rng_.Between(0, 30),
             Visit::kMoveIn});
        if (rng_.Chance(0.5)) {
          plan->push_back(
              {open_day_ + rng_.Between(150, 300), Visit::kOwnHome});
        }
      }
      if (rng_.Chance(0.12)) {
        plan->push_back({open_day_ + rng_.Between(40, 200), Visit::kHospital});
      }
      if (rng_.Chance(0.25)) {
        plan->push_back({d + rng_.Between(10, 60), Visit::kSubstanceConsent});
      }
      return;
    }
    const bool burnout = archetype_ == Archetype::kBurnoutReturnToWork;
    int percent = burnout ? 50 : 10 * rng_.Between(3, 5);
    plan->push_back({d, Visit::kMediation, percent});
    d += rng_.Between(7, 14);
    plan->push_back({d, Visit::kReturn, percent});
    if (burnout) {
      d += rng_.Between(21, 35);
      plan->push_back({d, Visit::kMediation, 80});
      d += 7;
      plan->push_back({d, Visit::kSchedule, 80});
      if (plan_recurrence_) {
        d += rng_.Between(10, 30);
        plan->push_back({d, Visit::kRecurrence});
        d += rng_.Between(21, 42);
        plan->push_back({d, Visit::kReturn, 50});
        d += 28;
        plan->push_back({d, Visit::kSchedule, 80});
      }
      d += rng_.Between(28, 42);
      if (rng_.Chance(0.85)) {
        plan->push_back({d, Visit::kSchedule, 100});
      } else {
        plan->push_back({d, Visit::kPermanentReduction, 80});
      }
      last_work_day_ = d;
      return;
    }
    // Brain injury: increase by steps; a recurrence sets it back.
    d += rng_.Between(28, 42);
    percent += 20;
    plan->push_back({d, Visit::kSchedule, percent});
    if (plan_recurrence_) {
      d += rng_.Between(14, 35);
      plan->push_back({d, Visit::kRecurrence});
      d += rng_.Between(14, 28);
      plan->push_back({d, Visit::kMediation, 30});
      d += rng_.Between(7, 14);
      percent = 30;
      plan->push_back({d, Visit::kReturn, percent});
      d += rng_.Between(35, 56);
      percent = 50;
      plan->push_back({d, Visit::kSchedule, percent});
    }
    const int end = rng_.Chance(0.5) ? 100 : rng_.Chance(0.6) ? 80 : 60;
    while (percent < end) {
      d += rng_.Between(28, 49);
      percent = std::min(end, percent + 20);
      plan->push_back({d,
                       percent == end && end < 100 ? Visit::kPermanentReduction
                                                   : Visit::kSchedule,
                       percent});
    }
    last_work_day_ = d;
  }

  void Monitoring(bool reopened) {
    std::vector<Planned> plan;
    if (!reopened) PlanWork(&plan);
    int routines = archetype_ == Archetype::kHousingFirst ? rng_.Between(6, 14)
                   : archetype_ == Archetype::kBurnoutReturnToWork
                       ? rng_.Between(4, 9)
                       : rng_.Between(5, 11);
    if (reopened) routines = rng_.Between(2, 4);
    if (rng_.Chance(0.1)) routines *= 2;  // the long cases
    CivilDay d = day_;
    for (int i = 0; i < routines; ++i) {
      d += rng_.Between(10, 35);
      plan.push_back({d, Visit::kRoutine});
    }
    if (reopened) {
      std::stable_sort(
          plan.begin(), plan.end(),
          [](const Planned& a, const Planned& b) { return a.day < b.day; });
      for (const Planned& p : plan) Run(p);
      return;
    }
    const CivilDay span_end = std::max(d, last_work_day_);
    const auto mid = [&] {
      return goals_day_ +
             rng_.Between(14, std::max<int>(15, int(span_end - goals_day_)));
    };
    if (plan_correction_) plan.push_back({mid(), Visit::kCorrection});
    if (plan_mistake_) plan.push_back({mid(), Visit::kMistake});
    if (plan_transfer_) plan.push_back({mid(), Visit::kTransfer});
    if (research_consent_ && rng_.Chance(0.25)) {
      plan.push_back({mid(), Visit::kRevokeResearch});
    }
    std::stable_sort(
        plan.begin(), plan.end(),
        [](const Planned& a, const Planned& b) { return a.day < b.day; });
    for (const Planned& p : plan) Run(p);
  }

  void Run(const Planned& p) {
    day_ = std::max(day_, Workday(p.day));
    switch (p.what) {
      case Visit::kRoutine:
        Routine();
        break;
      case Visit::kMoveIn:
        MoveIn();
        break;
      case Visit::kOwnHome:
        LifeStatus(v1::LIVING_SITUATION_OWN_HOME,
                   "own flat, tenancy in my name");
        break;
      case Visit::kHospital:
        Hospital();
        break;
      case Visit::kSubstanceConsent:
        SubstanceConsent();
        break;
      case Visit::kMediation:
        Mediation(p.arg);
        break;
      case Visit::kReturn:
        Return(p.arg);
        break;
      case Visit::kSchedule:
        Schedule(p.arg, /*permanent=*/false);
        break;
      case Visit::kPermanentReduction:
        Schedule(p.arg, /*permanent=*/true);
        break;
      case Visit::kRecurrence:
        Recurrence();
        break;
      case Visit::kCorrection:
        Correction();
        break;
      case Visit::kMistake:
        Mistake();
        break;
      case Visit::kTransfer:
        Transfer();
        break;
      case Visit::kRevokeResearch: {
        out_.Begin(day_, ManagerActor(), kSourceWeb);
        v1::EventPayload e;
        e.mutable_consent_revoked()->set_consent_id("consent-research");
        e.mutable_consent_revoked()->set_reason(
            "Client no longer wants to take part in the evaluation");
        out_.Add(std::move(e));
        out_.End();
        break;
      }
    }
  }

  std::string Contact(v1::ContactLocation location, absl::string_view purpose) {
    v1::ContactMode mode = v1::CONTACT_MODE_IN_PERSON;
    if (location == v1::CONTACT_LOCATION_REMOTE) {
      mode = absl::StartsWith(purpose, "Video") ? v1::CONTACT_MODE_VIDEO
                                                : v1::CONTACT_MODE_PHONE;
    }
    v1::EventPayload p = ContactPayload(
        NextId("contact", &contacts_), mode, location,
        mode == v1::CONTACT_MODE_IN_PERSON ? 15 * rng_.Between(2, 6)
                                           : 5 * rng_.Between(2, 6),
        purpose, {first_name_});
    last_contact_payload_ = p;
    last_contact_id_ = out_.Add(std::move(p));
    return last_contact_id_;
  }

  v1::ContactLocation RoutineLocation() {
    const int r = rng_.Between(0, 99);
    if (archetype_ == Archetype::kHousingFirst) {
      return r < 40   ? v1::CONTACT_LOCATION_COMMUNITY
             : r < 70 ? v1::CONTACT_LOCATION_HOME
             : r < 85 ? v1::CONTACT_LOCATION_OFFICE
                      : v1::CONTACT_LOCATION_REMOTE;
    }
    return r < 20   ? v1::CONTACT_LOCATION_HOME
           : r < 35 ? v1::CONTACT_LOCATION_WORKPLACE
           : r < 50 ? v1::CONTACT_LOCATION_COMMUNITY
           : r < 75 ? v1::CONTACT_LOCATION_OFFICE
                    : v1::CONTACT_LOCATION_REMOTE;
  }

  void Routine() {
    ++routine_count_;
    const bool field = rng_.Chance(0.6);
    out_.Begin(day_, ManagerActor(), field ? kSourceMobile : kSourceWeb);
    const double outreach_p =
        archetype_ == Archetype::kHousingFirst ? 0.22 : 0.06;
    if (rng_.Chance(outreach_p)) {
      static constexpr v1::OutreachOutcome kOutcomes[] = {
          v1::OUTREACH_OUTCOME_NOT_FOUND, v1::OUTREACH_OUTCOME_NO_SHOW,
          v1::OUTREACH_OUTCOME_DECLINED};
      static constexpr const char* kOutreachNotes[] = {
          "Not at the usual places; left a message at the day centre",
          "Did not come to the appointment; sent a text",
          "Said today is not a good day; will try again next week"};
      const int o = rng_.Between(0, 2);
      v1::EventPayload p;
      v1::OutreachAttempted* a = p.mutable_outreach_attempted();
      a->set_outcome(kOutcomes[o]);
      a->set_mode(o == 0 ? v1::CONTACT_MODE_IN_PERSON : v1::CONTACT_MODE_PHONE);
      a->set_location(o == 0 ? v1::CONTACT_LOCATION_COMMUNITY
                             : v1::CONTACT_LOCATION_REMOTE);
      a->set_note(kOutreachNotes[o]);
      out_.Add(std::move(p));
      out_.End();
      return;
    }
    const txt::ContactText& contact = rng_.Pick(txt::kContactPurposes[A()]);
    Contact(contact.location, contact.purpose);
    const int actions = rng_.Between(1, 3);
    for (int i = 0; i < actions; ++i) Action();
    if (routine_count_ % 3 == 0) {
      Review("Plan reviewed together; steps updated, goals unchanged.", 42);
    }
    out_.End();
  }

  std::vector<size_t> OpenSteps() const {
    std::vector<size_t> open;
    for (size_t i = 0; i < steps_.size(); ++i) {
      if (steps_[i].open && goals_[steps_[i].goal].open) open.push_back(i);
    }
    return open;
  }

  std::vector<size_t> OpenGoals() const {
    std::vector<size_t> open;
    for (size_t i = 0; i < goals_.size(); ++i) {
      if (goals_[i].open) open.push_back(i);
    }
    return open;
  }

  // One follow-up action of a routine visit, in the open session.
  void Action() {
    const std::vector<size_t> open_steps = OpenSteps();
    const std::vector<size_t> open_goals = OpenGoals();
    const int r = rng_.Between(0, 99);
    if (r < 30 && !open_steps.empty()) {
      Step& step = steps_[open_steps[rng_.Below(open_steps.size())]];
      step.open = false;
      v1::EventPayload p;
      v1::PlanStepCompleted* c = p.mutable_plan_step_completed();
      c->set_step_id(step.id);
      *c->mutable_completed_on() = ToDate(day_ - rng_.Between(0, 6));
      static constexpr const char* kDone[] = {
          "Done, and it was easier than expected", "Done with a bit of help",
          "Finally done"};
      c->set_note(rng_.Pick(kDone));
      out_.Add(std::move(p));
      return;
    }
    if (r < 38 && !open_steps.empty()) {
      Step& step = steps_[open_steps[rng_.Below(open_steps.size())]];
      v1::EventPayload p;
      v1::PlanStepRevised* s = p.mutable_plan_step_revised();
      s->set_step_id(step.id);
      *s->mutable_target_date() = ToDate(day_ + rng_.Between(14, 35));
      s->set_reason("Not enough energy this month; new date agreed together");
      out_.Add(std::move(p));
      return;
    }
    if (r < 41 && open_steps.size() > 1) {
      Step& step = steps_[open_steps[rng_.Below(open_steps.size())]];
      step.open = false;
      v1::EventPayload p;
      p.mutable_plan_step_dropped()->set_step_id(step.id);
      p.mutable_plan_step_dropped()->set_reason(
          "Client decided this is no longer important");
      out_.Add(std::move(p));
      return;
    }
    if (r < 50 && !open_goals.empty()) {
      static constexpr const char* kNext[3][3] = {
          {"Ask the neighbour to come along to the tenants' meeting",
           "Plan the week's meals and shop once", "Go to the art room twice"},
          {"Try the 10 o'clock email rule for two weeks",
           "Book a long weekend away with the family",
           "Tell the team lead what went well this month"},
          {"Try a full morning with one planned break",
           "Go to the peer group meeting",
           "Plan a quiet afternoon after "
           "every long day"}};
      const size_t g = open_goals[rng_.Below(open_goals.size())];
      AddStep(g, rng_.Pick(kNext[A()]), v1::RESPONSIBLE_PARTY_CLIENT, "");
      return;
    }
    if (r < 60 && !open_goals.empty()) {
      Goal& goal = goals_[open_goals[rng_.Below(open_goals.size())]];
      const int step = progress_ > 0.3 || rng_.Chance(0.3) ? 1 : 0;
      goal.level = Clamp(goal.level + step, -2, 1);
      v1::EventPayload p;
      v1::GoalStatusChanged* c = p.mutable_goal_status_changed();
      c->set_goal_id(goal.id);
      c->set_achievement_status(step > 0
                                    ? v1::GOAL_ACHIEVEMENT_STATUS_IMPROVING
                                    : v1::GOAL_ACHIEVEMENT_STATUS_NO_CHANGE);
      c->set_reason(step > 0 ? "Client sees progress" : "A difficult month");
      out_.Add(std::move(p));
      return;
    }
    if (r < 68 && !open_goals.empty()) {
      const Goal& goal = goals_[open_goals[rng_.Below(open_goals.size())]];
      out_.Add(Rating(goal.id, goal.level, v1::TIME_POINT_INTERIM));
      return;
    }
    if (r < 75 && !strategies_.empty()) {
      v1::EventPayload p;
      v1::CopingStrategyReviewed* c = p.mutable_coping_strategy_reviewed();
      c->set_strategy_id(absl::StrCat(
          "strategy-", strategies_[rng_.Below(strategies_.size())] + 1));
      const int o = rng_.Between(0, 9);
      c->set_outcome(o < 5   ? v1::COPING_REVIEW_OUTCOME_HELPED
                     : o < 8 ? v1::COPING_REVIEW_OUTCOME_PARTLY
                             : v1::COPING_REVIEW_OUTCOME_NOT_HELPED);
      c->set_note(o < 5   ? "Uses it most days; it helps"
                  : o < 8 ? "Works on good days, forgotten on bad ones"
                          : "Did not fit; we'll look for another way");
      out_.Add(std::move(p));
      return;
    }
    if (r < 82) {
      const txt::NoteText& n = rng_.Pick(txt::kNotes[A()]);
      v1::EventPayload p;
      p.mutable_note_recorded()->set_note_id(NextId("note", &notes_));
      p.mutable_note_recorded()->set_text(n.text);
      out_.Add(std::move(p), n.label);
      return;
    }
    if (r < 87) {
      for (Referral& ref : referrals_) {
        if (ref.status == v1::REFERRAL_STATUS_COMPLETED ||
            ref.status == v1::REFERRAL_STATUS_DECLINED) {
          continue;
        }
        ref.status = ref.status == v1::REFERRAL_STATUS_PENDING
                         ? (rng_.Chance(0.85) ? v1::REFERRAL_STATUS_ACCEPTED
                                              : v1::REFERRAL_STATUS_DECLINED)
                         : v1::REFERRAL_STATUS_COMPLETED;
        v1::EventPayload p;
        v1::ReferralStatusChanged* c = p.mutable_referral_status_changed();
        c->set_referral_id(ref.id);
        c->set_status(ref.status);
        c->set_note(ref.status == v1::REFERRAL_STATUS_DECLINED
                        ? "Waiting list closed; looking for another service"
                        : "Confirmed by the service");
        out_.Add(std::move(p), v1::SENSITIVITY_LABEL_UNSPECIFIED, ref.event_id);
        return;
      }
    }
    if (r < 91) {
      // The support network moves: a new natural support, or a change.
      if (people_.size() < 4 && rng_.Chance(0.5)) {
        AddPerson(rng_.Chance(0.75));
        return;
      }
      for (Person& person : people_) {
        if (!person.active) continue;
        v1::EventPayload p;
        v1::SupportPersonChanged* c = p.mutable_support_person_changed();
        c->set_person_id(person.id);
        c->add_support_kinds(v1::SUPPORT_KIND_EMOTIONAL);
        c->add_support_kinds(v1::SUPPORT_KIND_SOCIAL);
        out_.Add(std::move(p));
        return;
      }
    }
    if (r < 94) {
      const int d = rng_.Between(0, 6);
      const txt::DomainText& t = txt::kDomainTexts[A()][d][rng_.Below(2)];
      v1::EventPayload p;
      v1::StrengthsAssessmentDomainUpdated* u =
          p.mutable_strengths_assessment_domain_updated();
      u->set_assessment_id("assessment-1");
      u->mutable_domain()->set_domain(txt::kDomains[d]);
      u->mutable_domain()->set_current_status(
          absl::StrCat("Update: ", t.current, " Things are moving."));
      u->mutable_domain()->set_desires(t.desires);
      u->mutable_domain()->set_resources(t.resources);
      out_.Add(std::move(p));
      return;
    }
    if (r < 96 && !open_goals.empty()) {
      const Goal& goal = goals_[open_goals[rng_.Below(open_goals.size())]];
      v1::EventPayload p;
      v1::GoalRevised* g = p.mutable_goal_revised();
      g->set_goal_id(goal.id);
      *g->mutable_target_date() = ToDate(day_ + rng_.Between(60, 150));
      g->add_add_strengths("doesn't give up");
      g->set_reason("More time needed; the client wants to keep the goal");
      out_.Add(std::move(p));
      return;
    }
    if (r < 98) {
      Connect(rng_.Between(0, 3));  // natural or community
      return;
    }
    AddFactor();
  }

  void LifeStatus(v1::LivingSituation situation, absl::string_view income) {
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    v1::EventPayload p;
    v1::LifeStatusRecorded* l = p.mutable_life_status_recorded();
    l->set_income_source(std::string(income));
    l->set_living_situation(situation);
    l->set_close_friends(static_cast<uint32_t>(rng_.Between(1, 4)));
    out_.Add(std::move(p), v1::SENSITIVITY_LABEL_FINANCIAL);
    out_.End();
  }

  void MoveIn() {
    out_.Begin(day_, ManagerActor(), kSourceMobile);
    Contact(v1::CONTACT_LOCATION_HOME,
            "Moving day: keys handed over, first night in the new flat");
    v1::EventPayload p;
    v1::LifeStatusRecorded* l = p.mutable_life_status_recorded();
    l->set_income_source("social assistance and housing allowance");
    l->set_living_situation(v1::LIVING_SITUATION_SUPPORTED_HOUSING);
    l->set_close_friends(static_cast<uint32_t>(rng_.Between(1, 3)));
    out_.Add(std::move(p), v1::SENSITIVITY_LABEL_FINANCIAL);
    Connect(4);  // the Housing First flat
    if (goals_[0].open) {
      goals_[0].level = std::max(goals_[0].level, 0);
      v1::EventPayload s;
      v1::GoalStatusChanged* c = s.mutable_goal_status_changed();
      c->set_goal_id(goals_[0].id);
      c->set_achievement_status(v1::GOAL_ACHIEVEMENT_STATUS_IMPROVING);
      c->set_reason("Moved into the Housing First flat");
      out_.Add(std::move(s));
    }
    {
      v1::EventPayload d;
      v1::DisclosureMade* m = d.mutable_disclosure_made();
      m->set_recipient("Harbour Housing Association");
      m->set_purpose("tenancy support plan");
      m->set_consent_id("consent-1");
      out_.Add(std::move(d));
    }
    out_.End();
  }

  void Hospital() {
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    v1::EventPayload p;
    v1::HospitalizationRecorded* h = p.mutable_hospitalization_recorded();
    *h->mutable_admitted_on() = ToDate(day_ - rng_.Between(1, 5));
    *h->mutable_discharged_on() = ToDate(day_ + rng_.Between(3, 21));
    const bool crisis = rng_.Chance(0.6);
    h->set_reason(crisis ? "psychiatric crisis" : "pneumonia");
    h->set_voluntary(!crisis || rng_.Chance(0.7));
    out_.Add(std::move(p), v1::SENSITIVITY_LABEL_HEALTH);
    v1::EventPayload n;
    n.mutable_note_recorded()->set_note_id(NextId("note", &notes_));
    n.mutable_note_recorded()->set_text(
        "Visited in hospital; we agreed to keep the flat and the plan going.");
    out_.Add(std::move(n), v1::SENSITIVITY_LABEL_HEALTH);
    out_.End();
  }

  void SubstanceConsent() {
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    v1::EventPayload p;
    v1::ConsentGiven* c = p.mutable_consent_given();
    c->set_consent_id("consent-part2");
    c->add_purposes("treatment-coordination");
    c->add_recipients("Addiction outpatient service");
    c->add_data_categories(v1::SENSITIVITY_LABEL_SUBSTANCE_USE_PART2);
    *c->mutable_expires_on() = ToDate(day_ + 365);
    out_.Add(std::move(p));
    bool referred = false;
    for (const Referral& r : referrals_) referred |= r.id == "referral-2";
    if (!referred && referrals_.size() < 3) Refer(2);
    v1::EventPayload d;
    v1::DisclosureMade* m = d.mutable_disclosure_made();
    m->set_recipient("Addiction outpatient service");
    m->set_purpose("referral for alcohol counselling");
    m->set_consent_id("consent-part2");
    m->add_data_categories(v1::SENSITIVITY_LABEL_SUBSTANCE_USE_PART2);
    out_.Add(std::move(d), v1::SENSITIVITY_LABEL_SUBSTANCE_USE_PART2);
    out_.End();
  }

  // --- work ------------------------------------------------------------------

  void Mediation(int percent) {
    ++discussions_;
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    Contact(v1::CONTACT_LOCATION_WORKPLACE,
            "Employer meeting at the workplace; case manager mediating");
    v1::EventPayload p;
    v1::EmployerDiscussionMediated* d =
        p.mutable_employer_discussion_mediated();
    d->set_discussion_id(absl::StrCat("discussion-", discussions_));
    d->set_employer(employer_);
    d->add_participants(first_name_);
    d->add_participants("team lead");
    d->add_participants("HR partner");
    d->add_participants(cm_id_);
    int agreement = 0;
    const auto agree = [&](v1::AgreementKind kind, std::string text,
                           const char* owner, int due_in) {
      v1::EmployerAgreement* a = d->add_agreements();
      a->set_agreement_id(absl::StrCat("agreement-", ++agreement));
      a->set_kind(kind);
      a->set_description(std::move(text));
      a->set_owner(owner);
      *a->mutable_due_on() = ToDate(day_ + due_in);
    };
    agree(v1::AGREEMENT_KIND_GRADED_HOURS,
          absl::StrCat("Graded hours: ", percent,
                       "% of the contracted time, spread over five mornings"),
          "HR partner", 7);
    if (archetype_ == Archetype::kBurnoutReturnToWork) {
      agree(v1::AGREEMENT_KIND_WORK_STRUCTURING,
            discussions_ == 1
                ? "No customer escalations for the first four weeks; one "
                  "fixed contact person for new requests"
                : "Email at 10:00 and 15:00 only; focus blocks respected",
            "team lead", 14);
      if (discussions_ == 1) {
        agree(v1::AGREEMENT_KIND_TASKS,
              "Client lists the tasks that cost most energy and the ones "
              "that give energy",
              "client", 7);
      }
    } else {
      agree(v1::AGREEMENT_KIND_WORKPLACE_CONFIGURATION,
            discussions_ == 1
                ? "Quiet workstation away from the workshop noise; "
                  "noise-cancelling headphones"
                : "Move to the planning office; larger screen font and "
                  "reduced brightness",
            "team lead", 10);
      agree(v1::AGREEMENT_KIND_WORK_STRUCTURING,
            "Written task board, one task at a time; a break every 90 "
            "minutes",
            "client", 7);
      agree(v1::AGREEMENT_KIND_TASKS,
            "No work at heights or on ladders for now", "team lead", 0);
    }
    *d->mutable_next_on() = ToDate(day_ + rng_.Between(21, 35));
    out_.Add(std::move(p));
    v1::EventPayload s;
    v1::DisclosureMade* m = s.mutable_disclosure_made();
    m->set_recipient(employer_);
    m->set_purpose("graded return plan: work capacity only, no diagnosis");
    m->set_consent_id("consent-2");
    out_.Add(std::move(s));
    out_.End();
  }

  void Employment(v1::EmploymentStatus status, int percent) {
    v1::EventPayload p;
    v1::EmploymentStatusRecorded* e = p.mutable_employment_status_recorded();
    e->set_status(status);
    e->set_employer(employer_);
    e->set_percent(static_cast<uint32_t>(contracted_ * percent / 100));
    out_.Add(std::move(p));
  }

  void Return(int percent) {
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    out_.Add(Capacity(percent, day_, day_ + 28), v1::SENSITIVITY_LABEL_HEALTH);
    v1::EventPayload p;
    v1::ReturnToWorkStarted* r = p.mutable_return_to_work_started();
    r->set_percent(static_cast<uint32_t>(percent));
    *r->mutable_first_day() = ToDate(day_);
    r->set_employer(employer_);
    out_.Add(std::move(p));
    Employment(v1::EMPLOYMENT_STATUS_EMPLOYED_REDUCED, percent);
    out_.End();
    day_ = Workday(day_ + 7);
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    Contact(v1::CONTACT_LOCATION_REMOTE,
            "Phone check-in after the first week "
            "back at work");
    out_.End();
    MoveWorkGoal(0, "Back at work with graded hours");
  }

  void Schedule(int percent, bool permanent) {
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    out_.Add(Capacity(percent, day_, day_ + (percent < 100 ? 42 : 365)),
             v1::SENSITIVITY_LABEL_HEALTH);
    v1::EventPayload p;
    v1::WorkScheduleChanged* w = p.mutable_work_schedule_changed();
    w->set_percent(static_cast<uint32_t>(percent));
    *w->mutable_effective_from() = ToDate(day_);
    out_.Add(std::move(p));
    if (percent >= 100) {
      Employment(v1::EMPLOYMENT_STATUS_EMPLOYED, 100);
      MoveWorkGoal(1, "Back at full contracted hours");
    } else if (permanent) {
      Employment(v1::EMPLOYMENT_STATUS_EMPLOYED_REDUCED, percent);
      v1::EventPayload n;
      n.mutable_note_recorded()->set_note_id(NextId("note", &notes_));
      n.mutable_note_recorded()->set_text(absl::StrCat(
          "Agreed with employer and client: ", percent,
          "% is the sustainable level for now; contract to be adapted."));
      out_.Add(std::move(n));
      MoveWorkGoal(0, "Sustainable reduced hours agreed");
    }
    out_.End();
  }

  void Recurrence() {
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    v1::EventPayload p;
    v1::AbsenceRecurred* a = p.mutable_absence_recurred();
    *a->mutable_first_day() = ToDate(day_ - rng_.Between(0, 3));
    a->set_cause(rng_.Pick(txt::kRecurrenceCauses[A()]));
    out_.Add(std::move(p), v1::SENSITIVITY_LABEL_HEALTH);
    out_.Add(Capacity(0, day_, day_ + 21), v1::SENSITIVITY_LABEL_HEALTH);
    Employment(v1::EMPLOYMENT_STATUS_ON_LEAVE, 0);
    if (archetype_ == Archetype::kBrainInjuryReturnToWork && rng_.Chance(0.3)) {
      v1::EventPayload h;
      v1::HospitalizationRecorded* r = h.mutable_hospitalization_recorded();
      *r->mutable_admitted_on() = ToDate(day_ - 1);
      *r->mutable_discharged_on() = ToDate(day_ + rng_.Between(1, 4));
      r->set_reason("observation after a seizure");
      r->set_voluntary(true);
      out_.Add(std::move(h), v1::SENSITIVITY_LABEL_HEALTH);
    }
    if (!goals_.empty() && goals_[0].open) {
      goals_[0].level = Clamp(goals_[0].level - 1, -2, 2);
      v1::EventPayload s;
      v1::GoalStatusChanged* c = s.mutable_goal_status_changed();
      c->set_goal_id(goals_[0].id);
      c->set_lifecycle_status(v1::GOAL_LIFECYCLE_STATUS_ON_HOLD);
      c->set_achievement_status(v1::GOAL_ACHIEVEMENT_STATUS_WORSENING);
      c->set_reason("Off work again; the return is paused, not given up");
      out_.Add(std::move(s));
      work_goal_on_hold_ = true;
    }
    out_.End();
  }

  // Moves the work goal (goal 1) up to at least `level`, resuming it if on
  // hold; no event when nothing changes.
  void MoveWorkGoal(int level, absl::string_view reason) {
    if (goals_.empty() || !goals_[0].open) return;
    Goal& goal = goals_[0];
    if (goal.level >= level && !work_goal_on_hold_) return;
    goal.level = std::max(goal.level, level);
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    v1::EventPayload s;
    v1::GoalStatusChanged* c = s.mutable_goal_status_changed();
    c->set_goal_id(goal.id);
    if (work_goal_on_hold_) {
      c->set_lifecycle_status(v1::GOAL_LIFECYCLE_STATUS_ACTIVE);
      work_goal_on_hold_ = false;
    }
    c->set_achievement_status(v1::GOAL_ACHIEVEMENT_STATUS_IMPROVING);
    c->set_reason(std::string(reason));
    out_.Add(std::move(s));
    out_.End();
  }

  // --- corrections and transfers -----------------------------------------

  void Correction() {
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    v1::EventPayload p;
    v1::EventCorrected* c = p.mutable_event_corrected();
    std::string target;
    if (correction_kind_ == 0 && !goals_.empty()) {
      target = goals_[0].set_event_id;
      c->set_reason(
          "Goal restated in the client's own words, as agreed at the plan "
          "review");
      *c->mutable_corrected() = goals_[0].set_payload;
      c->mutable_corrected()->mutable_goal_set()->set_statement(
          goals_[0].tmpl->statement);
    } else if (correction_kind_ == 1 && !last_contact_id_.empty()) {
      target = last_contact_id_;
      *c->mutable_corrected() = last_contact_payload_;
      v1::ContactRecorded* fixed =
          c->mutable_corrected()->mutable_contact_recorded();
      const uint32_t wrong = fixed->duration_minutes();
      fixed->set_duration_minutes(wrong > 30 ? wrong - 15 : wrong + 30);
      c->set_reason(absl::StrCat("Duration entered as ", wrong,
                                 " minutes; the visit lasted ",
                                 fixed->duration_minutes()));
    } else {
      target = brs_event_id_;
      *c->mutable_corrected() = brs_payload_;
      v1::ItemResponse* item = c->mutable_corrected()
                                   ->mutable_measure_administered()
                                   ->mutable_responses(3);
      const int wrong = item->value();
      item->set_value(wrong == 5 ? 2 : 5);
      c->set_reason(absl::StrCat("Item 4 keyed as ", wrong,
                                 "; the paper form says ", item->value()));
    }
    c->set_target_event_id(target);
    out_.Add(std::move(p), v1::SENSITIVITY_LABEL_UNSPECIFIED, target);
    out_.End();
  }

  void Mistake() {
    // A visit recorded twice (from the phone and at the desk), or a note
    // written in the wrong case; the next session marks it entered in error.
    out_.Begin(day_, ManagerActor(), kSourceMobile);
    std::string target;
    const bool duplicate = rng_.Chance(0.5);
    if (duplicate) {
      // The duplicate is not a later correction's target.
      const std::string id = last_contact_id_;
      const v1::EventPayload payload = last_contact_payload_;
      const txt::ContactText& contact = rng_.Pick(txt::kContactPurposes[A()]);
      target = Contact(contact.location, contact.purpose);
      last_contact_id_ = id;
      last_contact_payload_ = payload;
    } else {
      v1::EventPayload n;
      n.mutable_note_recorded()->set_note_id(NextId("note", &notes_));
      n.mutable_note_recorded()->set_text(
          "Talked to the landlord about the heating repair.");
      target = out_.Add(std::move(n));
    }
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    v1::EventPayload e;
    v1::EventEnteredInError* m = e.mutable_event_entered_in_error();
    m->set_target_event_id(target);
    m->set_reason(duplicate
                      ? "Duplicate: the visit was already recorded from the "
                        "mobile app"
                      : "Note belongs to another client's case");
    out_.Add(std::move(e), v1::SENSITIVITY_LABEL_UNSPECIFIED, target);
    out_.End();
  }

  void Transfer() {
    // To a manager of an earlier rotation (who exists in every caseload that
    // holds this case).
    const int to = manager_ - 1 -
                   static_cast<int>(rng_.Below(
                       static_cast<uint64_t>(std::min(manager_, 6))));
    const int to_team = TeamOf(options_, to);
    out_.Begin(day_, LeadActor(), kSourceWeb);
    v1::EventPayload p;
    v1::CaseTransferred* t = p.mutable_case_transferred();
    t->set_from_case_manager_id(cm_id_);
    t->set_to_case_manager_id(CaseManagerIdOf(to));
    if (to_team != team_index_) t->set_to_team(TeamName(to_team));
    t->set_reason(rng_.Pick(txt::kTransferReasons));
    out_.Add(std::move(p));
    out_.End();
    manager_ = to;
    cm_id_ = CaseManagerIdOf(to);
    team_index_ = to_team;
    org_ = OrganizationOf(to_team);
    out_.Begin(Workday(day_ + rng_.Between(1, 7)), ManagerActor(),
               kSourceMobile);
    Contact(v1::CONTACT_LOCATION_COMMUNITY,
            "Getting to know each other; the plan stays the client's");
    out_.End();
  }

  // --- exit and reopening ------------------------------------------------

  void Exit(bool reopened) {
    day_ = Workday(std::max(day_, last_work_day_) + rng_.Between(14, 35));
    const bool lost = !reopened && archetype_ == Archetype::kHousingFirst &&
                      progress_ < 0.25 && rng_.Chance(0.6);
    if (lost) {
      for (int i = 0; i < 2; ++i) {
        out_.Begin(day_, ManagerActor(), kSourceMobile);
        v1::EventPayload p;
        v1::OutreachAttempted* a = p.mutable_outreach_attempted();
        a->set_outcome(v1::OUTREACH_OUTCOME_NOT_FOUND);
        a->set_mode(v1::CONTACT_MODE_IN_PERSON);
        a->set_location(v1::CONTACT_LOCATION_COMMUNITY);
        a->set_note("Not seen at the day centre or the shelter for weeks");
        out_.Add(std::move(p));
        out_.End();
        day_ = Workday(day_ + rng_.Between(14, 28));
      }
      out_.Begin(day_, ManagerActor(), kSourceWeb);
      v1::EventPayload c;
      v1::CaseClosed* closed = c.mutable_case_closed();
      closed->set_reason(v1::CLOSE_REASON_LOST_CONTACT);
      closed->set_destination("unknown");
      closed->set_outcome(v1::CASE_OUTCOME_UNSUCCESSFUL);
      closed->set_summary(
          "Contact lost after repeated outreach; the door stays open.");
      out_.Add(std::move(c));
      out_.End();
      close_day_ = day_;
      return;
    }

    out_.Begin(day_, ManagerActor(), kSourceMobile);
    Contact(RoutineLocation(), "Final review: what has changed, what helps");
    Measures(v1::TIME_POINT_FOLLOW_UP, day_);
    out_.End();

    out_.Begin(day_, ManagerActor(), kSourceWeb);
    double sum = 0;
    int rated = 0;
    for (Goal& goal : goals_) {
      if (!goal.open) continue;
      const int final_level =
          Clamp(static_cast<int>(std::lround(goal.baseline + progress_ * 3.6 -
                                             0.4 + rng_.Range(-0.6, 0.6))),
                -2, 2);
      goal.level = final_level;
      goal.open = false;
      sum += final_level;
      ++rated;
      out_.Add(Rating(goal.id, final_level, v1::TIME_POINT_FOLLOW_UP));
      v1::EventPayload s;
      v1::GoalStatusChanged* c = s.mutable_goal_status_changed();
      c->set_goal_id(goal.id);
      if (final_level >= 0) {
        c->set_lifecycle_status(v1::GOAL_LIFECYCLE_STATUS_COMPLETED);
        c->set_achievement_status(final_level > 0
                                      ? v1::GOAL_ACHIEVEMENT_STATUS_ACHIEVED
                                      : v1::GOAL_ACHIEVEMENT_STATUS_SUSTAINING);
        c->set_reason("Achieved as the client defined it");
      } else {
        c->set_lifecycle_status(v1::GOAL_LIFECYCLE_STATUS_CANCELLED);
        c->set_achievement_status(
            final_level > goal.baseline
                ? v1::GOAL_ACHIEVEMENT_STATUS_IMPROVING
                : v1::GOAL_ACHIEVEMENT_STATUS_NOT_ACHIEVED);
        c->set_reason("Not reached within the case; the client keeps it");
      }
      out_.Add(std::move(s));
    }
    out_.End();

    const double mean = rated > 0 ? sum / rated : -2;
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    Review(
        "Final plan review with the client; what to keep doing after "
        "closing.",
        0);
    for (Person& person : people_) {
      if (person.active && !person.natural) {
        person.active = false;
        v1::EventPayload p;
        p.mutable_support_person_removed()->set_person_id(person.id);
        p.mutable_support_person_removed()->set_reason(
            "Paid support ends with the case");
        out_.Add(std::move(p));
        break;
      }
    }
    if (std::find(connected_.begin(), connected_.end(), 5) !=
            connected_.end() &&
        rng_.Chance(0.5)) {
      v1::EventPayload p;
      p.mutable_resource_disconnected()->set_resource_id("resource-6");
      p.mutable_resource_disconnected()->set_reason("No longer needed");
      out_.Add(std::move(p));
    }
    v1::EventPayload c;
    v1::CaseClosed* closed = c.mutable_case_closed();
    static constexpr const char* kDestinations[3][3] = {
        {"own flat", "Housing First flat with tenancy support",
         "supported housing"},
        {"employer, full hours", "employer, reduced hours", "GP care"},
        {"employer, adapted workplace", "employer, reduced hours",
         "outpatient neuro-rehabilitation"}};
    if (mean >= 0) {
      closed->set_reason(v1::CLOSE_REASON_GOALS_MET);
      closed->set_outcome(v1::CASE_OUTCOME_SUCCESSFUL);
      closed->set_destination(kDestinations[A()][0]);
      closed->set_summary(
          "Goals reached in the client's terms; natural "
          "supports in place.");
    } else if (mean >= -1) {
      closed->set_reason(v1::CLOSE_REASON_CLIENT_CHOICE);
      closed->set_outcome(v1::CASE_OUTCOME_PARTIAL);
      closed->set_destination(kDestinations[A()][1]);
      closed->set_summary("Partly there; the client wants to go on alone.");
    } else {
      closed->set_reason(rng_.Chance(0.5) ? v1::CLOSE_REASON_MOVED_AWAY
                                          : v1::CLOSE_REASON_TRANSFERRED_OUT);
      closed->set_outcome(v1::CASE_OUTCOME_UNSUCCESSFUL);
      closed->set_destination(kDestinations[A()][2]);
      closed->set_summary("Goals not reached; handed over with the plan.");
    }
    out_.Add(std::move(c));
    out_.End();
    close_day_ = day_;
  }

  void Reopen() {
    day_ = Workday(close_day_ + rng_.Between(30, 400));
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    v1::EventPayload r;
    r.mutable_case_reopened()->set_reason(rng_.Pick(txt::kReopenReasons[A()]));
    out_.Add(std::move(r));
    Contact(
        IsWork() ? v1::CONTACT_LOCATION_OFFICE : v1::CONTACT_LOCATION_COMMUNITY,
        "First conversation after reopening; what happened, what helped "
        "before");
    {
      v1::EventPayload p;
      v1::ConsentGiven* c = p.mutable_consent_given();
      c->set_consent_id("consent-1");
      c->add_purposes("case-management");
      c->add_purposes("treatment-coordination");
      c->add_recipients(IsWork() ? "GP" : "Harbour Housing Association");
      c->add_data_categories(v1::SENSITIVITY_LABEL_HEALTH);
      *c->mutable_expires_on() = ToDate(day_ + 365);
      out_.Add(std::move(p));
    }
    if (IsWork()) {
      v1::EventPayload a;
      *a.mutable_absence_recurred()->mutable_first_day() =
          ToDate(day_ - rng_.Between(3, 20));
      a.mutable_absence_recurred()->set_cause(
          rng_.Pick(txt::kRecurrenceCauses[A()]));
      out_.Add(std::move(a), v1::SENSITIVITY_LABEL_HEALTH);
    }
    out_.End();

    day_ = Workday(day_ + rng_.Between(3, 10));
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    const int t = available_goals_.empty()
                      ? 0
                      : available_goals_[rng_.Below(available_goals_.size())];
    AddGoal(&txt::kGoals[A()][t]);
    out_.End();
    out_.Begin(day_, ManagerActor(), kSourceWeb);
    AddSteps(goals_.size() - 1);
    Review("Plan after reopening: one goal, small steps.", 28);
    out_.End();
    Monitoring(/*reopened=*/true);
    if (IsWork()) {
      day_ = Workday(day_ + rng_.Between(14, 28));
      Schedule(100, false);
    }
    Exit(/*reopened=*/true);
  }

  const CaseloadOptions& options_;
  const int index_;
  Rng rng_;
  const std::string case_id_;
  StreamBuilder out_;

  Archetype archetype_ = Archetype::kHousingFirst;
  int first_manager_ = 0;
  int manager_ = 0;
  std::string cm_id_;
  int team_index_ = 0;
  std::string org_;
  std::string first_name_;
  std::string client_name_;
  std::string client_ref_;
  std::string employer_;
  int contracted_ = 100;
  double progress_ = 0.5;
  double resilience_ = 3;
  double self_efficacy_ = 2.5;
  double support_[3] = {4, 4, 4};

  bool plan_reopen_ = false;
  bool plan_correction_ = false;
  bool plan_mistake_ = false;
  int correction_kind_ = 0;  // 0 goal statement, 1 contact, 2 measure item
  bool plan_recurrence_ = false;
  bool plan_transfer_ = false;
  bool research_consent_ = false;
  bool work_goal_on_hold_ = false;

  CivilDay open_day_;
  CivilDay day_;
  CivilDay goals_day_;
  CivilDay setup_end_;
  CivilDay absence_day_;
  CivilDay last_work_day_;
  CivilDay close_day_;

  int contacts_ = 0;
  int measures_ = 0;
  int factors_ = 0;
  int notes_ = 0;
  int goal_counter_ = 0;
  int step_counter_ = 0;
  int person_counter_ = 0;
  int referral_counter_ = 0;
  int discussions_ = 0;
  int routine_count_ = 0;

  std::vector<Goal> goals_;
  std::vector<int> available_goals_;
  std::vector<Step> steps_;
  std::vector<Person> people_;
  std::vector<Referral> referrals_;
  std::vector<int> connected_;
  std::vector<int> strategies_;
  std::string brs_event_id_;
  v1::EventPayload brs_payload_;
  std::string last_contact_id_;
  v1::EventPayload last_contact_payload_;
};

// ---------------------------------------------------------------------------
// Caseworker streams (RFCM)
// ---------------------------------------------------------------------------

StreamScript WriteCaseworker(const CaseloadOptions& options, int manager) {
  Rng rng(Combine(Combine(options.seed, 0x776f726b /* "work" */),
                  static_cast<uint64_t>(manager)));
  StreamScript script;
  script.kind = StreamKind::kCaseworker;
  script.stream_id = CaseworkerStreamIdOf(manager);
  script.case_manager_index = manager;
  StreamBuilder out(options.seed, script.stream_id, &rng);

  const std::string cm = CaseManagerIdOf(manager);
  const int team = TeamOf(options, manager);
  const std::string org = OrganizationOf(team);
  const CivilDay base =
      CivilDay(absl::ToCivilDay(options.start, absl::UTCTimeZone())) +
      rng.Between(0, 60);

  struct Session {
    CivilDay day;
    int kind;  // 1: RFCM cycle 1, 2: RFCM follow-up, 0: supervision
  };
  std::vector<Session> sessions;
  // The first rotation is always trained, so small caseloads have training
  // cycles to group by.
  if (manager < options.rotation_case_managers || rng.Chance(0.75)) {
    const CivilDay cycle1 = base + rng.Between(0, 90);
    sessions.push_back({cycle1, 1});
    if (rng.Chance(0.65)) {
      sessions.push_back({cycle1 + rng.Between(120, 240), 2});
    }
  }
  const int supervisions = rng.Between(3, 8);
  CivilDay d = base;
  for (int i = 0; i < supervisions; ++i) {
    d += rng.Between(21, 45);
    sessions.push_back({d, 0});
  }
  std::stable_sort(
      sessions.begin(), sessions.end(),
      [](const Session& a, const Session& b) { return a.day < b.day; });
  for (Session& s : sessions) s.day = Workday(s.day);
  for (const Session& s : sessions) {
    v1::Actor actor;
    actor.set_organization(org);
    v1::EventPayload p;
    if (s.kind == 0) {
      actor.set_user_id(absl::StrCat("supervisor-", team));
      actor.set_role("supervisor");
      v1::SupervisionHeld* h = p.mutable_supervision_held();
      h->set_caseworker_id(cm);
      h->set_supervisor_id(actor.user_id());
      h->add_topics(rng.Pick(txt::kSupervisionTopics));
      const char* second = rng.Pick(txt::kSupervisionTopics);
      if (rng.Chance(0.5) && h->topics(0) != second) h->add_topics(second);
      h->set_reflection(rng.Pick(txt::kReflections));
    } else {
      actor.set_user_id("trainer-rfcm");
      actor.set_role("trainer");
      v1::TrainingCycleCompleted* t = p.mutable_training_cycle_completed();
      t->set_caseworker_id(cm);
      t->set_cycle(s.kind == 1 ? v1::TRAINING_CYCLE_RFCM_CYCLE_1
                               : v1::TRAINING_CYCLE_RFCM_FOLLOW_UP);
      *t->mutable_completed_on() = ToDate(s.day);
    }
    out.Begin(s.day, actor, kSourceWeb);
    out.Add(std::move(p));
    out.End();
  }
  script.appends = out.Take();
  return script;
}

}  // namespace

absl::string_view ProgramOf(Archetype archetype) {
  switch (archetype) {
    case Archetype::kHousingFirst:
      return "housing-first";
    case Archetype::kBurnoutReturnToWork:
      return "return-to-work";
    case Archetype::kBrainInjuryReturnToWork:
      return "brain-injury-rtw";
  }
  return "";
}

absl::Status ValidateOptions(const CaseloadOptions& options) {
  const auto invalid = [](absl::string_view field, absl::string_view problem) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
  };
  if (options.cases < 0 || options.cases > kMaxCases) {
    return invalid("cases", absl::StrCat("must be 0..", kMaxCases));
  }
  if (options.open_window_days < 1) {
    return invalid("open_window_days", "must be >= 1");
  }
  if (options.rotation_case_managers < 1) {
    return invalid("rotation_case_managers", "must be >= 1");
  }
  if (options.cases_per_case_manager < 1) {
    return invalid("cases_per_case_manager", "must be >= 1");
  }
  if (options.case_managers_per_team < 1) {
    return invalid("case_managers_per_team", "must be >= 1");
  }
  if (!(options.housing_first_weight >= 0) || !(options.burnout_weight >= 0) ||
      !(options.brain_injury_weight >= 0) ||
      !(options.housing_first_weight + options.burnout_weight +
            options.brain_injury_weight >
        0)) {
    return invalid("housing_first_weight",
                   "archetype weights must be >= 0 with a positive sum");
  }
  for (double p : {options.reopen_probability, options.correction_probability,
                   options.entered_in_error_probability}) {
    if (!(p >= 0 && p <= 1)) {
      return invalid("reopen_probability", "probabilities must be in [0, 1]");
    }
  }
  if (options.load_threads < 1 || options.load_threads > 256) {
    return invalid("load_threads", "must be 1..256");
  }
  // The longest case id must stay a valid stream id.
  if (!engine::IsValidCaseId(CaseIdOf(options, std::max(options.cases, 1)))) {
    return invalid("case_id_prefix", "does not make valid case ids");
  }
  return absl::OkStatus();
}

uint64_t StreamScript::EventCount() const {
  uint64_t n = 0;
  for (const engine::AppendRequest& a : appends) n += a.events.size();
  return n;
}

CaseloadGenerator::CaseloadGenerator(CaseloadOptions options)
    : options_(std::move(options)),
      stream_count_(LayoutOf(options_).Streams(options_.cases)) {}

StreamScript CaseloadGenerator::Stream(size_t index) const {
  const auto [caseworker, i] = LayoutOf(options_).Decode(index);
  if (caseworker) return WriteCaseworker(options_, i);
  return CaseWriter(options_, i).Write();
}

bool CaseloadGenerator::Next(StreamScript* out) {
  if (next_ >= stream_count_) return false;
  *out = Stream(next_++);
  return true;
}

std::string CaseIdOf(const CaseloadOptions& options, int case_index) {
  return absl::StrFormat("%s-%06d", options.case_id_prefix, case_index);
}

std::string CaseManagerIdOf(int index) {
  return absl::StrFormat("cm-%04d", index);
}

std::string CaseworkerStreamIdOf(int index) {
  return absl::StrCat("caseworker:", CaseManagerIdOf(index));
}

int CaseManagerCount(const CaseloadOptions& options) {
  return LayoutOf(options).Managers(options.cases);
}

absl::StatusOr<int> CasesForEvents(const CaseloadOptions& options,
                                   uint64_t min_events) {
  CaseloadOptions probe = options;
  probe.cases = kMaxCases;
  if (absl::Status s = ValidateOptions(probe); !s.ok()) return s;
  if (min_events == 0) return 0;
  const Layout layout = LayoutOf(probe);
  const CaseloadGenerator generator(probe);
  // Streams are generated in parallel blocks and summed in stream order; a
  // stream's events count towards the first case count that includes it.
  const size_t block = 256 * static_cast<size_t>(probe.load_threads);
  std::vector<uint64_t> counts(block);
  uint64_t total = 0;
  int cases = 0;
  for (size_t first = 0; first < generator.stream_count(); first += block) {
    const size_t n = std::min(block, generator.stream_count() - first);
    std::atomic<size_t> next{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < probe.load_threads; ++t) {
      threads.emplace_back([&] {
        for (size_t i; (i = next.fetch_add(1)) < n;) {
          counts[i] = generator.Stream(first + i).EventCount();
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (size_t i = 0; i < n; ++i) {
      total += counts[i];
      const auto [caseworker, index] = layout.Decode(first + i);
      if (!caseworker) cases = index + 1;
      if (total >= min_events && !caseworker) return cases;
    }
  }
  return absl::OutOfRangeError(absl::StrCat(
      "more than ", kMaxCases, " cases needed for ", min_events, " events"));
}

absl::Status LoadCaseload(engine::EventLog& log, const CaseloadOptions& options,
                          std::function<void(uint64_t events)> progress) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  const CaseloadGenerator generator(options);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  absl::Mutex mu;
  absl::Status first_error;  // guarded by mu
  uint64_t appended = 0;     // guarded by mu
  uint64_t reported = 0;     // guarded by mu

  const auto worker = [&] {
    for (size_t s; !failed.load(std::memory_order_relaxed) &&
                   (s = next.fetch_add(1)) < generator.stream_count();) {
      const StreamScript script = generator.Stream(s);
      for (size_t a = 0; a < script.appends.size(); ++a) {
        absl::StatusOr<engine::AppendResult> result =
            log.Append(script.appends[a]);
        if (!result.ok()) {
          absl::MutexLock lock(&mu);
          if (first_error.ok()) {
            first_error =
                absl::Status(result.status().code(),
                             absl::StrCat(script.stream_id, " append ", a + 1,
                                          " of ", script.appends.size(), ": ",
                                          result.status().message()));
          }
          failed.store(true, std::memory_order_relaxed);
          return;
        }
      }
      absl::MutexLock lock(&mu);
      appended += script.EventCount();
      if (progress && appended - reported >= kProgressEvery) {
        reported = appended;
        progress(appended);
      }
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(options.load_threads);
  for (int t = 0; t < options.load_threads; ++t) threads.emplace_back(worker);
  for (std::thread& thread : threads) thread.join();
  absl::MutexLock lock(&mu);
  if (!first_error.ok()) return first_error;
  if (progress) progress(appended);
  return absl::OkStatus();
}

}  // namespace caseledger::caseload
