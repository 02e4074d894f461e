#ifndef CASELEDGER_TOOLS_BENCH_MODES_H_
#define CASELEDGER_TOOLS_BENCH_MODES_H_

// caseledger_bench's modes that live outside caseledger_bench.cc: scale,
// load and compare. Each runs in a fresh directory it is given (the caller
// removes it), prints its conditions and tables to `human` and returns its
// JSON object, or the first error. Not thread-safe (one mode at a time).

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace caseledger::bench {

// --mode=scale: how the engine and projections change as the log grows.
struct ScaleConfig {
  // Log sizes (events, ascending) at which to measure.
  std::vector<int64_t> stages = {100000, 1000000, 10000000};
  // Cases of the generated caseload (enough for the last stage).
  int cases = 107000;
  uint64_t seed = 1;
  int load_threads = 4;
  // Durable append measurement per stage: writers x 1 event for `seconds`.
  int writers = 16;
  absl::Duration append_time = absl::Seconds(5);
  // ReadCase and GetPlan queries per stage (bounded by query_bound each).
  int queries = 2000;
  absl::Duration query_bound = absl::Seconds(60);
  // If set: measure this existing log (grown by an earlier run) instead of
  // growing a fresh one; it is not loaded further and not removed.
  std::string existing_log;
  // Longest a stage's rebuild may run (then it is reported cut short).
  absl::Duration rebuild_bound = absl::Hours(1);
};
absl::StatusOr<std::string> RunScaleMode(const ScaleConfig& config,
                                         const std::string& dir,
                                         std::FILE* human);

// --mode=caseresume: the cost of a global read filtered by one case
// (subscriptions and export with a case filter) by where it starts: at the
// case's first event, in its middle, and near its end. A fresh log holds one
// long case interleaved event by event with another case (sync off: setup,
// not measured). The figure to compare is each start's median against the
// first start's, taken in the same run.
struct CaseResumeConfig {
  int case_events = 20000;  // events of the long case (as many of the other)
  int page = 10;            // events per read (ReadAllRequest::max_count)
  int reads = 200;          // reads per start per run
  int runs = 3;
};
absl::StatusOr<std::string> RunCaseResumeMode(const CaseResumeConfig& config,
                                              const std::string& dir,
                                              std::FILE* human);

// --mode=load: a realistic mixed load against caseledgerd run as a child
// process on 127.0.0.1 (see tools/bench/load.cc).
struct LoadConfig {
  std::string caseledgerd;  // path of the caseledgerd binary
  absl::Duration duration = absl::Seconds(60);
  int64_t max_ops = 2000000;  // all operations together
  int case_managers = 32;     // appending threads (one channel each)
  int readers = 4;            // plan/timeline query threads
  int analysts = 1;           // analytics query threads
  int subscribers = 2;        // live subscribers
  int demo_cases = 500;       // caseload loaded before the run
  uint64_t seed = 1;
  absl::Duration sample_every = absl::Seconds(5);  // RSS samples
};
absl::StatusOr<std::string> RunLoadMode(const LoadConfig& config,
                                        const std::string& dir,
                                        std::FILE* human);

// --mode=compare: caseledger's event log against PostgreSQL 15 (libpq)
// with the same events and concurrency (see tools/bench/compare.cc).
struct CompareConfig {
  std::string pg_conninfo;  // libpq connection string (loopback only)
  std::vector<int> writers = {1, 16};
  std::vector<int> batches = {1, 10};
  absl::Duration seconds = absl::Seconds(5);
  int runs = 3;
  int payload_bytes = 400;
  int read_events = 1000;  // events of the case read back
  int reads = 200;         // reads of that case per run
};
absl::StatusOr<std::string> RunCompareMode(const CompareConfig& config,
                                           const std::string& dir,
                                           std::FILE* human);

}  // namespace caseledger::bench

#endif  // CASELEDGER_TOOLS_BENCH_MODES_H_
