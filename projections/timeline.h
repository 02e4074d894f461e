#ifndef CASELEDGER_PROJECTIONS_TIMELINE_H_
#define CASELEDGER_PROJECTIONS_TIMELINE_H_

// One-line, human-readable summaries of case events for the timeline, e.g.
// "Goal 'Get my own flat' revised: target date 2027-03-01 -> 2027-05-01".
// Pure functions; thread-safe.

#include <string>

#include "caseledger/v1/events.pb.h"
#include "caseledger/v1/projections.pb.h"

namespace caseledger::projections {

// Summarises `event` given the case's plan just before it (for names of
// goals, steps and resources and for the old values of revised fields).
// `target_type`, for a correction, is the event type of the corrected event
// ("" if unknown). Unknown event types give "Unknown event type".
std::string SummarizeEvent(const v1::Event& event,
                           const v1::CasePlan& plan_before,
                           const std::string& target_type = "");

// The timeline entry for `event` (without corrected_by / entered_in_error).
v1::TimelineEntry MakeTimelineEntry(const v1::Event& event,
                                    const v1::CasePlan& plan_before,
                                    const std::string& target_type = "");

// Lower-case display names of enum values, e.g. "on-hold", "in-progress",
// "natural".
std::string LifecycleName(v1::GoalLifecycleStatus status);
std::string AchievementName(v1::GoalAchievementStatus status);
std::string ResourceKindName(v1::ResourceKind kind);

}  // namespace caseledger::projections

#endif  // CASELEDGER_PROJECTIONS_TIMELINE_H_
