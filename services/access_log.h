#ifndef CASELEDGER_SERVICES_ACCESS_LOG_H_
#define CASELEDGER_SERVICES_ACCESS_LOG_H_

// The access log: one append-only, hash-chained record (AccessRecorded) of
// every read of case content and every denied request, kept apart from the
// case events in its own event log (<data_dir>/access_log, a second
// engine::EventLog with the same storage format, durability and Verify).
// Records of a case are the stream named by the case id; records about no
// single case are the stream "global". Each record is also indexed under
// its principal (the actor's user id), in the same atomic write, so "what
// did P read" reads only P's records. Thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "caseledger/v1/events.pb.h"
#include "engine/event_log.h"

namespace caseledger::services {

// Stream of the records about no single case.
inline constexpr char kAccessLogGlobalStream[] = "global";

struct AccessLogQuery {
  // Only records about this case, when set.
  std::string case_id;
  // Only records of this principal, when set.
  std::string principal;
  // Access time window [since, until); unset bounds are open.
  std::optional<absl::Time> since;
  std::optional<absl::Time> until;
  // Continue after this position (global position of the access log, or
  // the stream version when case_id is set); 0 from the start.
  uint64_t after = 0;
  uint32_t max_count = 100;
};

struct AccessLogPage {
  std::vector<v1::Event> records;
  // Pass as `after` for the next page; 0 when there is no more.
  uint64_t next_after = 0;
};

class AccessLog {
 public:
  // Opens (creating if missing) the access log in `options.path`. An access
  // log from before the principal index is found out at open (a bisection,
  // O(log n) reads).
  static absl::StatusOr<std::unique_ptr<AccessLog>> Open(
      const engine::EventLogOptions& options);

  // Appends one record durably (same sync setting as the case log); the
  // caller returns no data unless this returned OK (fail closed).
  // `actor` is the principal, role and organisation.
  absl::Status Record(const v1::Actor& actor, const v1::AccessRecorded& record);

  // Records matching `query`, in log order. Reads the case's stream when
  // case_id is set; else, with a principal, that principal's records through
  // the principal index (never the rest of the log; in an access log from
  // before the index, its older, unindexed part is scanned); else the whole
  // log.
  absl::StatusOr<AccessLogPage> Query(const AccessLogQuery& query) const;

  // The index term of a principal's records (engine::AppendRequest::
  // index_terms): "principal/" and the actor's user id (its first 200
  // bytes; ids are far shorter).
  static std::string PrincipalTerm(absl::string_view principal);

  engine::EventLog* log() { return log_.get(); }

 private:
  AccessLog(std::unique_ptr<engine::EventLog> log, uint64_t indexed_from)
      : log_(std::move(log)), indexed_from_(indexed_from) {}
  std::unique_ptr<engine::EventLog> log_;
  // Records from this position on are in the principal index; earlier ones
  // (an access log written before the index existed) are found by a scan
  // of that older part only. 1 for a log indexed from its start.
  const uint64_t indexed_from_;
};

}  // namespace caseledger::services

#endif  // CASELEDGER_SERVICES_ACCESS_LOG_H_
