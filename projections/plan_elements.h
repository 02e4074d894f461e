#ifndef CASELEDGER_PROJECTIONS_PLAN_ELEMENTS_H_
#define CASELEDGER_PROJECTIONS_PLAN_ELEMENTS_H_

// The elements of a case plan (goals, resources, consents, the work
// situation, ...; v1::PlanElementKind) and the sensitivity labels behind
// them: CaseFolder records, per element, the labels of every event that
// produced or changed it (CasePlan.element_labels), so that a reader may be
// given the plan without the elements it may not see (RemovePlanElement).
//
// Pure functions; thread-compatible.

#include <string>
#include <utility>
#include <vector>

#include "caseledger/v1/events.pb.h"
#include "caseledger/v1/projections.pb.h"

namespace caseledger::projections {

// One element of a plan: its kind and id (empty for elements without one).
using PlanElement = std::pair<v1::PlanElementKind, std::string>;

// The plan elements `event` (already folded into `plan`, or about to be)
// produces or changes. Empty for events that change only the case header
// (lifecycle) or nothing in the plan (notes, supervision, ...). A step
// event names the goal that holds the step in `plan`.
std::vector<PlanElement> ElementsOf(const v1::Event& event,
                                    const v1::CasePlan& plan);

// Adds `labels` to the element's entry in plan->element_labels (creating
// it), keeping the entry's labels distinct and ascending.
void AddElementLabels(v1::CasePlan* plan, const PlanElement& element,
                      const google::protobuf::RepeatedField<int>& labels);

// Removes the element from `plan`: the goal (with its steps and GAS scale),
// resource, referral, ... with that id, or the singleton (assessment, work
// situation, living situation, last contact) cleared; and its
// element_labels entry. Nothing if there is no such element.
void RemovePlanElement(v1::CasePlan* plan, const PlanElement& element);

// Lower-case name of a kind for messages and policy queries ("goal",
// "employer_agreement").
std::string PlanElementKindName(v1::PlanElementKind kind);

}  // namespace caseledger::projections

#endif  // CASELEDGER_PROJECTIONS_PLAN_ELEMENTS_H_
