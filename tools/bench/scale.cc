// caseledger_bench --mode=scale: one log grown stage by stage (e.g. 100
// thousand, 1 million, 10 million events of the demo caseload) and, at each
// stage, the same measurements: durable append rate, case read latency,
// projection rebuild rate, plan query latency, disk use and memory.
//
// Per stage, in this order:
//  1. load: streams of the generated caseload (tools/caseload, in stream
//     order, on load_threads threads, whole streams) are appended with
//     EventLogOptions.sync OFF until the log holds the stage's events
//     (setup: reported, never quoted as durable); flush and close.
//  2. disk: bytes of the log directory.
//  3. read: the log reopened with sync ON; ReadCase of whole random loaded
//     cases (pages of up to 1,000 events), one thread: p50/p99.
//  4. append: `writers` threads x 1 event (~400-byte note), durable, for
//     append_time, to cases of their own; these events stay in the log
//     (the next stage's load counts them). Skipped for an existing log
//     (--scale_log): the bench never writes a log it did not create.
//  5. memory: this process's VmRSS (log open, caches as left by 3-4).
//     Steps 1-5 are printed on stderr before the rebuild starts.
//  6. rebuild: a fresh CaseProjection directory catching up from position
//     0 in the background, for at most rebuild_bound: events/s, the
//     position reached (a rebuild cut short says so), its bytes.
//  7. plan: if the rebuild completed, GetPlan on random loaded cases, one
//     thread: p50/p99; then RSS again (log and projection open).
// The projection directory is removed after each stage.

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "engine/event_log.h"
#include "engine/ids.h"
#include "engine/options.h"
#include "projections/case_projection.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/modes.h"
#include "tools/caseload/caseload.h"

namespace caseledger::bench {
namespace {

namespace fs = std::filesystem;
namespace v1 = ::caseledger::v1;

struct Stage {
  int64_t target = 0;
  uint64_t events = 0;  // in the log after the load
  int cases_loaded = 0;
  absl::Duration load_time;
  uint64_t load_events = 0;  // appended by this stage's load
  uint64_t log_bytes = 0;
  Latency read;
  double read_events_per_case = 0;
  double rebuild_rate = 0;
  absl::Duration rebuild_time;
  uint64_t rebuilt = 0;  // position the rebuild reached (< events: cut short)
  uint64_t memory_with_projection = 0;  // RSS after the rebuild and queries
  uint64_t projection_bytes = 0;
  Latency plan;
  Memory memory;
  bool appends_measured = false;  // false for an existing log
  double append_rate = 0;
  Latency append;
};

absl::StatusOr<std::unique_ptr<engine::EventLog>> OpenLog(
    const std::string& path, bool sync) {
  engine::EventLogOptions options;
  options.path = path;
  options.sync = sync;
  options.create_if_missing = true;
  return engine::EventLog::Open(options);
}

// Appends whole streams from `generator` (from *next_stream on) until the
// log holds `target` events or the streams run out.
absl::Status LoadTo(engine::EventLog& log,
                    const caseload::CaseloadGenerator& generator, int threads,
                    uint64_t target, std::atomic<size_t>* next_stream,
                    std::vector<std::string>* case_ids) {
  absl::Mutex mu;
  absl::Status first_error;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      while (log.LastPosition() < target) {
        const size_t index = next_stream->fetch_add(1);
        if (index >= generator.stream_count()) return;
        const caseload::StreamScript script = generator.Stream(index);
        for (const engine::AppendRequest& request : script.appends) {
          absl::StatusOr<engine::AppendResult> result = log.Append(request);
          if (!result.ok()) {
            absl::MutexLock lock(&mu);
            if (first_error.ok()) first_error = result.status();
            return;
          }
        }
        if (script.kind == caseload::StreamKind::kCase) {
          absl::MutexLock lock(&mu);
          case_ids->push_back(script.stream_id);
        }
        absl::MutexLock lock(&mu);
        if (!first_error.ok()) return;
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  return first_error;
}

// Runs `query` on random cases of `case_ids` up to `count` times or `bound`.
absl::StatusOr<Latency> TimeQueries(
    const std::vector<std::string>& case_ids, int count, absl::Duration bound,
    uint64_t seed,
    const std::function<absl::Status(const std::string&)>& query) {
  std::mt19937_64 random(seed);
  std::vector<absl::Duration> samples;
  const absl::Time deadline = absl::Now() + bound;
  for (int i = 0; i < count; ++i) {
    const std::string& id = case_ids[random() % case_ids.size()];
    const absl::Time begin = absl::Now();
    if (absl::Status s = query(id); !s.ok()) return s;
    const absl::Time end = absl::Now();
    samples.push_back(end - begin);
    if (end >= deadline) break;
  }
  return Summarize(std::move(samples));
}

// Durable appends: `writers` threads x 1 event for `duration`.
absl::Status MeasureAppends(engine::EventLog& log, int writers,
                            absl::Duration duration, int stage, Stage* out) {
  const v1::EventPayload payload = MakeNotePayload(400);
  std::vector<std::vector<absl::Duration>> latencies(writers);
  std::atomic<bool> failed{false};
  absl::Mutex mu;
  absl::Status first_error;
  const absl::Time t0 = absl::Now();
  const absl::Time deadline = t0 + duration;
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      engine::AppendRequest request;
      request.expected = engine::ExpectedVersion::Any();
      request.events.push_back(MakeEvent(payload, w));
      for (int64_t n = 0; !failed.load(); ++n) {
        if (absl::Now() >= deadline) break;
        request.case_id = absl::StrFormat("scale-s%d-w%d-c%d", stage, w,
                                          static_cast<int>(n % 100));
        v1::Event& event = request.events[0];
        std::string id = engine::NewEventId();
        event.mutable_payload()->mutable_note_recorded()->set_note_id(id);
        event.mutable_envelope()->set_event_id(std::move(id));
        SetTimestamp(absl::Now(),
                     event.mutable_envelope()->mutable_occurred_at());
        const absl::Time begin = absl::Now();
        absl::StatusOr<engine::AppendResult> result = log.Append(request);
        latencies[w].push_back(absl::Now() - begin);
        if (!result.ok()) {
          absl::MutexLock lock(&mu);
          if (first_error.ok()) first_error = result.status();
          failed.store(true);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const absl::Duration elapsed = absl::Now() - t0;
  if (!first_error.ok()) return first_error;
  std::vector<absl::Duration> all;
  for (const auto& mine : latencies)
    all.insert(all.end(), mine.begin(), mine.end());
  out->append = Summarize(std::move(all));
  out->append_rate = out->append.count / absl::ToDoubleSeconds(elapsed);
  out->appends_measured = true;
  return absl::OkStatus();
}

std::string StageJson(const Stage& s) {
  return absl::StrCat(
      "{\"target_events\":", s.target, ",\"events\":", s.events,
      ",\"cases_loaded\":", s.cases_loaded,
      ",\"load_events_per_sec_sync_off\":",
      JsonNumber(s.load_events / absl::ToDoubleSeconds(s.load_time)),
      ",\"log_bytes\":", s.log_bytes, ",\"log_bytes_per_event\":",
      JsonNumber(static_cast<double>(s.log_bytes) / s.events),
      ",\"read_case_p50_ms\":", JsonNumber(Ms(s.read.p50)),
      ",\"read_case_p99_ms\":", JsonNumber(Ms(s.read.p99)),
      ",\"read_case_events_mean\":", JsonNumber(s.read_events_per_case),
      ",\"rebuild_events_per_sec\":", JsonNumber(s.rebuild_rate),
      ",\"rebuilt_to\":", s.rebuilt,
      ",\"rebuild_complete\":", s.rebuilt >= s.events ? "true" : "false",
      ",\"rebuild_seconds\":",
      JsonNumber(absl::ToDoubleSeconds(s.rebuild_time)),
      ",\"projection_bytes\":", s.projection_bytes, ",\"plan_p50_ms\":",
      s.plan.count == 0 ? "null" : JsonNumber(Ms(s.plan.p50)),
      ",\"plan_p99_ms\":",
      s.plan.count == 0 ? "null" : JsonNumber(Ms(s.plan.p99)),
      ",\"rss_bytes\":", s.memory.rss,
      ",\"rss_with_projection_bytes\":", s.memory_with_projection,
      ",\"rss_peak_bytes\":", s.memory.peak,
      ",\"appends_measured\":", s.appends_measured ? "true" : "false",
      ",\"append_per_sec\":", JsonNumber(s.append_rate),
      ",\"append_p50_ms\":", JsonNumber(Ms(s.append.p50)),
      ",\"append_p99_ms\":", JsonNumber(Ms(s.append.p99)), "}");
}

}  // namespace

absl::StatusOr<std::string> RunScaleMode(const ScaleConfig& config,
                                         const std::string& dir,
                                         std::FILE* human) {
  caseload::CaseloadOptions caseload_options;
  caseload_options.seed = config.seed;
  caseload_options.cases = config.cases;
  caseload_options.load_threads = config.load_threads;
  if (absl::Status s = caseload::ValidateOptions(caseload_options); !s.ok()) {
    return s;
  }
  const caseload::CaseloadGenerator generator(caseload_options);
  const std::string log_path = config.existing_log.empty()
                                   ? (fs::path(dir) / "log").string()
                                   : config.existing_log;

  std::fprintf(human, "caseledger_bench: scale\n");
  std::fprintf(human, "  machine:   %s; load average %s at start\n",
               MachineSummary().c_str(), LoadAverage().c_str());
  std::fprintf(human,
               "  caseload:  seed %llu, up to %d cases (%zu streams), "
               "loaded stream by stream on %d threads with sync OFF "
               "(setup)\n",
               static_cast<unsigned long long>(config.seed), config.cases,
               generator.stream_count(), config.load_threads);
  std::fprintf(human,
               "  per stage: ReadCase of a whole random case and GetPlan "
               "(%d queries each, one thread, warm page cache); rebuild of a "
               "fresh projection from 0; RSS of this process; then %d "
               "writers x 1 event durable (sync ON) for %.0f s\n",
               config.queries, config.writers,
               absl::ToDoubleSeconds(config.append_time));
  std::fflush(human);

  std::atomic<size_t> next_stream{0};
  std::vector<std::string> case_ids;
  if (!config.existing_log.empty()) {
    // A log grown earlier (e.g. by a run that was stopped after loading):
    // its cases are the generated ones that have a head.
    absl::StatusOr<std::unique_ptr<engine::EventLog>> log =
        OpenLog(log_path, /*sync=*/false);
    if (!log.ok()) return log.status();
    for (int c = 0; c < config.cases; ++c) {
      const std::string id = caseload::CaseIdOf(caseload_options, c);
      absl::StatusOr<engine::CaseHead> head = (*log)->GetCaseHead(id);
      if (head.ok() && head->version > 0) case_ids.push_back(id);
    }
    std::fprintf(stderr, "  existing log: %llu events, %zu demo cases\n",
                 static_cast<unsigned long long>((*log)->LastPosition()),
                 case_ids.size());
    next_stream = generator.stream_count();  // loads nothing more
  }
  std::vector<Stage> stages;
  for (size_t i = 0; i < config.stages.size(); ++i) {
    Stage stage;
    stage.target = config.stages[i];
    {
      absl::StatusOr<std::unique_ptr<engine::EventLog>> log =
          OpenLog(log_path, /*sync=*/false);
      if (!log.ok()) return log.status();
      const uint64_t before = (*log)->LastPosition();
      const absl::Time t0 = absl::Now();
      if (absl::Status s = LoadTo(**log, generator, config.load_threads,
                                  static_cast<uint64_t>(stage.target),
                                  &next_stream, &case_ids);
          !s.ok()) {
        return s;
      }
      stage.load_time = absl::Now() - t0;
      stage.events = (*log)->LastPosition();
      stage.load_events = stage.events - before;
      if (absl::Status s = (*log)->Flush(); !s.ok()) return s;
    }
    stage.cases_loaded = static_cast<int>(case_ids.size());
    stage.log_bytes = DirectoryBytes(log_path);
    std::fprintf(stderr, "  stage %zu: %llu events loaded in %.0f s\n", i + 1,
                 static_cast<unsigned long long>(stage.events),
                 absl::ToDoubleSeconds(stage.load_time));
    if (case_ids.empty()) return absl::InternalError("no case loaded");

    absl::StatusOr<std::unique_ptr<engine::EventLog>> log =
        OpenLog(log_path, /*sync=*/true);
    if (!log.ok()) return log.status();
    engine::EventLog& event_log = **log;
    uint64_t read_events = 0;
    absl::StatusOr<Latency> read = TimeQueries(
        case_ids, config.queries, config.query_bound, config.seed * 7 + i,
        [&](const std::string& id) -> absl::Status {
          engine::ReadCaseRequest request;
          request.case_id = id;
          request.max_count = 1000;
          for (;;) {
            absl::StatusOr<engine::ReadPage> page = event_log.ReadCase(request);
            if (!page.ok()) return page.status();
            read_events += page->events.size();
            if (page->end || page->events.empty()) return absl::OkStatus();
            request.from_version = page->next;
          }
        });
    if (!read.ok()) return read.status();
    stage.read = *read;
    stage.read_events_per_case =
        static_cast<double>(read_events) / std::max<int64_t>(1, read->count);

    // Durable appends and memory before the rebuild (which may be cut
    // short by rebuild_bound). Never into an existing log (--scale_log):
    // the bench did not create it and must not write to it.
    if (config.existing_log.empty()) {
      if (absl::Status s =
              MeasureAppends(event_log, config.writers, config.append_time,
                             static_cast<int>(i + 1), &stage);
          !s.ok()) {
        return s;
      }
    } else {
      std::fprintf(human,
                   "  stage %zu: appends not measured (existing log, "
                   "--scale_log, is never written)\n",
                   i + 1);
    }
    stage.memory = ProcessMemory();
    std::fprintf(stderr, "  stage %zu (before the rebuild): %s\n", i + 1,
                 StageJson(stage).c_str());
    const std::string projection_dir =
        (fs::path(dir) / absl::StrCat("projection-", i + 1)).string();
    {
      projections::CaseProjectionOptions options;
      options.dir = projection_dir;
      absl::StatusOr<std::unique_ptr<projections::CaseProjection>> projection =
          projections::CaseProjection::Open(options, &event_log);
      if (!projection.ok()) return projection.status();
      const uint64_t target = event_log.LastPosition();
      const absl::Time t0 = absl::Now();
      const absl::Time give_up = t0 + config.rebuild_bound;
      (*projection)->Start();  // catches up from 0 in the background
      while ((*projection)->Position() < target && absl::Now() < give_up) {
        absl::SleepFor(absl::Milliseconds(20));
      }
      stage.rebuild_time = absl::Now() - t0;
      stage.rebuilt = (*projection)->Position();
      stage.rebuild_rate =
          stage.rebuilt / absl::ToDoubleSeconds(stage.rebuild_time);
      if (stage.rebuilt >= target) {
        const projections::CaseProjection& p = **projection;
        absl::StatusOr<Latency> plan = TimeQueries(
            case_ids, config.queries, config.query_bound, config.seed * 11 + i,
            [&](const std::string& id) { return p.GetPlan(id).status(); });
        if (!plan.ok()) return plan.status();
        stage.plan = *plan;
      }
      const Memory after = ProcessMemory();
      stage.memory_with_projection = after.rss;
      stage.memory.peak = after.peak;
    }
    stage.projection_bytes = DirectoryBytes(projection_dir);
    std::error_code ec;
    fs::remove_all(projection_dir, ec);
    log->reset();
    std::fprintf(stderr, "  stage %zu: %s\n", i + 1, StageJson(stage).c_str());
    stages.push_back(stage);
  }

  std::fprintf(human,
               "\n%12s %8s %10s %9s %9s %10s %9s %9s %8s %8s %9s %9s %9s "
               "%9s\n",
               "events", "cases", "load ev/s", "log MiB", "B/event", "read p50",
               "read p99", "rebuild/s", "proj MiB", "plan p50", "plan p99",
               "RSS MiB", "append/s", "app p99");
  for (const Stage& s : stages) {
    std::fprintf(
        human,
        "%12llu %8d %10.0f %9.1f %9.0f %10.3f %9.3f %9.0f %12llu %8.1f %8.3f "
        "%9.3f %9.0f %9.0f %9.0f %9.3f\n",
        static_cast<unsigned long long>(s.events), s.cases_loaded,
        s.load_events / absl::ToDoubleSeconds(s.load_time),
        s.log_bytes / 1048576.0, static_cast<double>(s.log_bytes) / s.events,
        Ms(s.read.p50), Ms(s.read.p99), s.rebuild_rate,
        static_cast<unsigned long long>(s.rebuilt),
        s.projection_bytes / 1048576.0, Ms(s.plan.p50), Ms(s.plan.p99),
        s.memory.rss / 1048576.0, s.memory_with_projection / 1048576.0,
        s.append_rate, Ms(s.append.p99));
  }
  std::fprintf(human,
               "(read and plan latencies in ms; a case holds ~%.0f events; "
               "load ev/s is setup with sync off; append/s is durable, %d "
               "writers x 1 event; RSS is this whole process, +proj with the "
               "rebuilt projection open; a rebuild cut short by "
               "--rebuild_seconds shows rebuilt to < events and no plan "
               "figures; load average %s at the end)\n",
               stages.empty() ? 0.0 : stages.back().read_events_per_case,
               config.writers, LoadAverage().c_str());
  std::fflush(human);

  std::string out = absl::StrCat(
      "{\"machine\":", JsonString(MachineSummary()), ",\"seed\":", config.seed,
      ",\"cases\":", config.cases, ",\"writers\":", config.writers,
      ",\"queries\":", config.queries, ",\"stages\":[");
  for (size_t i = 0; i < stages.size(); ++i) {
    if (i > 0) out += ",";
    out += StageJson(stages[i]);
  }
  return out + "]}";
}

}  // namespace caseledger::bench
