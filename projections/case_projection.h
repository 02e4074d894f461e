#ifndef CASELEDGER_PROJECTIONS_CASE_PROJECTION_H_
#define CASELEDGER_PROJECTIONS_CASE_PROJECTION_H_

// The read side: current plans, case timelines and outcome-metric facts,
// maintained from the global event log.
//
// The three read models are kept in one projection store (a RocksDB of their
// own, apart from the log) by one applier, so they always describe the same
// log position: every chunk of applied events is written as one WriteBatch
// together with the checkpoint (the last applied global position). After a
// crash the store resumes exactly after its checkpoint: no event applied
// twice, none skipped. Layout: projections/README.md.
//
// A background thread catches up at Start() and then follows the log (woken
// by the log's commit listener, no polling). Rebuild() builds a fresh store
// generation from position 0 on another thread while the current one keeps
// serving and following; when the new one has caught up it replaces the old
// one atomically. Unknown event types (a newer schema) are skipped and
// counted.
//
// Thread-safe.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "caseledger/v1/metrics.pb.h"
#include "caseledger/v1/projections.pb.h"
#include "engine/event_log.h"
#include "projections/metrics.h"
#include "projections/scoring.h"

namespace caseledger::projections {

struct CaseProjectionOptions {
  // Directory of the projection store (generations live below it). Required.
  std::string dir;
  // Scoring and metric constants (DOMAIN.md defaults).
  MetricsConfig metrics;
  // Events applied per WriteBatch (and checkpoint).
  // Default: 1000
  size_t chunk_events = 1000;
  // While following the log, how long to gather further commits before
  // applying a chunk that is not full (fewer, larger chunks under load; at
  // most this much extra wait for read-your-writes). Zero: apply at once.
  // Default: 2 ms
  absl::Duration apply_delay = absl::Milliseconds(2);
  // Cases whose folding state is kept in memory between chunks.
  // Default: 20000
  size_t cache_cases = 20000;
};

// Where one read model stands.
struct ProjectionStatus {
  std::string name;       // "plan", "timeline" or "metrics"
  uint32_t version = 0;   // projection version (bumped when folding changes)
  uint64_t position = 0;  // last global position applied
  uint64_t log_position = 0;
  uint64_t lag = 0;  // log_position - position
  uint64_t events_applied = 0;
  uint64_t skipped_unknown = 0;
  bool rebuilding = false;
  uint64_t rebuild_position = 0;  // progress of a running rebuild
  std::string last_error;         // empty while healthy
};

struct TimelineQuery {
  std::string case_id;
  // Only these event types, when non-empty.
  absl::flat_hash_set<std::string> event_types;
  // Occurred-at window [since, until); unbounded by default.
  absl::Time since = absl::InfinitePast();
  absl::Time until = absl::InfiniteFuture();
  // First stream version to consider (paging); 0 or 1 = from the start.
  uint64_t from_version = 1;
  uint32_t page_size = 100;  // at most 1000
};

struct TimelinePage {
  std::vector<v1::TimelineEntry> entries;
  uint64_t next_version = 0;  // continue from here; 0 when done
  uint64_t position = 0;      // projection position the page reflects
};

class CaseProjection {
 public:
  // Bump when folding or summaries change: a store built by another version
  // is rebuilt at Open.
  // 2: plans list the sensitivity labels behind their elements.
  static constexpr uint32_t kVersion = 2;

  // Opens (or creates) the store in options.dir, reading from `log` (not
  // owned; must outlive the projection). Does not start the thread.
  static absl::StatusOr<std::unique_ptr<CaseProjection>> Open(
      const CaseProjectionOptions& options, engine::EventLog* log);

  // Stops the threads (a running rebuild is abandoned and its files removed).
  ~CaseProjection();

  // Starts following the log in the background.
  void Start();

  // Applies everything up to the log's current end on the calling thread.
  // REQUIRES: Start() not called (tests and tools).
  absl::Status CatchUp();

  // The three read models' status (they share one position).
  std::vector<ProjectionStatus> Status() const;
  uint64_t Position() const;

  // Blocks until the store has applied `position` or `deadline` passes.
  // Returns true if reached (read-your-writes).
  bool WaitForPosition(uint64_t position, absl::Time deadline) const;

  // The current plan. NOT_FOUND if the case has no events.
  absl::StatusOr<v1::CasePlan> GetPlan(const std::string& case_id) const;

  // A page of a case's timeline. NOT_FOUND if the case has no events.
  absl::StatusOr<TimelinePage> GetTimeline(const TimelineQuery& query) const;

  // Outcome facts of one case, and its metrics at `as_of`.
  absl::StatusOr<v1::CaseFacts> GetFacts(const std::string& case_id) const;
  absl::StatusOr<v1::CaseMetrics> GetCaseMetrics(const std::string& case_id,
                                                 const v1::Date& as_of) const;

  // Grouped metrics over all cases (with a CaseOpened), small groups
  // suppressed. INVALID_ARGUMENT for a bad query.
  absl::StatusOr<v1::MetricsReport> GetMetrics(const MetricsQuery& query) const;

  // Starts a rebuild from position 0. FAILED_PRECONDITION if one is running.
  absl::Status StartRebuild();
  // For tests and tools: blocks until no rebuild is running.
  void WaitForRebuild() const;

  // Every key/value of the current store, in key order, per-case values
  // opened (decrypted; a case state as its CaseState bytes): tests compare a
  // rebuilt store with an incrementally built one byte for byte. Sealed bytes
  // differ between two stores (a fresh nonce per seal); their plaintexts do
  // not. NOT_FOUND if a value of an erased case is still stored (its
  // CaseErased record is not applied yet).
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Dump() const;

  // Flushes the current store and rewrites every table file (forced
  // bottommost compaction), so deleted and superseded values leave its files.
  absl::Status Compact();

  class Generation;
  class Applier;

 private:
  CaseProjection(const CaseProjectionOptions& options, engine::EventLog* log);
  std::shared_ptr<Generation> Current() const;
  void LiveLoop();
  void RebuildLoop(std::unique_ptr<Applier> applier);
  absl::Status SwapIn(std::unique_ptr<Applier> rebuilt);

  const CaseProjectionOptions options_;
  engine::EventLog* const log_;

  mutable absl::Mutex mu_;
  std::shared_ptr<Generation> current_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Applier> live_ ABSL_GUARDED_BY(mu_);
  uint64_t position_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t log_position_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t events_applied_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t skipped_unknown_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool rebuilding_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t rebuild_position_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<Applier> rebuilt_ ABSL_GUARDED_BY(mu_);
  uint64_t next_generation_ ABSL_GUARDED_BY(mu_) = 0;

  uint64_t listener_id_ = 0;
  std::thread live_thread_;
  std::thread rebuild_thread_;
};

}  // namespace caseledger::projections

#endif  // CASELEDGER_PROJECTIONS_CASE_PROJECTION_H_
