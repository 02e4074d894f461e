#include "projections/point_in_time.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/internal/status_macros.h"
#include "projections/case_folder.h"

namespace caseledger::projections {
namespace {

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// All events of the case, in record order, while `keep` holds (record order
// is also recorded-at and position order, so reading stops at the first
// event that fails it).
absl::StatusOr<std::vector<v1::Event>> ReadCasePrefix(
    const engine::EventLog& log, const std::string& case_id,
    const std::function<bool(const v1::Event&)>& keep) {
  std::vector<v1::Event> events;
  engine::ReadCaseRequest request;
  request.case_id = case_id;
  request.from_version = 1;
  for (;;) {
    ASSIGN_OR_RETURN(engine::ReadPage page, log.ReadCase(request));
    for (v1::Event& event : page.events) {
      if (!keep(event)) return events;
      events.push_back(std::move(event));
    }
    if (page.end) return events;
    request.from_version = page.next;
  }
}

absl::StatusOr<v1::CasePlan> Fold(const std::vector<v1::Event>& events,
                                  const std::string& case_id,
                                  const ScoringConfig& scoring) {
  if (events.empty()) {
    return absl::NotFoundError(
        absl::StrCat("case ", case_id, " has no events at that point"));
  }
  return FoldCase(events, scoring).plan();
}

}  // namespace

absl::StatusOr<v1::CasePlan> PlanAsRecordedAtPosition(
    const engine::EventLog& log, const std::string& case_id, uint64_t position,
    const ScoringConfig& scoring) {
  ASSIGN_OR_RETURN(std::vector<v1::Event> events,
                   ReadCasePrefix(log, case_id, [&](const v1::Event& e) {
                     return e.envelope().global_position() <= position;
                   }));
  return Fold(events, case_id, scoring);
}

absl::StatusOr<v1::CasePlan> PlanAsRecordedAtTime(
    const engine::EventLog& log, const std::string& case_id,
    absl::Time recorded_at, const ScoringConfig& scoring) {
  ASSIGN_OR_RETURN(std::vector<v1::Event> events,
                   ReadCasePrefix(log, case_id, [&](const v1::Event& e) {
                     return ToTime(e.envelope().recorded_at()) <= recorded_at;
                   }));
  return Fold(events, case_id, scoring);
}

absl::StatusOr<v1::CasePlan> PlanAsOccurredAt(const engine::EventLog& log,
                                              const std::string& case_id,
                                              absl::Time occurred_at,
                                              const ScoringConfig& scoring) {
  ASSIGN_OR_RETURN(
      std::vector<v1::Event> record,
      ReadCasePrefix(log, case_id, [](const v1::Event&) { return true; }));
  std::vector<v1::Event> events;
  for (v1::Event& event : ResolveCorrections(record)) {
    if (ToTime(event.envelope().occurred_at()) <= occurred_at) {
      events.push_back(std::move(event));
    }
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const v1::Event& a, const v1::Event& b) {
                     return ToTime(a.envelope().occurred_at()) <
                            ToTime(b.envelope().occurred_at());
                   });
  ASSIGN_OR_RETURN(v1::CasePlan plan, Fold(events, case_id, scoring));
  uint64_t version = 0, position = 0;
  for (const v1::Event& event : events) {
    version = std::max(version, event.envelope().stream_version());
    position = std::max(position, event.envelope().global_position());
  }
  plan.set_version(version);
  plan.set_position(position);
  return plan;
}

}  // namespace caseledger::projections
