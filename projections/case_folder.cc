#include "projections/case_folder.h"

#include <algorithm>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "projections/dates.h"
#include "projections/plan_elements.h"

namespace caseledger::projections {
namespace {

using Kind = v1::EventPayload::KindCase;

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

v1::Date OccurredDate(const v1::Event& event) {
  return DateFromTime(ToTime(event.envelope().occurred_at()));
}

// Replaces the element with the same id, or appends.
template <typename T, typename IdFn>
T* Upsert(google::protobuf::RepeatedPtrField<T>* list, const std::string& id,
          IdFn id_of) {
  for (T& item : *list) {
    if (id_of(item) == id) return &item;
  }
  T* added = list->Add();
  return added;
}

bool OutsideOffice(v1::ContactLocation location) {
  return location == v1::CONTACT_LOCATION_HOME ||
         location == v1::CONTACT_LOCATION_COMMUNITY ||
         location == v1::CONTACT_LOCATION_WORKPLACE;
}

}  // namespace

bool IsCorrection(const v1::Event& event) {
  return event.payload().kind_case() == Kind::kEventEnteredInError ||
         event.payload().kind_case() == Kind::kEventCorrected;
}

bool IsKnownPayload(const v1::Event& event) {
  return event.payload().kind_case() != Kind::KIND_NOT_SET;
}

std::vector<v1::Event> ResolveCorrections(
    const std::vector<v1::Event>& events) {
  absl::flat_hash_set<std::string> in_error;
  for (const v1::Event& event : events) {
    if (event.payload().has_event_entered_in_error()) {
      in_error.insert(
          event.payload().event_entered_in_error().target_event_id());
    }
  }
  absl::flat_hash_map<std::string, const v1::EventPayload*> replacement;
  absl::flat_hash_map<std::string, google::protobuf::RepeatedField<int>>
      correction_labels;
  for (const v1::Event& event : events) {
    if (!event.payload().has_event_corrected()) continue;
    if (in_error.contains(event.envelope().event_id())) continue;
    const v1::EventCorrected& c = event.payload().event_corrected();
    replacement[c.target_event_id()] = &c.corrected();
    correction_labels[c.target_event_id()] = event.envelope().sensitivity();
  }
  std::vector<v1::Event> resolved;
  resolved.reserve(events.size());
  for (const v1::Event& event : events) {
    if (IsCorrection(event)) continue;
    if (in_error.contains(event.envelope().event_id())) continue;
    auto found = replacement.find(event.envelope().event_id());
    if (found == replacement.end()) {
      resolved.push_back(event);
      continue;
    }
    // A correction must keep the event's type; one that does not is ignored.
    if (found->second->kind_case() != event.payload().kind_case()) {
      resolved.push_back(event);
      continue;
    }
    v1::Event corrected = event;
    *corrected.mutable_payload() = *found->second;
    // The corrected content comes from the correction: its labels count.
    for (int label : correction_labels[event.envelope().event_id()]) {
      if (!absl::c_linear_search(corrected.envelope().sensitivity(), label)) {
        corrected.mutable_envelope()->add_sensitivity(
            static_cast<v1::SensitivityLabel>(label));
      }
    }
    resolved.push_back(std::move(corrected));
  }
  return resolved;
}

void CaseFolder::Restore(v1::CasePlan plan, v1::CaseFacts event_facts) {
  plan_ = std::move(plan);
  event_facts_ = std::move(event_facts);
}

v1::PlanGoal* CaseFolder::FindGoal(const std::string& goal_id, bool create) {
  for (v1::PlanGoal& goal : *plan_.mutable_goals()) {
    if (goal.goal_id() == goal_id) return &goal;
  }
  if (!create) return nullptr;
  v1::PlanGoal* goal = plan_.add_goals();
  goal->set_goal_id(goal_id);
  return goal;
}

v1::PlanStep* CaseFolder::FindStep(const std::string& step_id) {
  for (v1::PlanGoal& goal : *plan_.mutable_goals()) {
    for (v1::PlanStep& step : *goal.mutable_steps()) {
      if (step.step_id() == step_id) return &step;
    }
  }
  return nullptr;
}

void CaseFolder::PutMeasure(const v1::MeasureScore& score) {
  for (v1::MeasureScore& m : *plan_.mutable_measures()) {
    if (m.instrument() == score.instrument() &&
        m.time_point() == score.time_point()) {
      m = score;
      return;
    }
  }
  *plan_.add_measures() = score;
}

void CaseFolder::Apply(const v1::Event& event) {
  const v1::EventEnvelope& env = event.envelope();
  if (plan_.case_id().empty()) plan_.set_case_id(env.case_id());
  plan_.set_version(env.stream_version());
  plan_.set_position(env.global_position());
  if (IsCorrection(event) || !IsKnownPayload(event)) return;
  const v1::EventPayload& p = event.payload();
  const v1::Date on = OccurredDate(event);
  v1::CaseFacts& facts = event_facts_;
  // Labels first: a step event names the goal that holds the step now.
  if (!env.sensitivity().empty()) {
    for (const PlanElement& element : ElementsOf(event, plan_)) {
      AddElementLabels(&plan_, element, env.sensitivity());
    }
  }

  switch (p.kind_case()) {
    case Kind::kCaseOpened: {
      const auto& o = p.case_opened();
      plan_.set_status(v1::CASE_STATUS_OPEN);
      plan_.set_program(o.program());
      plan_.set_case_manager_id(o.case_manager_id());
      plan_.set_team(o.team());
      plan_.set_client_ref(o.client_ref());
      plan_.set_client_name(o.client_name());
      *plan_.mutable_opened_on() = on;
      if (!IsSet(facts.opened_on())) *facts.mutable_opened_on() = on;
      break;
    }
    case Kind::kCaseAssigned:
      plan_.set_case_manager_id(p.case_assigned().case_manager_id());
      if (!p.case_assigned().team().empty()) {
        plan_.set_team(p.case_assigned().team());
      }
      break;
    case Kind::kCaseTransferred: {
      const auto& t = p.case_transferred();
      plan_.set_case_manager_id(t.to_case_manager_id());
      if (!t.to_team().empty()) plan_.set_team(t.to_team());
      if (!t.to_program().empty()) plan_.set_program(t.to_program());
      break;
    }
    case Kind::kCaseClosed:
      plan_.set_status(v1::CASE_STATUS_CLOSED);
      *plan_.mutable_closed_on() = on;
      plan_.set_close_outcome(p.case_closed().outcome());
      plan_.set_close_reason(p.case_closed().reason());
      *facts.add_closed_on() = on;
      facts.add_close_outcomes(p.case_closed().outcome());
      break;
    case Kind::kCaseReopened:
      plan_.set_status(v1::CASE_STATUS_OPEN);
      plan_.clear_closed_on();
      plan_.set_close_outcome(v1::CASE_OUTCOME_UNSPECIFIED);
      plan_.set_close_reason(v1::CLOSE_REASON_UNSPECIFIED);
      plan_.set_reopen_count(plan_.reopen_count() + 1);
      *facts.add_reopened_on() = on;
      break;

    case Kind::kConsentGiven: {
      const auto& c = p.consent_given();
      v1::ConsentInForce* consent =
          Upsert(plan_.mutable_consents(), c.consent_id(),
                 [](const v1::ConsentInForce& x) { return x.consent_id(); });
      consent->Clear();
      consent->set_consent_id(c.consent_id());
      *consent->mutable_purposes() = c.purposes();
      *consent->mutable_recipients() = c.recipients();
      *consent->mutable_data_categories() = c.data_categories();
      *consent->mutable_expires_on() = c.expires_on();
      *consent->mutable_given_on() = on;
      break;
    }
    case Kind::kConsentRevoked: {
      auto* consents = plan_.mutable_consents();
      for (int i = 0; i < consents->size(); ++i) {
        if (consents->Get(i).consent_id() == p.consent_revoked().consent_id()) {
          consents->DeleteSubrange(i, 1);
          break;
        }
      }
      // Gone from the plan, so are its labels.
      auto* labels = plan_.mutable_element_labels();
      for (int i = 0; i < labels->size(); ++i) {
        if (labels->Get(i).kind() == v1::PLAN_ELEMENT_KIND_CONSENT &&
            labels->Get(i).element_id() == p.consent_revoked().consent_id()) {
          labels->DeleteSubrange(i, 1);
          break;
        }
      }
      break;
    }
    case Kind::kDisclosureMade:
      break;

    case Kind::kStrengthsAssessmentRecorded: {
      const auto& a = p.strengths_assessment_recorded();
      plan_.set_assessment_id(a.assessment_id());
      *plan_.mutable_domains() = a.domains();
      *plan_.mutable_priorities() = a.priorities();
      if (!IsSet(facts.first_assessment_on())) {
        *facts.mutable_first_assessment_on() = on;
      }
      break;
    }
    case Kind::kStrengthsAssessmentDomainUpdated: {
      const auto& d = p.strengths_assessment_domain_updated().domain();
      *Upsert(plan_.mutable_domains(), d.domain(),
              [](const v1::DomainAssessment& x) { return x.domain(); }) = d;
      break;
    }

    case Kind::kGoalSet: {
      const auto& g = p.goal_set();
      v1::PlanGoal* goal = FindGoal(g.goal_id(), /*create=*/true);
      goal->set_statement(g.statement());
      goal->set_why_important(g.why_important());
      goal->set_life_domain(g.life_domain());
      *goal->mutable_strengths() = g.strengths();
      goal->set_lifecycle_status(g.lifecycle_status() ==
                                         v1::GOAL_LIFECYCLE_STATUS_UNSPECIFIED
                                     ? v1::GOAL_LIFECYCLE_STATUS_ACTIVE
                                     : g.lifecycle_status());
      goal->set_achievement_status(
          g.achievement_status() == v1::GOAL_ACHIEVEMENT_STATUS_UNSPECIFIED
              ? v1::GOAL_ACHIEVEMENT_STATUS_IN_PROGRESS
              : g.achievement_status());
      *goal->mutable_target_date() = g.target_date();
      *goal->mutable_set_on() = on;
      plan_.set_plan_revision(plan_.plan_revision() + 1);
      if (!IsSet(facts.first_goal_on())) *facts.mutable_first_goal_on() = on;
      break;
    }
    case Kind::kGoalRevised: {
      const auto& r = p.goal_revised();
      v1::PlanGoal* goal = FindGoal(r.goal_id(), /*create=*/true);
      if (r.has_statement()) goal->set_statement(r.statement());
      if (r.has_why_important()) goal->set_why_important(r.why_important());
      if (r.has_life_domain()) goal->set_life_domain(r.life_domain());
      if (IsSet(r.target_date()))
        *goal->mutable_target_date() = r.target_date();
      for (const std::string& s : r.add_strengths()) goal->add_strengths(s);
      plan_.set_plan_revision(plan_.plan_revision() + 1);
      break;
    }
    case Kind::kGoalStatusChanged: {
      const auto& c = p.goal_status_changed();
      v1::PlanGoal* goal = FindGoal(c.goal_id(), /*create=*/true);
      if (c.lifecycle_status() != v1::GOAL_LIFECYCLE_STATUS_UNSPECIFIED) {
        goal->set_lifecycle_status(c.lifecycle_status());
      }
      if (c.achievement_status() != v1::GOAL_ACHIEVEMENT_STATUS_UNSPECIFIED) {
        goal->set_achievement_status(c.achievement_status());
      }
      plan_.set_plan_revision(plan_.plan_revision() + 1);
      break;
    }
    case Kind::kPlanStepAdded: {
      const auto& a = p.plan_step_added();
      v1::PlanGoal* goal = FindGoal(a.goal_id(), /*create=*/true);
      v1::PlanStep* step = FindStep(a.step_id());
      if (step == nullptr) step = goal->add_steps();
      step->set_step_id(a.step_id());
      step->set_description(a.description());
      step->set_responsible(a.responsible());
      step->set_responsible_name(a.responsible_name());
      *step->mutable_target_date() = a.target_date();
      step->set_status(v1::STEP_STATUS_OPEN);
      plan_.set_plan_revision(plan_.plan_revision() + 1);
      break;
    }
    case Kind::kPlanStepCompleted: {
      v1::PlanStep* step = FindStep(p.plan_step_completed().step_id());
      if (step != nullptr) {
        step->set_status(v1::STEP_STATUS_COMPLETED);
        *step->mutable_completed_on() = p.plan_step_completed().completed_on();
      }
      plan_.set_plan_revision(plan_.plan_revision() + 1);
      break;
    }
    case Kind::kPlanStepRevised: {
      const auto& r = p.plan_step_revised();
      v1::PlanStep* step = FindStep(r.step_id());
      if (step != nullptr) {
        if (r.has_description()) step->set_description(r.description());
        if (r.responsible() != v1::RESPONSIBLE_PARTY_UNSPECIFIED) {
          step->set_responsible(r.responsible());
        }
        if (r.has_responsible_name()) {
          step->set_responsible_name(r.responsible_name());
        }
        if (IsSet(r.target_date())) {
          *step->mutable_target_date() = r.target_date();
        }
      }
      plan_.set_plan_revision(plan_.plan_revision() + 1);
      break;
    }
    case Kind::kPlanStepDropped: {
      v1::PlanStep* step = FindStep(p.plan_step_dropped().step_id());
      if (step != nullptr) {
        step->set_status(v1::STEP_STATUS_DROPPED);
        step->set_drop_reason(p.plan_step_dropped().reason());
      }
      plan_.set_plan_revision(plan_.plan_revision() + 1);
      break;
    }
    case Kind::kPlanReviewed:
      plan_.set_plan_revision(plan_.plan_revision() + 1);
      break;

    case Kind::kGasScaleDefined: {
      const auto& d = p.gas_scale_defined();
      v1::GasScale* gas = FindGoal(d.goal_id(), true)->mutable_gas();
      *gas->mutable_levels() = d.levels();
      gas->set_baseline_level(d.baseline_level());
      gas->set_weight(d.has_weight() ? d.weight() : 1.0);
      break;
    }
    case Kind::kGasRated: {
      const auto& r = p.gas_rated();
      v1::GasScale* gas = FindGoal(r.goal_id(), true)->mutable_gas();
      if (!gas->levels_size() && gas->weight() == 0.0 &&
          gas->latest_ratings_size() == 0) {
        gas->set_weight(1.0);  // rated before a scale was defined
      }
      v1::GasRating rating;
      rating.set_level(r.level());
      rating.set_time_point(r.time_point());
      *rating.mutable_rated_on() = IsSet(r.rated_on()) ? r.rated_on() : on;
      auto* ratings = gas->mutable_latest_ratings();
      bool replaced = false;
      for (v1::GasRating& existing : *ratings) {
        if (existing.time_point() == r.time_point()) {
          existing = rating;
          replaced = true;
        }
      }
      if (!replaced) {
        *ratings->Add() = rating;
        std::sort(ratings->begin(), ratings->end(),
                  [](const v1::GasRating& a, const v1::GasRating& b) {
                    return a.time_point() < b.time_point();
                  });
      }
      break;
    }

    case Kind::kResourceConnected: {
      const auto& r = p.resource_connected();
      v1::ConnectedResource* res = Upsert(
          plan_.mutable_resources(), r.resource_id(),
          [](const v1::ConnectedResource& x) { return x.resource_id(); });
      res->set_resource_id(r.resource_id());
      res->set_name(r.name());
      res->set_kind(r.kind());
      res->set_life_domain(r.life_domain());
      res->set_goal_id(r.goal_id());
      res->set_active(true);
      *res->mutable_connected_on() = on;
      break;
    }
    case Kind::kResourceDisconnected:
      for (v1::ConnectedResource& r : *plan_.mutable_resources()) {
        if (r.resource_id() == p.resource_disconnected().resource_id()) {
          r.set_active(false);
        }
      }
      break;
    case Kind::kReferralMade: {
      const auto& r = p.referral_made();
      v1::Referral* ref =
          Upsert(plan_.mutable_referrals(), r.referral_id(),
                 [](const v1::Referral& x) { return x.referral_id(); });
      ref->set_referral_id(r.referral_id());
      ref->set_to_organization(r.to_organization());
      ref->set_service(r.service());
      ref->set_kind(r.kind());
      ref->set_goal_id(r.goal_id());
      ref->set_status(v1::REFERRAL_STATUS_PENDING);
      break;
    }
    case Kind::kReferralStatusChanged:
      for (v1::Referral& r : *plan_.mutable_referrals()) {
        if (r.referral_id() == p.referral_status_changed().referral_id()) {
          r.set_status(p.referral_status_changed().status());
        }
      }
      break;
    case Kind::kSupportPersonAdded: {
      const auto& a = p.support_person_added();
      v1::SupportPerson* person =
          Upsert(plan_.mutable_support_network(), a.person_id(),
                 [](const v1::SupportPerson& x) { return x.person_id(); });
      person->set_person_id(a.person_id());
      person->set_name(a.name());
      person->set_relation(a.relation());
      *person->mutable_support_kinds() = a.support_kinds();
      person->set_natural(a.natural());
      person->set_active(true);
      break;
    }
    case Kind::kSupportPersonChanged: {
      const auto& c = p.support_person_changed();
      for (v1::SupportPerson& person : *plan_.mutable_support_network()) {
        if (person.person_id() != c.person_id()) continue;
        if (c.has_relation()) person.set_relation(c.relation());
        if (c.support_kinds_size() > 0) {
          *person.mutable_support_kinds() = c.support_kinds();
        }
        if (c.has_natural()) person.set_natural(c.natural());
      }
      break;
    }
    case Kind::kSupportPersonRemoved:
      for (v1::SupportPerson& person : *plan_.mutable_support_network()) {
        if (person.person_id() == p.support_person_removed().person_id()) {
          person.set_active(false);
        }
      }
      break;

    case Kind::kProtectiveFactorIdentified: {
      const auto& f = p.protective_factor_identified();
      *Upsert(plan_.mutable_protective_factors(), f.factor_id(),
              [](const v1::ProtectiveFactorIdentified& x) {
                return x.factor_id();
              }) = f;
      break;
    }
    case Kind::kCopingStrategyAgreed: {
      const auto& a = p.coping_strategy_agreed();
      v1::CopingStrategy* s =
          Upsert(plan_.mutable_coping_strategies(), a.strategy_id(),
                 [](const v1::CopingStrategy& x) { return x.strategy_id(); });
      s->set_strategy_id(a.strategy_id());
      s->set_category(a.category());
      s->set_description(a.description());
      s->set_practice(a.practice());
      break;
    }
    case Kind::kCopingStrategyReviewed:
      for (v1::CopingStrategy& s : *plan_.mutable_coping_strategies()) {
        if (s.strategy_id() == p.coping_strategy_reviewed().strategy_id()) {
          s.set_last_review(p.coping_strategy_reviewed().outcome());
        }
      }
      break;

    case Kind::kContactRecorded: {
      if (!plan_.has_last_contact_at() ||
          ToTime(env.occurred_at()) > ToTime(plan_.last_contact_at())) {
        *plan_.mutable_last_contact_at() = env.occurred_at();
      }
      facts.set_contacts_completed(facts.contacts_completed() + 1);
      if (OutsideOffice(p.contact_recorded().location())) {
        facts.set_contacts_outside_office(facts.contacts_outside_office() + 1);
      }
      if (Compare(on, facts.last_contact_on()) > 0) {
        *facts.mutable_last_contact_on() = on;
      }
      *facts.add_contacts_on() = on;
      break;
    }
    case Kind::kOutreachAttempted:
      facts.set_outreach_attempts(facts.outreach_attempts() + 1);
      break;
    case Kind::kNoteRecorded:
      break;

    case Kind::kAbsenceStarted: {
      const auto& a = p.absence_started();
      v1::WorkSituation* work = plan_.mutable_work();
      work->set_employer(a.employer());
      *work->mutable_absence_first_day() = a.first_day();
      work->set_contracted_percent(a.contracted_percent());
      work->set_working_percent(0);
      if (!IsSet(facts.absence_first_day())) {
        *facts.mutable_absence_first_day() = a.first_day();
        facts.set_contracted_percent(a.contracted_percent());
      }
      break;
    }
    case Kind::kWorkCapacityCertified: {
      const auto& w = p.work_capacity_certified();
      plan_.mutable_work()->set_certified_capacity_percent(
          w.capacity_percent());
      // Full return: the first day capacity (certified, or worked) reaches
      // the contracted time.
      if (w.capacity_percent() >= 100 && IsSet(facts.absence_first_day()) &&
          (!IsSet(facts.full_return_on()) ||
           Compare(w.valid_from(), facts.full_return_on()) < 0)) {
        *facts.mutable_full_return_on() = w.valid_from();
      }
      break;
    }
    case Kind::kEmployerDiscussionMediated: {
      const auto& d = p.employer_discussion_mediated();
      for (const v1::EmployerAgreement& a : d.agreements()) {
        v1::PlanAgreement* agreement = Upsert(
            plan_.mutable_employer_agreements(),
            d.discussion_id() + "/" + a.agreement_id(),
            [](const v1::PlanAgreement& x) {
              return x.discussion_id() + "/" + x.agreement().agreement_id();
            });
        agreement->set_discussion_id(d.discussion_id());
        agreement->set_employer(d.employer());
        *agreement->mutable_discussed_on() = on;
        *agreement->mutable_agreement() = a;
      }
      break;
    }
    case Kind::kReturnToWorkStarted: {
      const auto& r = p.return_to_work_started();
      v1::WorkSituation* work = plan_.mutable_work();
      work->set_working_percent(r.percent());
      *work->mutable_return_first_day() = r.first_day();
      if (!r.employer().empty()) work->set_employer(r.employer());
      if (!IsSet(facts.return_first_day())) {
        *facts.mutable_return_first_day() = r.first_day();
      }
      if (r.percent() >= 100 &&
          (!IsSet(facts.full_return_on()) ||
           Compare(r.first_day(), facts.full_return_on()) < 0)) {
        *facts.mutable_full_return_on() = r.first_day();
      }
      break;
    }
    case Kind::kWorkScheduleChanged: {
      const auto& w = p.work_schedule_changed();
      plan_.mutable_work()->set_working_percent(w.percent());
      if (w.percent() >= 100 && IsSet(facts.return_first_day()) &&
          (!IsSet(facts.full_return_on()) ||
           Compare(w.effective_from(), facts.full_return_on()) < 0)) {
        *facts.mutable_full_return_on() = w.effective_from();
      }
      break;
    }
    case Kind::kAbsenceRecurred:
      plan_.mutable_work()->set_working_percent(0);
      *facts.add_absence_recurred_on() = p.absence_recurred().first_day();
      break;
    case Kind::kEmploymentStatusRecorded:
      plan_.mutable_work()->set_employment_status(
          p.employment_status_recorded().status());
      break;

    case Kind::kMeasureAdministered: {
      v1::MeasureScore score = ScoreMeasure(p.measure_administered(), scoring_);
      if (!IsSet(score.administered_on()))
        *score.mutable_administered_on() = on;
      PutMeasure(score);
      break;
    }
    case Kind::kLifeStatusRecorded:
      plan_.set_living_situation(p.life_status_recorded().living_situation());
      break;
    case Kind::kHospitalizationRecorded:
    case Kind::kSupervisionHeld:
    case Kind::kTrainingCycleCompleted:
    case Kind::kEventEnteredInError:
    case Kind::kEventCorrected:
    case Kind::kAccessRecorded:  // access log only, never in a case
    // An erasure purges the case from the read models (CaseProjection).
    case Kind::kCaseErased:
    case Kind::KIND_NOT_SET:
      break;
  }
}

v1::CaseFacts CaseFolder::Facts() const {
  v1::CaseFacts facts = event_facts_;
  facts.set_case_id(plan_.case_id());
  facts.set_program(plan_.program());
  facts.set_case_manager_id(plan_.case_manager_id());
  facts.set_team(plan_.team());
  facts.set_status(plan_.status());
  facts.set_version(plan_.version());
  facts.set_position(plan_.position());
  uint32_t set = 0, achieved = 0;
  for (const v1::PlanGoal& goal : plan_.goals()) {
    if (goal.lifecycle_status() == v1::GOAL_LIFECYCLE_STATUS_ENTERED_IN_ERROR ||
        goal.statement().empty()) {
      continue;
    }
    ++set;
    if (goal.achievement_status() == v1::GOAL_ACHIEVEMENT_STATUS_ACHIEVED ||
        goal.achievement_status() == v1::GOAL_ACHIEVEMENT_STATUS_SUSTAINING) {
      ++achieved;
    }
    for (const v1::PlanStep& step : goal.steps()) {
      v1::CaseFacts::Step* s = facts.add_steps();
      *s->mutable_target_date() = step.target_date();
      *s->mutable_completed_on() = step.completed_on();
      s->set_dropped(step.status() == v1::STEP_STATUS_DROPPED);
    }
    if (goal.has_gas()) {
      v1::CaseFacts::GasGoal* g = facts.add_gas_goals();
      g->set_weight(goal.gas().weight());
      for (const v1::GasRating& r : goal.gas().latest_ratings()) {
        if (r.time_point() == v1::TIME_POINT_BASELINE) {
          g->set_has_baseline(true);
          g->set_baseline(r.level());
        } else if (r.time_point() == v1::TIME_POINT_FOLLOW_UP) {
          g->set_has_follow_up(true);
          g->set_follow_up(r.level());
        }
      }
    }
  }
  facts.set_goals_set(set);
  facts.set_goals_achieved(achieved);
  for (const v1::ConnectedResource& r : plan_.resources()) {
    switch (r.kind()) {
      case v1::RESOURCE_KIND_NATURAL:
        facts.set_resources_natural(facts.resources_natural() + 1);
        break;
      case v1::RESOURCE_KIND_COMMUNITY:
        facts.set_resources_community(facts.resources_community() + 1);
        break;
      case v1::RESOURCE_KIND_FORMAL:
        facts.set_resources_formal(facts.resources_formal() + 1);
        break;
      default:
        break;
    }
  }
  for (const v1::SupportPerson& person : plan_.support_network()) {
    if (!person.active()) continue;
    facts.set_support_active(facts.support_active() + 1);
    if (person.natural()) {
      facts.set_support_active_natural(facts.support_active_natural() + 1);
    }
  }
  *facts.mutable_measures() = plan_.measures();
  return facts;
}

CaseFolder FoldCase(const std::vector<v1::Event>& events,
                    const ScoringConfig& scoring) {
  CaseFolder folder(scoring);
  for (const v1::Event& event : ResolveCorrections(events)) {
    folder.Apply(event);
  }
  // The plan stands at the last event of the record, corrections included.
  if (!events.empty()) {
    v1::CasePlan plan = folder.plan();
    plan.set_case_id(events.back().envelope().case_id());
    plan.set_version(events.back().envelope().stream_version());
    plan.set_position(events.back().envelope().global_position());
    folder.Restore(std::move(plan), folder.event_facts());
  }
  return folder;
}

}  // namespace caseledger::projections
