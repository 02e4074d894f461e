// casectl: the command line for caseledger (talks gRPC to caseledgerd).
//
// Exit codes: 0 ok; 1 other error; 2 usage; 3 not found; 4 version conflict;
// 5 server unavailable; 6 verification found a broken chain.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "caseledger/v1/ledger_service.grpc.pb.h"
#include "engine/ids.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "projections/dates.h"
#include "tools/casectl/format.h"
#include "tools/caseload/caseload.h"

namespace caseledger::casectl {
namespace {

enum ExitCode {
  kOk = 0,
  kError = 1,
  kUsage = 2,
  kNotFound = 3,
  kConflict = 4,
  kUnavailable = 5,
  kBroken = 6,
};

constexpr char kUsageText[] = R"(casectl: the command line for caseledger

Usage: casectl [--server=HOST:PORT] [--json] [--timeout=SECONDS] COMMAND ...

Commands:
  plan CASE [--as-of=TIME|POSITION] [--occurred]
                         the current plan, grouped by goal; --as-of shows it
                         as the record stood then (a global position or an
                         RFC 3339 time); with --occurred, as things were then
  timeline CASE [--since=TIME] [--until=TIME] [--kind=TYPE,...]
                [--page-size=N] [--page-token=T]
                         the case's events, one line each
  history CASE [--backward] [--page-size=N] [--page-token=T]
                         the full auditable history: actor, times, hash, chain
  verify [CASE]          recompute hash chains (a case, or the whole log)
  metrics [--by=program|case-manager|team|cohort|period|training-cycle]
          [--as-of=YYYY-MM-DD] [--program=P]
                         outcome metrics, small groups suppressed
  append CASE [--expect=any|no-stream|exists|N] [--file=FILE]
                         append events written in protobuf JSON: one Event,
                         a JSON array of Events, or {"events": [...]} (from
                         FILE or stdin); prints the new version and position.
                         Give envelope.event_id to make a retry idempotent;
                         missing ids are generated
  tail [--from=POSITION] [--type=TYPE,...] [--case=CASE]
                         follow the event stream live (from now by default)
                         until interrupted; one line per event
  status                 projection positions and lag
  rebuild                rebuild the projections from position 0
  backup DIR             consistent online backup of the log on the server
  demo [--cases=N] [--seed=S]
                         load a deterministic demo caseload through the API

Global flags: --server (default 127.0.0.1:50051), --json (machine output:
protobuf JSON), --timeout (seconds per call, default 30).

Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 version conflict,
5 server unavailable, 6 broken hash chain.

Examples:
  casectl plan case-000001
  casectl plan case-000001 --as-of=2025-03-01T00:00:00Z --occurred
  casectl timeline case-000001 --kind=GoalSet,GoalRevised
  casectl metrics --by=program
  casectl verify
)";

struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // --key=value / --flag ("")

  bool Has(const std::string& key) const { return options.count(key) > 0; }
  std::string Get(const std::string& key, const std::string& def = "") const {
    auto it = options.find(key);
    return it == options.end() ? def : it->second;
  }
};

Args Parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0) {
      const size_t eq = arg.find('=');
      if (eq == std::string::npos) {
        args.options[arg.substr(2)] = "";
      } else {
        args.options[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
      }
    } else if (args.command.empty()) {
      args.command = arg;
    } else {
      args.positional.push_back(arg);
    }
  }
  return args;
}

int Usage(const std::string& problem) {
  std::fprintf(stderr, "casectl: %s\n\n%s", problem.c_str(), kUsageText);
  return kUsage;
}

// Bad input (a file, JSON): the problem only, without the usage text.
int InputError(const std::string& problem) {
  std::fprintf(stderr, "casectl: %s\n", problem.c_str());
  return kUsage;
}

int Fail(const grpc::Status& status) {
  std::fprintf(stderr, "casectl: %s: %s\n",
               absl::StatusCodeToString(
                   static_cast<absl::StatusCode>(status.error_code()))
                   .c_str(),
               status.error_message().c_str());
  switch (status.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
      return kNotFound;
    case grpc::StatusCode::ABORTED:
      return kConflict;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return kUnavailable;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return kUsage;
    default:
      return kError;
  }
}

void PrintJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  std::cout << json << "\n";
}

class Cli {
 public:
  explicit Cli(const Args& args)
      : args_(args),
        channel_(grpc::CreateChannel(args.Get("server", "127.0.0.1:50051"),
                                     grpc::InsecureChannelCredentials())) {
    double seconds = 30;
    if (args.Has("timeout") &&
        !absl::SimpleAtod(args.Get("timeout"), &seconds)) {
      seconds = 30;
    }
    timeout_ = absl::Seconds(seconds);
  }

  int Run() {
    const std::string& c = args_.command;
    if (c == "plan") return Plan();
    if (c == "timeline") return Timeline();
    if (c == "history") return History();
    if (c == "verify") return Verify();
    if (c == "metrics") return Metrics();
    if (c == "status") return Status();
    if (c == "append") return Append();
    if (c == "tail") return Tail();
    if (c == "rebuild") return Rebuild();
    if (c == "backup") return Backup();
    if (c == "demo") return Demo();
    return Usage(absl::StrCat("unknown command '", c, "'"));
  }

 private:
  void Prepare(grpc::ClientContext* context) const {
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  }
  bool json() const { return args_.Has("json"); }

  // Copies --page-size and --page-token into `request`; false if the size
  // is not a number.
  template <typename Request>
  bool SetPaging(Request* request) const {
    uint32_t page_size = 0;
    if (args_.Has("page-size") &&
        !absl::SimpleAtoi(args_.Get("page-size"), &page_size)) {
      return false;
    }
    request->set_page_size(page_size);
    request->set_page_token(args_.Get("page-token"));
    return true;
  }

  // The comma-separated values of option `key` ("GoalSet,GoalRevised").
  std::vector<std::string> List(const std::string& key) const {
    return absl::StrSplit(args_.Get(key), ',', absl::SkipEmpty());
  }

  template <typename Response, typename Format>
  int Output(const grpc::Status& status, const Response& response,
             Format format) {
    if (!status.ok()) return Fail(status);
    if (json()) {
      PrintJson(response);
    } else {
      std::cout << format(response);
    }
    return kOk;
  }

  static bool ParseTime(const std::string& text,
                        google::protobuf::Timestamp* ts) {
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
      absl::CivilDay day;
      if (!absl::ParseCivilTime(text, &day)) return false;
      t = absl::FromCivil(day, absl::UTCTimeZone());
    }
    ts->set_seconds(absl::ToUnixSeconds(t));
    return true;
  }

  int Plan() {
    if (args_.positional.size() != 1) return Usage("plan needs CASE");
    v1::GetPlanRequest request;
    request.set_case_id(args_.positional[0]);
    if (args_.Has("as-of")) {
      const std::string as_of = args_.Get("as-of");
      uint64_t position = 0;
      if (absl::SimpleAtoi(as_of, &position)) {
        if (args_.Has("occurred")) {
          return Usage("--occurred takes a time, not a position");
        }
        request.set_recorded_position(position);
      } else {
        google::protobuf::Timestamp ts;
        if (!ParseTime(as_of, &ts)) {
          return Usage("--as-of: a position, YYYY-MM-DD or an RFC 3339 time");
        }
        if (args_.Has("occurred")) {
          *request.mutable_occurred_at() = ts;
        } else {
          *request.mutable_recorded_at() = ts;
        }
      }
    }
    auto stub = v1::Queries::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::GetPlanResponse response;
    return Output(
        stub->GetPlan(&context, request, &response), response,
        [](const v1::GetPlanResponse& r) { return FormatPlan(r.plan()); });
  }

  int Timeline() {
    if (args_.positional.size() != 1) return Usage("timeline needs CASE");
    v1::GetTimelineRequest request;
    request.set_case_id(args_.positional[0]);
    if (args_.Has("since") &&
        !ParseTime(args_.Get("since"), request.mutable_since())) {
      return Usage("--since: YYYY-MM-DD or an RFC 3339 time");
    }
    if (args_.Has("until") &&
        !ParseTime(args_.Get("until"), request.mutable_until())) {
      return Usage("--until: YYYY-MM-DD or an RFC 3339 time");
    }
    for (const std::string& kind : List("kind")) request.add_event_types(kind);
    if (!SetPaging(&request)) return Usage("--page-size: a number");
    auto stub = v1::Queries::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::GetTimelineResponse response;
    return Output(stub->GetTimeline(&context, request, &response), response,
                  &FormatTimeline);
  }

  int History() {
    if (args_.positional.size() != 1) return Usage("history needs CASE");
    v1::ReadCaseHistoryRequest request;
    request.set_case_id(args_.positional[0]);
    request.set_backward(args_.Has("backward"));
    if (!SetPaging(&request)) return Usage("--page-size: a number");
    auto stub = v1::Audit::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::ReadCaseHistoryResponse response;
    return Output(stub->ReadCaseHistory(&context, request, &response), response,
                  &FormatHistory);
  }

  int Verify() {
    if (args_.positional.size() > 1) return Usage("verify takes at most CASE");
    v1::VerifyRequest request;
    if (!args_.positional.empty()) request.set_case_id(args_.positional[0]);
    auto stub = v1::Audit::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::VerifyResponse response;
    const int code = Output(stub->Verify(&context, request, &response),
                            response, &FormatVerify);
    if (code == kOk && !response.ok()) return kBroken;
    return code;
  }

  int Metrics() {
    static const std::map<std::string, v1::MetricsGroupBy> kBy = {
        {"program", v1::METRICS_GROUP_BY_PROGRAM},
        {"case-manager", v1::METRICS_GROUP_BY_CASE_MANAGER},
        {"team", v1::METRICS_GROUP_BY_TEAM},
        {"cohort", v1::METRICS_GROUP_BY_COHORT},
        {"period", v1::METRICS_GROUP_BY_PERIOD},
        {"training-cycle", v1::METRICS_GROUP_BY_TRAINING_CYCLE},
    };
    v1::GetMetricsRequest request;
    if (args_.Has("by")) {
      auto it = kBy.find(args_.Get("by"));
      if (it == kBy.end()) return Usage("--by: unknown grouping");
      request.set_group_by(it->second);
    }
    if (args_.Has("as-of")) {
      absl::CivilDay day;
      if (!absl::ParseCivilTime(args_.Get("as-of"), &day)) {
        return Usage("--as-of: YYYY-MM-DD");
      }
      *request.mutable_as_of() = projections::MakeDate(
          static_cast<int>(day.year()), day.month(), day.day());
    }
    if (args_.Has("program")) {
      request.mutable_filters()->set_program(args_.Get("program"));
    }
    auto stub = v1::Analytics::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::GetMetricsResponse response;
    return Output(stub->GetMetrics(&context, request, &response), response,
                  [](const v1::GetMetricsResponse& r) {
                    return FormatMetrics(r.report());
                  });
  }

  int Append() {
    if (args_.positional.size() != 1) return Usage("append needs CASE");
    std::string text;
    if (args_.Has("file") && args_.Get("file") != "-") {
      std::ifstream in(args_.Get("file"));
      if (!in) return InputError("--file: cannot read the file");
      std::stringstream buffer;
      buffer << in.rdbuf();
      text = buffer.str();
    } else {
      std::stringstream buffer;
      buffer << std::cin.rdbuf();
      text = buffer.str();
    }
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
      return InputError("append: no events given");
    }
    v1::AppendEventsRequest request;
    google::protobuf::util::JsonParseOptions options;
    const auto parsed =
        text[first] == '['
            ? google::protobuf::util::JsonStringToMessage(
                  absl::StrCat("{\"events\":", text, "}"), &request, options)
        : text.find("\"events\"") != std::string::npos
            ? google::protobuf::util::JsonStringToMessage(text, &request,
                                                          options)
            : google::protobuf::util::JsonStringToMessage(
                  text, request.add_events(), options);
    if (!parsed.ok()) {
      return InputError(absl::StrCat("append: not valid event JSON: ",
                                     std::string(parsed.message())));
    }
    request.set_case_id(args_.positional[0]);
    const std::string expect = args_.Get("expect", "any");
    uint64_t version = 0;
    if (expect == "no-stream") {
      request.mutable_expected()->set_no_stream(true);
    } else if (expect == "exists") {
      request.mutable_expected()->set_stream_exists(true);
    } else if (absl::SimpleAtoi(expect, &version)) {
      request.mutable_expected()->set_exact(version);
    } else if (expect != "any") {
      return Usage("--expect: any, no-stream, exists or a version number");
    }
    for (v1::Event& event : *request.mutable_events()) {
      if (event.envelope().event_id().empty()) {
        event.mutable_envelope()->set_event_id(engine::NewEventId());
      }
    }
    auto stub = v1::CaseWriter::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::AppendEventsResponse response;
    return Output(
        stub->AppendEvents(&context, request, &response), response,
        [](const v1::AppendEventsResponse& r) {
          return absl::StrCat(
              r.replayed() ? "already stored: " : "appended: ", "version ",
              r.last_version(), ", position ", r.last_position(),
              " (commit position ", r.commit_position(), ")\n");
        });
  }

  int Tail() {
    v1::SubscribeRequest request;
    if (args_.Has("from")) {
      uint64_t from = 0;
      if (!absl::SimpleAtoi(args_.Get("from"), &from) || from == 0) {
        return Usage("--from: a global position (1 = the beginning)");
      }
      request.set_from_position(from);
    } else {
      request.set_from_now(true);
    }
    for (const std::string& type : List("type")) request.add_event_types(type);
    request.set_case_id(args_.Get("case"));
    auto stub = v1::Subscriptions::NewStub(channel_);
    grpc::ClientContext context;  // no deadline: follows until interrupted
    std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
        stub->Subscribe(&context, request);
    v1::SubscribeResponse message;
    while (reader->Read(&message)) {
      for (const v1::Event& event : message.events()) {
        if (json()) {
          std::string line;
          google::protobuf::util::JsonPrintOptions options;
          options.preserve_proto_field_names = true;
          (void)google::protobuf::util::MessageToJsonString(event, &line,
                                                            options);
          std::cout << line << "\n";
        } else {
          const v1::EventEnvelope& e = event.envelope();
          std::cout << e.global_position() << "  " << e.case_id() << " v"
                    << e.stream_version() << "  " << e.event_type() << "  "
                    << e.actor().user_id() << "\n";
        }
      }
      std::cout.flush();
    }
    const grpc::Status finished = reader->Finish();
    return finished.ok() ? kOk : Fail(finished);
  }

  int Status() {
    auto stub = v1::Operations::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::GetProjectionStatusResponse response;
    return Output(stub->GetProjectionStatus(&context, {}, &response), response,
                  &FormatStatus);
  }

  int Rebuild() {
    auto stub = v1::Operations::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::RebuildProjectionsResponse response;
    grpc::Status status = stub->RebuildProjections(&context, {}, &response);
    if (!status.ok()) return Fail(status);
    std::cout << "rebuild started; see 'casectl status'\n";
    return kOk;
  }

  int Backup() {
    if (args_.positional.size() != 1) return Usage("backup needs DIR");
    v1::BackupRequest request;
    request.set_directory(args_.positional[0]);
    auto stub = v1::Operations::NewStub(channel_);
    grpc::ClientContext context;
    Prepare(&context);
    v1::BackupResponse response;
    grpc::Status status = stub->Backup(&context, request, &response);
    if (!status.ok()) return Fail(status);
    if (json()) {
      PrintJson(response);
    } else {
      std::cout << "backup written to " << response.directory()
                << " (all events up to position " << response.position()
                << ")\n";
    }
    return kOk;
  }

  // Loads the deterministic demo caseload through AppendEvents. Re-running
  // it with the same seed adds nothing (the event ids repeat).
  int Demo() {
    caseload::CaseloadOptions options;
    int cases = 60;
    if (args_.Has("cases") && !absl::SimpleAtoi(args_.Get("cases"), &cases)) {
      return Usage("--cases: a number");
    }
    uint64_t seed = 1;
    if (args_.Has("seed") && !absl::SimpleAtoi(args_.Get("seed"), &seed)) {
      return Usage("--seed: a number");
    }
    options.cases = cases;
    options.seed = seed;
    if (absl::Status s = caseload::ValidateOptions(options); !s.ok()) {
      return Usage(std::string(s.message()));
    }
    caseload::CaseloadGenerator generator(options);
    absl::Mutex mu;
    grpc::Status failure;
    uint64_t events = 0, replayed = 0;
    auto stub = v1::CaseWriter::NewStub(channel_);
    const auto worker = [&] {
      for (;;) {
        caseload::StreamScript script;
        {
          absl::MutexLock lock(&mu);
          if (!failure.ok() || !generator.Next(&script)) return;
        }
        for (const engine::AppendRequest& append : script.appends) {
          v1::AppendEventsRequest request;
          request.set_case_id(append.case_id);
          switch (append.expected.kind()) {
            case engine::ExpectedVersion::Kind::kExact:
              request.mutable_expected()->set_exact(append.expected.version());
              break;
            case engine::ExpectedVersion::Kind::kNoStream:
              request.mutable_expected()->set_no_stream(true);
              break;
            case engine::ExpectedVersion::Kind::kStreamExists:
              request.mutable_expected()->set_stream_exists(true);
              break;
            case engine::ExpectedVersion::Kind::kAny:
              break;
          }
          for (const v1::Event& e : append.events) *request.add_events() = e;
          grpc::ClientContext context;
          Prepare(&context);
          v1::AppendEventsResponse response;
          grpc::Status status =
              stub->AppendEvents(&context, request, &response);
          absl::MutexLock lock(&mu);
          if (!status.ok()) {
            if (failure.ok()) failure = status;
            return;
          }
          events += append.events.size();
          if (response.replayed()) replayed += append.events.size();
        }
      }
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    if (!failure.ok()) return Fail(failure);
    std::cout << "demo caseload: " << cases << " cases (seed " << seed << "), "
              << events << " events"
              << (replayed > 0
                      ? absl::StrCat(", ", replayed, " already present")
                      : "")
              << "\n";
    return kOk;
  }

  const Args& args_;
  std::shared_ptr<grpc::Channel> channel_;
  absl::Duration timeout_;
};

}  // namespace
}  // namespace caseledger::casectl

int main(int argc, char** argv) {
  using namespace caseledger::casectl;
  const Args args = Parse(argc, argv);
  if (args.command.empty() || args.command == "help" || args.Has("help")) {
    std::fputs(kUsageText,
               args.command.empty() && !args.Has("help") ? stderr : stdout);
    return args.command.empty() && !args.Has("help") ? kUsage : kOk;
  }
  return Cli(args).Run();
}
