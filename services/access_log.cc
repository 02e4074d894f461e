#include "services/access_log.h"

#include "absl/strings/str_cat.h"
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

std::string AccessLog::PrincipalTerm(absl::string_view principal) {
  return absl::StrCat("principal/", principal.substr(0, 200));
}

namespace {

// True if the record at `position` is in the principal index.
absl::StatusOr<bool> Indexed(const engine::EventLog& log, uint64_t position) {
  ASSIGN_OR_RETURN(v1::Event record, log.ReadEvent(position));
  engine::ReadTermRequest read;
  read.term = AccessLog::PrincipalTerm(record.envelope().actor().user_id());
  read.from_position = position;
  read.max_count = 1;
  ASSIGN_OR_RETURN(engine::ReadPage page, log.ReadTerm(read));
  return !page.events.empty() &&
         page.events[0].envelope().global_position() == position;
}

// The first position from which every record is indexed. Records written
// before the index existed (an access log from an earlier version) are not,
// and every later one is, so the boundary is found by bisection.
absl::StatusOr<uint64_t> FirstIndexed(const engine::EventLog& log) {
  const uint64_t last = log.LastPosition();
  if (last == 0) return 1;
  ASSIGN_OR_RETURN(bool first, Indexed(log, 1));
  if (first) return 1;
  ASSIGN_OR_RETURN(bool newest, Indexed(log, last));
  if (!newest) return last + 1;
  uint64_t not_indexed = 1, indexed = last;
  while (indexed - not_indexed > 1) {
    const uint64_t mid = not_indexed + (indexed - not_indexed) / 2;
    ASSIGN_OR_RETURN(bool is, Indexed(log, mid));
    (is ? indexed : not_indexed) = mid;
  }
  return indexed;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(
    const engine::EventLogOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<engine::EventLog> log,
                   engine::EventLog::Open(options));
  ASSIGN_OR_RETURN(uint64_t indexed_from, FirstIndexed(*log));
  return std::unique_ptr<AccessLog>(
      new AccessLog(std::move(log), indexed_from));
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
  // Indexed by principal in the same atomic write as the record.
  append.index_terms.push_back(PrincipalTerm(env->actor().user_id()));
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
    if (query.case_id.empty() && !query.principal.empty() &&
        from >= indexed_from_) {
      // By principal: only that principal's records, through the index.
      engine::ReadTermRequest r;
      r.term = PrincipalTerm(query.principal);
      r.from_position = from;
      r.max_count = 500;
      ASSIGN_OR_RETURN(read, log_->ReadTerm(r));
    } else if (!query.case_id.empty()) {
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
      if (!query.principal.empty() && read.next > indexed_from_) {
        // Only the records from before the index are scanned; the index
        // takes over from indexed_from_.
        while (!read.events.empty() &&
               read.events.back().envelope().global_position() >=
                   indexed_from_) {
          read.events.pop_back();
        }
        read.next = indexed_from_;
        read.end = false;
      }
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
