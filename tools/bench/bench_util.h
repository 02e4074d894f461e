#ifndef CASELEDGER_TOOLS_BENCH_BENCH_UTIL_H_
#define CASELEDGER_TOOLS_BENCH_BENCH_UTIL_H_

// Small helpers shared by caseledger_bench's modes: percentiles, JSON
// literals, the benchmark's event payloads, process memory and directory
// sizes. Stateless functions; thread-safe.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "caseledger/v1/access_policy.pb.h"
#include "caseledger/v1/events.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace caseledger::bench {

// Latency percentiles of one batch of operations.
struct Latency {
  int64_t count = 0;
  absl::Duration p50;
  absl::Duration p99;
  absl::Duration max;
};

// The median of `values` (mean of the middle two for an even count); 0 for
// none.
double Median(std::vector<double> values);

// The nearest-rank `p`-quantile (0 < p <= 1) of ascending `sorted`; zero
// for an empty vector.
absl::Duration Percentile(const std::vector<absl::Duration>& sorted, double p);

// Sorts `samples` and returns count, p50, p99 and max.
Latency Summarize(std::vector<absl::Duration> samples);

// Milliseconds as a double.
double Ms(absl::Duration d);

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out);

// A NoteRecorded payload whose serialized size is `target_bytes` (or as
// close as the encoding allows). Its note id has the fixed length of an
// event id, so replacing it with another event id keeps the size.
caseledger::v1::EventPayload MakeNotePayload(size_t target_bytes);

// A client-side event as engine/event_log.h requires: fresh event id,
// occurred_at, actor (user "bench-cm-<writer>"), schema_version 1, `payload`;
// server fields empty.
caseledger::v1::Event MakeEvent(const caseledger::v1::EventPayload& payload,
                                int writer);

// `s` as a JSON string literal; `value` as a JSON number (null if not
// finite).
std::string JsonString(const std::string& s);
std::string JsonNumber(double value);

// Total size of the regular files under `path` (0 if it does not exist).
uint64_t DirectoryBytes(const std::string& path);

// The 1, 5 and 15 minute load averages as "a b c" (for the conditions:
// other processes on the machine compete for its CPUs); "?" if unknown.
std::string LoadAverage();

// Resident set size (VmRSS) and its peak (VmHWM) of process `pid` (0: this
// process), in bytes, from /proc/PID/status; 0 if unknown.
struct Memory {
  uint64_t rss = 0;
  uint64_t peak = 0;
};
Memory ProcessMemory(pid_t pid = 0);

// Total memory and the model of the machine, for the conditions:
// "nproc N, MemTotal X GiB".
std::string MachineSummary();

// The one principal of a benchmark's server (in-process, or a caseledgerd
// child started with --plaintext_loopback on 127.0.0.1): a random bearer
// token for this run, never printed, and a policy granting it every role
// the benchmark's calls need (appends and reads on every team, every
// subscription, operations).
const std::string& BenchToken();
caseledger::v1::AccessPolicy BenchPolicy();

}  // namespace caseledger::bench

#endif  // CASELEDGER_TOOLS_BENCH_BENCH_UTIL_H_
