// caseledger_bench: durable append throughput and latency of the caseledger
// event log, next to the raw rate of synced single-event RocksDB WriteBatches
// on the same machine and disk. Not part of the test suite.
//
// For every writer count W (--writers) and events-per-append B (--batch), W
// threads each call EventLog::Append in a loop, each cycling over its own 100
// cases with ExpectedVersion::Any(), on a fresh data directory with sync on.
// For every W, W threads also write synced single-event WriteBatches straight
// to a fresh RocksDB. Each configuration runs --runs times, for --seconds
// and/or --ops appends; the table reports the median of the runs and each
// run's figure.
//
// Output: the conditions and an aligned table on stdout. With --json, the
// human output moves to stderr and stdout carries one JSON object only.
//
// Exit status: 0 on success; 1 (with a message on stderr) on bad flags or any
// failed operation.

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
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
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
#include "caseledger/v1/events.pb.h"
#include "engine/event_log.h"
#include "engine/ids.h"
#include "engine/options.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/version.h"
#include "rocksdb/write_batch.h"

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
ABSL_FLAG(bool, json, false,
          "Print one JSON summary object on stdout; the human-readable "
          "output then goes to stderr.");

namespace caseledger::bench {
namespace {

namespace fs = std::filesystem;

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
std::vector<int> ParseIntList(const std::string& text, const char* flag,
                              int min, int max) {
  std::vector<int> values;
  for (absl::string_view part :
       absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    int value = 0;
    if (!absl::SimpleAtoi(part, &value) || value < min || value > max) {
      Fail(absl::StrFormat("--%s: \"%s\" is not an integer in [%d, %d]", flag,
                           std::string(part), min, max));
    }
    values.push_back(value);
  }
  if (values.empty()) Fail(absl::StrFormat("--%s: empty list", flag));
  return values;
}

// Returns the median of `values` (mean of the middle two for an even count);
// 0 for none.
double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// The nearest-rank `p`-quantile (0 < p <= 1) of ascending `sorted`; zero
// for an empty vector.
absl::Duration Percentile(const std::vector<absl::Duration>& sorted, double p) {
  if (sorted.empty()) return absl::ZeroDuration();
  size_t rank = static_cast<size_t>(std::ceil(p * sorted.size()));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t seconds = absl::ToUnixSeconds(t);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(seconds)) /
                                      absl::Nanoseconds(1)));
}

// Returns a NoteRecorded payload whose serialized size is `target_bytes`
// (or as close as the encoding allows). Its note id has the fixed length of
// an event id, so replacing it with another event id keeps the size.
v1::EventPayload MakeNotePayload(size_t target_bytes) {
  static constexpr char kSentence[] =
      "Met the client at home; we reviewed the housing goal, agreed the next "
      "plan step with her sister, and booked a follow-up visit. ";
  v1::EventPayload payload;
  v1::NoteRecorded* note = payload.mutable_note_recorded();
  note->set_note_id(engine::NewEventId());
  size_t text_bytes = target_bytes;
  for (int i = 0; i < 4; ++i) {
    std::string text;
    while (text.size() < text_bytes) text += kSentence;
    text.resize(text_bytes);
    note->set_text(text);
    const size_t size = payload.ByteSizeLong();
    if (size == target_bytes) break;
    if (size > target_bytes) {
      const size_t over = size - target_bytes;
      text_bytes = over < text_bytes ? text_bytes - over : 0;
    } else {
      text_bytes += target_bytes - size;
    }
  }
  return payload;
}

// A client-side event as engine/event_log.h requires: fresh event id,
// occurred_at, actor, schema_version 1, payload; server fields empty.
v1::Event MakeEvent(const v1::EventPayload& payload, int writer) {
  v1::Event event;
  v1::EventEnvelope* envelope = event.mutable_envelope();
  envelope->set_event_id(engine::NewEventId());
  envelope->set_schema_version(1);
  SetTimestamp(absl::Now(), envelope->mutable_occurred_at());
  v1::Actor* actor = envelope->mutable_actor();
  actor->set_user_id(absl::StrCat("bench-cm-", writer));
  actor->set_role("caseworker");
  actor->set_organization("bench-org");
  envelope->set_source("caseledger_bench");
  *event.mutable_payload() = payload;
  return event;
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

  double AppendsPerSecond() const {
    return appends / absl::ToDoubleSeconds(elapsed);
  }
  double EventsPerSecond() const {
    return events / absl::ToDoubleSeconds(elapsed);
  }
};

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

  const absl::Time t0 = absl::Now();
  deadline = t0 + limits.duration;  // published by Notify()
  start.Notify();
  for (std::thread& thread : threads) thread.join();
  const absl::Time t1 = absl::Now();
  if (!first_error.ok()) return first_error;

  std::vector<absl::Duration> all;
  for (const auto& mine : latencies)
    all.insert(all.end(), mine.begin(), mine.end());
  std::sort(all.begin(), all.end());
  RunResult result;
  result.appends = static_cast<int64_t>(all.size());
  result.events = result.appends * events_per_op;
  result.elapsed = t1 - t0;
  result.p50 = Percentile(all, 0.50);
  result.p99 = Percentile(all, 0.99);
  return result;
}

// Appends to a caseledger EventLog freshly opened in `path` (sync on): each
// writer appends `events_per_append` copies of `payload` per call, cycling
// over its own kCasesPerWriter cases with ExpectedVersion::Any().
absl::StatusOr<RunResult> RunCaseledger(const std::string& path, int writers,
                                        int events_per_append,
                                        const Limits& limits,
                                        const v1::EventPayload& payload) {
  engine::EventLogOptions options;
  options.path = path;
  options.create_if_missing = true;
  options.sync = absl::GetFlag(FLAGS_sync);
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
  std::string mode;  // "caseledger" or "raw"
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

// Returns `s` as a JSON string literal.
std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<int>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  return out + "\"";
}

std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "null";
  return absl::StrFormat("%.6g", value);
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Measures durable caseledger appends/s and latency for several writer "
      "counts and events per append, against synced raw RocksDB "
      "WriteBatches.\nUsage: caseledger_bench [--dir=D] [--seconds=3] "
      "[--ops=N] [--writers=1,16,64] [--batch=1,10] [--runs=3] [--json]");
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    Fail(absl::StrCat("unexpected argument: ", positional[1]));
  }

  const double seconds = absl::GetFlag(FLAGS_seconds);
  const int64_t ops = absl::GetFlag(FLAGS_ops);
  const int runs = absl::GetFlag(FLAGS_runs);
  const int payload_bytes = absl::GetFlag(FLAGS_payload_bytes);
  const bool json = absl::GetFlag(FLAGS_json);
  if (!(seconds >= 0) || seconds > 86400) {
    Fail("--seconds must be in [0, 86400]");
  }
  if (ops < 0) Fail("--ops must be >= 0");
  if (seconds == 0 && ops == 0) Fail("one of --seconds and --ops must be > 0");
  if (runs < 1) Fail("--runs must be >= 1");
  if (payload_bytes < 64 || payload_bytes > 32 * 1024) {
    Fail("--payload_bytes must be in [64, 32768]");
  }
  const std::vector<int> writer_counts =
      ParseIntList(absl::GetFlag(FLAGS_writers), "writers", 1, 1024);
  const engine::EventLogOptions defaults;
  const std::vector<int> batch_sizes =
      ParseIntList(absl::GetFlag(FLAGS_batch), "batch", 1,
                   static_cast<int>(defaults.max_events_per_append));

  Limits limits;
  if (seconds > 0) limits.duration = absl::Seconds(seconds);
  limits.max_ops = ops;

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

  const v1::EventPayload payload = MakeNotePayload(payload_bytes);
  const size_t actual_payload_bytes = payload.ByteSizeLong();
  const size_t event_bytes = MakeEvent(payload, 0).ByteSizeLong();
  std::string raw_value;
  if (!payload.SerializeToString(&raw_value)) Fail("serialize payload");

  std::FILE* human = json ? stderr : stdout;
  const unsigned nproc = std::thread::hardware_concurrency();
  const std::string rocksdb_version =
      absl::StrCat(ROCKSDB_MAJOR, ".", ROCKSDB_MINOR, ".", ROCKSDB_PATCH);
  std::fprintf(human, "caseledger_bench\n");
  std::fprintf(human, "  machine:        nproc %u\n", nproc);
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
  std::fprintf(human, "  RocksDB:        %s\n", rocksdb_version.c_str());
  std::fprintf(human, "  data dir:       %s (fresh subdirectory per run)\n",
               g_data_root.c_str());
  std::fflush(human);

  // rows: per writer count, the raw row then one caseledger row per batch.
  std::vector<Row> rows;
  for (int w : writer_counts) {
    rows.push_back(Row{"raw", w, 1, {}});
    for (int b : batch_sizes) rows.push_back(Row{"caseledger", w, b, {}});
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
                              payload);
      CheckOk(result.status(),
              absl::StrFormat("%s run %d, %d writers, %d events/append",
                              row.mode, r, row.writers, row.events_per_append));
      if (result->appends == 0) {
        Fail(absl::StrFormat("%s run %d, %d writers: no append completed",
                             row.mode, r, row.writers));
      }
      std::error_code ec;
      fs::remove_all(path, ec);
      if (ec) Fail(absl::StrCat("remove ", path, ": ", ec.message()));
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

  std::error_code ec;
  fs::remove_all(g_data_root, ec);
  if (ec) Fail(absl::StrCat("remove ", g_data_root, ": ", ec.message()));
  g_data_root.clear();

  // The raw row's median batches/s for `writers`.
  const auto raw_rate = [&](int writers) {
    for (const Row& row : rows) {
      if (row.mode == "raw" && row.writers == writers) {
        return row.MedianAppendsPerSecond();
      }
    }
    return 0.0;
  };

  std::vector<std::vector<std::string>> cells;
  cells.push_back({"mode", "writers", "events/append", "appends/s", "events/s",
                   "p50 ms", "p99 ms", "raw batches/s", "ratio",
                   "appends/s per run"});
  for (const Row& row : rows) {
    const double raw = raw_rate(row.writers);
    const double rate = row.MedianAppendsPerSecond();
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
                     absl::StrJoin(per_run, " ")});
  }
  std::fprintf(human, "\n");
  PrintTable(human, cells);
  std::fprintf(human,
               "\nratio = caseledger appends/s / raw synced batches/s at the "
               "same writer count (medians).\n");
  std::fflush(human);

  if (json) {
    std::string out = "{\"conditions\":{";
    absl::StrAppend(&out, "\"nproc\":", nproc,
                    ",\"sync\":", absl::GetFlag(FLAGS_sync) ? "true" : "false",
                    ",\"payload_bytes\":", actual_payload_bytes,
                    ",\"event_bytes\":", event_bytes,
                    ",\"seconds\":", JsonNumber(seconds), ",\"ops\":", ops,
                    ",\"runs\":", runs,
                    ",\"cases_per_writer\":", kCasesPerWriter,
                    ",\"rocksdb_version\":", JsonString(rocksdb_version),
                    "},\"results\":[");
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& row = rows[i];
      const double raw = raw_rate(row.writers);
      const double rate = row.MedianAppendsPerSecond();
      if (i > 0) out += ",";
      absl::StrAppend(
          &out, "{\"mode\":", JsonString(row.mode),
          ",\"writers\":", row.writers,
          ",\"events_per_append\":", row.events_per_append,
          ",\"appends_per_sec\":", JsonNumber(rate),
          ",\"events_per_sec\":", JsonNumber(row.MedianEventsPerSecond()),
          ",\"p50_ms\":", JsonNumber(row.MedianP50Ms()),
          ",\"p99_ms\":", JsonNumber(row.MedianP99Ms()),
          ",\"raw_batches_per_sec\":", JsonNumber(raw), ",\"ratio\":",
          row.mode == "raw" ? std::string("null") : JsonNumber(rate / raw),
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
    out += "]}\n";
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace caseledger::bench

int main(int argc, char** argv) { return caseledger::bench::Main(argc, argv); }
