// caseledger_bench: performance of the caseledger event log, its read side
// and its gRPC server. Not part of the test suite. Three modes here (--mode;
// "all" runs the three), and three in tools/bench/ (see modes.h): load (a
// bounded mixed load against caseledgerd), compare (against PostgreSQL) and
// scale (100 thousand to 10 million events):
//
// append (default): durable append throughput and latency of the event log,
// next to the raw rate of synced single-event RocksDB WriteBatches on the
// same machine and disk. For every writer count W (--writers) and
// events-per-append B (--batch), W threads each call EventLog::Append in a
// loop, each cycling over its own 100 cases with ExpectedVersion::Any(), on
// a fresh data directory with sync on. For every W, W threads also write
// synced single-event WriteBatches straight to a fresh RocksDB. Each
// configuration runs --runs times, for --seconds and/or --ops appends; the
// table reports the median of the runs and each run's figure.
//
// projections: generates a realistic caseload of at least --events events
// (tools/caseload) into a fresh log (setup, with sync off, not measured),
// then measures per run: (a) the raw sequential read rate of the log
// (ReadAll pages from position 1 to the end), (b) the rebuild rate of the
// projections (a fresh CaseProjection directory, CatchUp() from position 0)
// and its ratio to (a), (c) GetPlan and GetTimeline (first page of 100)
// latency on random cases. Reports medians of --runs runs and each run.
//
// server: the gRPC API end to end, over loopback TCP, all in one run:
// (1) CaseWriter.AppendEvents from W concurrent client threads (--writers),
// B events per call (--batch), payloads as in the append mode, each client
// with its own channel (hence its own TCP connection) cycling over its own
// kCasesPerWriter cases with ExpectedVersion any; against a caseledgerd
// (LedgerServer) started in-process on 127.0.0.1 port 0 with a fresh data
// directory and --sync (default on: durable appends), or against a running
// server given by --server (loopback addresses only). (2) The transport
// ceiling: a bare callback-API echo server (tools/bench/echo.proto) started
// in-process on 127.0.0.1 port 0, called the same way with a message the
// size of a 1-event append request; the table gives append calls/s / echo
// calls/s per client count. (3) Subscription catch-up: a generated caseload
// of --sub_events events loaded (sync off: setup, not measured) into the
// data directory of a second in-process LedgerServer, then one client
// subscribes from position 1 (--sub_max_batch) and counts the events
// delivered until caught_up. Each configuration runs --runs times.
//
// Payload encryption: the event log runs as caseledgerd runs it, with
// per-case data keys (AES-256-GCM; a key store beside the log, with a fixed
// benchmark master key). With --compare_encryption (default on), the append
// mode also runs every configuration with encryption off ("plain" rows, the
// engine's EventLogOptions without a key store) and reports encrypted /
// plain; the projection mode also generates the caseload into a plain log
// and reports the read and rebuild rates of both, in the same run.
//
// encryption: the cost of payload encryption in one run: the append mode
// (default 16 writers x 1 event, --writers/--batch to change) and the
// projections mode (default --events 100000) with --compare_encryption,
// then one summary with both sides and encrypted / plain for appends and
// for rebuild.
//
// Output: the conditions and an aligned table on stdout. With --json, the
// human output moves to stderr and stdout carries one JSON object only:
// {"conditions", "results"} for append (unchanged), {"mode", "projections"}
// for projections, {"mode", "server"} for server, and all five members for
// all.
//
// Exit status: 0 on success; 1 (with a message on stderr) on bad flags or any
// failed operation.

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/echo.grpc.pb.h"
#include "bench/echo.pb.h"
#include "caseledger/v1/events.pb.h"
#include "caseledger/v1/ledger_service.grpc.pb.h"
#include "caseledger/v1/ledger_service.pb.h"
#include "engine/event_log.h"
#include "engine/ids.h"
#include "engine/options.h"
#include "engine/sha256.h"
#include "grpcpp/grpcpp.h"
#include "projections/case_projection.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/version.h"
#include "rocksdb/write_batch.h"
#include "services/allocator.h"
#include "services/client_auth.h"
#include "services/server.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/modes.h"
#include "tools/caseload/caseload.h"

ABSL_FLAG(std::string, dir, "",
          "Parent directory for the benchmark's data. A fresh mkdtemp "
          "directory is made inside it (default: $TMPDIR or /tmp) and "
          "removed at the end.");
ABSL_FLAG(double, seconds, 3.0,
          "Length of each configuration run, in seconds; 0: no time bound "
          "(then --ops is required).");
ABSL_FLAG(int64_t, ops, 0,
          "If > 0, each configuration run stops after this many appends "
          "(all writers together), or earlier at --seconds.");
ABSL_FLAG(std::string, writers, "1,16,64",
          "Comma-separated numbers of concurrent writer threads.");
ABSL_FLAG(std::string, batch, "1,10",
          "Comma-separated numbers of events per append.");
ABSL_FLAG(int32_t, runs, 3,
          "Runs of each configuration; the median of the runs is reported.");
ABSL_FLAG(int32_t, payload_bytes, 400,
          "Serialized size of each event payload (a NoteRecorded), and of "
          "the raw RocksDB value.");
ABSL_FLAG(bool, sync, true,
          "Sync every append / raw batch (durable). --nosync measures the CPU "
          "ceiling of the write path without fsync; never quote it as "
          "durable throughput.");
ABSL_FLAG(std::string, mode, "append",
          "What to measure: \"append\" (durable appends against raw "
          "RocksDB), \"projections\" (log read rate, projection rebuild "
          "rate and plan/timeline query latency on a generated caseload), "
          "\"server\" (gRPC appends against a bare gRPC echo, and "
          "subscription catch-up), \"encryption\" (appends and rebuild with "
          "and without payload encryption, one summary), \"caseresume\" "
          "(a case-filtered global read started at a long case's first "
          "event, middle and end), or \"all\".");
ABSL_FLAG(int64_t, events, 1000000,
          "projections: generate a caseload of at least this many events.");
ABSL_FLAG(uint64_t, seed, 1,
          "projections, server: seed of the generated caseload.");
ABSL_FLAG(int32_t, queries, 20000,
          "projections: GetPlan queries, and as many GetTimeline queries, "
          "per run.");
ABSL_FLAG(double, query_seconds, 60,
          "projections: time bound of each batch of queries, in seconds "
          "(fewer queries are reported if it is reached).");
ABSL_FLAG(int32_t, load_threads, 4,
          "projections, server: threads appending the caseload during "
          "setup.");
ABSL_FLAG(std::string, server, "",
          "server: HOST:PORT of a running caseledgerd to send the appends "
          "to, instead of one started in-process on 127.0.0.1 port 0 with a "
          "fresh data directory. Loopback only (localhost, 127.0.0.0/8, "
          "[::1]); other addresses are refused. The echo ceiling and the "
          "subscription catch-up always use servers started in-process.");
ABSL_FLAG(int64_t, sub_events, 200000,
          "server: the subscription catch-up reads a generated caseload of "
          "at least this many events; 0 skips the catch-up.");
ABSL_FLAG(int32_t, sub_max_batch, 500,
          "server: SubscribeRequest.max_batch of the catch-up.");
ABSL_FLAG(double, sub_seconds, 120,
          "server: time bound of each subscription catch-up run, in seconds "
          "(a run that reaches it reports the events delivered so far, "
          "marked not caught up).");
ABSL_FLAG(std::string, stages, "100000,1000000,10000000",
          "scale: comma-separated log sizes (events, ascending) at which "
          "to measure.");
ABSL_FLAG(int32_t, scale_cases, 107000,
          "scale: cases of the generated caseload (enough streams for the "
          "last stage; 107,000 cases hold about 10 million events).");
ABSL_FLAG(std::string, scale_log, "",
          "scale: measure this existing log directory (grown by an earlier "
          "scale run) instead of growing a fresh one; it is neither loaded "
          "further nor written (no append measurement) nor removed.");
ABSL_FLAG(double, rebuild_seconds, 3600,
          "scale: longest a stage's projection rebuild may run; a rebuild "
          "cut short is reported as such (rate over the part done, no plan "
          "query figures).");
ABSL_FLAG(std::string, pg, "",
          "compare: libpq connection string of the PostgreSQL to compare "
          "with (loopback or a Unix socket only), e.g. \"host=127.0.0.1 "
          "port=5433 dbname=postgres user=postgres\"; "
          "tools/compare_postgres.sh starts a private one.");
ABSL_FLAG(int32_t, read_events, 1000,
          "compare: events of the case read back (a multiple of 10).");
ABSL_FLAG(std::string, caseledgerd, "",
          "load: the caseledgerd binary (default: ../services/caseledgerd "
          "next to this binary in the build tree).");
ABSL_FLAG(int32_t, case_managers, 32,
          "load: appending client threads, one connection each.");
ABSL_FLAG(int32_t, readers, 4, "load: plan/timeline query threads.");
ABSL_FLAG(int32_t, analysts, 1, "load: analytics query threads.");
ABSL_FLAG(int32_t, subscribers, 2, "load: live subscribers.");
ABSL_FLAG(int32_t, demo_cases, 500,
          "load: cases of the demo caseload loaded before the run.");
ABSL_FLAG(double, sample_seconds, 5, "load: server RSS sampling period.");
ABSL_FLAG(bool, compare_encryption, true,
          "append and projections modes: also run the event log with payload "
          "encryption off and report encrypted / plain.");
ABSL_FLAG(int32_t, case_events, 20000,
          "caseresume: events of the long case (as many of the case "
          "interleaved with it).");
ABSL_FLAG(int32_t, case_reads, 200,
          "caseresume: reads per start position per run.");
ABSL_FLAG(bool, json, false,
          "Print one JSON summary object on stdout; the human-readable "
          "output then goes to stderr.");

namespace caseledger::bench {
namespace {

namespace fs = std::filesystem;
// caseledger::v1 (the API) for the unqualified v1:: below, not
// caseledger::bench::v1 (the echo proto of the server mode: echo_pb).
namespace v1 = ::caseledger::v1;
namespace echo_pb = ::caseledger::bench::v1;

// Cases each writer cycles over.
constexpr int kCasesPerWriter = 100;

// The benchmark's data directory, removed by Fail() and at the end; empty
// until it exists.
std::string g_data_root;  // NOLINT: process-wide, set once in main.

// Removes the data directory (if any), prints `message` to stderr and exits
// with status 1.
[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "caseledger_bench: %s\n", message.c_str());
  if (!g_data_root.empty()) {
    std::error_code ec;
    fs::remove_all(g_data_root, ec);
  }
  std::exit(1);
}

void CheckOk(const absl::Status& status, const std::string& what) {
  if (!status.ok()) Fail(absl::StrCat(what, ": ", status.ToString()));
}

absl::Status FromRocks(const rocksdb::Status& status, const std::string& what) {
  if (status.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", status.ToString()));
}

// Parses a comma-separated list of integers in [min, max]. Fails the process
// naming `flag` if the list is empty or malformed.
template <typename Int>
std::vector<Int> ParseIntList(const std::string& text, const char* flag,
                              Int min, Int max) {
  std::vector<Int> values;
  for (absl::string_view part :
       absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    Int value = 0;
    if (!absl::SimpleAtoi(part, &value) || value < min || value > max) {
      Fail(absl::StrFormat("--%s: \"%s\" is not an integer in [%d, %d]", flag,
                           std::string(part), min, max));
    }
    values.push_back(value);
  }
  if (values.empty()) Fail(absl::StrFormat("--%s: empty list", flag));
  return values;
}

// Stopping rule of one configuration run.
struct Limits {
  absl::Duration duration = absl::InfiniteDuration();  // per run
  int64_t max_ops = 0;                                 // 0: unbounded
};

// The outcome of one configuration run.
struct RunResult {
  int64_t appends = 0;  // completed operations (appends or raw batches)
  int64_t events = 0;
  absl::Duration elapsed;
  absl::Duration p50;
  absl::Duration p99;
  // CPU time of the whole process (all threads, user + system) over
  // `elapsed`.
  absl::Duration cpu;

  double AppendsPerSecond() const {
    return appends / absl::ToDoubleSeconds(elapsed);
  }
  double EventsPerSecond() const {
    return events / absl::ToDoubleSeconds(elapsed);
  }
};

// CPU time used so far by the whole process (all threads).
absl::Duration ProcessCpu() {
  timespec ts{};
  if (::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) {
    return absl::ZeroDuration();
  }
  return absl::DurationFromTimespec(ts);
}

// One timed operation of writer `writer`: performs one append (or batch),
// stores the time it took in `*latency` (excluding the preparation of its
// input) and returns its status.
using Operation =
    std::function<absl::Status(int writer, absl::Duration* latency)>;

// Runs `op` on `writers` threads until `limits` stop them, all starting
// together. Returns the counts, wall time from start to the last thread's
// end, and latency percentiles; or the first operation error (after all
// threads have stopped).
absl::StatusOr<RunResult> RunWriters(int writers, int events_per_op,
                                     const Limits& limits,
                                     const Operation& op) {
  absl::Notification start;
  absl::Time deadline = absl::InfiniteFuture();
  std::atomic<int64_t> claimed{0};
  std::atomic<bool> stop{false};
  absl::Mutex mu;
  absl::Status first_error;
  std::vector<std::vector<absl::Duration>> latencies(writers);

  std::vector<std::thread> threads;
  threads.reserve(writers);
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      std::vector<absl::Duration>& mine = latencies[w];
      mine.reserve(1 << 14);
      start.WaitForNotification();
      while (!stop.load(std::memory_order_relaxed)) {
        if (limits.max_ops > 0 &&
            claimed.fetch_add(1, std::memory_order_relaxed) >= limits.max_ops) {
          break;
        }
        if (absl::Now() >= deadline) break;
        absl::Duration latency;
        absl::Status status = op(w, &latency);
        if (!status.ok()) {
          absl::MutexLock lock(&mu);
          if (first_error.ok()) first_error = std::move(status);
          stop.store(true, std::memory_order_relaxed);
          break;
        }
        mine.push_back(latency);
      }
    });
  }

  const absl::Duration cpu0 = ProcessCpu();
  const absl::Time t0 = absl::Now();
  deadline = t0 + limits.duration;  // published by Notify()
  start.Notify();
  for (std::thread& thread : threads) thread.join();
  const absl::Time t1 = absl::Now();
  const absl::Duration cpu1 = ProcessCpu();
  if (!first_error.ok()) return first_error;

  std::vector<absl::Duration> all;
  for (const auto& mine : latencies)
    all.insert(all.end(), mine.begin(), mine.end());
  std::sort(all.begin(), all.end());
  RunResult result;
  result.appends = static_cast<int64_t>(all.size());
  result.events = result.appends * events_per_op;
  result.elapsed = t1 - t0;
  result.cpu = cpu1 - cpu0;
  result.p50 = Percentile(all, 0.50);
  result.p99 = Percentile(all, 0.99);
  return result;
}

// Appends to a caseledger EventLog freshly opened in `path` (sync on): each
// writer appends `events_per_append` copies of `payload` per call, cycling
// over its own kCasesPerWriter cases with ExpectedVersion::Any().
// Payload encryption as caseledgerd runs it: a key store at `path`-keys
// (beside the log, removed by RemoveLogAndKeys) and a fixed benchmark key.
void EnableEncryption(engine::EventLogOptions& options) {
  options.key_store_path = options.path + "-keys";
  options.master_key = std::string(32, '\x42');
}

void RemoveLogAndKeys(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) Fail(absl::StrCat("remove ", path, ": ", ec.message()));
  fs::remove_all(path + "-keys", ec);
  if (ec) Fail(absl::StrCat("remove ", path, "-keys: ", ec.message()));
}

absl::StatusOr<RunResult> RunCaseledger(const std::string& path, int writers,
                                        int events_per_append,
                                        const Limits& limits,
                                        const v1::EventPayload& payload,
                                        bool encrypted) {
  engine::EventLogOptions options;
  options.path = path;
  options.create_if_missing = true;
  options.sync = absl::GetFlag(FLAGS_sync);
  if (encrypted) EnableEncryption(options);
  absl::StatusOr<std::unique_ptr<engine::EventLog>> log =
      engine::EventLog::Open(options);
  if (!log.ok()) return log.status();

  // Per-writer state, touched only by its writer thread.
  struct Writer {
    engine::AppendRequest request;
    std::vector<std::string> case_ids;
    int64_t next = 0;
  };
  std::vector<Writer> states(writers);
  for (int w = 0; w < writers; ++w) {
    Writer& state = states[w];
    for (int c = 0; c < kCasesPerWriter; ++c) {
      state.case_ids.push_back(absl::StrFormat("bench-w%d-c%d", w, c));
    }
    state.request.expected = engine::ExpectedVersion::Any();
    for (int e = 0; e < events_per_append; ++e) {
      state.request.events.push_back(MakeEvent(payload, w));
    }
  }

  engine::EventLog* event_log = log->get();
  const Operation append = [&](int w, absl::Duration* latency) {
    Writer& state = states[w];
    state.request.case_id = state.case_ids[state.next++ % kCasesPerWriter];
    const absl::Time now = absl::Now();
    for (v1::Event& event : state.request.events) {
      v1::EventEnvelope* envelope = event.mutable_envelope();
      std::string id = engine::NewEventId();
      event.mutable_payload()->mutable_note_recorded()->set_note_id(id);
      envelope->set_event_id(std::move(id));
      SetTimestamp(now, envelope->mutable_occurred_at());
    }
    const absl::Time begin = absl::Now();
    absl::StatusOr<engine::AppendResult> result =
        event_log->Append(state.request);
    *latency = absl::Now() - begin;
    if (!result.ok()) return result.status();
    if (result->replayed) {
      return absl::InternalError("append unexpectedly replayed");
    }
    return absl::OkStatus();
  };
  absl::StatusOr<RunResult> result =
      RunWriters(writers, events_per_append, limits, append);
  log->reset();  // completes queued appends and closes the DB
  return result;
}

// Writes synced (WriteOptions.sync = true) WriteBatches straight to a RocksDB
// freshly created in `path` with default options: per batch, one Put of
// `value` under the next global position plus one small index key per case
// and version, each writer cycling over its own kCasesPerWriter cases.
absl::StatusOr<RunResult> RunRaw(const std::string& path, int writers,
                                 const Limits& limits,
                                 const std::string& value) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw_db = nullptr;
  absl::Status status =
      FromRocks(rocksdb::DB::Open(options, path, &raw_db), "open raw RocksDB");
  if (!status.ok()) return status;
  std::unique_ptr<rocksdb::DB> db(raw_db);

  // Appends `n` to `out` as 8 big-endian bytes (keys sort numerically).
  const auto put_u64 = [](uint64_t n, std::string* out) {
    for (int shift = 56; shift >= 0; shift -= 8) {
      out->push_back(static_cast<char>((n >> shift) & 0xFF));
    }
  };
  struct Writer {
    std::vector<uint64_t> versions = std::vector<uint64_t>(kCasesPerWriter);
    int64_t next = 0;
  };
  std::vector<Writer> states(writers);
  std::atomic<uint64_t> position{0};
  rocksdb::WriteOptions write_options;
  write_options.sync = absl::GetFlag(FLAGS_sync);

  const Operation write = [&](int w, absl::Duration* latency) {
    Writer& state = states[w];
    const int c = static_cast<int>(state.next++ % kCasesPerWriter);
    const uint64_t version = ++state.versions[c];
    const uint64_t pos = position.fetch_add(1, std::memory_order_relaxed) + 1;
    std::string event_key = "e";
    put_u64(pos, &event_key);
    std::string index_key = absl::StrFormat("c/bench-w%d-c%d/", w, c);
    put_u64(version, &index_key);
    std::string index_value;
    put_u64(pos, &index_value);
    rocksdb::WriteBatch batch;
    batch.Put(event_key, value);
    batch.Put(index_key, index_value);
    const absl::Time begin = absl::Now();
    const rocksdb::Status s = db->Write(write_options, &batch);
    *latency = absl::Now() - begin;
    return FromRocks(s, "raw RocksDB write");
  };
  absl::StatusOr<RunResult> result = RunWriters(writers, 1, limits, write);
  status = FromRocks(db->Close(), "close raw RocksDB");
  db.reset();
  if (!result.ok()) return result;
  if (!status.ok()) return status;
  return result;
}

// One reported row: a configuration and its runs.
struct Row {
  // "raw", "caseledger" (payloads encrypted) or "plain" (caseledger with
  // encryption off)
  std::string mode;
  int writers = 0;
  int events_per_append = 0;
  std::vector<RunResult> runs;

  double MedianAppendsPerSecond() const {
    std::vector<double> v;
    for (const RunResult& r : runs) v.push_back(r.AppendsPerSecond());
    return Median(v);
  }
  double MedianEventsPerSecond() const {
    std::vector<double> v;
    for (const RunResult& r : runs) v.push_back(r.EventsPerSecond());
    return Median(v);
  }
  double MedianP50Ms() const {
    std::vector<double> v;
    for (const RunResult& r : runs) {
      v.push_back(absl::ToDoubleMilliseconds(r.p50));
    }
    return Median(v);
  }
  double MedianP99Ms() const {
    std::vector<double> v;
    for (const RunResult& r : runs) {
      v.push_back(absl::ToDoubleMilliseconds(r.p99));
    }
    return Median(v);
  }
};

// Prints `cells` as a table with columns padded to a common width: the first
// column left-aligned, the others right-aligned.
void PrintTable(std::FILE* out,
                const std::vector<std::vector<std::string>>& cells) {
  std::vector<size_t> widths;
  for (const auto& row : cells) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  for (const auto& row : cells) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      const std::string pad(widths[i] - row[i].size(), ' ');
      if (i > 0) line += "  ";
      line += i == 0 ? row[i] + pad : pad + row[i];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::fprintf(out, "%s\n", line.c_str());
  }
}

// The append mode's flags, checked. Fails the process on bad values.
struct AppendConfig {
  double seconds;
  int64_t ops;
  int payload_bytes;
  std::vector<int> writer_counts;
  std::vector<int> batch_sizes;
};

AppendConfig CheckAppendFlags() {
  AppendConfig config;
  config.seconds = absl::GetFlag(FLAGS_seconds);
  config.ops = absl::GetFlag(FLAGS_ops);
  config.payload_bytes = absl::GetFlag(FLAGS_payload_bytes);
  if (!(config.seconds >= 0) || config.seconds > 86400) {
    Fail("--seconds must be in [0, 86400]");
  }
  if (config.ops < 0) Fail("--ops must be >= 0");
  if (config.seconds == 0 && config.ops == 0) {
    Fail("one of --seconds and --ops must be > 0");
  }
  if (config.payload_bytes < 64 || config.payload_bytes > 32 * 1024) {
    Fail("--payload_bytes must be in [64, 32768]");
  }
  config.writer_counts =
      ParseIntList(absl::GetFlag(FLAGS_writers), "writers", 1, 1024);
  const engine::EventLogOptions defaults;
  config.batch_sizes =
      ParseIntList(absl::GetFlag(FLAGS_batch), "batch", 1,
                   static_cast<int>(defaults.max_events_per_append));
  return config;
}

// The append mode: prints its conditions and table to `human` and returns
// its JSON members ("conditions" object and "results" array).
// Encrypted and plain sides of one comparison (medians) and the median of
// the runs' encrypted / plain ratios; zero when not measured.
struct EncryptionCost {
  double encrypted = 0;
  double plain = 0;
  double ratio = 0;
};

// Appends: `cost`, if set, gets the first configuration's encrypted / plain
// appends/s (the encryption mode runs one).
void RunAppendMode(const AppendConfig& config, int runs, std::FILE* human,
                   std::string* json_conditions, std::string* json_results,
                   EncryptionCost* cost = nullptr) {
  const double seconds = config.seconds;
  const int64_t ops = config.ops;
  const std::vector<int>& writer_counts = config.writer_counts;
  const std::vector<int>& batch_sizes = config.batch_sizes;

  Limits limits;
  if (seconds > 0) limits.duration = absl::Seconds(seconds);
  limits.max_ops = ops;

  const v1::EventPayload payload = MakeNotePayload(config.payload_bytes);
  const size_t actual_payload_bytes = payload.ByteSizeLong();
  const size_t event_bytes = MakeEvent(payload, 0).ByteSizeLong();
  std::string raw_value;
  if (!payload.SerializeToString(&raw_value)) Fail("serialize payload");

  const unsigned nproc = std::thread::hardware_concurrency();
  const std::string rocksdb_version =
      absl::StrCat(ROCKSDB_MAJOR, ".", ROCKSDB_MINOR, ".", ROCKSDB_PATCH);
  std::fprintf(human, "caseledger_bench\n");
  std::fprintf(human, "  machine:        nproc %u\n", nproc);
  std::fprintf(human, "  allocator:      %s\n",
               services::AllocatorName().c_str());
  std::fprintf(human,
               "  sync:           %s (EventLogOptions.sync, "
               "WriteOptions.sync)\n",
               absl::GetFlag(FLAGS_sync) ? "on" : "OFF (not durable)");
  std::fprintf(human,
               "  payload:        %zu bytes (NoteRecorded); event %zu bytes "
               "serialized (envelope + payload)\n",
               actual_payload_bytes, event_bytes);
  std::fprintf(
      human, "  per run:        %s%s\n",
      seconds > 0 ? absl::StrFormat("%g s", seconds).c_str() : "no time bound",
      ops > 0 ? absl::StrFormat(", at most %d appends", ops).c_str() : "");
  std::fprintf(human, "  runs:           %d (median reported)\n", runs);
  std::fprintf(human, "  writers:        %s\n",
               absl::StrJoin(writer_counts, ",").c_str());
  std::fprintf(human, "  events/append:  %s\n",
               absl::StrJoin(batch_sizes, ",").c_str());
  std::fprintf(human, "  cases/writer:   %d, ExpectedVersion::Any()\n",
               kCasesPerWriter);
  std::fprintf(
      human, "  encryption:     caseledger rows AES-256-GCM per-case keys%s\n",
      absl::GetFlag(FLAGS_compare_encryption)
          ? "; plain rows the same log with encryption off"
          : "");
  std::fprintf(human, "  RocksDB:        %s\n", rocksdb_version.c_str());
  std::fprintf(human, "  data dir:       %s (fresh subdirectory per run)\n",
               g_data_root.c_str());
  std::fflush(human);

  // rows: per writer count, the raw row then one caseledger row per batch.
  std::vector<Row> rows;
  for (int w : writer_counts) {
    rows.push_back(Row{"raw", w, 1, {}});
    for (int b : batch_sizes) {
      rows.push_back(Row{"caseledger", w, b, {}});
      if (absl::GetFlag(FLAGS_compare_encryption)) {
        rows.push_back(Row{"plain", w, b, {}});
      }
    }
  }

  // Runs are interleaved (run 1 of every configuration, then run 2, ...) so
  // that slow drift of the disk affects all configurations alike.
  for (int r = 1; r <= runs; ++r) {
    for (Row& row : rows) {
      const std::string path =
          (fs::path(g_data_root) / absl::StrFormat("%s-w%d-b%d-r%d", row.mode,
                                                   row.writers,
                                                   row.events_per_append, r))
              .string();
      absl::StatusOr<RunResult> result =
          row.mode == "raw"
              ? RunRaw(path, row.writers, limits, raw_value)
              : RunCaseledger(path, row.writers, row.events_per_append, limits,
                              payload, row.mode == "caseledger");
      CheckOk(result.status(),
              absl::StrFormat("%s run %d, %d writers, %d events/append",
                              row.mode, r, row.writers, row.events_per_append));
      if (result->appends == 0) {
        Fail(absl::StrFormat("%s run %d, %d writers: no append completed",
                             row.mode, r, row.writers));
      }
      RemoveLogAndKeys(path);
      std::fprintf(stderr,
                   "  run %d/%d %-10s writers %3d events/append %3d: "
                   "%10.1f appends/s  p50 %.3f ms  p99 %.3f ms\n",
                   r, runs, row.mode.c_str(), row.writers,
                   row.events_per_append, result->AppendsPerSecond(),
                   absl::ToDoubleMilliseconds(result->p50),
                   absl::ToDoubleMilliseconds(result->p99));
      row.runs.push_back(*result);
    }
  }

  // The raw row's median batches/s for `writers`.
  const auto raw_rate = [&](int writers) {
    for (const Row& row : rows) {
      if (row.mode == "raw" && row.writers == writers) {
        return row.MedianAppendsPerSecond();
      }
    }
    return 0.0;
  };

  // For an encrypted row: the median over runs of encrypted / plain appends/s
  // (run r of both rows ran back to back); 0 without plain rows.
  const auto vs_plain = [&](const Row& encrypted) {
    for (const Row& row : rows) {
      if (row.mode == "plain" && row.writers == encrypted.writers &&
          row.events_per_append == encrypted.events_per_append) {
        std::vector<double> ratios;
        for (size_t r = 0; r < row.runs.size(); ++r) {
          ratios.push_back(encrypted.runs[r].AppendsPerSecond() /
                           row.runs[r].AppendsPerSecond());
        }
        return Median(ratios);
      }
    }
    return 0.0;
  };

  if (cost != nullptr) {
    for (const Row& row : rows) {
      if (row.mode != "caseledger") continue;
      for (const Row& plain : rows) {
        if (plain.mode == "plain" && plain.writers == row.writers &&
            plain.events_per_append == row.events_per_append) {
          cost->encrypted = row.MedianAppendsPerSecond();
          cost->plain = plain.MedianAppendsPerSecond();
          cost->ratio = vs_plain(row);
        }
      }
      break;
    }
  }

  std::vector<std::vector<std::string>> cells;
  cells.push_back({"mode", "writers", "events/append", "appends/s", "events/s",
                   "p50 ms", "p99 ms", "raw batches/s", "ratio", "enc/plain",
                   "appends/s per run"});
  for (const Row& row : rows) {
    const double raw = raw_rate(row.writers);
    const double rate = row.MedianAppendsPerSecond();
    const double enc = row.mode == "caseledger" ? vs_plain(row) : 0.0;
    std::vector<std::string> per_run;
    for (const RunResult& r : row.runs) {
      per_run.push_back(absl::StrFormat("%.1f", r.AppendsPerSecond()));
    }
    cells.push_back({row.mode, absl::StrCat(row.writers),
                     absl::StrCat(row.events_per_append),
                     absl::StrFormat("%.1f", rate),
                     absl::StrFormat("%.1f", row.MedianEventsPerSecond()),
                     absl::StrFormat("%.3f", row.MedianP50Ms()),
                     absl::StrFormat("%.3f", row.MedianP99Ms()),
                     absl::StrFormat("%.1f", raw),
                     row.mode == "raw" ? std::string("-")
                                       : absl::StrFormat("%.2f", rate / raw),
                     enc > 0 ? absl::StrFormat("%.3f", enc) : std::string("-"),
                     absl::StrJoin(per_run, " ")});
  }
  std::fprintf(human, "\n");
  PrintTable(human, cells);
  std::fprintf(human,
               "\nratio = caseledger appends/s / raw synced batches/s at the "
               "same writer count (medians).\n"
               "enc/plain = encrypted / plain appends/s, median of the runs' "
               "ratios (target at 16 writers: >= 0.87, i.e. under 15%% "
               "slower).\n");
  std::fflush(human);

  *json_conditions = "{";
  absl::StrAppend(json_conditions, "\"nproc\":", nproc,
                  ",\"sync\":", absl::GetFlag(FLAGS_sync) ? "true" : "false",
                  ",\"payload_bytes\":", actual_payload_bytes,
                  ",\"event_bytes\":", event_bytes,
                  ",\"seconds\":", JsonNumber(seconds), ",\"ops\":", ops,
                  ",\"runs\":", runs, ",\"cases_per_writer\":", kCasesPerWriter,
                  ",\"rocksdb_version\":", JsonString(rocksdb_version), "}");
  std::string& out = *json_results;
  out = "[";
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    const double raw = raw_rate(row.writers);
    const double rate = row.MedianAppendsPerSecond();
    if (i > 0) out += ",";
    absl::StrAppend(
        &out, "{\"mode\":", JsonString(row.mode), ",\"writers\":", row.writers,
        ",\"events_per_append\":", row.events_per_append,
        ",\"appends_per_sec\":", JsonNumber(rate),
        ",\"events_per_sec\":", JsonNumber(row.MedianEventsPerSecond()),
        ",\"p50_ms\":", JsonNumber(row.MedianP50Ms()),
        ",\"p99_ms\":", JsonNumber(row.MedianP99Ms()),
        ",\"raw_batches_per_sec\":", JsonNumber(raw), ",\"ratio\":",
        row.mode == "raw" ? std::string("null") : JsonNumber(rate / raw),
        ",\"encrypted_plain_ratio\":",
        row.mode == "caseledger" && vs_plain(row) > 0
            ? JsonNumber(vs_plain(row))
            : std::string("null"),
        ",\"runs\":[");
    for (size_t j = 0; j < row.runs.size(); ++j) {
      const RunResult& r = row.runs[j];
      if (j > 0) out += ",";
      absl::StrAppend(
          &out, "{\"appends\":", r.appends, ",\"events\":", r.events,
          ",\"seconds\":", JsonNumber(absl::ToDoubleSeconds(r.elapsed)),
          ",\"appends_per_sec\":", JsonNumber(r.AppendsPerSecond()),
          ",\"p50_ms\":", JsonNumber(absl::ToDoubleMilliseconds(r.p50)),
          ",\"p99_ms\":", JsonNumber(absl::ToDoubleMilliseconds(r.p99)), "}");
    }
    out += "]}";
  }
  out += "]";
}

// ---------------------------------------------------------------------------
// Projection mode
// ---------------------------------------------------------------------------

// Targets the projection mode reports against.
constexpr double kTargetRebuildRatio = 0.25;
constexpr double kTargetPlanP99Ms = 2.0;
constexpr uint32_t kTimelinePageSize = 100;

// The projection mode's flags, checked.
struct ProjectionConfig {
  int64_t events;
  uint64_t seed;
  int queries;
  absl::Duration query_bound;
  int load_threads;
};

ProjectionConfig CheckProjectionFlags() {
  ProjectionConfig config;
  config.events = absl::GetFlag(FLAGS_events);
  config.seed = absl::GetFlag(FLAGS_seed);
  config.queries = absl::GetFlag(FLAGS_queries);
  const double query_seconds = absl::GetFlag(FLAGS_query_seconds);
  config.load_threads = absl::GetFlag(FLAGS_load_threads);
  if (config.events < 1 || config.events > 100'000'000) {
    Fail("--events must be in [1, 100000000]");
  }
  if (config.queries < 1) Fail("--queries must be >= 1");
  if (!(query_seconds > 0) || query_seconds > 3600) {
    Fail("--query_seconds must be in (0, 3600]");
  }
  config.query_bound = absl::Seconds(query_seconds);
  if (config.load_threads < 1 || config.load_threads > 64) {
    Fail("--load_threads must be in [1, 64]");
  }
  return config;
}

// The generated caseload, as loaded.
struct ProjectionSetup {
  caseload::CaseloadOptions caseload;
  int caseworkers = 0;
  uint64_t events = 0;
  absl::Duration sizing;
  absl::Duration load;
  uint64_t log_bytes = 0;
};

// One run of (a) raw read, (b) rebuild, (c) queries.
struct ProjectionRun {
  uint64_t read_events = 0;
  absl::Duration read_elapsed;
  uint64_t rebuild_events = 0;
  absl::Duration rebuild_elapsed;
  Latency plan;
  Latency timeline;
  // The same read and rebuild on the plain (unencrypted) copy of the
  // caseload; zero without --compare_encryption.
  uint64_t plain_read_events = 0;
  absl::Duration plain_read_elapsed;
  uint64_t plain_rebuild_events = 0;
  absl::Duration plain_rebuild_elapsed;

  double PlainReadRate() const {
    return plain_read_events / absl::ToDoubleSeconds(plain_read_elapsed);
  }
  double PlainRebuildRate() const {
    return plain_rebuild_events / absl::ToDoubleSeconds(plain_rebuild_elapsed);
  }
  double ReadRate() const {
    return read_events / absl::ToDoubleSeconds(read_elapsed);
  }
  double RebuildRate() const {
    return rebuild_events / absl::ToDoubleSeconds(rebuild_elapsed);
  }
  double Ratio() const { return RebuildRate() / ReadRate(); }
};

// Generates the caseload into a fresh log in `log_path` (sync off: setup,
// not measurement), flushes it and closes it.
absl::StatusOr<ProjectionSetup> SetupCaseload(const ProjectionConfig& config,
                                              const std::string& log_path,
                                              bool encrypted) {
  ProjectionSetup setup;
  setup.caseload.seed = config.seed;
  setup.caseload.load_threads = config.load_threads;
  absl::Time t0 = absl::Now();
  absl::StatusOr<int> cases = caseload::CasesForEvents(
      setup.caseload, static_cast<uint64_t>(config.events));
  if (!cases.ok()) return cases.status();
  setup.caseload.cases = *cases;
  setup.caseworkers = caseload::CaseManagerCount(setup.caseload);
  setup.sizing = absl::Now() - t0;

  engine::EventLogOptions options;
  options.path = log_path;
  options.sync = false;
  if (encrypted) EnableEncryption(options);
  absl::StatusOr<std::unique_ptr<engine::EventLog>> log =
      engine::EventLog::Open(options);
  if (!log.ok()) return log.status();
  // Progress on stderr about every tenth of the caseload.
  const uint64_t report_every =
      std::max<uint64_t>(1, static_cast<uint64_t>(config.events) / 10);
  uint64_t next_report = report_every;
  t0 = absl::Now();
  absl::Status loaded =
      caseload::LoadCaseload(**log, setup.caseload, [&](uint64_t events) {
        if (events < next_report) return;
        next_report = events + report_every;
        std::fprintf(stderr, "  setup: %llu events appended (%.0f s)\n",
                     static_cast<unsigned long long>(events),
                     absl::ToDoubleSeconds(absl::Now() - t0));
      });
  if (!loaded.ok()) return loaded;
  setup.load = absl::Now() - t0;
  setup.events = (*log)->LastPosition();
  if (absl::Status s = (*log)->Flush(); !s.ok()) return s;
  log->reset();
  setup.log_bytes = DirectoryBytes(log_path);
  return setup;
}

// Reads the whole log forward in pages of `page` events.
absl::Status MeasureRead(const engine::EventLog& log, uint32_t page,
                         ProjectionRun* run) {
  engine::ReadAllRequest request;
  request.from_position = 1;
  request.max_count = page;
  const uint64_t last = log.LastPosition();
  const absl::Time t0 = absl::Now();
  uint64_t events = 0;
  for (;;) {
    absl::StatusOr<engine::ReadPage> result = log.ReadAll(request);
    if (!result.ok()) return result.status();
    events += result->events.size();
    if (result->end || result->next > last) break;
    request.from_position = result->next;
  }
  run->read_elapsed = absl::Now() - t0;
  run->read_events = events;
  if (events != last) {
    return absl::InternalError(
        absl::StrCat("read ", events, " events of ", last));
  }
  return absl::OkStatus();
}

// Runs `query` on random cases until `count` queries or `bound` elapsed.
absl::StatusOr<Latency> MeasureQueries(
    const ProjectionSetup& setup, int count, absl::Duration bound,
    uint64_t seed,
    const std::function<absl::Status(const std::string& case_id)>& query) {
  std::mt19937_64 random(seed);
  std::vector<absl::Duration> samples;
  samples.reserve(count);
  const absl::Time deadline = absl::Now() + bound;
  for (int i = 0; i < count; ++i) {
    const std::string case_id = caseload::CaseIdOf(
        setup.caseload, static_cast<int>(random() % setup.caseload.cases));
    const absl::Time begin = absl::Now();
    absl::Status status = query(case_id);
    const absl::Time end = absl::Now();
    if (!status.ok()) return status;
    samples.push_back(end - begin);
    if (end >= deadline) break;
  }
  return Summarize(std::move(samples));
}

// Read and rebuild on the plain log (encryption cost comparison).
absl::Status RunPlainRebuild(engine::EventLog* log, const std::string& dir,
                             ProjectionRun* run) {
  projections::CaseProjectionOptions options;
  options.dir = dir;
  ProjectionRun read;
  if (absl::Status s =
          MeasureRead(*log, static_cast<uint32_t>(options.chunk_events), &read);
      !s.ok()) {
    return s;
  }
  run->plain_read_events = read.read_events;
  run->plain_read_elapsed = read.read_elapsed;
  absl::StatusOr<std::unique_ptr<projections::CaseProjection>> projection =
      projections::CaseProjection::Open(options, log);
  if (!projection.ok()) return projection.status();
  const absl::Time t0 = absl::Now();
  if (absl::Status s = (*projection)->CatchUp(); !s.ok()) return s;
  run->plain_rebuild_elapsed = absl::Now() - t0;
  run->plain_rebuild_events = (*projection)->Position();
  projection->reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("remove ", dir, ": ", ec.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<ProjectionRun> RunProjectionOnce(const ProjectionConfig& config,
                                                const ProjectionSetup& setup,
                                                engine::EventLog* log,
                                                const std::string& dir,
                                                int run_number) {
  ProjectionRun run;
  projections::CaseProjectionOptions options;
  options.dir = dir;
  if (absl::Status s =
          MeasureRead(*log, static_cast<uint32_t>(options.chunk_events), &run);
      !s.ok()) {
    return s;
  }

  absl::StatusOr<std::unique_ptr<projections::CaseProjection>> projection =
      projections::CaseProjection::Open(options, log);
  if (!projection.ok()) return projection.status();
  const absl::Time t0 = absl::Now();
  if (absl::Status s = (*projection)->CatchUp(); !s.ok()) return s;
  run.rebuild_elapsed = absl::Now() - t0;
  run.rebuild_events = (*projection)->Position();
  if (run.rebuild_events != log->LastPosition()) {
    return absl::InternalError(absl::StrCat("rebuild stopped at ",
                                            run.rebuild_events, " of ",
                                            log->LastPosition()));
  }
  for (const projections::ProjectionStatus& s : (*projection)->Status()) {
    if (s.skipped_unknown != 0 || !s.last_error.empty()) {
      return absl::InternalError(absl::StrCat(
          "projection ", s.name, ": ", s.skipped_unknown,
          " unknown events skipped, last error \"", s.last_error, "\""));
    }
  }

  const projections::CaseProjection& p = **projection;
  const uint64_t query_seed = config.seed * 1000 + run_number;
  absl::StatusOr<Latency> plan = MeasureQueries(
      setup, config.queries, config.query_bound, query_seed,
      [&](const std::string& case_id) { return p.GetPlan(case_id).status(); });
  if (!plan.ok()) return plan.status();
  run.plan = *plan;
  absl::StatusOr<Latency> timeline = MeasureQueries(
      setup, config.queries, config.query_bound, query_seed + 1,
      [&](const std::string& case_id) -> absl::Status {
        projections::TimelineQuery query;
        query.case_id = case_id;
        query.page_size = kTimelinePageSize;
        absl::StatusOr<projections::TimelinePage> page = p.GetTimeline(query);
        if (!page.ok()) return page.status();
        if (page->entries.empty()) {
          return absl::InternalError(
              absl::StrCat("empty timeline for ", case_id));
        }
        return absl::OkStatus();
      });
  if (!timeline.ok()) return timeline.status();
  run.timeline = *timeline;
  projection->reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat("remove ", dir, ": ", ec.message()));
  return run;
}

// The median over runs of `f(run)`.
template <typename F>
double MedianOf(const std::vector<ProjectionRun>& runs, F f) {
  std::vector<double> values;
  for (const ProjectionRun& run : runs) values.push_back(f(run));
  return Median(values);
}

// The projection mode: prints its conditions and table to `human` and
// returns its JSON object.
// `cost`, if set, gets the encrypted / plain rebuild rates (zero without
// --compare_encryption).
std::string RunProjectionMode(const ProjectionConfig& config, int runs,
                              std::FILE* human,
                              EncryptionCost* cost = nullptr) {
  const unsigned nproc = std::thread::hardware_concurrency();
  const std::string rocksdb_version =
      absl::StrCat(ROCKSDB_MAJOR, ".", ROCKSDB_MINOR, ".", ROCKSDB_PATCH);
  const std::string log_path = (fs::path(g_data_root) / "log").string();
  std::fprintf(stderr,
               "  setup: generating a caseload of >= %lld events (seed "
               "%llu)...\n",
               static_cast<long long>(config.events),
               static_cast<unsigned long long>(config.seed));
  absl::StatusOr<ProjectionSetup> setup =
      SetupCaseload(config, log_path, /*encrypted=*/true);
  CheckOk(setup.status(), "caseload setup");
  const bool compare = absl::GetFlag(FLAGS_compare_encryption);
  const std::string plain_path = (fs::path(g_data_root) / "log-plain").string();
  if (compare) {
    std::fprintf(stderr, "  setup: the same caseload into a plain log...\n");
    absl::StatusOr<ProjectionSetup> plain =
        SetupCaseload(config, plain_path, /*encrypted=*/false);
    CheckOk(plain.status(), "plain caseload setup");
    if (plain->events != setup->events) Fail("plain caseload differs");
  }
  const projections::CaseProjectionOptions defaults;

  std::fprintf(human, "caseledger_bench: projections\n");
  std::fprintf(human, "  machine:        nproc %u\n", nproc);
  std::fprintf(human, "  allocator:      %s\n",
               services::AllocatorName().c_str());
  std::fprintf(human, "  RocksDB:        %s\n", rocksdb_version.c_str());
  std::fprintf(human,
               "  caseload:       seed %llu: %d cases + %d caseworker "
               "streams, %llu events (--events %lld)\n",
               static_cast<unsigned long long>(config.seed),
               setup->caseload.cases, setup->caseworkers,
               static_cast<unsigned long long>(setup->events),
               static_cast<long long>(config.events));
  std::fprintf(
      human,
      "  setup:          sized in %.1f s; generated and appended in "
      "%.1f s (%.0f events/s, %d threads) with EventLogOptions.sync "
      "OFF (setup only: not measured, not durable); then flushed, "
      "closed and reopened\n",
      absl::ToDoubleSeconds(setup->sizing), absl::ToDoubleSeconds(setup->load),
      setup->events / absl::ToDoubleSeconds(setup->load), config.load_threads);
  std::fprintf(human, "  log on disk:    %.1f MiB (%.0f bytes/event)\n",
               setup->log_bytes / 1048576.0,
               static_cast<double>(setup->log_bytes) / setup->events);
  std::fprintf(human,
               "  (a) read:       ReadAll from position 1 to the end, pages "
               "of %zu events (= chunk_events)\n",
               defaults.chunk_events);
  std::fprintf(human,
               "  (b) rebuild:    fresh CaseProjection directory, CatchUp() "
               "from position 0 (chunk_events %zu, cache_cases %zu)\n",
               defaults.chunk_events, defaults.cache_cases);
  std::fprintf(human,
               "  (c) queries:    %d GetPlan, then %d GetTimeline (first "
               "page, %u entries), uniformly random cases, one thread, at "
               "most %.0f s per batch, on the store just rebuilt\n",
               config.queries, config.queries, kTimelinePageSize,
               absl::ToDoubleSeconds(config.query_bound));
  std::fprintf(human,
               "  caches:         OS page cache warm (nothing dropped); "
               "RocksDB block caches as left by the previous step\n");
  std::fprintf(human, "  runs:           %d (median reported)\n", runs);
  std::fprintf(human, "  data dir:       %s\n", g_data_root.c_str());
  std::fflush(human);

  engine::EventLogOptions log_options;
  log_options.path = log_path;
  log_options.create_if_missing = false;
  EnableEncryption(log_options);
  absl::StatusOr<std::unique_ptr<engine::EventLog>> log =
      engine::EventLog::Open(log_options);
  CheckOk(log.status(), "reopen log");
  std::unique_ptr<engine::EventLog> plain_log;
  if (compare) {
    engine::EventLogOptions plain_options;
    plain_options.path = plain_path;
    plain_options.create_if_missing = false;
    absl::StatusOr<std::unique_ptr<engine::EventLog>> opened =
        engine::EventLog::Open(plain_options);
    CheckOk(opened.status(), "reopen plain log");
    plain_log = std::move(opened).value();
  }

  std::vector<ProjectionRun> results;
  for (int r = 1; r <= runs; ++r) {
    const std::string dir =
        (fs::path(g_data_root) / absl::StrCat("projection-r", r)).string();
    absl::StatusOr<ProjectionRun> run =
        RunProjectionOnce(config, *setup, log->get(), dir, r);
    CheckOk(run.status(), absl::StrFormat("projection run %d", r));
    if (plain_log != nullptr) {
      CheckOk(RunPlainRebuild(plain_log.get(),
                              (fs::path(g_data_root) /
                               absl::StrCat("projection-plain-r", r))
                                  .string(),
                              &*run),
              absl::StrFormat("plain rebuild run %d", r));
      std::fprintf(stderr,
                   "  run %d/%d plain: read %.0f events/s; rebuild %.0f "
                   "events/s\n",
                   r, runs, run->PlainReadRate(), run->PlainRebuildRate());
    }
    std::fprintf(stderr,
                 "  run %d/%d: read %.0f events/s; rebuild %.0f events/s "
                 "(%.1f s), ratio %.3f; plan p50 %.3f p99 %.3f ms; timeline "
                 "p50 %.3f p99 %.3f ms\n",
                 r, runs, run->ReadRate(), run->RebuildRate(),
                 absl::ToDoubleSeconds(run->rebuild_elapsed), run->Ratio(),
                 Ms(run->plan.p50), Ms(run->plan.p99), Ms(run->timeline.p50),
                 Ms(run->timeline.p99));
    results.push_back(*run);
  }
  log->reset();
  plain_log.reset();

  const double read = MedianOf(results, [](auto& r) { return r.ReadRate(); });
  const double rebuild =
      MedianOf(results, [](auto& r) { return r.RebuildRate(); });
  const double ratio = MedianOf(results, [](auto& r) { return r.Ratio(); });
  const double rebuild_s = MedianOf(results, [](auto& r) {
    return absl::ToDoubleSeconds(r.rebuild_elapsed);
  });
  const double plan_p50 =
      MedianOf(results, [](auto& r) { return Ms(r.plan.p50); });
  const double plan_p99 =
      MedianOf(results, [](auto& r) { return Ms(r.plan.p99); });
  const double tl_p50 =
      MedianOf(results, [](auto& r) { return Ms(r.timeline.p50); });
  const double tl_p99 =
      MedianOf(results, [](auto& r) { return Ms(r.timeline.p99); });

  std::vector<std::vector<std::string>> cells;
  cells.push_back({"run", "read events/s", "rebuild events/s", "rebuild s",
                   "rebuild/read", "plan p50 ms", "plan p99 ms",
                   "timeline p50 ms", "timeline p99 ms", "queries"});
  for (size_t i = 0; i < results.size(); ++i) {
    const ProjectionRun& r = results[i];
    cells.push_back(
        {absl::StrCat(i + 1), absl::StrFormat("%.0f", r.ReadRate()),
         absl::StrFormat("%.0f", r.RebuildRate()),
         absl::StrFormat("%.2f", absl::ToDoubleSeconds(r.rebuild_elapsed)),
         absl::StrFormat("%.3f", r.Ratio()),
         absl::StrFormat("%.3f", Ms(r.plan.p50)),
         absl::StrFormat("%.3f", Ms(r.plan.p99)),
         absl::StrFormat("%.3f", Ms(r.timeline.p50)),
         absl::StrFormat("%.3f", Ms(r.timeline.p99)),
         absl::StrCat(r.plan.count, "+", r.timeline.count)});
  }
  cells.push_back(
      {"median", absl::StrFormat("%.0f", read),
       absl::StrFormat("%.0f", rebuild), absl::StrFormat("%.2f", rebuild_s),
       absl::StrFormat("%.3f", ratio), absl::StrFormat("%.3f", plan_p50),
       absl::StrFormat("%.3f", plan_p99), absl::StrFormat("%.3f", tl_p50),
       absl::StrFormat("%.3f", tl_p99), ""});
  std::fprintf(human, "\n");
  PrintTable(human, cells);
  const bool ratio_met = ratio >= kTargetRebuildRatio;
  const bool plan_met = plan_p99 < kTargetPlanP99Ms;
  std::fprintf(human,
               "\nrebuild/read = rebuild events/s / raw read events/s of the "
               "same run (median of the runs' ratios).\n"
               "targets: rebuild/read >= %.2f: %s (%.3f); plan p99 < %.1f "
               "ms: %s (%.3f ms)\n",
               kTargetRebuildRatio, ratio_met ? "met" : "MISSED", ratio,
               kTargetPlanP99Ms, plan_met ? "met" : "MISSED", plan_p99);
  double enc_read = 0;
  double enc_rebuild = 0;
  if (compare) {
    enc_read = MedianOf(
        results, [](auto& r) { return r.ReadRate() / r.PlainReadRate(); });
    enc_rebuild = MedianOf(results, [](auto& r) {
      return r.RebuildRate() / r.PlainRebuildRate();
    });
    std::fprintf(
        human,
        "encryption: encrypted / plain log, median of the runs' ratios: read "
        "%.3f (plain %.0f events/s), rebuild %.3f (plain %.0f events/s)\n",
        enc_read, MedianOf(results, [](auto& r) { return r.PlainReadRate(); }),
        enc_rebuild,
        MedianOf(results, [](auto& r) { return r.PlainRebuildRate(); }));
    if (cost != nullptr) {
      cost->encrypted = rebuild;
      cost->plain =
          MedianOf(results, [](auto& r) { return r.PlainRebuildRate(); });
      cost->ratio = enc_rebuild;
    }
  }
  std::fflush(human);

  std::string out = "{\"conditions\":{";
  absl::StrAppend(
      &out, "\"nproc\":", nproc,
      ",\"rocksdb_version\":", JsonString(rocksdb_version),
      ",\"seed\":", config.seed, ",\"events_target\":", config.events,
      ",\"cases\":", setup->caseload.cases,
      ",\"caseworker_streams\":", setup->caseworkers,
      ",\"events\":", setup->events, ",\"setup_sync\":false",
      ",\"setup_seconds\":", JsonNumber(absl::ToDoubleSeconds(setup->load)),
      ",\"load_threads\":", config.load_threads,
      ",\"log_bytes\":", setup->log_bytes,
      ",\"read_page_events\":", defaults.chunk_events,
      ",\"chunk_events\":", defaults.chunk_events,
      ",\"queries\":", config.queries,
      ",\"timeline_page_size\":", kTimelinePageSize, ",\"runs\":", runs,
      "},\"median\":{");
  absl::StrAppend(&out, "\"read_events_per_sec\":", JsonNumber(read),
                  ",\"rebuild_events_per_sec\":", JsonNumber(rebuild),
                  ",\"rebuild_seconds\":", JsonNumber(rebuild_s),
                  ",\"rebuild_read_ratio\":", JsonNumber(ratio),
                  ",\"plan_p50_ms\":", JsonNumber(plan_p50),
                  ",\"plan_p99_ms\":", JsonNumber(plan_p99),
                  ",\"timeline_p50_ms\":", JsonNumber(tl_p50),
                  ",\"timeline_p99_ms\":", JsonNumber(tl_p99),
                  ",\"encrypted_plain_read_ratio\":",
                  compare ? JsonNumber(enc_read) : std::string("null"),
                  ",\"encrypted_plain_rebuild_ratio\":",
                  compare ? JsonNumber(enc_rebuild) : std::string("null"), "}");
  absl::StrAppend(&out, ",\"targets\":{\"rebuild_read_ratio_min\":",
                  JsonNumber(kTargetRebuildRatio),
                  ",\"rebuild_read_ratio_met\":", ratio_met ? "true" : "false",
                  ",\"plan_p99_ms_max\":", JsonNumber(kTargetPlanP99Ms),
                  ",\"plan_p99_met\":", plan_met ? "true" : "false",
                  "},\"runs\":[");
  for (size_t i = 0; i < results.size(); ++i) {
    const ProjectionRun& r = results[i];
    if (i > 0) out += ",";
    absl::StrAppend(
        &out, "{\"read_events\":", r.read_events,
        ",\"read_seconds\":", JsonNumber(absl::ToDoubleSeconds(r.read_elapsed)),
        ",\"read_events_per_sec\":", JsonNumber(r.ReadRate()),
        ",\"rebuild_events\":", r.rebuild_events, ",\"rebuild_seconds\":",
        JsonNumber(absl::ToDoubleSeconds(r.rebuild_elapsed)),
        ",\"rebuild_events_per_sec\":", JsonNumber(r.RebuildRate()),
        ",\"rebuild_read_ratio\":", JsonNumber(r.Ratio()),
        ",\"plan_queries\":", r.plan.count,
        ",\"plan_p50_ms\":", JsonNumber(Ms(r.plan.p50)),
        ",\"plan_p99_ms\":", JsonNumber(Ms(r.plan.p99)),
        ",\"plan_max_ms\":", JsonNumber(Ms(r.plan.max)),
        ",\"timeline_queries\":", r.timeline.count,
        ",\"timeline_p50_ms\":", JsonNumber(Ms(r.timeline.p50)),
        ",\"timeline_p99_ms\":", JsonNumber(Ms(r.timeline.p99)),
        ",\"timeline_max_ms\":", JsonNumber(Ms(r.timeline.max)), "}");
  }
  out += "]}";
  return out;
}

// ---------------------------------------------------------------------------
// Server mode
// ---------------------------------------------------------------------------

// Targets the server mode reports against (from the issue).
constexpr int kTargetRatioClients = 16;
constexpr double kTargetAppendEchoRatio = 0.6;
constexpr double kTargetCatchUpEventsPerSec = 100000;
// Deadline of every measured unary call: a stuck server fails the run
// instead of hanging the benchmark.
constexpr absl::Duration kCallDeadline = absl::Seconds(30);
// Bound on connecting a client channel, and on the in-process projections'
// catch-up before the subscription runs.
constexpr absl::Duration kConnectBound = absl::Seconds(10);
constexpr absl::Duration kProjectionBound = absl::Minutes(10);
// Grace of the in-process servers' shutdown.
constexpr absl::Duration kShutdownGrace = absl::Seconds(5);

// The server mode's flags, checked.
struct ServerConfig {
  AppendConfig calls;  // seconds, ops, payload, writers, batches
  std::string server;  // empty: an in-process caseledgerd
  int64_t sub_events;  // 0: no subscription catch-up
  int sub_max_batch;
  absl::Duration sub_bound;
  uint64_t seed;
  int load_threads;
};

// OK if `address` is HOST:PORT (or [HOST]:PORT) with a loopback HOST: an
// IPv4 address in 127.0.0.0/8, ::1, or "localhost" if all of its addresses
// are loopback. Other names are refused without being resolved.
absl::Status CheckLoopbackAddress(const std::string& address) {
  const auto refuse = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--server \"", address, "\": ", why,
        " (loopback only: localhost, 127.0.0.0/8 or [::1], with a port)"));
  };
  std::string host, port_text;
  if (!address.empty() && address[0] == '[') {
    const size_t close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return refuse("not [HOST]:PORT");
    }
    host = address.substr(1, close - 1);
    port_text = address.substr(close + 2);
  } else {
    const size_t colon = address.find(':');
    if (colon == std::string::npos || address.rfind(':') != colon) {
      return refuse("not HOST:PORT");
    }
    host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
  }
  int port = 0;
  if (!absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535) {
    return refuse("bad port");
  }
  in_addr v4;
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    if ((ntohl(v4.s_addr) >> 24) == 127) return absl::OkStatus();
    return refuse("not a loopback address");
  }
  in6_addr v6;
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return absl::OkStatus();
    return refuse("not a loopback address");
  }
  if (host != "localhost") return refuse("not a loopback address");
  // Every address of localhost must be loopback.
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) {
    return refuse("cannot resolve localhost");
  }
  bool all_loopback = found != nullptr;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      all_loopback &= (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else if (a->ai_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      all_loopback &= IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) != 0;
    } else {
      all_loopback = false;
    }
  }
  ::freeaddrinfo(found);
  if (!all_loopback) return refuse("resolves to a non-loopback address");
  return absl::OkStatus();
}

ServerConfig CheckServerFlags() {
  ServerConfig config;
  config.calls = CheckAppendFlags();
  config.server = absl::GetFlag(FLAGS_server);
  config.sub_events = absl::GetFlag(FLAGS_sub_events);
  config.sub_max_batch = absl::GetFlag(FLAGS_sub_max_batch);
  const double sub_seconds = absl::GetFlag(FLAGS_sub_seconds);
  config.seed = absl::GetFlag(FLAGS_seed);
  config.load_threads = absl::GetFlag(FLAGS_load_threads);
  if (!config.server.empty()) {
    CheckOk(CheckLoopbackAddress(config.server), "bad flag");
  }
  if (config.sub_events < 0 || config.sub_events > 100'000'000) {
    Fail("--sub_events must be in [0, 100000000]");
  }
  if (config.sub_max_batch < 1 || config.sub_max_batch > 1000) {
    Fail("--sub_max_batch must be in [1, 1000]");
  }
  if (!(sub_seconds > 0) || sub_seconds > 3600) {
    Fail("--sub_seconds must be in (0, 3600]");
  }
  config.sub_bound = absl::Seconds(sub_seconds);
  if (config.load_threads < 1 || config.load_threads > 64) {
    Fail("--load_threads must be in [1, 64]");
  }
  return config;
}

absl::Status FromGrpc(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

// A client channel to `target` with a TCP connection of its own: without
// the local subchannel pool, channels with equal arguments share one
// connection. Waits until it is connected.
absl::StatusOr<std::shared_ptr<grpc::Channel>> ConnectClient(
    const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::shared_ptr<grpc::Channel> channel = services::CreateAuthChannel(
      target, grpc::InsecureChannelCredentials(), BenchToken(), "", args);
  if (!channel->WaitForConnected(
          absl::ToChronoTime(absl::Now() + kConnectBound))) {
    return absl::UnavailableError(absl::StrCat("cannot connect to ", target));
  }
  return channel;
}

// The bare echo: answers every call with its request, inline on gRPC's
// callback thread.
class EchoService final : public echo_pb::Echo::CallbackService {
 public:
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const echo_pb::EchoMessage* request,
                                 echo_pb::EchoMessage* response) override {
    response->set_data(request->data());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// The echo server, built with the server options LedgerServer uses.
struct EchoServer {
  EchoService service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

std::unique_ptr<EchoServer> StartEchoServer() {
  auto echo = std::make_unique<EchoServer>();
  const services::ServerOptions defaults;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &echo->port);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(defaults.max_receive_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             defaults.max_concurrent_streams);
  services::ApplyConnectionLimits(defaults, &builder);
  builder.RegisterService(&echo->service);
  echo->server = builder.BuildAndStart();
  if (echo->server == nullptr || echo->port == 0) {
    Fail("echo server: cannot listen on 127.0.0.1:0");
  }
  return echo;
}

// A 1..`events`-event AppendEventsRequest as client `writer` sends it: the
// append mode's events, ExpectedVersion any.
v1::AppendEventsRequest MakeAppendEventsRequest(const v1::EventPayload& payload,
                                                int events, int writer) {
  v1::AppendEventsRequest request;
  request.mutable_expected()->set_any(true);
  for (int e = 0; e < events; ++e) {
    *request.add_events() = MakeEvent(payload, writer);
  }
  return request;
}

// Case `c` of client `w`; `prefix` names the benchmark process (random)
// and the configuration run: fresh cases per configuration and run, also on
// a server that outlives the benchmark.
std::string ServerCaseId(const std::string& prefix, int w, int c) {
  return absl::StrFormat("%s-w%d-c%d", prefix, w, c);
}

// Gives each event of `request` a fresh event id (and note id, keeping the
// size) and occurred_at, as the append mode does.
void RefreshEvents(v1::AppendEventsRequest* request) {
  const absl::Time now = absl::Now();
  for (v1::Event& event : *request->mutable_events()) {
    std::string id = engine::NewEventId();
    event.mutable_payload()->mutable_note_recorded()->set_note_id(id);
    event.mutable_envelope()->set_event_id(std::move(id));
    SetTimestamp(now, event.mutable_envelope()->mutable_occurred_at());
  }
}

// Calls AppendEvents on `target` from `writers` client threads, each with
// its own channel, `batch` events per call, cycling over its own
// kCasesPerWriter cases. One unmeasured warm-up call per client first.
absl::StatusOr<RunResult> RunGrpcAppends(const std::string& target,
                                         const std::string& case_prefix,
                                         int writers, int batch,
                                         const Limits& limits,
                                         const v1::EventPayload& payload) {
  struct Client {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<v1::CaseWriter::Stub> stub;
    v1::AppendEventsRequest request;
    std::vector<std::string> case_ids;
    int64_t next = 0;
  };
  std::vector<Client> clients(writers);
  for (int w = 0; w < writers; ++w) {
    Client& client = clients[w];
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        ConnectClient(target);
    if (!channel.ok()) return channel.status();
    client.channel = *std::move(channel);
    client.stub = v1::CaseWriter::NewStub(client.channel);
    client.request = MakeAppendEventsRequest(payload, batch, w);
    for (int c = 0; c < kCasesPerWriter; ++c) {
      client.case_ids.push_back(ServerCaseId(case_prefix, w, c));
    }
  }
  const Operation append = [&](int w, absl::Duration* latency) {
    Client& client = clients[w];
    client.request.set_case_id(
        client.case_ids[client.next++ % kCasesPerWriter]);
    RefreshEvents(&client.request);
    v1::AppendEventsResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
    const absl::Time begin = absl::Now();
    const grpc::Status status =
        client.stub->AppendEvents(&context, client.request, &response);
    *latency = absl::Now() - begin;
    if (!status.ok()) return FromGrpc(status, "AppendEvents");
    if (response.replayed()) {
      return absl::InternalError("append unexpectedly replayed");
    }
    if (response.last_version() + 1 - response.first_version() !=
        static_cast<uint64_t>(batch)) {
      return absl::InternalError(absl::StrCat(
          "AppendEvents: versions ", response.first_version(), "..",
          response.last_version(), " for ", batch, " events"));
    }
    return absl::OkStatus();
  };
  for (int w = 0; w < writers; ++w) {
    absl::Duration ignored;
    if (absl::Status s = append(w, &ignored); !s.ok()) return s;
  }
  return RunWriters(writers, batch, limits, append);
}

// Calls Echo on `target` from `writers` client threads, each with its own
// channel, with `message`. One unmeasured warm-up call per client first.
absl::StatusOr<RunResult> RunGrpcEcho(const std::string& target, int writers,
                                      const Limits& limits,
                                      const echo_pb::EchoMessage& message) {
  struct Client {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<echo_pb::Echo::Stub> stub;
  };
  std::vector<Client> clients(writers);
  for (Client& client : clients) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        ConnectClient(target);
    if (!channel.ok()) return channel.status();
    client.channel = *std::move(channel);
    client.stub = echo_pb::Echo::NewStub(client.channel);
  }
  const Operation echo = [&](int w, absl::Duration* latency) {
    echo_pb::EchoMessage response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
    const absl::Time begin = absl::Now();
    const grpc::Status status =
        clients[w].stub->Echo(&context, message, &response);
    *latency = absl::Now() - begin;
    if (!status.ok()) return FromGrpc(status, "Echo");
    if (response.data().size() != message.data().size()) {
      return absl::InternalError("Echo: reply of another size");
    }
    return absl::OkStatus();
  };
  for (int w = 0; w < writers; ++w) {
    absl::Duration ignored;
    if (absl::Status s = echo(w, &ignored); !s.ok()) return s;
  }
  return RunWriters(writers, 1, limits, echo);
}

// An EchoMessage whose serialized size is `target_bytes` (or the nearest
// size the encoding allows).
echo_pb::EchoMessage MakeEchoMessage(size_t target_bytes) {
  echo_pb::EchoMessage message;
  size_t n = target_bytes;
  for (int i = 0; i < 4; ++i) {
    message.set_data(std::string(n, 'x'));
    const size_t size = message.ByteSizeLong();
    if (size == target_bytes) break;
    if (size > target_bytes) {
      const size_t over = size - target_bytes;
      n = over < n ? n - over : 0;
    } else {
      n += target_bytes - size;
    }
  }
  return message;
}

// One subscription catch-up run.
struct CatchUpRun {
  uint64_t events = 0;
  uint64_t messages = 0;
  absl::Duration elapsed;        // call start to the caught_up message
  absl::Duration first_message;  // call start to the first message
  bool caught_up = false;

  double Rate() const { return events / absl::ToDoubleSeconds(elapsed); }
};

// Subscribes to `target` from position 1 and reads until caught_up (or
// `bound`), checking that positions run 1, 2, 3, ... without a gap; then
// cancels the stream. `log_events` is the log's size: a caught-up run must
// have delivered exactly that many events.
absl::StatusOr<CatchUpRun> RunCatchUp(const std::string& target,
                                      uint64_t log_events, int max_batch,
                                      absl::Duration bound) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      ConnectClient(target);
  if (!channel.ok()) return channel.status();
  std::unique_ptr<v1::Subscriptions::Stub> stub =
      v1::Subscriptions::NewStub(*channel);
  v1::SubscribeRequest request;
  request.set_from_position(1);
  request.set_max_batch(static_cast<uint32_t>(max_batch));
  v1::SubscribeResponse response;
  grpc::ClientContext context;
  CatchUpRun run;
  absl::Status problem;
  uint64_t next = 1;
  const absl::Time t0 = absl::Now();
  context.set_deadline(absl::ToChronoTime(t0 + bound));
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      stub->Subscribe(&context, request);
  while (reader->Read(&response)) {
    if (run.messages++ == 0) run.first_message = absl::Now() - t0;
    for (const v1::Event& event : response.events()) {
      if (event.envelope().global_position() != next) {
        problem = absl::InternalError(absl::StrCat(
            "Subscribe: position ", event.envelope().global_position(),
            " where ", next, " was due"));
        break;
      }
      ++next;
    }
    if (!problem.ok()) break;
    run.events += static_cast<uint64_t>(response.events_size());
    if (response.caught_up()) {
      run.caught_up = true;
      break;
    }
  }
  run.elapsed = absl::Now() - t0;
  context.TryCancel();
  const grpc::Status status = reader->Finish();
  if (!problem.ok()) return problem;
  if (!run.caught_up &&
      status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
    return FromGrpc(status, "Subscribe");
  }
  if (run.caught_up && run.events != log_events) {
    return absl::InternalError(absl::StrCat(
        "Subscribe: caught up after ", run.events, " events of ", log_events));
  }
  return run;
}

// Starts an in-process caseledgerd on 127.0.0.1 port 0 in `data_dir`.
std::unique_ptr<services::LedgerServer> StartLedgerServer(
    const std::string& data_dir, bool sync) {
  services::ServerOptions options;
  options.data_dir = data_dir;
  options.listen = "127.0.0.1:0";
  options.log.sync = sync;
  options.plaintext_loopback = true;
  options.access.policy = BenchPolicy();
  absl::StatusOr<std::unique_ptr<services::LedgerServer>> server =
      services::LedgerServer::Start(options);
  CheckOk(server.status(), absl::StrCat("start caseledgerd in ", data_dir));
  return *std::move(server);
}

void RemoveDir(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) Fail(absl::StrCat("remove ", dir, ": ", ec.message()));
}

// The median over `row`'s runs of the process CPU time per call, in
// microseconds.
double CpuUsPerCall(const Row& row) {
  std::vector<double> v;
  for (const RunResult& r : row.runs) {
    v.push_back(absl::ToDoubleMicroseconds(r.cpu) /
                static_cast<double>(std::max<int64_t>(r.appends, 1)));
  }
  return Median(v);
}

// The JSON object of a row of calls: medians and runs.
std::string CallRowJson(const Row& row) {
  std::string out = absl::StrCat(
      "{\"writers\":", row.writers,
      ",\"events_per_call\":", row.events_per_append,
      ",\"calls_per_sec\":", JsonNumber(row.MedianAppendsPerSecond()),
      ",\"events_per_sec\":", JsonNumber(row.MedianEventsPerSecond()),
      ",\"p50_ms\":", JsonNumber(row.MedianP50Ms()),
      ",\"p99_ms\":", JsonNumber(row.MedianP99Ms()),
      ",\"process_cpu_us_per_call\":", JsonNumber(CpuUsPerCall(row)),
      ",\"runs\":[");
  for (size_t j = 0; j < row.runs.size(); ++j) {
    const RunResult& r = row.runs[j];
    if (j > 0) out += ",";
    absl::StrAppend(
        &out, "{\"calls\":", r.appends, ",\"events\":", r.events,
        ",\"process_cpu_seconds\":", JsonNumber(absl::ToDoubleSeconds(r.cpu)),
        ",\"seconds\":", JsonNumber(absl::ToDoubleSeconds(r.elapsed)),
        ",\"calls_per_sec\":", JsonNumber(r.AppendsPerSecond()),
        ",\"events_per_sec\":", JsonNumber(r.EventsPerSecond()),
        ",\"p50_ms\":", JsonNumber(absl::ToDoubleMilliseconds(r.p50)),
        ",\"p99_ms\":", JsonNumber(absl::ToDoubleMilliseconds(r.p99)), "}");
  }
  return out + "]}";
}

// The server mode: prints its conditions and tables to `human` and returns
// its JSON object.
std::string RunServerMode(const ServerConfig& config, int runs,
                          std::FILE* human) {
  const AppendConfig& calls = config.calls;
  Limits limits;
  if (calls.seconds > 0) limits.duration = absl::Seconds(calls.seconds);
  limits.max_ops = calls.ops;
  const bool external = !config.server.empty();
  const bool sync = absl::GetFlag(FLAGS_sync);
  // Random per process: case ids of this benchmark never meet older ones.
  const std::string session =
      absl::StrCat("sb", engine::NewEventId().substr(0, 8));

  const v1::EventPayload payload = MakeNotePayload(calls.payload_bytes);
  const size_t payload_bytes = payload.ByteSizeLong();
  const size_t event_bytes = MakeEvent(payload, 0).ByteSizeLong();
  v1::AppendEventsRequest sample = MakeAppendEventsRequest(payload, 1, 0);
  sample.set_case_id(ServerCaseId(absl::StrCat(session, "-r1-b1"), 0, 0));
  const size_t request_bytes = sample.ByteSizeLong();
  const echo_pb::EchoMessage echo_message = MakeEchoMessage(request_bytes);
  const size_t echo_bytes = echo_message.ByteSizeLong();

  // Setup of the catch-up (before the conditions, which report it).
  const std::string sub_dir = (fs::path(g_data_root) / "server-sub").string();
  ProjectionSetup sub;
  if (config.sub_events > 0) {
    ProjectionConfig load;
    load.events = config.sub_events;
    load.seed = config.seed;
    load.load_threads = config.load_threads;
    std::fprintf(stderr,
                 "  setup: generating a caseload of >= %lld events (seed "
                 "%llu) for the subscription catch-up...\n",
                 static_cast<long long>(config.sub_events),
                 static_cast<unsigned long long>(config.seed));
    std::error_code ec;
    fs::create_directories(sub_dir, ec);
    if (ec) Fail(absl::StrCat("create ", sub_dir, ": ", ec.message()));
    absl::StatusOr<ProjectionSetup> loaded =
        // Plain: the in-process server opens this log with its own key
        // store, where plain events (an older ledger's) read as they are.
        SetupCaseload(load, (fs::path(sub_dir) / "log").string(),
                      /*encrypted=*/false);
    CheckOk(loaded.status(), "subscription caseload setup");
    sub = *std::move(loaded);
  }

  const unsigned nproc = std::thread::hardware_concurrency();
  const services::ServerOptions server_defaults;
  std::fprintf(human, "caseledger_bench: server\n");
  std::fprintf(human,
               "  machine:        nproc %u (clients and in-process "
               "servers share these CPUs)\n",
               nproc);
  std::fprintf(human, "  allocator:      %s\n",
               services::AllocatorName().c_str());
  if (external) {
    std::fprintf(human,
                 "  appends to:     running server %s (its own sync and "
                 "options; not known to the benchmark)\n",
                 config.server.c_str());
  } else {
    std::fprintf(
        human,
        "  appends to:     in-process caseledgerd (LedgerServer), "
        "127.0.0.1 port 0, fresh data dir, sync %s, %d executor workers, "
        "max_concurrent_streams %d; its projections follow the log as in "
        "caseledgerd\n",
        sync ? "on (durable appends)" : "OFF (not durable)",
        server_defaults.workers, server_defaults.max_concurrent_streams);
  }
  std::fprintf(human,
               "  echo ceiling:   in-process callback-API Echo server "
               "(tools/bench/echo.proto), 127.0.0.1 port 0, same server "
               "options; replies with the request\n");
  std::fprintf(human,
               "  payload:        %zu bytes (NoteRecorded); event %zu bytes; "
               "1-event AppendEventsRequest %zu bytes; EchoMessage %zu bytes "
               "each way\n",
               payload_bytes, event_bytes, request_bytes, echo_bytes);
  std::fprintf(
      human, "  per run:        %s%s\n",
      calls.seconds > 0 ? absl::StrFormat("%g s", calls.seconds).c_str()
                        : "no time bound",
      calls.ops > 0 ? absl::StrFormat(", at most %d calls", calls.ops).c_str()
                    : "");
  std::fprintf(human, "  runs:           %d (median reported)\n", runs);
  std::fprintf(human,
               "  clients:        %s; each a thread with its own "
               "channel (own TCP connection), blocking unary calls, one "
               "at a time, %s deadline\n",
               absl::StrJoin(calls.writer_counts, ",").c_str(),
               absl::FormatDuration(kCallDeadline).c_str());
  std::fprintf(human, "  events/call:    %s\n",
               absl::StrJoin(calls.batch_sizes, ",").c_str());
  std::fprintf(human,
               "  cases/client:   %d, ExpectedVersion any, fresh cases per "
               "configuration and run; one unmeasured warm-up call per "
               "client\n",
               kCasesPerWriter);
  if (config.sub_events > 0) {
    std::fprintf(
        human,
        "  catch-up:       seed %llu: %d cases + %d caseworker streams, "
        "%llu events, loaded in %.1f s with sync OFF (setup only: not "
        "measured, not durable) into a separate in-process caseledgerd "
        "data dir; its projections caught up before measuring; one client "
        "subscribes from position 1, max_batch %d, until caught_up (at most "
        "%.0f s per run)\n",
        static_cast<unsigned long long>(config.seed), sub.caseload.cases,
        sub.caseworkers, static_cast<unsigned long long>(sub.events),
        absl::ToDoubleSeconds(sub.load), config.sub_max_batch,
        absl::ToDoubleSeconds(config.sub_bound));
  } else {
    std::fprintf(human, "  catch-up:       skipped (--sub_events=0)\n");
  }
  std::fprintf(human, "  data dir:       %s\n", g_data_root.c_str());
  const std::string load_start = LoadAverage();
  std::fprintf(human,
               "  load average:   %s (1/5/15 min, at start; above 0 means "
               "other processes compete for the CPUs)\n",
               load_start.c_str());
  std::fflush(human);

  // (1) and (2): appends and echo, runs interleaved.
  std::unique_ptr<EchoServer> echo = StartEchoServer();
  const std::string echo_target = absl::StrCat("127.0.0.1:", echo->port);
  const std::string append_dir =
      (fs::path(g_data_root) / "server-appends").string();
  std::unique_ptr<services::LedgerServer> ledger;
  std::string append_target = config.server;
  if (!external) {
    ledger = StartLedgerServer(append_dir, sync);
    append_target = absl::StrCat("127.0.0.1:", ledger->port());
  }

  std::vector<Row> echo_rows, append_rows;
  for (int w : calls.writer_counts) {
    echo_rows.push_back(Row{"echo", w, 1, {}});
    for (int b : calls.batch_sizes)
      append_rows.push_back(Row{"append", w, b, {}});
  }
  for (int r = 1; r <= runs; ++r) {
    for (size_t i = 0; i < calls.writer_counts.size(); ++i) {
      const int w = calls.writer_counts[i];
      Row& echo_row = echo_rows[i];
      absl::StatusOr<RunResult> result =
          RunGrpcEcho(echo_target, w, limits, echo_message);
      CheckOk(result.status(),
              absl::StrFormat("echo run %d, %d clients", r, w));
      std::fprintf(stderr,
                   "  run %d/%d echo   clients %3d events/call   -: %9.1f "
                   "calls/s  p50 %.3f ms  p99 %.3f ms\n",
                   r, runs, w, result->AppendsPerSecond(),
                   absl::ToDoubleMilliseconds(result->p50),
                   absl::ToDoubleMilliseconds(result->p99));
      echo_row.runs.push_back(*result);
      for (Row& row : append_rows) {
        if (row.writers != w) continue;
        const std::string prefix =
            absl::StrFormat("%s-r%d-b%d", session, r, row.events_per_append);
        result = RunGrpcAppends(append_target, prefix, w, row.events_per_append,
                                limits, payload);
        CheckOk(result.status(),
                absl::StrFormat("append run %d, %d clients, %d events/call", r,
                                w, row.events_per_append));
        std::fprintf(stderr,
                     "  run %d/%d append clients %3d events/call %3d: %9.1f "
                     "calls/s  p50 %.3f ms  p99 %.3f ms\n",
                     r, runs, w, row.events_per_append,
                     result->AppendsPerSecond(),
                     absl::ToDoubleMilliseconds(result->p50),
                     absl::ToDoubleMilliseconds(result->p99));
        row.runs.push_back(*result);
      }
    }
  }
  if (ledger != nullptr) {
    ledger->Shutdown(kShutdownGrace);
    ledger.reset();
    RemoveDir(append_dir);
  }
  echo->server->Shutdown(absl::ToChronoTime(absl::Now() + kShutdownGrace));
  echo->server->Wait();
  echo.reset();

  // (3) Subscription catch-up.
  std::vector<CatchUpRun> catch_ups;
  absl::Duration projections_wait;
  if (config.sub_events > 0) {
    std::unique_ptr<services::LedgerServer> server =
        StartLedgerServer(sub_dir, /*sync=*/true);
    const absl::Time t0 = absl::Now();
    if (!server->projection()->WaitForPosition(sub.events,
                                               t0 + kProjectionBound)) {
      Fail("subscription server: projections did not catch up in time");
    }
    projections_wait = absl::Now() - t0;
    std::fprintf(stderr,
                 "  setup: catch-up server's projections caught up in %.1f "
                 "s\n",
                 absl::ToDoubleSeconds(projections_wait));
    const std::string target = absl::StrCat("127.0.0.1:", server->port());
    for (int r = 1; r <= runs; ++r) {
      absl::StatusOr<CatchUpRun> run = RunCatchUp(
          target, sub.events, config.sub_max_batch, config.sub_bound);
      CheckOk(run.status(), absl::StrFormat("catch-up run %d", r));
      std::fprintf(stderr,
                   "  run %d/%d catch-up: %llu events in %llu messages, "
                   "%.2f s: %.0f events/s%s\n",
                   r, runs, static_cast<unsigned long long>(run->events),
                   static_cast<unsigned long long>(run->messages),
                   absl::ToDoubleSeconds(run->elapsed), run->Rate(),
                   run->caught_up ? "" : " (NOT caught up: time bound)");
      catch_ups.push_back(*run);
    }
    server->Shutdown(kShutdownGrace);
    server.reset();
    RemoveDir(sub_dir);
  }

  const std::string load_end = LoadAverage();

  // Tables.
  const auto echo_rate = [&](int writers) {
    for (const Row& row : echo_rows) {
      if (row.writers == writers) return row.MedianAppendsPerSecond();
    }
    return 0.0;
  };
  // Per run r: append calls/s of `row` / echo calls/s of run r at the same
  // client count (the two ran back to back, so load from elsewhere on the
  // machine affects both alike).
  const auto run_ratios = [&](const Row& row) {
    std::vector<double> ratios;
    for (const Row& e : echo_rows) {
      if (e.writers != row.writers) continue;
      for (size_t r = 0; r < row.runs.size() && r < e.runs.size(); ++r) {
        ratios.push_back(row.runs[r].AppendsPerSecond() /
                         e.runs[r].AppendsPerSecond());
      }
    }
    return ratios;
  };
  const auto per_run = [](const Row& row) {
    std::vector<std::string> out;
    for (const RunResult& r : row.runs) {
      out.push_back(absl::StrFormat("%.1f", r.AppendsPerSecond()));
    }
    return absl::StrJoin(out, " ");
  };
  std::vector<std::vector<std::string>> cells;
  cells.push_back({"call", "clients", "events/call", "calls/s", "events/s",
                   "p50 ms", "p99 ms",
                   external ? "client CPU us/call" : "CPU us/call",
                   "echo calls/s", "append/echo", "calls/s per run",
                   "append/echo per run"});
  double ratio_at_target = -1;
  for (size_t i = 0; i < calls.writer_counts.size(); ++i) {
    const int w = calls.writer_counts[i];
    const double echo_calls = echo_rate(w);
    const Row& e = echo_rows[i];
    cells.push_back(
        {"echo", absl::StrCat(w), "-", absl::StrFormat("%.1f", echo_calls), "-",
         absl::StrFormat("%.3f", e.MedianP50Ms()),
         absl::StrFormat("%.3f", e.MedianP99Ms()),
         absl::StrFormat("%.0f", CpuUsPerCall(e)), "-", "-", per_run(e), "-"});
    for (const Row& row : append_rows) {
      if (row.writers != w) continue;
      const double rate = row.MedianAppendsPerSecond();
      std::string ratio = "-", ratios_text = "-";
      if (row.events_per_append == 1) {
        const std::vector<double> ratios = run_ratios(row);
        const double median = Median(ratios);
        ratio = absl::StrFormat("%.2f", median);
        if (w == kTargetRatioClients) ratio_at_target = median;
        std::vector<std::string> texts;
        for (double x : ratios) texts.push_back(absl::StrFormat("%.2f", x));
        ratios_text = absl::StrJoin(texts, " ");
      }
      cells.push_back({"append", absl::StrCat(w),
                       absl::StrCat(row.events_per_append),
                       absl::StrFormat("%.1f", rate),
                       absl::StrFormat("%.1f", row.MedianEventsPerSecond()),
                       absl::StrFormat("%.3f", row.MedianP50Ms()),
                       absl::StrFormat("%.3f", row.MedianP99Ms()),
                       absl::StrFormat("%.0f", CpuUsPerCall(row)),
                       absl::StrFormat("%.1f", echo_calls), ratio, per_run(row),
                       ratios_text});
    }
  }
  std::fprintf(human, "\n");
  PrintTable(human, cells);
  std::fprintf(human,
               "\nappend/echo = AppendEvents calls/s (1 event per call) / "
               "Echo calls/s at the same client count in the same run (the "
               "two run back to back); median of the runs' ratios.\n%s",
               external
                   ? "client CPU us/call = this process's CPU time (client "
                     "threads; the echo server too for echo rows) per call.\n"
                   : "CPU us/call = CPU time of the whole process (client "
                     "threads and in-process server, projections included) "
                     "per call: less sensitive than calls/s to other load on "
                     "the machine.\n");

  std::vector<double> catch_up_rates;
  for (const CatchUpRun& run : catch_ups) catch_up_rates.push_back(run.Rate());
  const double catch_up_rate = Median(catch_up_rates);
  if (!catch_ups.empty()) {
    std::vector<std::vector<std::string>> sub_cells;
    sub_cells.push_back({"catch-up run", "events", "messages", "seconds",
                         "events/s", "first message ms", "caught up"});
    for (size_t i = 0; i < catch_ups.size(); ++i) {
      const CatchUpRun& run = catch_ups[i];
      sub_cells.push_back(
          {absl::StrCat(i + 1), absl::StrCat(run.events),
           absl::StrCat(run.messages),
           absl::StrFormat("%.3f", absl::ToDoubleSeconds(run.elapsed)),
           absl::StrFormat("%.0f", run.Rate()),
           absl::StrFormat("%.3f",
                           absl::ToDoubleMilliseconds(run.first_message)),
           run.caught_up ? "yes" : "NO"});
    }
    sub_cells.push_back(
        {"median", "", "", "", absl::StrFormat("%.0f", catch_up_rate), "", ""});
    std::fprintf(human, "\n");
    PrintTable(human, sub_cells);
  }

  const bool have_ratio = ratio_at_target >= 0;
  const bool ratio_met =
      have_ratio && ratio_at_target >= kTargetAppendEchoRatio;
  bool all_caught_up = !catch_ups.empty();
  for (const CatchUpRun& run : catch_ups) all_caught_up &= run.caught_up;
  const bool catch_up_met =
      all_caught_up && catch_up_rate >= kTargetCatchUpEventsPerSec;
  std::fprintf(human,
               "\ntargets: append/echo at %d clients, 1 event/call >= %.2f: %s",
               kTargetRatioClients, kTargetAppendEchoRatio,
               have_ratio ? (ratio_met ? "met" : "MISSED") : "not measured");
  if (have_ratio) std::fprintf(human, " (%.2f)", ratio_at_target);
  std::fprintf(
      human, "; catch-up >= %.0f events/s: %s", kTargetCatchUpEventsPerSec,
      catch_ups.empty() ? "not measured" : (catch_up_met ? "met" : "MISSED"));
  if (!catch_ups.empty()) std::fprintf(human, " (%.0f)", catch_up_rate);
  std::fprintf(human, "\nload average at the end: %s\n", load_end.c_str());
  std::fflush(human);

  // JSON.
  std::string out = "{\"conditions\":{";
  absl::StrAppend(
      &out, "\"nproc\":", nproc,
      ",\"target\":", JsonString(external ? "external" : "in-process"),
      ",\"server\":", external ? JsonString(config.server) : "null",
      ",\"sync\":", external ? "null" : (sync ? "true" : "false"),
      ",\"server_workers\":",
      external ? "null" : absl::StrCat(server_defaults.workers),
      ",\"max_concurrent_streams\":",
      external ? "null" : absl::StrCat(server_defaults.max_concurrent_streams),
      ",\"payload_bytes\":", payload_bytes, ",\"event_bytes\":", event_bytes,
      ",\"append_request_bytes\":", request_bytes,
      ",\"echo_message_bytes\":", echo_bytes,
      ",\"seconds\":", JsonNumber(calls.seconds), ",\"ops\":", calls.ops,
      ",\"runs\":", runs, ",\"cases_per_client\":", kCasesPerWriter,
      ",\"channels\":\"one per client thread (own TCP connection)\"",
      ",\"call_deadline_seconds\":",
      JsonNumber(absl::ToDoubleSeconds(kCallDeadline)),
      ",\"loadavg_start\":", JsonString(load_start),
      ",\"loadavg_end\":", JsonString(load_end), "}");
  out += ",\"echo\":[";
  for (size_t i = 0; i < echo_rows.size(); ++i) {
    if (i > 0) out += ",";
    out += CallRowJson(echo_rows[i]);
  }
  out += "],\"appends\":[";
  for (size_t i = 0; i < append_rows.size(); ++i) {
    if (i > 0) out += ",";
    out += CallRowJson(append_rows[i]);
  }
  out += "],\"append_echo_ratio\":[";
  bool first = true;
  for (const Row& row : append_rows) {
    if (row.events_per_append != 1) continue;
    if (!first) out += ",";
    first = false;
    const double echo_calls = echo_rate(row.writers);
    const std::vector<double> ratios = run_ratios(row);
    std::vector<std::string> texts;
    for (double x : ratios) texts.push_back(JsonNumber(x));
    absl::StrAppend(
        &out, "{\"writers\":", row.writers,
        ",\"append_calls_per_sec\":", JsonNumber(row.MedianAppendsPerSecond()),
        ",\"echo_calls_per_sec\":", JsonNumber(echo_calls),
        ",\"ratio\":", JsonNumber(Median(ratios)), ",\"run_ratios\":[",
        absl::StrJoin(texts, ","), "]}");
  }
  out += "],\"subscription\":";
  if (catch_ups.empty()) {
    out += "null";
  } else {
    absl::StrAppend(
        &out, "{\"seed\":", config.seed, ",\"cases\":", sub.caseload.cases,
        ",\"caseworker_streams\":", sub.caseworkers, ",\"events\":", sub.events,
        ",\"load_sync\":false",
        ",\"load_seconds\":", JsonNumber(absl::ToDoubleSeconds(sub.load)),
        ",\"projections_wait_seconds\":",
        JsonNumber(absl::ToDoubleSeconds(projections_wait)),
        ",\"max_batch\":", config.sub_max_batch, ",\"bound_seconds\":",
        JsonNumber(absl::ToDoubleSeconds(config.sub_bound)),
        ",\"events_per_sec\":", JsonNumber(catch_up_rate), ",\"runs\":[");
    for (size_t i = 0; i < catch_ups.size(); ++i) {
      const CatchUpRun& run = catch_ups[i];
      if (i > 0) out += ",";
      absl::StrAppend(
          &out, "{\"events\":", run.events, ",\"messages\":", run.messages,
          ",\"seconds\":", JsonNumber(absl::ToDoubleSeconds(run.elapsed)),
          ",\"events_per_sec\":", JsonNumber(run.Rate()),
          ",\"first_message_ms\":",
          JsonNumber(absl::ToDoubleMilliseconds(run.first_message)),
          ",\"caught_up\":", run.caught_up ? "true" : "false", "}");
    }
    out += "]}";
  }
  absl::StrAppend(
      &out, ",\"targets\":{\"append_echo_ratio_clients\":", kTargetRatioClients,
      ",\"append_echo_ratio_min\":", JsonNumber(kTargetAppendEchoRatio),
      ",\"append_echo_ratio\":",
      have_ratio ? JsonNumber(ratio_at_target) : "null",
      ",\"append_echo_ratio_met\":",
      have_ratio ? (ratio_met ? "true" : "false") : "null",
      ",\"catch_up_events_per_sec_min\":",
      JsonNumber(kTargetCatchUpEventsPerSec), ",\"catch_up_met\":",
      catch_ups.empty() ? "null" : (catch_up_met ? "true" : "false"), "}}");
  return out;
}

// Removes the data directory and, with --json, prints `json` on stdout.
void FinishRun(bool json, const std::string& out) {
  std::error_code ec;
  fs::remove_all(g_data_root, ec);
  if (ec) Fail(absl::StrCat("remove ", g_data_root, ": ", ec.message()));
  g_data_root.clear();
  if (json) {
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
  }
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Measures durable caseledger appends/s and latency for several writer "
      "counts and events per append, against synced raw RocksDB "
      "WriteBatches (--mode=append); or the log's read rate, the projection "
      "rebuild rate and plan/timeline query latency on a generated caseload "
      "(--mode=projections); or gRPC appends against a bare gRPC echo and "
      "the subscription catch-up rate (--mode=server); or all three "
      "(--mode=all); or a bounded mixed load against caseledgerd "
      "(--mode=load); or caseledger against PostgreSQL (--mode=compare, "
      "see tools/compare_postgres.sh); or growth from 100 thousand to 10 "
      "million events (--mode=scale).\nUsage: caseledger_bench "
      "[--mode=append|projections|server|load|compare|scale|all] [--dir=D] "
      "[--runs=3] [--json] "
      "[append, server: --seconds=3 --ops=N --writers=1,16,64 --batch=1,10] "
      "[projections: --events=1000000 --seed=1 --queries=20000] "
      "[server: --server=HOST:PORT --sub_events=200000 --sub_max_batch=500]");
  // As caseledgerd does: no per-lock deadlock-cycle checks (a debugging aid
  // Debian's Abseil enables), for the in-process servers and the clients.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    Fail(absl::StrCat("unexpected argument: ", positional[1]));
  }

  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode != "append" && mode != "projections" && mode != "server" &&
      mode != "all" && mode != "scale" && mode != "load" && mode != "compare" &&
      mode != "encryption" && mode != "caseresume") {
    Fail(
        "--mode must be append, projections, server, load, compare, scale, "
        "encryption, caseresume or all");
  }
  const bool encryption = mode == "encryption";
  if (encryption) {
    if (!absl::GetFlag(FLAGS_compare_encryption)) {
      Fail(
          "--mode=encryption compares with and without encryption; drop "
          "--nocompare_encryption");
    }
    // One configuration, the issue's target, unless another value is given
    // (a flag still at its default counts as not given).
    const auto unset = [](absl::string_view name) {
      const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
      return flag != nullptr && flag->CurrentValue() == flag->DefaultValue();
    };
    if (unset("writers")) absl::SetFlag(&FLAGS_writers, "16");
    if (unset("batch")) absl::SetFlag(&FLAGS_batch, "1");
    if (unset("events")) absl::SetFlag(&FLAGS_events, 100000);
  }
  const bool append = mode == "append" || mode == "all" || encryption;
  const bool project = mode == "projections" || mode == "all" || encryption;
  const bool serve = mode == "server" || mode == "all";
  const int runs = absl::GetFlag(FLAGS_runs);
  const bool json = absl::GetFlag(FLAGS_json);
  if (runs < 1) Fail("--runs must be >= 1");
  AppendConfig append_config;
  if (append) append_config = CheckAppendFlags();
  ProjectionConfig projection_config;
  if (project) projection_config = CheckProjectionFlags();
  ServerConfig server_config;
  if (serve) server_config = CheckServerFlags();

  // The data directory: a fresh mkdtemp directory under --dir or the
  // system temporary directory, removed at the end.
  std::string parent = absl::GetFlag(FLAGS_dir);
  if (parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  } else {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) Fail(absl::StrCat("--dir ", parent, ": ", ec.message()));
  }
  std::string tmpl = (fs::path(parent) / "caseledger_bench.XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    Fail(absl::StrCat("mkdtemp in ", parent, ": ", std::strerror(errno)));
  }
  g_data_root = tmpl;

  std::FILE* human = json ? stderr : stdout;
  if (mode == "caseresume") {
    CaseResumeConfig config;
    config.case_events = absl::GetFlag(FLAGS_case_events);
    config.reads = absl::GetFlag(FLAGS_case_reads);
    config.runs = runs;
    if (config.case_events < 100 || config.case_events > 10'000'000 ||
        config.reads < 1) {
      Fail("caseresume: --case_events in [100, 10000000], --case_reads >= 1");
    }
    absl::StatusOr<std::string> out =
        RunCaseResumeMode(config, g_data_root, human);
    CheckOk(out.status(), "caseresume");
    FinishRun(
        json,
        absl::StrCat("{\"mode\":\"caseresume\",\"caseresume\":", *out, "}\n"));
    return 0;
  }
  if (mode == "scale") {
    ScaleConfig config;
    config.stages.clear();
    for (int64_t stage : ParseIntList<int64_t>(absl::GetFlag(FLAGS_stages),
                                               "stages", 1, 100'000'000)) {
      if (!config.stages.empty() && stage <= config.stages.back()) {
        Fail("--stages must be ascending");
      }
      config.stages.push_back(stage);
    }
    config.cases = absl::GetFlag(FLAGS_scale_cases);
    if (config.cases < 1 || config.cases > 1'000'000) {
      Fail("--scale_cases must be in [1, 1000000]");
    }
    config.seed = absl::GetFlag(FLAGS_seed);
    config.load_threads = absl::GetFlag(FLAGS_load_threads);
    if (config.load_threads < 1 || config.load_threads > 64) {
      Fail("--load_threads must be in [1, 64]");
    }
    config.writers =
        ParseIntList(absl::GetFlag(FLAGS_writers), "writers", 1, 1024).front();
    const double seconds = absl::GetFlag(FLAGS_seconds);
    if (!(seconds > 0) || seconds > 600) Fail("--seconds must be in (0, 600]");
    config.append_time = absl::Seconds(seconds);
    config.queries = absl::GetFlag(FLAGS_queries);
    if (config.queries < 1) Fail("--queries must be >= 1");
    config.query_bound = absl::Seconds(absl::GetFlag(FLAGS_query_seconds));
    const double rebuild_seconds = absl::GetFlag(FLAGS_rebuild_seconds);
    if (!(rebuild_seconds > 0) || rebuild_seconds > 86400) {
      Fail("--rebuild_seconds must be in (0, 86400]");
    }
    config.rebuild_bound = absl::Seconds(rebuild_seconds);
    config.existing_log = absl::GetFlag(FLAGS_scale_log);
    absl::StatusOr<std::string> out = RunScaleMode(config, g_data_root, human);
    CheckOk(out.status(), "scale");
    FinishRun(json,
              absl::StrCat("{\"mode\":\"scale\",\"scale\":", *out, "}\n"));
    return 0;
  }
  if (mode == "load") {
    LoadConfig config;
    config.caseledgerd = absl::GetFlag(FLAGS_caseledgerd);
    const double seconds = absl::GetFlag(FLAGS_seconds);
    if (!(seconds > 0) || seconds > 3600) {
      Fail("--seconds must be in (0, 3600]");
    }
    config.duration = absl::Seconds(seconds);
    if (absl::GetFlag(FLAGS_ops) > 0) config.max_ops = absl::GetFlag(FLAGS_ops);
    config.case_managers = absl::GetFlag(FLAGS_case_managers);
    config.readers = absl::GetFlag(FLAGS_readers);
    config.analysts = absl::GetFlag(FLAGS_analysts);
    config.subscribers = absl::GetFlag(FLAGS_subscribers);
    config.demo_cases = absl::GetFlag(FLAGS_demo_cases);
    config.seed = absl::GetFlag(FLAGS_seed);
    const double sample = absl::GetFlag(FLAGS_sample_seconds);
    if (config.case_managers < 1 || config.case_managers > 256 ||
        config.readers < 0 || config.readers > 64 || config.analysts < 0 ||
        config.analysts > 64 || config.subscribers < 0 ||
        config.subscribers > 32 || config.demo_cases < 1 ||
        config.demo_cases > 100000 || !(sample > 0)) {
      Fail(
          "load: --case_managers in [1, 256], --readers and --analysts in "
          "[0, 64], --subscribers in [0, 32], --demo_cases in [1, 100000], "
          "--sample_seconds > 0");
    }
    config.sample_every = absl::Seconds(sample);
    absl::StatusOr<std::string> out = RunLoadMode(config, g_data_root, human);
    CheckOk(out.status(), "load");
    FinishRun(json, absl::StrCat("{\"mode\":\"load\",\"load\":", *out, "}\n"));
    return 0;
  }
  if (mode == "compare") {
    CompareConfig config;
    config.pg_conninfo = absl::GetFlag(FLAGS_pg);
    if (config.pg_conninfo.empty()) {
      Fail("--mode=compare needs --pg (see tools/compare_postgres.sh)");
    }
    config.writers =
        ParseIntList(absl::GetFlag(FLAGS_writers), "writers", 1, 256);
    config.batches = ParseIntList(absl::GetFlag(FLAGS_batch), "batch", 1, 100);
    const double seconds = absl::GetFlag(FLAGS_seconds);
    if (!(seconds > 0) || seconds > 600) Fail("--seconds must be in (0, 600]");
    config.seconds = absl::Seconds(seconds);
    config.runs = runs;
    config.payload_bytes = absl::GetFlag(FLAGS_payload_bytes);
    config.read_events = absl::GetFlag(FLAGS_read_events);
    if (config.read_events < 10 || config.read_events % 10 != 0 ||
        config.read_events > 100000) {
      Fail("--read_events must be a multiple of 10 in [10, 100000]");
    }
    absl::StatusOr<std::string> out =
        RunCompareMode(config, g_data_root, human);
    CheckOk(out.status(), "compare");
    FinishRun(json,
              absl::StrCat("{\"mode\":\"compare\",\"compare\":", *out, "}\n"));
    return 0;
  }
  std::string append_conditions, append_results, projection_json, server_json;
  EncryptionCost append_cost;
  EncryptionCost rebuild_cost;
  if (append) {
    RunAppendMode(append_config, runs, human, &append_conditions,
                  &append_results, &append_cost);
  }
  if (project) {
    if (append) std::fprintf(human, "\n");
    projection_json =
        RunProjectionMode(projection_config, runs, human, &rebuild_cost);
  }
  if (encryption) {
    std::fprintf(
        human,
        "\nencryption cost, one run (medians; enc/plain = median of the runs' "
        "encrypted / plain ratios):\n"
        "  appends (%d writers x %d events, sync %s): encrypted %.1f "
        "appends/s, plain %.1f, enc/plain %.3f (target >= 0.87, i.e. under "
        "15%% slower: %s)\n"
        "  rebuild (caseload of --events %lld): encrypted %.0f events/s, plain "
        "%.0f, "
        "enc/plain %.3f\n",
        append_config.writer_counts.front(), append_config.batch_sizes.front(),
        absl::GetFlag(FLAGS_sync) ? "on" : "off", append_cost.encrypted,
        append_cost.plain, append_cost.ratio,
        append_cost.ratio >= 0.87 ? "met" : "MISSED",
        static_cast<long long>(projection_config.events),
        rebuild_cost.encrypted, rebuild_cost.plain, rebuild_cost.ratio);
    std::fflush(human);
  }
  if (serve) {
    if (append || project) std::fprintf(human, "\n");
    server_json = RunServerMode(server_config, runs, human);
  }

  std::error_code ec;
  fs::remove_all(g_data_root, ec);
  if (ec) Fail(absl::StrCat("remove ", g_data_root, ": ", ec.message()));
  g_data_root.clear();

  if (json) {
    std::string out;
    if (mode == "append") {
      out = absl::StrCat("{\"conditions\":", append_conditions,
                         ",\"results\":", append_results, "}\n");
    } else if (mode == "projections") {
      out = absl::StrCat(
          "{\"mode\":\"projections\",\"projections\":", projection_json, "}\n");
    } else if (mode == "server") {
      out =
          absl::StrCat("{\"mode\":\"server\",\"server\":", server_json, "}\n");
    } else if (encryption) {
      const auto cost = [](const EncryptionCost& c) {
        return absl::StrCat("{\"encrypted\":", JsonNumber(c.encrypted),
                            ",\"plain\":", JsonNumber(c.plain),
                            ",\"encrypted_plain_ratio\":", JsonNumber(c.ratio),
                            "}");
      };
      out = absl::StrCat(
          "{\"mode\":\"encryption\",\"conditions\":", append_conditions,
          ",\"results\":", append_results, ",\"projections\":", projection_json,
          ",\"encryption\":{\"appends_per_sec\":", cost(append_cost),
          ",\"rebuild_events_per_sec\":", cost(rebuild_cost), "}}\n");
    } else {
      out = absl::StrCat("{\"mode\":\"all\",\"conditions\":", append_conditions,
                         ",\"results\":", append_results,
                         ",\"projections\":", projection_json,
                         ",\"server\":", server_json, "}\n");
    }
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace caseledger::bench

int main(int argc, char** argv) { return caseledger::bench::Main(argc, argv); }
