#include "projections/plan_elements.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace caseledger::projections {
namespace {

using Kind = v1::EventPayload::KindCase;

// The goal that holds step `step_id` in `plan`, or "".
std::string GoalOfStep(const v1::CasePlan& plan, const std::string& step_id) {
  for (const v1::PlanGoal& goal : plan.goals()) {
    for (const v1::PlanStep& step : goal.steps()) {
      if (step.step_id() == step_id) return goal.goal_id();
    }
  }
  return "";
}

std::string AgreementId(const v1::PlanAgreement& a) {
  return absl::StrCat(a.discussion_id(), "/", a.agreement().agreement_id());
}

std::string MeasureId(int instrument, int time_point) {
  return absl::StrCat(instrument, "/", time_point);
}

// Removes the items of `list` whose id is `id`.
template <typename T, typename IdFn>
void RemoveById(google::protobuf::RepeatedPtrField<T>* list,
                const std::string& id, IdFn id_of) {
  list->erase(std::remove_if(list->begin(), list->end(),
                             [&](const T& x) { return id_of(x) == id; }),
              list->end());
}

}  // namespace

std::vector<PlanElement> ElementsOf(const v1::Event& event,
                                    const v1::CasePlan& plan) {
  const v1::EventPayload& p = event.payload();
  auto one = [](v1::PlanElementKind kind, std::string id = "") {
    return std::vector<PlanElement>{{kind, std::move(id)}};
  };
  auto goal_of_step = [&](const std::string& step_id) {
    const std::string goal = GoalOfStep(plan, step_id);
    return goal.empty() ? std::vector<PlanElement>{}
                        : one(v1::PLAN_ELEMENT_KIND_GOAL, goal);
  };
  switch (p.kind_case()) {
    case Kind::kGoalSet:
      return one(v1::PLAN_ELEMENT_KIND_GOAL, p.goal_set().goal_id());
    case Kind::kGoalRevised:
      return one(v1::PLAN_ELEMENT_KIND_GOAL, p.goal_revised().goal_id());
    case Kind::kGoalStatusChanged:
      return one(v1::PLAN_ELEMENT_KIND_GOAL, p.goal_status_changed().goal_id());
    case Kind::kGasScaleDefined:
      return one(v1::PLAN_ELEMENT_KIND_GOAL, p.gas_scale_defined().goal_id());
    case Kind::kGasRated:
      return one(v1::PLAN_ELEMENT_KIND_GOAL, p.gas_rated().goal_id());
    case Kind::kPlanStepAdded: {
      std::vector<PlanElement> out =
          one(v1::PLAN_ELEMENT_KIND_GOAL, p.plan_step_added().goal_id());
      // A step id already held by another goal stays there.
      const std::string holder =
          GoalOfStep(plan, p.plan_step_added().step_id());
      if (!holder.empty() && holder != p.plan_step_added().goal_id()) {
        out.emplace_back(v1::PLAN_ELEMENT_KIND_GOAL, holder);
      }
      return out;
    }
    case Kind::kPlanStepCompleted:
      return goal_of_step(p.plan_step_completed().step_id());
    case Kind::kPlanStepRevised:
      return goal_of_step(p.plan_step_revised().step_id());
    case Kind::kPlanStepDropped:
      return goal_of_step(p.plan_step_dropped().step_id());
    case Kind::kResourceConnected:
      return one(v1::PLAN_ELEMENT_KIND_RESOURCE,
                 p.resource_connected().resource_id());
    case Kind::kResourceDisconnected:
      return one(v1::PLAN_ELEMENT_KIND_RESOURCE,
                 p.resource_disconnected().resource_id());
    case Kind::kReferralMade:
      return one(v1::PLAN_ELEMENT_KIND_REFERRAL,
                 p.referral_made().referral_id());
    case Kind::kReferralStatusChanged:
      return one(v1::PLAN_ELEMENT_KIND_REFERRAL,
                 p.referral_status_changed().referral_id());
    case Kind::kSupportPersonAdded:
      return one(v1::PLAN_ELEMENT_KIND_SUPPORT_PERSON,
                 p.support_person_added().person_id());
    case Kind::kSupportPersonChanged:
      return one(v1::PLAN_ELEMENT_KIND_SUPPORT_PERSON,
                 p.support_person_changed().person_id());
    case Kind::kSupportPersonRemoved:
      return one(v1::PLAN_ELEMENT_KIND_SUPPORT_PERSON,
                 p.support_person_removed().person_id());
    case Kind::kProtectiveFactorIdentified:
      return one(v1::PLAN_ELEMENT_KIND_PROTECTIVE_FACTOR,
                 p.protective_factor_identified().factor_id());
    case Kind::kCopingStrategyAgreed:
      return one(v1::PLAN_ELEMENT_KIND_COPING_STRATEGY,
                 p.coping_strategy_agreed().strategy_id());
    case Kind::kCopingStrategyReviewed:
      return one(v1::PLAN_ELEMENT_KIND_COPING_STRATEGY,
                 p.coping_strategy_reviewed().strategy_id());
    case Kind::kEmployerDiscussionMediated: {
      std::vector<PlanElement> out;
      const auto& d = p.employer_discussion_mediated();
      for (const v1::EmployerAgreement& a : d.agreements()) {
        out.emplace_back(
            v1::PLAN_ELEMENT_KIND_EMPLOYER_AGREEMENT,
            absl::StrCat(d.discussion_id(), "/", a.agreement_id()));
      }
      return out;
    }
    case Kind::kConsentGiven:
      return one(v1::PLAN_ELEMENT_KIND_CONSENT, p.consent_given().consent_id());
    case Kind::kMeasureAdministered:
      return one(v1::PLAN_ELEMENT_KIND_MEASURE,
                 MeasureId(p.measure_administered().instrument(),
                           p.measure_administered().time_point()));
    case Kind::kStrengthsAssessmentRecorded:
    case Kind::kStrengthsAssessmentDomainUpdated:
      return one(v1::PLAN_ELEMENT_KIND_ASSESSMENT);
    case Kind::kAbsenceStarted:
    case Kind::kWorkCapacityCertified:
    case Kind::kReturnToWorkStarted:
    case Kind::kWorkScheduleChanged:
    case Kind::kAbsenceRecurred:
    case Kind::kEmploymentStatusRecorded:
      return one(v1::PLAN_ELEMENT_KIND_WORK);
    case Kind::kLifeStatusRecorded:
      return one(v1::PLAN_ELEMENT_KIND_LIVING_SITUATION);
    case Kind::kContactRecorded:
      return one(v1::PLAN_ELEMENT_KIND_LAST_CONTACT);
    default:
      return {};
  }
}

void AddElementLabels(v1::CasePlan* plan, const PlanElement& element,
                      const google::protobuf::RepeatedField<int>& labels) {
  if (labels.empty()) return;
  v1::PlanElementLabels* entry = nullptr;
  for (v1::PlanElementLabels& e : *plan->mutable_element_labels()) {
    if (e.kind() == element.first && e.element_id() == element.second) {
      entry = &e;
      break;
    }
  }
  if (entry == nullptr) {
    entry = plan->add_element_labels();
    entry->set_kind(element.first);
    entry->set_element_id(element.second);
  }
  std::vector<int> merged(entry->labels().begin(), entry->labels().end());
  merged.insert(merged.end(), labels.begin(), labels.end());
  std::sort(merged.begin(), merged.end());
  merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
  entry->clear_labels();
  for (int l : merged) {
    if (l != v1::SENSITIVITY_LABEL_UNSPECIFIED) {
      entry->add_labels(static_cast<v1::SensitivityLabel>(l));
    }
  }
}

void RemovePlanElement(v1::CasePlan* plan, const PlanElement& element) {
  const std::string& id = element.second;
  switch (element.first) {
    case v1::PLAN_ELEMENT_KIND_GOAL:
      RemoveById(plan->mutable_goals(), id,
                 [](const v1::PlanGoal& x) { return x.goal_id(); });
      break;
    case v1::PLAN_ELEMENT_KIND_RESOURCE:
      RemoveById(
          plan->mutable_resources(), id,
          [](const v1::ConnectedResource& x) { return x.resource_id(); });
      break;
    case v1::PLAN_ELEMENT_KIND_REFERRAL:
      RemoveById(plan->mutable_referrals(), id,
                 [](const v1::Referral& x) { return x.referral_id(); });
      break;
    case v1::PLAN_ELEMENT_KIND_SUPPORT_PERSON:
      RemoveById(plan->mutable_support_network(), id,
                 [](const v1::SupportPerson& x) { return x.person_id(); });
      break;
    case v1::PLAN_ELEMENT_KIND_PROTECTIVE_FACTOR:
      RemoveById(plan->mutable_protective_factors(), id,
                 [](const v1::ProtectiveFactorIdentified& x) {
                   return x.factor_id();
                 });
      break;
    case v1::PLAN_ELEMENT_KIND_COPING_STRATEGY:
      RemoveById(plan->mutable_coping_strategies(), id,
                 [](const v1::CopingStrategy& x) { return x.strategy_id(); });
      break;
    case v1::PLAN_ELEMENT_KIND_EMPLOYER_AGREEMENT:
      RemoveById(plan->mutable_employer_agreements(), id, AgreementId);
      break;
    case v1::PLAN_ELEMENT_KIND_CONSENT:
      RemoveById(plan->mutable_consents(), id,
                 [](const v1::ConsentInForce& x) { return x.consent_id(); });
      break;
    case v1::PLAN_ELEMENT_KIND_MEASURE:
      RemoveById(plan->mutable_measures(), id, [](const v1::MeasureScore& x) {
        return MeasureId(x.instrument(), x.time_point());
      });
      break;
    case v1::PLAN_ELEMENT_KIND_ASSESSMENT:
      plan->clear_assessment_id();
      plan->clear_domains();
      plan->clear_priorities();
      break;
    case v1::PLAN_ELEMENT_KIND_WORK:
      plan->clear_work();
      break;
    case v1::PLAN_ELEMENT_KIND_LIVING_SITUATION:
      plan->clear_living_situation();
      break;
    case v1::PLAN_ELEMENT_KIND_LAST_CONTACT:
      plan->clear_last_contact_at();
      break;
    default:
      break;
  }
  auto* labels = plan->mutable_element_labels();
  labels->erase(std::remove_if(labels->begin(), labels->end(),
                               [&element](const v1::PlanElementLabels& x) {
                                 return x.kind() == element.first &&
                                        x.element_id() == element.second;
                               }),
                labels->end());
}

std::string PlanElementKindName(v1::PlanElementKind kind) {
  std::string name = v1::PlanElementKind_Name(kind);
  constexpr absl::string_view kPrefix = "PLAN_ELEMENT_KIND_";
  if (absl::StartsWith(name, kPrefix)) name = name.substr(kPrefix.size());
  return absl::AsciiStrToLower(name);
}

}  // namespace caseledger::projections
