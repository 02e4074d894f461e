#ifndef CASELEDGER_PROJECTIONS_CASE_FOLDER_H_
#define CASELEDGER_PROJECTIONS_CASE_FOLDER_H_

// Folding a case's events into its current plan and its outcome facts.
//
// Corrections: an EventEnteredInError drops its target (an event of the same
// case, named by event id); an EventCorrected replaces its target's payload
// with the corrected one, keeping the target's envelope (so its dates and
// place in the case stay). The latest correction of a target wins; a
// correction that is itself entered in error has no effect. Corrections are
// resolved over the whole sequence before folding (ResolveCorrections), so
// the result does not depend on where in the sequence a correction stands.
// A correction's sensitivity labels join those of the event it corrects.
//
// Labels: every element of the plan (goal, resource, consent, work
// situation, ...) folded from a labelled event lists that event's labels in
// CasePlan.element_labels (plan_elements.h), so readers may be given the
// plan without what they may not see.
//
// Not thread-safe; one folder per case and thread.

#include <string>
#include <vector>

#include "caseledger/v1/events.pb.h"
#include "caseledger/v1/projections.pb.h"
#include "projections/scoring.h"

namespace caseledger::projections {

// True for EventEnteredInError and EventCorrected.
bool IsCorrection(const v1::Event& event);

// True if the event's payload is of a type this build knows (a newer schema's
// type parses as an empty payload).
bool IsKnownPayload(const v1::Event& event);

// The events that remain after applying the corrections among `events` (all
// of one case), in the original order, with corrected payloads substituted.
// The correction events themselves are not returned.
std::vector<v1::Event> ResolveCorrections(const std::vector<v1::Event>& events);

class CaseFolder {
 public:
  explicit CaseFolder(const ScoringConfig& scoring) : scoring_(scoring) {}

  // Starts from a stored state (plan and the event-derived facts kept
  // beside it), e.g. when a projection resumes.
  void Restore(v1::CasePlan plan, v1::CaseFacts event_facts);

  // Folds one event. Correction events and unknown payloads are ignored here
  // (the caller resolves corrections); everything else updates the plan.
  // REQUIRES: events of one case, applied in the order to be folded.
  void Apply(const v1::Event& event);

  const v1::CasePlan& plan() const { return plan_; }

  // The facts gathered from events that the plan does not keep (dates of
  // contacts, closings, returns to work, ...). Stored beside the plan so
  // that folding can resume.
  const v1::CaseFacts& event_facts() const { return event_facts_; }

  // The full outcome facts: event facts plus what is derived from the plan
  // (goals, steps, GAS, resources, support network, measures).
  v1::CaseFacts Facts() const;

 private:
  v1::PlanGoal* FindGoal(const std::string& goal_id, bool create);
  v1::PlanStep* FindStep(const std::string& step_id);
  void PutMeasure(const v1::MeasureScore& score);

  ScoringConfig scoring_;
  v1::CasePlan plan_;
  v1::CaseFacts event_facts_;
};

// Folds all of a case's events (record order), resolving corrections.
CaseFolder FoldCase(const std::vector<v1::Event>& events,
                    const ScoringConfig& scoring);

}  // namespace caseledger::projections

#endif  // CASELEDGER_PROJECTIONS_CASE_FOLDER_H_
