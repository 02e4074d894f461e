#include "projections/timeline.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "projections/dates.h"

namespace caseledger::projections {
namespace {

using Kind = v1::EventPayload::KindCase;

// "GOAL_LIFECYCLE_STATUS_ON_HOLD" with prefix "GOAL_LIFECYCLE_STATUS_" ->
// "on-hold".
std::string EnumName(const std::string& full, absl::string_view prefix) {
  std::string name = full;
  if (absl::StartsWith(name, prefix)) name = name.substr(prefix.size());
  absl::AsciiStrToLower(&name);
  return absl::StrReplaceAll(name, {{"_", "-"}});
}

std::string Quote(const std::string& text) {
  return absl::StrCat("'", text, "'");
}

const v1::PlanGoal* GoalOf(const v1::CasePlan& plan,
                           const std::string& goal_id) {
  for (const v1::PlanGoal& goal : plan.goals()) {
    if (goal.goal_id() == goal_id) return &goal;
  }
  return nullptr;
}

std::string GoalName(const v1::CasePlan& plan, const std::string& goal_id) {
  const v1::PlanGoal* goal = GoalOf(plan, goal_id);
  if (goal == nullptr || goal->statement().empty()) return goal_id;
  return Quote(goal->statement());
}

const v1::PlanStep* StepOf(const v1::CasePlan& plan,
                           const std::string& step_id) {
  for (const v1::PlanGoal& goal : plan.goals()) {
    for (const v1::PlanStep& step : goal.steps()) {
      if (step.step_id() == step_id) return &step;
    }
  }
  return nullptr;
}

std::string StepName(const v1::CasePlan& plan, const std::string& step_id) {
  const v1::PlanStep* step = StepOf(plan, step_id);
  return step == nullptr ? step_id : Quote(step->description());
}

std::string ResourceName(const v1::CasePlan& plan, const std::string& id) {
  for (const v1::ConnectedResource& r : plan.resources()) {
    if (r.resource_id() == id) return Quote(r.name());
  }
  return id;
}

std::string PersonName(const v1::CasePlan& plan, const std::string& id) {
  for (const v1::SupportPerson& p : plan.support_network()) {
    if (p.person_id() == id) return p.name();
  }
  return id;
}

std::string DateOrNone(const v1::Date& date) {
  return IsSet(date) ? FormatDate(date) : "none";
}

std::string InstrumentName(v1::Instrument instrument) {
  switch (instrument) {
    case v1::INSTRUMENT_BRS:
      return "BRS";
    case v1::INSTRUMENT_GSE:
      return "GSE";
    case v1::INSTRUMENT_MSPSS:
      return "MSPSS";
    default:
      return "measure";
  }
}

std::string TimePointName(v1::TimePoint tp) {
  return EnumName(v1::TimePoint_Name(tp), "TIME_POINT_");
}

}  // namespace

std::string SummarizeEvent(const v1::Event& event, const v1::CasePlan& plan,
                           const std::string& target_type) {
  const v1::EventPayload& p = event.payload();
  switch (p.kind_case()) {
    case Kind::kCaseOpened:
      return absl::StrCat(
          "Case opened in ", p.case_opened().program(), ", case manager ",
          p.case_opened().case_manager_id(),
          p.case_opened().referral_source().empty()
              ? ""
              : absl::StrCat(", referred by ",
                             p.case_opened().referral_source()));
    case Kind::kCaseAssigned:
      return absl::StrCat("Case assigned to ",
                          p.case_assigned().case_manager_id());
    case Kind::kCaseTransferred:
      return absl::StrCat("Case transferred: ", plan.case_manager_id(), " -> ",
                          p.case_transferred().to_case_manager_id());
    case Kind::kCaseClosed:
      return absl::StrCat(
          "Case closed (",
          EnumName(v1::CaseOutcome_Name(p.case_closed().outcome()),
                   "CASE_OUTCOME_"),
          ", ",
          EnumName(v1::CloseReason_Name(p.case_closed().reason()),
                   "CLOSE_REASON_"),
          ")");
    case Kind::kCaseReopened:
      return "Case reopened";
    case Kind::kConsentGiven:
      return absl::StrCat(
          "Consent given for ",
          absl::StrJoin(p.consent_given().purposes(), ", "),
          IsSet(p.consent_given().expires_on())
              ? absl::StrCat(" until ",
                             FormatDate(p.consent_given().expires_on()))
              : "");
    case Kind::kConsentRevoked:
      return absl::StrCat("Consent ", p.consent_revoked().consent_id(),
                          " revoked");
    case Kind::kDisclosureMade:
      return absl::StrCat("Disclosure to ", p.disclosure_made().recipient(),
                          " for ", p.disclosure_made().purpose());
    case Kind::kStrengthsAssessmentRecorded:
      return absl::StrCat(
          "Strengths assessment recorded: ",
          p.strengths_assessment_recorded().domains_size(), " domains, ",
          p.strengths_assessment_recorded().priorities_size(), " priorities");
    case Kind::kStrengthsAssessmentDomainUpdated:
      return absl::StrCat(
          "Strengths assessment updated: ",
          p.strengths_assessment_domain_updated().domain().domain());
    case Kind::kGoalSet:
      return absl::StrCat(
          "Goal ", Quote(p.goal_set().statement()), " set",
          p.goal_set().life_domain().empty()
              ? ""
              : absl::StrCat(" (", p.goal_set().life_domain(), ")"),
          IsSet(p.goal_set().target_date())
              ? absl::StrCat(", target ",
                             FormatDate(p.goal_set().target_date()))
              : "");
    case Kind::kGoalRevised: {
      const v1::GoalRevised& r = p.goal_revised();
      const v1::PlanGoal* goal = GoalOf(plan, r.goal_id());
      std::vector<std::string> changes;
      if (r.has_statement()) {
        changes.push_back(absl::StrCat("statement ",
                                       goal ? Quote(goal->statement()) : "?",
                                       " -> ", Quote(r.statement())));
      }
      if (IsSet(r.target_date())) {
        changes.push_back(absl::StrCat(
            "target date ",
            goal ? DateOrNone(goal->target_date()) : std::string("none"),
            " -> ", FormatDate(r.target_date())));
      }
      if (r.has_life_domain()) {
        changes.push_back(absl::StrCat("domain -> ", r.life_domain()));
      }
      if (r.has_why_important()) changes.push_back("why it matters revised");
      if (r.add_strengths_size() > 0) {
        changes.push_back(absl::StrCat("strengths + ",
                                       absl::StrJoin(r.add_strengths(), ", ")));
      }
      return absl::StrCat("Goal ", GoalName(plan, r.goal_id()), " revised",
                          changes.empty() ? "" : ": ",
                          absl::StrJoin(changes, "; "));
    }
    case Kind::kGoalStatusChanged: {
      const v1::GoalStatusChanged& c = p.goal_status_changed();
      const v1::PlanGoal* goal = GoalOf(plan, c.goal_id());
      std::vector<std::string> changes;
      if (c.lifecycle_status() != v1::GOAL_LIFECYCLE_STATUS_UNSPECIFIED) {
        changes.push_back(
            absl::StrCat(goal ? LifecycleName(goal->lifecycle_status()) : "?",
                         " -> ", LifecycleName(c.lifecycle_status())));
      }
      if (c.achievement_status() != v1::GOAL_ACHIEVEMENT_STATUS_UNSPECIFIED) {
        changes.push_back(absl::StrCat(
            goal ? AchievementName(goal->achievement_status()) : "?", " -> ",
            AchievementName(c.achievement_status())));
      }
      return absl::StrCat("Goal ", GoalName(plan, c.goal_id()),
                          " status: ", absl::StrJoin(changes, "; "));
    }
    case Kind::kPlanStepAdded:
      return absl::StrCat(
          "Step ", Quote(p.plan_step_added().description()), " added to goal ",
          GoalName(plan, p.plan_step_added().goal_id()),
          IsSet(p.plan_step_added().target_date())
              ? absl::StrCat(", due ",
                             FormatDate(p.plan_step_added().target_date()))
              : "");
    case Kind::kPlanStepCompleted:
      return absl::StrCat(
          "Step ", StepName(plan, p.plan_step_completed().step_id()),
          " completed on ", FormatDate(p.plan_step_completed().completed_on()));
    case Kind::kPlanStepRevised: {
      const v1::PlanStepRevised& r = p.plan_step_revised();
      const v1::PlanStep* step = StepOf(plan, r.step_id());
      std::vector<std::string> changes;
      if (r.has_description()) {
        changes.push_back(
            absl::StrCat("description -> ", Quote(r.description())));
      }
      if (IsSet(r.target_date())) {
        changes.push_back(absl::StrCat(
            "target date ",
            step ? DateOrNone(step->target_date()) : std::string("none"),
            " -> ", FormatDate(r.target_date())));
      }
      if (r.responsible() != v1::RESPONSIBLE_PARTY_UNSPECIFIED) {
        changes.push_back(
            absl::StrCat("responsible -> ",
                         EnumName(v1::ResponsibleParty_Name(r.responsible()),
                                  "RESPONSIBLE_PARTY_")));
      }
      return absl::StrCat("Step ", StepName(plan, r.step_id()), " revised",
                          changes.empty() ? "" : ": ",
                          absl::StrJoin(changes, "; "));
    }
    case Kind::kPlanStepDropped:
      return absl::StrCat(
          "Step ", StepName(plan, p.plan_step_dropped().step_id()), " dropped");
    case Kind::kPlanReviewed:
      return absl::StrCat("Plan reviewed with ",
                          absl::StrJoin(p.plan_reviewed().participants(), ", "),
                          p.plan_reviewed().client_agreed()
                              ? "; client agreed"
                              : "; client did not agree");
    case Kind::kGasScaleDefined:
      return absl::StrCat("GAS scale defined for goal ",
                          GoalName(plan, p.gas_scale_defined().goal_id()),
                          ", baseline ",
                          p.gas_scale_defined().baseline_level());
    case Kind::kGasRated:
      return absl::StrCat("Goal ", GoalName(plan, p.gas_rated().goal_id()),
                          " rated ", p.gas_rated().level() > 0 ? "+" : "",
                          p.gas_rated().level(), " (",
                          TimePointName(p.gas_rated().time_point()), ")");
    case Kind::kResourceConnected:
      return absl::StrCat("Resource ", Quote(p.resource_connected().name()),
                          " connected (",
                          ResourceKindName(p.resource_connected().kind()), ")");
    case Kind::kResourceDisconnected:
      return absl::StrCat(
          "Resource ",
          ResourceName(plan, p.resource_disconnected().resource_id()),
          " disconnected");
    case Kind::kReferralMade:
      return absl::StrCat(
          "Referral to ", p.referral_made().to_organization(),
          p.referral_made().service().empty()
              ? ""
              : absl::StrCat(" (", p.referral_made().service(), ")"));
    case Kind::kReferralStatusChanged:
      return absl::StrCat(
          "Referral ", p.referral_status_changed().referral_id(), " ",
          EnumName(
              v1::ReferralStatus_Name(p.referral_status_changed().status()),
              "REFERRAL_STATUS_"));
    case Kind::kSupportPersonAdded:
      return absl::StrCat(
          "Support person ", p.support_person_added().name(), " (",
          p.support_person_added().relation(), ") added",
          p.support_person_added().natural() ? " as natural support" : "");
    case Kind::kSupportPersonChanged:
      return absl::StrCat(
          "Support person ",
          PersonName(plan, p.support_person_changed().person_id()), " changed");
    case Kind::kSupportPersonRemoved:
      return absl::StrCat(
          "Support person ",
          PersonName(plan, p.support_person_removed().person_id()), " removed");
    case Kind::kProtectiveFactorIdentified:
      return absl::StrCat(
          "Protective factor identified: ",
          EnumName(v1::ResilienceFactor_Name(
                       p.protective_factor_identified().factor()),
                   "RESILIENCE_FACTOR_"));
    case Kind::kCopingStrategyAgreed:
      return absl::StrCat("Coping strategy agreed: ",
                          p.coping_strategy_agreed().category());
    case Kind::kCopingStrategyReviewed:
      return absl::StrCat("Coping strategy reviewed: ",
                          EnumName(v1::CopingReviewOutcome_Name(
                                       p.coping_strategy_reviewed().outcome()),
                                   "COPING_REVIEW_OUTCOME_"));
    case Kind::kContactRecorded:
      return absl::StrCat(
          "Contact (",
          EnumName(v1::ContactMode_Name(p.contact_recorded().mode()),
                   "CONTACT_MODE_"),
          ", ",
          EnumName(v1::ContactLocation_Name(p.contact_recorded().location()),
                   "CONTACT_LOCATION_"),
          ", ", p.contact_recorded().duration_minutes(), " min)");
    case Kind::kOutreachAttempted:
      return absl::StrCat(
          "Outreach attempted: ",
          EnumName(v1::OutreachOutcome_Name(p.outreach_attempted().outcome()),
                   "OUTREACH_OUTCOME_"));
    case Kind::kNoteRecorded:
      return "Note recorded";
    case Kind::kAbsenceStarted:
      return absl::StrCat(
          "Absence from ", p.absence_started().employer(), " since ",
          FormatDate(p.absence_started().first_day()), " (contracted ",
          p.absence_started().contracted_percent(), "%)");
    case Kind::kWorkCapacityCertified:
      return absl::StrCat("Work capacity certified: ",
                          p.work_capacity_certified().capacity_percent(),
                          "% from ",
                          FormatDate(p.work_capacity_certified().valid_from()));
    case Kind::kEmployerDiscussionMediated:
      return absl::StrCat(
          "Employer discussion with ",
          p.employer_discussion_mediated().employer(), ": ",
          p.employer_discussion_mediated().agreements_size(), " agreement",
          p.employer_discussion_mediated().agreements_size() == 1 ? "" : "s");
    case Kind::kReturnToWorkStarted:
      return absl::StrCat("Return to work at ",
                          p.return_to_work_started().percent(), "% from ",
                          FormatDate(p.return_to_work_started().first_day()));
    case Kind::kWorkScheduleChanged:
      return absl::StrCat(
          "Work schedule: ", plan.work().working_percent(), "% -> ",
          p.work_schedule_changed().percent(), "% from ",
          FormatDate(p.work_schedule_changed().effective_from()));
    case Kind::kAbsenceRecurred:
      return absl::StrCat("Absence recurred from ",
                          FormatDate(p.absence_recurred().first_day()));
    case Kind::kEmploymentStatusRecorded:
      return absl::StrCat("Employment status: ",
                          EnumName(v1::EmploymentStatus_Name(
                                       p.employment_status_recorded().status()),
                                   "EMPLOYMENT_STATUS_"));
    case Kind::kMeasureAdministered:
      return absl::StrCat(InstrumentName(p.measure_administered().instrument()),
                          " administered (",
                          TimePointName(p.measure_administered().time_point()),
                          ")");
    case Kind::kLifeStatusRecorded:
      return absl::StrCat(
          "Life status recorded: ",
          EnumName(v1::LivingSituation_Name(
                       p.life_status_recorded().living_situation()),
                   "LIVING_SITUATION_"));
    case Kind::kHospitalizationRecorded:
      return absl::StrCat(
          "Hospitalization from ",
          FormatDate(p.hospitalization_recorded().admitted_on()),
          IsSet(p.hospitalization_recorded().discharged_on())
              ? absl::StrCat(
                    " to ",
                    FormatDate(p.hospitalization_recorded().discharged_on()))
              : "");
    case Kind::kSupervisionHeld:
      return absl::StrCat("Supervision of ",
                          p.supervision_held().caseworker_id(), " by ",
                          p.supervision_held().supervisor_id());
    case Kind::kTrainingCycleCompleted:
      return absl::StrCat(
          "Training cycle completed: ",
          EnumName(v1::TrainingCycle_Name(p.training_cycle_completed().cycle()),
                   "TRAINING_CYCLE_"));
    case Kind::kEventEnteredInError:
      return absl::StrCat(
          "Entered in error: ", target_type.empty() ? "event" : target_type,
          " ", p.event_entered_in_error().target_event_id().substr(0, 8),
          p.event_entered_in_error().reason().empty()
              ? ""
              : absl::StrCat(" (", p.event_entered_in_error().reason(), ")"));
    case Kind::kEventCorrected:
      return absl::StrCat(
          "Corrected: ", target_type.empty() ? "event" : target_type, " ",
          p.event_corrected().target_event_id().substr(0, 8),
          p.event_corrected().reason().empty()
              ? ""
              : absl::StrCat(" (", p.event_corrected().reason(), ")"));
    case Kind::kCaseErased:
      return absl::StrCat("Case erased (", p.case_erased().legal_basis(), ")");
    case Kind::kAccessRecorded:  // access log only, never in a case
    case Kind::KIND_NOT_SET:
      break;
  }
  return "Unknown event type";
}

std::string LifecycleName(v1::GoalLifecycleStatus status) {
  return EnumName(v1::GoalLifecycleStatus_Name(status),
                  "GOAL_LIFECYCLE_STATUS_");
}

std::string AchievementName(v1::GoalAchievementStatus status) {
  return EnumName(v1::GoalAchievementStatus_Name(status),
                  "GOAL_ACHIEVEMENT_STATUS_");
}

std::string ResourceKindName(v1::ResourceKind kind) {
  return EnumName(v1::ResourceKind_Name(kind), "RESOURCE_KIND_");
}

v1::TimelineEntry MakeTimelineEntry(const v1::Event& event,
                                    const v1::CasePlan& plan_before,
                                    const std::string& target_type) {
  const v1::EventEnvelope& env = event.envelope();
  v1::TimelineEntry entry;
  entry.set_case_id(env.case_id());
  entry.set_stream_version(env.stream_version());
  entry.set_global_position(env.global_position());
  entry.set_event_id(env.event_id());
  entry.set_event_type(env.event_type());
  *entry.mutable_actor() = env.actor();
  *entry.mutable_occurred_at() = env.occurred_at();
  *entry.mutable_recorded_at() = env.recorded_at();
  entry.set_summary(SummarizeEvent(event, plan_before, target_type));
  entry.set_hash(event.hash());
  *entry.mutable_sensitivity() = env.sensitivity();
  return entry;
}

}  // namespace caseledger::projections
