#include "services/access_log.h"

#include "absl/time/clock.h"
#include "engine/ids.h"
#include "engine/internal/status_macros.h"

namespace caseledger::services {
namespace {

absl::Time OccurredAt(const v1::Event& e) {
  return absl::FromUnixSeconds(e.envelope().occurred_at().seconds()) +
         absl::Nanoseconds(e.envelope().occurred_at().nanos());
}

bool Matches(const AccessLogQuery& q, const v1::Event& e) {
  if (!e.payload().has_access_recorded()) return false;
  if (!q.case_id.empty() &&
      e.payload().access_recorded().case_id() != q.case_id)
    return false;
  if (!q.principal.empty() && e.envelope().actor().user_id() != q.principal)
    return false;
  const absl::Time t = OccurredAt(e);
  if (q.since && t < *q.since) return false;
  if (q.until && t >= *q.until) return false;
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(
    const engine::EventLogOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<engine::EventLog> log,
                   engine::EventLog::Open(options));
  return std::unique_ptr<AccessLog>(new AccessLog(std::move(log)));
}

absl::Status AccessLog::Record(const v1::Actor& actor,
                               const v1::AccessRecorded& record) {
  engine::AppendRequest append;
  append.case_id =
      record.case_id().empty() || !engine::IsValidCaseId(record.case_id())
          ? kAccessLogGlobalStream
          : record.case_id();
  v1::Event& event = append.events.emplace_back();
  v1::EventEnvelope* env = event.mutable_envelope();
  env->set_event_id(engine::NewEventId());
  const absl::Time now = absl::Now();
  env->mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(now));
  env->mutable_occurred_at()->set_nanos(static_cast<int32_t>(
      (now - absl::FromUnixSeconds(absl::ToUnixSeconds(now))) /
      absl::Nanoseconds(1)));
  *env->mutable_actor() = actor;
  // The engine requires an actor; an unauthenticated caller has none.
  if (env->actor().user_id().empty()) {
    env->mutable_actor()->set_user_id("(unauthenticated)");
  }
  if (env->actor().role().empty()) env->mutable_actor()->set_role("none");
  env->set_source("caseledgerd");
  *event.mutable_payload()->mutable_access_recorded() = record;
  return log_->Append(append).status();
}

absl::StatusOr<AccessLogPage> AccessLog::Query(
    const AccessLogQuery& query) const {
  AccessLogPage page;
  const uint32_t max = query.max_count == 0 ? 100 : query.max_count;
  uint64_t from = query.after + 1;
  // Read in pages until `max` matches or the end.
  while (page.records.size() < max) {
    engine::ReadPage read;
    if (!query.case_id.empty()) {
      engine::ReadCaseRequest r;
      r.case_id = engine::IsValidCaseId(query.case_id) ? query.case_id
                                                       : kAccessLogGlobalStream;
      r.from_version = from;
      r.max_count = 500;
      absl::StatusOr<engine::ReadPage> got = log_->ReadCase(r);
      if (absl::IsNotFound(got.status())) return page;
      if (!got.ok()) return got.status();
      read = std::move(*got);
    } else {
      engine::ReadAllRequest r;
      r.from_position = from;
      r.max_count = 500;
      ASSIGN_OR_RETURN(read, log_->ReadAll(r));
    }
    for (v1::Event& e : read.events) {
      const uint64_t at = query.case_id.empty() ? e.envelope().global_position()
                                                : e.envelope().stream_version();
      if (Matches(query, e)) {
        page.records.push_back(std::move(e));
        if (page.records.size() == max) {
          page.next_after = at;
          return page;
        }
      }
    }
    if (read.end || read.events.empty()) return page;
    from = read.next;
  }
  return page;
}

}  // namespace caseledger::services
