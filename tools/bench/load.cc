// caseledger_bench --mode=load: a bounded, realistic mixed load against a
// real caseledgerd process on 127.0.0.1.
//
// Setup (not measured): a demo caseload of `demo_cases` cases is generated
// straight into a fresh data directory (sync off), then caseledgerd is
// started on it as a child process (sync ON, port 0) and the projections
// are awaited. Then, for `duration` or until `max_ops` operations in all:
//  - `case_managers` threads, each with its own connection, append 1 to 3
//    notes (~400 bytes each) per call to the demo cases they own
//    (ExpectedVersion any);
//  - `readers` threads alternate GetPlan and GetTimeline (first 100
//    entries) on random demo cases;
//  - `analysts` threads alternate GetMetrics (by program) and
//    GetCaseMetrics on random cases;
//  - `subscribers` live subscriptions (from now) count what they receive
//    and its delivery delay (receipt minus the event's recorded_at);
//  - a sampler reads the server's VmRSS every `sample_every`.
// Then caseledgerd gets SIGTERM and must exit 0. Reports per operation:
// count, ops/s, p50/p95/p99/max latency, errors; the RSS samples.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "caseledger/v1/ledger_service.grpc.pb.h"
#include "engine/event_log.h"
#include "engine/ids.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "services/client_auth.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/modes.h"
#include "tools/caseload/caseload.h"

extern char** environ;

namespace caseledger::bench {
namespace {

namespace fs = std::filesystem;
namespace v1 = ::caseledger::v1;

constexpr absl::Duration kCallDeadline = absl::Seconds(30);

// caseledgerd as a child process; its stderr (the log) is read by a thread
// until EOF. Kills the process if still running when destroyed.
class ServerProcess {
 public:
  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (reader_.joinable()) reader_.join();
  }

  absl::Status Start(const std::string& binary,
                     const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    std::vector<std::string> all = {binary};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr,
                               argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat("cannot start ", binary));
    }
    reader_ = std::thread([this, fd = fds[0]] {
      FILE* in = ::fdopen(fd, "r");
      char line[4096];
      while (std::fgets(line, sizeof(line), in) != nullptr) {
        absl::MutexLock lock(&mu_);
        log_ += line;
        const char* at = std::strstr(line, " port=");
        if (port_ == 0 && std::strstr(line, "caseledgerd serving") &&
            at != nullptr) {
          int port = 0;
          std::string rest(at + 6);
          if (absl::SimpleAtoi(rest.substr(0, rest.find(' ')), &port)) {
            port_ = port;
          }
        }
      }
      std::fclose(in);
      absl::MutexLock lock(&mu_);
      eof_ = true;
    });
    return absl::OkStatus();
  }

  // The port once the server logs that it serves; 0 if it exited first or
  // `bound` passed.
  int AwaitPort(absl::Duration bound) {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return port_ != 0 || eof_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), bound);
    return port_;
  }

  // SIGTERM, then the exit status (-1 if it did not exit normally).
  int Terminate() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    if (reader_.joinable()) reader_.join();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  pid_t pid() const { return pid_; }
  std::string log() {
    absl::MutexLock lock(&mu_);
    return log_;
  }

 private:
  pid_t pid_ = -1;
  std::thread reader_;
  absl::Mutex mu_;
  std::string log_ ABSL_GUARDED_BY(mu_);
  int port_ ABSL_GUARDED_BY(mu_) = 0;
  bool eof_ ABSL_GUARDED_BY(mu_) = false;
};

// Latency samples and errors of one kind of operation, per thread.
struct OpStats {
  std::vector<absl::Duration> latencies;
  int64_t errors = 0;
  std::string first_error;

  void Record(const grpc::Status& status, absl::Duration latency) {
    if (status.ok()) {
      latencies.push_back(latency);
    } else if (errors++ == 0) {
      first_error =
          absl::StrCat(status.error_code(), " ", status.error_message());
    }
  }
};

std::shared_ptr<grpc::Channel> Connect(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(64 << 20);
  return services::CreateAuthChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials(),
                                     BenchToken(), "", args);
}

void SetDeadline(grpc::ClientContext* context) {
  context->set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
}

struct Sample {
  double seconds = 0;
  uint64_t rss = 0;
  int64_t ops = 0;
};

// The caseledgerd next to this binary in the build tree.
std::string DefaultServerBinary() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "caseledgerd";
  return (self.parent_path().parent_path() / "services" / "caseledgerd")
      .string();
}

}  // namespace

absl::StatusOr<std::string> RunLoadMode(const LoadConfig& config,
                                        const std::string& dir,
                                        std::FILE* human) {
  const std::string binary =
      config.caseledgerd.empty() ? DefaultServerBinary() : config.caseledgerd;
  const std::string data_dir = (fs::path(dir) / "data").string();
  fs::create_directories(data_dir);

  // Setup: the demo caseload, straight into the log (sync off).
  caseload::CaseloadOptions caseload_options;
  caseload_options.seed = config.seed;
  caseload_options.cases = config.demo_cases;
  uint64_t setup_events = 0;
  {
    engine::EventLogOptions options;
    options.path = (fs::path(data_dir) / "log").string();
    options.sync = false;
    absl::StatusOr<std::unique_ptr<engine::EventLog>> log =
        engine::EventLog::Open(options);
    if (!log.ok()) return log.status();
    if (absl::Status s =
            caseload::LoadCaseload(**log, caseload_options, nullptr);
        !s.ok()) {
      return s;
    }
    setup_events = (*log)->LastPosition();
    if (absl::Status s = (*log)->Flush(); !s.ok()) return s;
  }
  std::vector<std::string> case_ids;
  for (int c = 0; c < config.demo_cases; ++c) {
    case_ids.push_back(caseload::CaseIdOf(caseload_options, c));
  }

  // The server's policy: the benchmark's one principal (BenchPolicy), on
  // loopback plaintext.
  const std::string policy_file = (fs::path(dir) / "policy.textproto").string();
  {
    std::string text;
    google::protobuf::TextFormat::PrintToString(BenchPolicy(), &text);
    std::ofstream out(policy_file);
    out << text;
    if (!out) return absl::InternalError("cannot write the bench policy");
  }
  ServerProcess server;
  if (absl::Status s = server.Start(
          binary, {"--data_dir=" + data_dir, "--listen=127.0.0.1:0",
                   "--plaintext_loopback", "--policy=" + policy_file});
      !s.ok()) {
    return s;
  }
  const int port = server.AwaitPort(absl::Seconds(60));
  if (port == 0) {
    return absl::UnavailableError(
        absl::StrCat("caseledgerd did not start; its log:\n", server.log()));
  }
  // Wait until the projections have applied the caseload.
  {
    auto queries = v1::Queries::NewStub(Connect(port));
    const absl::Time give_up = absl::Now() + absl::Minutes(10);
    for (;;) {
      grpc::ClientContext context;
      SetDeadline(&context);
      v1::GetPlanRequest request;
      request.set_case_id(case_ids.front());
      request.set_min_position(setup_events);
      v1::GetPlanResponse response;
      const grpc::Status status =
          queries->GetPlan(&context, request, &response);
      if (status.ok()) break;
      if (status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED ||
          absl::Now() > give_up) {
        return absl::InternalError(absl::StrCat("waiting for the projections: ",
                                                status.error_message()));
      }
    }
  }

  std::fprintf(human, "caseledger_bench: load\n");
  std::fprintf(human, "  machine:     %s; load average %s at start\n",
               MachineSummary().c_str(), LoadAverage().c_str());
  std::fprintf(human,
               "  server:      caseledgerd child process on 127.0.0.1:%d, "
               "sync ON, default limits; demo caseload seed %llu: %d cases, "
               "%llu events (loaded with sync off before the start)\n",
               port, static_cast<unsigned long long>(config.seed),
               config.demo_cases,
               static_cast<unsigned long long>(setup_events));
  std::fprintf(human,
               "  mix:         %d case managers appending 1-3 notes per "
               "call (own connection each), %d plan/timeline readers, %d "
               "analytics, %d live subscribers; bound %.0f s or %lld "
               "operations\n",
               config.case_managers, config.readers, config.analysts,
               config.subscribers, absl::ToDoubleSeconds(config.duration),
               static_cast<long long>(config.max_ops));
  std::fflush(human);

  std::atomic<bool> stop{false};
  std::atomic<int64_t> ops{0};
  const absl::Time t0 = absl::Now();
  const absl::Time deadline = t0 + config.duration;
  auto keep_going = [&] {
    return !stop.load() && absl::Now() < deadline &&
           ops.fetch_add(1) < config.max_ops;
  };

  // Per-thread stats, merged at the end.
  std::vector<OpStats> appends(config.case_managers);
  std::vector<int64_t> appended_events(config.case_managers, 0);
  std::vector<OpStats> plans(config.readers), timelines(config.readers);
  std::vector<OpStats> metrics(config.analysts), case_metrics(config.analysts);
  std::vector<std::thread> threads;

  // Subscribers first, so they see the appends.
  struct Subscriber {
    std::unique_ptr<grpc::ClientContext> context;
    int64_t events = 0;
    std::vector<absl::Duration> delays;
    grpc::Status status;
  };
  std::vector<Subscriber> subscribers(config.subscribers);
  std::vector<std::thread> subscriber_threads;
  absl::Mutex started_mu;
  int started = 0;
  for (int s = 0; s < config.subscribers; ++s) {
    subscribers[s].context = std::make_unique<grpc::ClientContext>();
    subscriber_threads.emplace_back([&, s] {
      Subscriber& me = subscribers[s];
      auto stub = v1::Subscriptions::NewStub(Connect(port));
      v1::SubscribeRequest request;
      request.set_from_now(true);
      auto reader = stub->Subscribe(me.context.get(), request);
      // The first message (a progress message) says it is live.
      v1::SubscribeResponse response;
      bool first = true;
      while (reader->Read(&response)) {
        if (first) {
          first = false;
          absl::MutexLock lock(&started_mu);
          ++started;
        }
        const absl::Time now = absl::Now();
        for (const v1::Event& event : response.events()) {
          const auto& at = event.envelope().recorded_at();
          me.delays.push_back(now - absl::FromUnixSeconds(at.seconds()) -
                              absl::Nanoseconds(at.nanos()));
        }
        me.events += response.events_size();
      }
      me.status = reader->Finish();
      if (first) {
        absl::MutexLock lock(&started_mu);
        ++started;
      }
    });
  }
  {
    absl::MutexLock lock(&started_mu);
    auto all_started = [&]() ABSL_SHARED_LOCKS_REQUIRED(started_mu) {
      return started == config.subscribers;
    };
    started_mu.AwaitWithTimeout(absl::Condition(&all_started),
                                absl::Seconds(30));
  }

  const v1::EventPayload payload = MakeNotePayload(400);
  for (int w = 0; w < config.case_managers; ++w) {
    threads.emplace_back([&, w] {
      auto writer = v1::CaseWriter::NewStub(Connect(port));
      std::mt19937_64 random(config.seed * 1000 + w);
      // This manager's cases: every case_managers-th demo case.
      std::vector<std::string> mine;
      for (size_t c = w; c < case_ids.size(); c += config.case_managers) {
        mine.push_back(case_ids[c]);
      }
      if (mine.empty()) mine.push_back(absl::StrCat("load-cm-", w));
      while (keep_going()) {
        v1::AppendEventsRequest request;
        request.set_case_id(mine[random() % mine.size()]);
        request.mutable_expected()->set_any(true);
        const int n = 1 + static_cast<int>(random() % 3);
        for (int e = 0; e < n; ++e) {
          v1::Event event = MakeEvent(payload, w);
          event.mutable_payload()->mutable_note_recorded()->set_note_id(
              engine::NewEventId());
          *request.add_events() = std::move(event);
        }
        grpc::ClientContext context;
        SetDeadline(&context);
        v1::AppendEventsResponse response;
        const absl::Time begin = absl::Now();
        const grpc::Status status =
            writer->AppendEvents(&context, request, &response);
        appends[w].Record(status, absl::Now() - begin);
        if (status.ok()) appended_events[w] += n;
      }
    });
  }
  for (int r = 0; r < config.readers; ++r) {
    threads.emplace_back([&, r] {
      auto queries = v1::Queries::NewStub(Connect(port));
      std::mt19937_64 random(config.seed * 2000 + r);
      for (int64_t i = 0; keep_going(); ++i) {
        const std::string& id = case_ids[random() % case_ids.size()];
        grpc::ClientContext context;
        SetDeadline(&context);
        const absl::Time begin = absl::Now();
        if (i % 2 == 0) {
          v1::GetPlanRequest request;
          request.set_case_id(id);
          v1::GetPlanResponse response;
          const grpc::Status status =
              queries->GetPlan(&context, request, &response);
          plans[r].Record(status, absl::Now() - begin);
        } else {
          v1::GetTimelineRequest request;
          request.set_case_id(id);
          request.set_page_size(100);
          v1::GetTimelineResponse response;
          const grpc::Status status =
              queries->GetTimeline(&context, request, &response);
          timelines[r].Record(status, absl::Now() - begin);
        }
      }
    });
  }
  for (int a = 0; a < config.analysts; ++a) {
    threads.emplace_back([&, a] {
      auto analytics = v1::Analytics::NewStub(Connect(port));
      std::mt19937_64 random(config.seed * 3000 + a);
      for (int64_t i = 0; keep_going(); ++i) {
        grpc::ClientContext context;
        SetDeadline(&context);
        const absl::Time begin = absl::Now();
        if (i % 2 == 0) {
          v1::GetMetricsRequest request;
          request.set_group_by(v1::METRICS_GROUP_BY_PROGRAM);
          v1::GetMetricsResponse response;
          const grpc::Status status =
              analytics->GetMetrics(&context, request, &response);
          metrics[a].Record(status, absl::Now() - begin);
        } else {
          v1::GetCaseMetricsRequest request;
          request.set_case_id(case_ids[random() % case_ids.size()]);
          v1::GetCaseMetricsResponse response;
          const grpc::Status status =
              analytics->GetCaseMetrics(&context, request, &response);
          case_metrics[a].Record(status, absl::Now() - begin);
        }
      }
    });
  }

  // The sampler (this thread): RSS every sample_every until the workers
  // stop.
  std::vector<Sample> samples;
  samples.push_back({0, ProcessMemory(server.pid()).rss, 0});
  std::atomic<int> running{static_cast<int>(threads.size())};
  std::thread joiner([&] {
    for (std::thread& t : threads) t.join();
    running.store(0);
  });
  absl::Time next_sample = t0 + config.sample_every;
  while (running.load() != 0) {
    absl::SleepFor(absl::Milliseconds(50));
    const absl::Time now = absl::Now();
    if (now >= next_sample) {
      samples.push_back({absl::ToDoubleSeconds(now - t0),
                         ProcessMemory(server.pid()).rss,
                         std::min(ops.load(), config.max_ops)});
      next_sample += config.sample_every;
    }
  }
  joiner.join();
  const absl::Duration elapsed = absl::Now() - t0;
  samples.push_back({absl::ToDoubleSeconds(elapsed),
                     ProcessMemory(server.pid()).rss,
                     std::min(ops.load(), config.max_ops)});
  const Memory server_memory = ProcessMemory(server.pid());

  // Let the subscribers receive what was committed, then end them.
  absl::SleepFor(absl::Milliseconds(500));
  for (Subscriber& s : subscribers) s.context->TryCancel();
  for (std::thread& t : subscriber_threads) t.join();
  const int exit_status = server.Terminate();

  // Merge and report.
  struct Row {
    std::string name;
    Latency latency;
    int64_t errors = 0;
    std::string first_error;
  };
  auto merge = [](const std::string& name, const std::vector<OpStats>& all) {
    Row row;
    row.name = name;
    std::vector<absl::Duration> samples;
    for (const OpStats& s : all) {
      samples.insert(samples.end(), s.latencies.begin(), s.latencies.end());
      row.errors += s.errors;
      if (row.first_error.empty()) row.first_error = s.first_error;
    }
    std::sort(samples.begin(), samples.end());
    row.latency = Summarize(samples);
    // p95, kept in `max`'s neighbour: computed here.
    return std::make_pair(row, Percentile(samples, 0.95));
  };
  std::vector<std::pair<Row, absl::Duration>> rows = {
      merge("AppendEvents", appends), merge("GetPlan", plans),
      merge("GetTimeline", timelines), merge("GetMetrics", metrics),
      merge("GetCaseMetrics", case_metrics)};
  int64_t events = 0;
  for (int64_t n : appended_events) events += n;
  const double seconds = absl::ToDoubleSeconds(elapsed);

  std::fprintf(human, "\n%-15s %9s %9s %9s %9s %9s %9s %7s\n", "operation",
               "count", "ops/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
               "errors");
  int64_t total_errors = 0;
  for (const auto& [row, p95] : rows) {
    std::fprintf(human, "%-15s %9lld %9.1f %9.3f %9.3f %9.3f %9.3f %7lld\n",
                 row.name.c_str(), static_cast<long long>(row.latency.count),
                 row.latency.count / seconds, Ms(row.latency.p50), Ms(p95),
                 Ms(row.latency.p99), Ms(row.latency.max),
                 static_cast<long long>(row.errors));
    total_errors += row.errors;
    if (row.errors > 0) {
      std::fprintf(human, "  first %s error: %s\n", row.name.c_str(),
                   row.first_error.c_str());
    }
  }
  std::fprintf(human, "appended events: %lld (%.0f events/s) in %.1f s\n",
               static_cast<long long>(events), events / seconds, seconds);
  std::string subscriber_json;
  for (size_t i = 0; i < subscribers.size(); ++i) {
    Subscriber& s = subscribers[i];
    std::sort(s.delays.begin(), s.delays.end());
    std::fprintf(human,
                 "subscriber %zu: %lld events received (%s), delivery delay "
                 "p50 %.2f ms p99 %.2f ms\n",
                 i + 1, static_cast<long long>(s.events),
                 s.events == events ? "all appended" : "NOT all appended",
                 Ms(Percentile(s.delays, 0.5)), Ms(Percentile(s.delays, 0.99)));
    if (i > 0) subscriber_json += ",";
    absl::StrAppend(
        &subscriber_json, "{\"events\":", s.events,
        ",\"delay_p50_ms\":", JsonNumber(Ms(Percentile(s.delays, 0.5))),
        ",\"delay_p99_ms\":", JsonNumber(Ms(Percentile(s.delays, 0.99))), "}");
  }
  std::fprintf(human, "\nserver VmRSS over time:\n%9s %9s %9s\n", "s", "MiB",
               "ops");
  std::string sample_json;
  for (size_t i = 0; i < samples.size(); ++i) {
    std::fprintf(human, "%9.1f %9.1f %9lld\n", samples[i].seconds,
                 samples[i].rss / 1048576.0,
                 static_cast<long long>(samples[i].ops));
    if (i > 0) sample_json += ",";
    absl::StrAppend(&sample_json,
                    "{\"seconds\":", JsonNumber(samples[i].seconds),
                    ",\"rss_bytes\":", samples[i].rss, "}");
  }
  std::fprintf(human,
               "server VmHWM (peak RSS) %.1f MiB; exit status after SIGTERM "
               "%d; load average %s at the end\n",
               server_memory.peak / 1048576.0, exit_status,
               LoadAverage().c_str());
  std::fflush(human);

  std::string out = absl::StrCat(
      "{\"machine\":", JsonString(MachineSummary()),
      ",\"seconds\":", JsonNumber(seconds),
      ",\"case_managers\":", config.case_managers,
      ",\"readers\":", config.readers, ",\"analysts\":", config.analysts,
      ",\"demo_cases\":", config.demo_cases, ",\"setup_events\":", setup_events,
      ",\"appended_events\":", events, ",\"operations\":[");
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i].first;
    if (i > 0) out += ",";
    absl::StrAppend(&out, "{\"name\":", JsonString(row.name),
                    ",\"count\":", row.latency.count,
                    ",\"per_sec\":", JsonNumber(row.latency.count / seconds),
                    ",\"p50_ms\":", JsonNumber(Ms(row.latency.p50)),
                    ",\"p95_ms\":", JsonNumber(Ms(rows[i].second)),
                    ",\"p99_ms\":", JsonNumber(Ms(row.latency.p99)),
                    ",\"max_ms\":", JsonNumber(Ms(row.latency.max)),
                    ",\"errors\":", row.errors, "}");
  }
  absl::StrAppend(&out, "],\"subscribers\":[", subscriber_json, "],\"rss\":[",
                  sample_json, "],\"rss_peak_bytes\":", server_memory.peak,
                  ",\"exit_status\":", exit_status, "}");
  if (exit_status != 0) {
    return absl::InternalError(absl::StrCat(
        "caseledgerd exited with ", exit_status, "; its log:\n", server.log()));
  }
  if (total_errors > 0) {
    std::fprintf(human, "WARNING: %lld operations failed\n",
                 static_cast<long long>(total_errors));
  }
  return out;
}

}  // namespace caseledger::bench
