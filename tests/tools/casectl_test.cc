// casectl as a person or a script runs it: the real binary against a real
// server on loopback, checking output and exit codes.

#include <sys/stat.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "caseledger/v1/ledger_service.pb.h"
#include "caseledger/v1/transfer.pb.h"
#include "engine/event_log.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/server.h"
#include "tests/testing/access.h"
#include "tests/testing/certificates.h"
#include "tests/testing/child_process.h"
#include "tests/testing/daemon.h"
#include "tests/testing/event_builders.h"
#include "tests/testing/raw_log.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace caseledger {
namespace {

using ::caseledger::testing::TempDir;

struct CliRun {
  int exit_code = -1;
  std::string out;  // stdout and stderr (stdout only for CasectlAt)
  std::string err;  // stderr, for CasectlAt
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// Runs a shell command; its stdout (and whatever it redirects there).
CliRun RunCommand(const std::string& command) {
  CliRun run;
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    run.out.append(buffer, n);
  }
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// A server on loopback (plaintext) whose one principal is the test
// superuser; casectl acts as it with --token-file.
services::ServerOptions Options(const std::string& data_dir) {
  services::ServerOptions options;
  options.data_dir = data_dir;
  options.listen = "127.0.0.1:0";
  options.plaintext_loopback = true;
  options.access.policy = testing::SuperuserPolicy();
  return options;
}

// The trailer export writes last (import requires it).
std::string Trailer(size_t events, size_t last_position) {
  return absl::StrCat("{\"export_trailer\":{\"events\":", events,
                      ",\"last_position\":", last_position, "}}");
}

// The event lines of an export file; checks and drops its trailer.
std::vector<std::string> ExportedEvents(const std::string& text) {
  std::vector<std::string> lines = Lines(text);
  EXPECT_FALSE(lines.empty());
  if (lines.empty()) return lines;
  EXPECT_EQ(lines.back(), Trailer(lines.size() - 1, lines.size() - 1));
  lines.pop_back();
  return lines;
}

class CasectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(
        server_, services::LedgerServer::Start(Options(dir_.Sub("data"))));
    std::ofstream(dir_.Sub("token")) << testing::kTestToken << "\n";
  }

  // Runs casectl with `args` (and `input` on stdin, if any).
  CliRun Casectl(const std::string& args, const std::string& input = "") {
    std::string command =
        absl::StrCat(CASECTL_PATH, " --server=127.0.0.1:", server_->port(),
                     " --token-file=", dir_.Sub("token"), " ", args, " 2>&1");
    if (!input.empty()) {
      const std::string file = dir_.Sub("stdin.json");
      FILE* f = std::fopen(file.c_str(), "w");
      std::fputs(input.c_str(), f);
      std::fclose(f);
      command = absl::StrCat(command, " < ", file);
    }
    return RunCommand(command);
  }

  // Runs casectl against the server on `port`; stdout and stderr apart.
  CliRun CasectlAt(int port, const std::string& args) {
    const std::string err_file = dir_.Sub("stderr.txt");
    const std::string command =
        absl::StrCat(CASECTL_PATH, " --server=127.0.0.1:", port,
                     " --token-file=", dir_.Sub("token"), " ", args, " 2>",
                     err_file, " </dev/null");
    CliRun run = RunCommand(command);
    run.err = ReadFile(err_file);
    return run;
  }

  // A second, empty ledger in its own data directory.
  std::unique_ptr<services::LedgerServer> StartSecondServer() {
    absl::StatusOr<std::unique_ptr<services::LedgerServer>> server =
        services::LedgerServer::Start(Options(dir_.Sub("data2")));
    EXPECT_OK(server.status());
    return server.ok() ? std::move(server).value() : nullptr;
  }

  // Imports the export `file` (whose text is `text`) into the empty ledger
  // on `port`, `batch` events per request, and checks the round trip: every
  // event imported at its own position, the ledger exports the same lines,
  // and importing again adds nothing.
  void ExpectRoundTrip(int port, const std::string& file,
                       const std::string& text, int batch) {
    const size_t events = ExportedEvents(text).size();
    CliRun imported = CasectlAt(
        port, absl::StrCat("--json import ", file, " --batch=", batch));
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    v1::ImportEventsResponse result;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(imported.out, &result).ok())
        << imported.out;
    EXPECT_EQ(result.imported(), events);
    EXPECT_EQ(result.positions_kept(), events);
    EXPECT_EQ(result.commit_position(), events);

    const std::string again = dir_.Sub("again.jsonl");
    ASSERT_EQ(CasectlAt(port, absl::StrCat("export --out=", again)).exit_code,
              0);
    EXPECT_TRUE(ReadFile(again) == text)
        << "the second export differs from the first";

    CliRun rerun = CasectlAt(port, absl::StrCat("--json import ", file));
    ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(rerun.out, &result).ok());
    EXPECT_EQ(result.imported(), 0u);
    EXPECT_EQ(result.already_present(), events);
  }

  TempDir dir_;
  std::unique_ptr<services::LedgerServer> server_;
};

constexpr char kEvents[] = R"([
  {"envelope": {"event_id": "123e4567-e89b-42d3-a456-426614174000",
                "occurred_at": "2026-11-20T10:00:00Z",
                "actor": {"user_id": "cm-anna", "role": "caseworker"}},
   "payload": {"case_opened": {"program": "housing-first",
                               "case_manager_id": "cm-anna"}}},
  {"envelope": {"event_id": "123e4567-e89b-42d3-a456-426614174001",
                "occurred_at": "2026-11-20T10:05:00Z",
                "actor": {"user_id": "cm-anna", "role": "caseworker"}},
   "payload": {"goal_set": {"goal_id": "g1",
                            "statement": "Get my own flat"}}}])";

TEST_F(CasectlTest, AppendThenReadThePlanTimelineHistoryAndVerify) {
  CliRun append = Casectl("append c1 --expect=no-stream", kEvents);
  EXPECT_EQ(append.exit_code, 0) << append.out;
  EXPECT_TRUE(absl::StrContains(append.out, "appended: version 2, position 2"))
      << append.out;
  // The same file again is an idempotent retry.
  CliRun again = Casectl("append c1 --expect=no-stream", kEvents);
  EXPECT_EQ(again.exit_code, 0) << again.out;
  EXPECT_TRUE(absl::StrContains(again.out, "already stored")) << again.out;

  CliRun plan = Casectl("plan c1");
  EXPECT_EQ(plan.exit_code, 0) << plan.out;
  EXPECT_TRUE(absl::StrContains(plan.out, "Goal 'Get my own flat'"))
      << plan.out;
  CliRun timeline = Casectl("timeline c1");
  EXPECT_TRUE(absl::StrContains(timeline.out, "Goal 'Get my own flat' set"))
      << timeline.out;
  CliRun history = Casectl("history c1");
  EXPECT_TRUE(absl::StrContains(history.out, "GoalSet")) << history.out;
  EXPECT_FALSE(absl::StrContains(history.out, "BROKEN")) << history.out;
  CliRun verify = Casectl("verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_TRUE(absl::StrContains(verify.out, "OK: 2 events")) << verify.out;
}

TEST_F(CasectlTest, JsonOutputParsesAsTheResponse) {
  ASSERT_EQ(Casectl("append c1", kEvents).exit_code, 0);
  CliRun plan = Casectl("--json plan c1");
  ASSERT_EQ(plan.exit_code, 0) << plan.out;
  v1::GetPlanResponse response;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(plan.out, &response).ok())
      << plan.out;
  EXPECT_EQ(response.plan().goals(0).statement(), "Get my own flat");
}

TEST_F(CasectlTest, ExitCodesSayWhatWentWrong) {
  EXPECT_EQ(Casectl("plan nobody").exit_code, 3);  // not found
  ASSERT_EQ(Casectl("append c1", kEvents).exit_code, 0);
  EXPECT_EQ(Casectl("append c1 --expect=7", kEvents).exit_code, 0);  // retry
  const std::string other =
      R"({"envelope": {"occurred_at": "2026-11-21T10:00:00Z",
      "actor": {"user_id": "a", "role": "caseworker"}},
      "payload": {"note_recorded": {"text": "x"}}})";
  EXPECT_EQ(Casectl("append c1 --expect=7", other).exit_code, 4);  // conflict
  EXPECT_EQ(Casectl("frobnicate").exit_code, 2);                   // usage
  CliRun bad = Casectl("append c1", "{not json");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(bad.out, "not valid event JSON")) << bad.out;
  EXPECT_EQ(Casectl("verify").exit_code, 0);
  const CliRun down = RunCommand(absl::StrCat(
      CASECTL_PATH, " --server=127.0.0.1:1 --timeout=2 status 2>&1"));
  EXPECT_EQ(down.exit_code, 5);  // server unavailable
}

TEST_F(CasectlTest, ExportImportIntoAnEmptyLedgerExportsIdenticalLines) {
  const int a = server_->port();
  ASSERT_EQ(CasectlAt(a, "demo --cases=4 --seed=3 --progress=none").exit_code,
            0);
  const std::string first = dir_.Sub("first.jsonl");
  // "--out FILE" and "--out=FILE" both work.
  CliRun exported = CasectlAt(
      a, absl::StrCat("--json export --out ", first, " --progress=lines"));
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  // --json: the summary alone on stdout; progress on stderr only.
  const std::string lines_text = ReadFile(first);
  const std::vector<std::string> lines = ExportedEvents(lines_text);
  ASSERT_GT(lines.size(), 100u);
  EXPECT_EQ(exported.out,
            absl::StrCat("{\"events\": ", lines.size(),
                         ", \"last_position\": ", lines.size(), "}\n"));
  EXPECT_TRUE(absl::StrContains(
      exported.err, absl::StrCat("export: ", lines.size(), " events in")))
      << exported.err;
  // One Event per line, in global order, without ledger-specific hashes.
  for (size_t i = 0; i < lines.size(); ++i) {
    v1::Event event;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(lines[i], &event).ok())
        << lines[i];
    EXPECT_EQ(event.envelope().global_position(), i + 1);
    EXPECT_TRUE(event.hash().empty());
    EXPECT_TRUE(event.envelope().prev_hash().empty());
  }

  std::unique_ptr<services::LedgerServer> second = StartSecondServer();
  ASSERT_NE(second, nullptr);
  const int b = second->port();
  ASSERT_NO_FATAL_FAILURE(ExpectRoundTrip(b, first, lines_text, 50));
  // The second ledger has its own valid chain and the same read models.
  EXPECT_EQ(CasectlAt(b, "verify").exit_code, 0);
  const CliRun plan_a = CasectlAt(a, "--json plan case-000001");
  const CliRun plan_b = CasectlAt(b, "--json plan case-000001");
  ASSERT_EQ(plan_b.exit_code, 0) << plan_b.err;
  EXPECT_EQ(plan_a.out, plan_b.out);
}

TEST_F(CasectlTest, AMalformedImportLineStopsAtItsLineNumber) {
  const int a = server_->port();
  ASSERT_EQ(Casectl("append c1", kEvents).exit_code, 0);
  ASSERT_EQ(Casectl("append c2", R"({"envelope": {
      "occurred_at": "2026-11-21T10:00:00Z",
      "actor": {"user_id": "cm-anna", "role": "caseworker"}},
      "payload": {"note_recorded": {"text": "called back"}}})")
                .exit_code,
            0);
  ASSERT_EQ(CasectlAt(a, "export --out=" + dir_.Sub("good.jsonl")).exit_code,
            0);
  const std::vector<std::string> good =
      ExportedEvents(ReadFile(dir_.Sub("good.jsonl")));
  ASSERT_EQ(good.size(), 3u);
  std::unique_ptr<services::LedgerServer> second = StartSecondServer();
  ASSERT_NE(second, nullptr);
  const int b = second->port();
  const auto ledger_b = [&]() {
    const std::string file = dir_.Sub("b.jsonl");
    EXPECT_EQ(CasectlAt(b, "export --out=" + file).exit_code, 0);
    return ExportedEvents(ReadFile(file));
  };

  // Not JSON on line 3: nothing is imported at all.
  const std::string bad = dir_.Sub("bad.jsonl");
  WriteFile(bad, absl::StrCat(good[0], "\n", good[1], "\n{not json\n"));
  CliRun broken = CasectlAt(b, "import " + bad);
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(broken.err, "bad.jsonl:3: not an event"))
      << broken.err;
  EXPECT_TRUE(absl::StrContains(broken.err, "nothing was imported"))
      << broken.err;
  EXPECT_TRUE(ledger_b().empty());

  // A line the server refuses (its version does not follow the case's):
  // exactly the lines before it are imported.
  v1::Event out_of_sequence;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(good[1], &out_of_sequence)
          .ok());
  out_of_sequence.mutable_envelope()->set_stream_version(7);
  std::string moved;
  ASSERT_TRUE(
      google::protobuf::util::MessageToJsonString(out_of_sequence, &moved)
          .ok());
  WriteFile(bad, absl::StrCat(good[0], "\n", moved, "\n", good[2], "\n",
                              Trailer(3, 3), "\n"));
  CliRun refused = CasectlAt(b, "import " + bad);
  EXPECT_EQ(refused.exit_code, 4) << refused.err;  // a version conflict
  EXPECT_TRUE(absl::StrContains(refused.err, "bad.jsonl:2: refused"))
      << refused.err;
  EXPECT_TRUE(absl::StrContains(refused.err, "line 2: envelope.stream_version"))
      << refused.err;
  EXPECT_EQ(ledger_b(), std::vector<std::string>({good[0]}));

  // The fixed file completes the import.
  CliRun fixed = CasectlAt(b, "import " + dir_.Sub("good.jsonl"));
  EXPECT_EQ(fixed.exit_code, 0) << fixed.err;
  EXPECT_TRUE(absl::StrContains(fixed.out, "imported 2 events (1 already"))
      << fixed.out;
  EXPECT_EQ(ledger_b(), good);

  EXPECT_EQ(CasectlAt(b, "import " + dir_.Sub("missing.jsonl")).exit_code, 2);
}

TEST_F(CasectlTest, ATruncatedExportIsRefusedAndExportsArePrivate) {
  const int a = server_->port();
  ASSERT_EQ(Casectl("append c1", kEvents).exit_code, 0);
  const std::string file = dir_.Sub("whole.jsonl");
  ASSERT_EQ(CasectlAt(a, "export --out=" + file).exit_code, 0);
  // Created 0600 whatever the umask (the test's is the usual 022).
  struct stat st;
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  const std::vector<std::string> events = ExportedEvents(ReadFile(file));
  ASSERT_EQ(events.size(), 2u);

  std::unique_ptr<services::LedgerServer> second = StartSecondServer();
  ASSERT_NE(second, nullptr);
  const int b = second->port();
  // Cut after the first event (a crash, a full disk, a copy stopped early):
  // refused, nothing imported, rather than importing the shorter prefix.
  const std::string cut = dir_.Sub("cut.jsonl");
  WriteFile(cut, absl::StrCat(events[0], "\n"));
  CliRun refused = CasectlAt(b, "import " + cut);
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_TRUE(absl::StrContains(refused.err, "no export trailer"))
      << refused.err;
  // A trailer that does not match the events is refused too.
  WriteFile(cut, absl::StrCat(events[0], "\n", Trailer(2, 2), "\n"));
  refused = CasectlAt(b, "import " + cut);
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_TRUE(absl::StrContains(refused.err, "the export trailer says 2"))
      << refused.err;
  // Nothing may follow the trailer.
  WriteFile(
      cut, absl::StrCat(events[0], "\n", Trailer(1, 1), "\n", events[1], "\n"));
  refused = CasectlAt(b, "import " + cut);
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_TRUE(absl::StrContains(refused.err, "cut.jsonl:3: a line after"))
      << refused.err;
  const std::string b_file = dir_.Sub("b.jsonl");
  ASSERT_EQ(CasectlAt(b, "export --out=" + b_file).exit_code, 0);
  EXPECT_TRUE(ExportedEvents(ReadFile(b_file)).empty());

  // A leftover .partial is never overwritten or followed.
  WriteFile(file + ".partial", "someone else's");
  CliRun busy = CasectlAt(a, "export --out=" + file);
  EXPECT_EQ(busy.exit_code, 2) << busy.err;
  EXPECT_TRUE(absl::StrContains(busy.err, ".partial exists")) << busy.err;
  EXPECT_EQ(ReadFile(file + ".partial"), "someone else's");
}

TEST_F(CasectlTest, AnImportThatCannotReachTheServerSaysItsOutcomeIsUnknown) {
  const int a = server_->port();
  ASSERT_EQ(Casectl("append c1", kEvents).exit_code, 0);
  const std::string file = dir_.Sub("whole.jsonl");
  ASSERT_EQ(CasectlAt(a, "export --out=" + file).exit_code, 0);
  std::unique_ptr<services::LedgerServer> second = StartSecondServer();
  ASSERT_NE(second, nullptr);
  const int gone = second->port();
  second.reset();  // nothing listens there any more
  CliRun failed = CasectlAt(gone, "import " + file);
  EXPECT_EQ(failed.exit_code, 5) << failed.err;  // unavailable
  EXPECT_TRUE(absl::StrContains(failed.err,
                                "outcome of the batch is unknown; re-run "
                                "(idempotent)"))
      << failed.err;
  EXPECT_FALSE(absl::StrContains(failed.err, "nothing from it on"))
      << failed.err;
}

constexpr char kCalledBack[] = R"({"envelope": {
    "occurred_at": "2026-11-21T10:00:00Z",
    "actor": {"user_id": "cm-anna", "role": "caseworker"}},
    "payload": {"note_recorded": {"text": "called back"}}})";

// `casectl --json tail --from=1` against `port`, read line by line.
class TailProcess {
 public:
  TailProcess(int port, const std::string& token_file) {
    process_.Spawn(CASECTL_PATH, {absl::StrCat("--server=127.0.0.1:", port),
                                  absl::StrCat("--token-file=", token_file),
                                  "--json", "tail", "--from=1"});
  }
  ~TailProcess() { process_.KillAndWait(); }

  // The global position of the next event tail prints; 0 if tail ended.
  uint64_t NextPosition() {
    std::string fragment;
    const std::optional<std::string> line = process_.ReadLine(&fragment);
    if (!line.has_value()) return 0;
    v1::Event event;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(*line, &event).ok())
        << *line;
    return event.envelope().global_position();
  }

 private:
  testing::ChildProcess process_;
};

// A graceful stop ends the stream with UNAVAILABLE ("server shutting
// down"); a call in the shutdown window can also end CANCELLED, and while
// the server is down calls fail UNAVAILABLE (connection refused). tail
// resumes at the last resume_from, so the event appended after the restart
// is the next one it prints: nothing skipped, nothing repeated.
TEST_F(CasectlTest, TailResumesAcrossAGracefulServerRestart) {
  const int port = server_->port();
  ASSERT_EQ(Casectl("append c1", kEvents).exit_code, 0);
  uint64_t last = 2;
  for (const absl::Duration grace : {absl::Seconds(10), absl::ZeroDuration()}) {
    SCOPED_TRACE(absl::StrCat("grace ", absl::FormatDuration(grace)));
    TailProcess tail(port, dir_.Sub("token"));
    for (uint64_t position = 1; position <= last; ++position) {
      ASSERT_EQ(tail.NextPosition(), position);
    }
    server_->Shutdown(grace);
    server_.reset();
    services::ServerOptions options = Options(dir_.Sub("data"));
    options.listen = absl::StrCat("127.0.0.1:", port);
    ASSERT_OK_AND_ASSIGN(server_, services::LedgerServer::Start(options));
    ASSERT_EQ(Casectl("append c2", kCalledBack).exit_code, 0);
    EXPECT_EQ(tail.NextPosition(), ++last);
  }
}

// A killed server (SIGKILL: no goodbye) ends the stream with UNAVAILABLE;
// tail resumes from the restarted server the same way.
TEST_F(CasectlTest, TailResumesAcrossAKilledServer) {
  const std::string policy = dir_.Sub("policy.textproto");
  std::ofstream(policy) << testing::SuperuserPolicyText();
  const auto start = [&](int port) {
    auto daemon = std::make_unique<testing::Daemon>(
        CASELEDGERD_PATH,
        std::vector<std::string>{"--data_dir=" + dir_.Sub("killed"),
                                 absl::StrCat("--listen=127.0.0.1:", port),
                                 "--plaintext_loopback", "--policy=" + policy});
    return daemon;
  };
  std::unique_ptr<testing::Daemon> daemon = start(0);
  const int port = testing::PortFrom(daemon->WaitFor("caseledgerd serving"));
  ASSERT_GT(port, 0) << daemon->log();
  daemon->DrainInBackground();
  const auto append = [&](const std::string& case_id, const char* events) {
    const std::string file = dir_.Sub("append.json");
    WriteFile(file, events);
    return RunCommand(absl::StrCat(CASECTL_PATH, " --server=127.0.0.1:", port,
                                   " --token-file=", dir_.Sub("token"),
                                   " append ", case_id, " < ", file, " 2>&1"));
  };
  ASSERT_EQ(append("c1", kEvents).exit_code, 0);
  TailProcess tail(port, dir_.Sub("token"));
  ASSERT_EQ(tail.NextPosition(), 1u);
  ASSERT_EQ(tail.NextPosition(), 2u);
  ASSERT_EQ(::kill(daemon->pid(), SIGKILL), 0);
  EXPECT_EQ(daemon->Wait(), -1);  // killed, not exited
  daemon = start(port);
  ASSERT_EQ(testing::PortFrom(daemon->WaitFor("caseledgerd serving")), port)
      << daemon->log();
  daemon->DrainInBackground();
  const CliRun appended = append("c2", kCalledBack);
  ASSERT_EQ(appended.exit_code, 0) << appended.out;
  EXPECT_EQ(tail.NextPosition(), 3u);
  EXPECT_EQ(daemon->Terminate(), 0);
}

// An export whose stream ends UNAVAILABLE/CANCELLED mid-way (the server
// stops) resumes from the next position on the restarted server: the file
// has every event exactly once, a valid trailer, and imports and verifies.
// Deterministic, without timing: a subscription sends a batch only once the
// projections cover it, and the first server's projections hold back the
// last 10 of 1,010 events (they apply whole chunks of 1,000 at once, a
// smaller rest only after apply_delay, here an hour). So that server sends
// positions 1-1000 and can never send the batch that reaches the end (and
// says caught_up); export must get it from the restarted server.
TEST_F(CasectlTest, ExportResumesMidStreamAcrossAServerRestart) {
  server_.reset();
  services::ServerOptions held = Options(dir_.Sub("data"));
  held.projection.apply_delay = absl::Hours(1);
  held.limits.max_wait = absl::Hours(1);  // the held batch waits, no timeout
  ASSERT_OK_AND_ASSIGN(server_, services::LedgerServer::Start(held));
  const int port = server_->port();
  constexpr int kCases = 101;
  constexpr int kEventsPerCase = 10;
  constexpr uint64_t kTotal = kCases * kEventsPerCase;
  constexpr uint64_t kChunk = 1000;  // CaseProjectionOptions::chunk_events
  ASSERT_EQ(held.projection.chunk_events, kChunk);
  for (int c = 0; c < kCases; ++c) {
    engine::AppendRequest append;
    append.case_id = absl::StrCat("case-", 1000 + c);
    v1::EventPayload opened;
    opened.mutable_case_opened()->set_program("housing-first");
    opened.mutable_case_opened()->set_case_manager_id("cm-anna");
    append.events.push_back(testing::MakeEvent(opened));
    for (int i = 1; i < kEventsPerCase; ++i) {
      append.events.push_back(testing::MakeNoteEvent(100));
    }
    ASSERT_OK(server_->log()->Append(append).status());
  }
  ASSERT_TRUE(server_->projection()->WaitForPosition(
      kChunk, absl::Now() + absl::Minutes(5)));
  ASSERT_EQ(server_->projection()->Position(), kChunk);

  testing::ChildProcess exporter;
  exporter.Spawn(CASECTL_PATH,
                 {absl::StrCat("--server=127.0.0.1:", port),
                  absl::StrCat("--token-file=", dir_.Sub("token")), "export",
                  "--out=-", "--progress=none"});
  // The first line is out: export has the first batch (more than stdout's
  // buffer holds) and waits for the next, which this server cannot send.
  std::string fragment;
  std::optional<std::string> line = exporter.ReadLine(&fragment);
  ASSERT_TRUE(line.has_value()) << fragment;
  std::string text = *line + "\n";
  EXPECT_EQ(server_->projection()->Position(), kChunk);
  server_->Shutdown(absl::ZeroDuration());
  server_.reset();
  services::ServerOptions restarted = Options(dir_.Sub("data"));
  restarted.listen = absl::StrCat("127.0.0.1:", port);
  ASSERT_OK_AND_ASSIGN(server_, services::LedgerServer::Start(restarted));
  while ((line = exporter.ReadLine(&fragment)).has_value()) {
    text += *line + "\n";
  }
  EXPECT_EQ(fragment, "");
  const int status = exporter.Wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << testing::DescribeWaitStatus(status);

  // Positions 1..kTotal, each once, then the trailer; the same bytes as an
  // export that was never interrupted.
  const std::vector<std::string> events = ExportedEvents(text);
  ASSERT_EQ(events.size(), kTotal);
  for (size_t i = 0; i < events.size(); ++i) {
    v1::Event event;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(events[i], &event).ok())
        << "line " << i + 1;
    ASSERT_EQ(event.envelope().global_position(), i + 1);
  }
  const std::string whole = dir_.Sub("whole.jsonl");
  ASSERT_EQ(CasectlAt(port, "export --progress=none --out=" + whole).exit_code,
            0);
  EXPECT_TRUE(ReadFile(whole) == text)
      << "the resumed export differs from an uninterrupted one";

  const std::string resumed = dir_.Sub("resumed.jsonl");
  WriteFile(resumed, text);
  std::unique_ptr<services::LedgerServer> second = StartSecondServer();
  ASSERT_NE(second, nullptr);
  ASSERT_NO_FATAL_FAILURE(ExpectRoundTrip(second->port(), resumed, text, 100));
  const CliRun verified = CasectlAt(second->port(), "verify");
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
}

// Only a stream that ends UNAVAILABLE or CANCELLED is resumed: any other
// status the server ends it with (here UNAUTHENTICATED) is export's answer,
// at once, and nothing is left behind.
TEST_F(CasectlTest, ExportEndsWithTheServersErrorInsteadOfResuming) {
  ASSERT_EQ(Casectl("append c1", kEvents).exit_code, 0);
  std::ofstream(dir_.Sub("token"), std::ios::trunc)
      << "not-a-token-this-server-knows\n";
  const std::string file = dir_.Sub("refused.jsonl");
  const CliRun refused = CasectlAt(
      server_->port(), absl::StrCat("export --progress=none --out=", file));
  EXPECT_EQ(refused.exit_code, 7) << refused.err;  // denied
  EXPECT_TRUE(absl::StartsWith(refused.err, "casectl: UNAUTHENTICATED:"))
      << refused.err;
  struct stat st;
  EXPECT_NE(::stat(file.c_str(), &st), 0);
  EXPECT_NE(::stat((file + ".partial").c_str(), &st), 0);
}

TEST_F(CasectlTest, MalformedJsonErrorsNeverQuoteTheContent) {
  const int a = server_->port();
  const std::string file = dir_.Sub("secret.jsonl");
  for (const std::string& line :
       {std::string(
            R"({"payload": {"note_recorded": {"text": SECRETMARKER}}})"),
        std::string(R"({"envelope": {"stream_version": "SECRETMARKER"}})"),
        std::string(R"({"envelope": {"sensitivity": ["SECRETMARKER"]}})"),
        std::string(R"({"SECRETMARKER": 1})"),
        std::string(R"({"payload": {}} SECRETMARKER)")}) {
    WriteFile(file, line + "\n");
    CliRun imported = CasectlAt(a, "import " + file);
    EXPECT_EQ(imported.exit_code, 2) << imported.err;
    EXPECT_TRUE(absl::StrContains(imported.err, "secret.jsonl:1: not an event"))
        << imported.err;
    EXPECT_FALSE(absl::StrContains(imported.err, "SECRETMARKER"))
        << imported.err;
    CliRun appended = Casectl("append c1", line);
    EXPECT_EQ(appended.exit_code, 2) << appended.out;
    EXPECT_TRUE(absl::StrContains(appended.out, "not valid event JSON"))
        << appended.out;
    EXPECT_FALSE(absl::StrContains(appended.out, "SECRETMARKER"))
        << appended.out;
  }
}

TEST_F(CasectlTest, VerifyOfABrokenChainExitsSixWithThePosition) {
  ASSERT_EQ(Casectl("append c1", kEvents).exit_code, 0);
  server_.reset();
  ASSERT_OK(testing::RemoveCaseIndexEntry(dir_.Sub("data/log"), "c1", 2));
  ASSERT_OK_AND_ASSIGN(
      server_, services::LedgerServer::Start(Options(dir_.Sub("data"))));
  CliRun verify = CasectlAt(server_->port(), "--json verify --progress=lines");
  EXPECT_EQ(verify.exit_code, 6) << verify.err;
  v1::VerifyResponse response;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(verify.out, &response).ok())
      << verify.out;
  EXPECT_FALSE(response.ok());
  EXPECT_EQ(response.first_broken_position(), 2u);
  EXPECT_TRUE(absl::StrContains(verify.err, "(broken)")) << verify.err;
  CliRun human = Casectl("verify c1");
  EXPECT_EQ(human.exit_code, 6) << human.out;
}

TEST_F(CasectlTest, HelpExplainsEveryCommandWithAnExample) {
  CliRun help = Casectl("--help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* command :
       {"plan", "timeline", "history", "verify", "metrics", "append", "tail",
        "status", "rebuild", "backup", "erase", "export", "import", "demo"}) {
    EXPECT_TRUE(absl::StrContains(help.out, absl::StrCat("e.g. casectl ")))
        << command;
    CliRun one = Casectl(absl::StrCat(command, " --help"));
    EXPECT_EQ(one.exit_code, 0) << command;
    EXPECT_TRUE(absl::StrContains(
        one.out, absl::StrCat("Usage: casectl [global flags] ", command)))
        << one.out;
    EXPECT_TRUE(absl::StrContains(one.out, absl::StrCat("Example:\n  casectl")))
        << one.out;
    EXPECT_TRUE(absl::StrContains(help.out, absl::StrCat("\n  ", command)))
        << command;
  }
  EXPECT_EQ(Casectl("").exit_code, 2);  // no command: usage on stderr
  CliRun unknown = Casectl("plan c1 --as_of=3");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(unknown.out, "plan does not take --as_of"))
      << unknown.out;
  EXPECT_EQ(Casectl("export").exit_code, 2);  // --out is required
  EXPECT_EQ(Casectl("import a b").exit_code, 2);
  EXPECT_EQ(Casectl("verify --progress=fancy").exit_code, 2);
}

TEST_F(CasectlTest, DemoMetricsStatusRebuildBackupAndTail) {
  const int port = server_->port();
  CliRun demo = CasectlAt(port, "demo --cases=12 --seed=2 --progress=lines");
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  EXPECT_TRUE(absl::StrContains(demo.out, "demo caseload: 12 cases"))
      << demo.out;
  EXPECT_TRUE(absl::StrContains(demo.err, "demo: ")) << demo.err;
  CliRun again = CasectlAt(port, "demo --cases=12 --seed=2 --progress=none");
  EXPECT_TRUE(absl::StrContains(again.out, "already present")) << again.out;
  EXPECT_TRUE(again.err.empty()) << again.err;
  const uint64_t events = server_->log()->LastPosition();

  CliRun metrics = CasectlAt(port, "--json metrics --by=program");
  ASSERT_EQ(metrics.exit_code, 0) << metrics.err;
  v1::GetMetricsResponse report;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(metrics.out, &report).ok())
      << metrics.out;
  EXPECT_EQ(report.report().group_by(), v1::METRICS_GROUP_BY_PROGRAM);
  CliRun table = CasectlAt(port, "metrics --by=program");
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_TRUE(absl::StrContains(table.out, "as of 20")) << table.out;
  EXPECT_FALSE(absl::StrContains(table.out, "-00;")) << table.out;
  // Every filter of the API reaches the server: an unknown team matches no
  // case, and the report states the filters it applied.
  CliRun none = CasectlAt(port,
                          "--json metrics --by=team --team=no-such-team "
                          "--case-manager=cm-x --cohort=2025-01 "
                          "--training-cycle=rfcm-cycle-1 --from=2020-01-02 "
                          "--to=2030-12-31");
  ASSERT_EQ(none.exit_code, 0) << none.err;
  v1::GetMetricsResponse filtered;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(none.out, &filtered).ok())
      << none.out;
  const v1::MetricsFilters& applied = filtered.report().filters();
  EXPECT_EQ(applied.team(), "no-such-team");
  EXPECT_EQ(applied.case_manager_id(), "cm-x");
  EXPECT_EQ(applied.cohort(), "2025-01");
  EXPECT_EQ(applied.training_cycle(), "rfcm-cycle-1");
  EXPECT_EQ(applied.opened_from().year(), 2020);
  EXPECT_EQ(applied.opened_to().year(), 2030);
  EXPECT_EQ(filtered.report().groups_size(), 0) << none.out;
  EXPECT_GT(report.report().groups_size(), 0) << metrics.out;
  EXPECT_EQ(CasectlAt(port, "metrics --from=2020-13-01").exit_code, 2);

  CliRun rebuilt = CasectlAt(port, "--json rebuild --wait --progress=lines");
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
  EXPECT_TRUE(absl::StrContains(rebuilt.err, "rebuild: ")) << rebuilt.err;
  v1::GetProjectionStatusResponse status;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(rebuilt.out, &status).ok())
      << rebuilt.out;
  ASSERT_GT(status.projections_size(), 0);
  EXPECT_FALSE(status.projections(0).rebuilding());
  EXPECT_GE(status.projections(0).position(), events);
  CliRun status_json = CasectlAt(port, "--json status");
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(status_json.out, &status)
          .ok())
      << status_json.out;
  EXPECT_EQ(status.projections(0).log_position(), events);

  CliRun verify = CasectlAt(port, "--json verify --progress=lines");
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  v1::VerifyResponse verified;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(verify.out, &verified).ok())
      << verify.out;
  EXPECT_EQ(verified.events_checked(), events);
  EXPECT_TRUE(absl::StrContains(verify.err,
                                absl::StrCat("verify: ", events, " events in")))
      << verify.err;

  CliRun backup = CasectlAt(port, "backup snap-1");
  EXPECT_EQ(backup.exit_code, 0) << backup.err;
  EXPECT_TRUE(absl::StrContains(backup.out, "backup written")) << backup.out;

  // tail follows the stream: every event from position 1, as JSON lines.
  testing::ChildProcess tail;
  tail.Spawn(CASECTL_PATH, {absl::StrCat("--server=127.0.0.1:", port),
                            "--token-file=" + dir_.Sub("token"), "--json",
                            "tail", "--from=1"});
  std::string fragment;
  for (uint64_t position = 1; position <= events; ++position) {
    std::optional<std::string> line = tail.ReadLine(&fragment);
    ASSERT_TRUE(line.has_value()) << "tail ended at " << position;
    v1::Event event;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*line, &event).ok())
        << *line;
    EXPECT_EQ(event.envelope().global_position(), position);
  }
  // ... and then live.
  ASSERT_EQ(Casectl("append c-live", kEvents).exit_code, 0);
  std::optional<std::string> live = tail.ReadLine(&fragment);
  ASSERT_TRUE(live.has_value());
  EXPECT_TRUE(absl::StrContains(*live, "c-live")) << *live;
  tail.KillAndWait();
}

TEST_F(CasectlTest, EraseShredsTheCaseAndHistoryShowsIt) {
  ASSERT_EQ(Casectl("append c1", kEvents).exit_code, 0);
  // Both texts are required.
  EXPECT_EQ(Casectl("erase c1 --reason=x").exit_code, 2);
  EXPECT_EQ(
      Casectl("erase nobody --reason=r --legal-basis=b --by=dpo").exit_code, 3);
  CliRun erase = Casectl(
      "erase c1 --reason='client request 2026-118' "
      "--legal-basis='GDPR art. 17' --by=dpo-maria");
  EXPECT_EQ(erase.exit_code, 0) << erase.out;
  EXPECT_TRUE(absl::StrContains(erase.out,
                                "case c1 erased; erasure record at position 3"))
      << erase.out;
  CliRun history = Casectl("history c1");
  EXPECT_EQ(history.exit_code, 0) << history.out;
  EXPECT_TRUE(absl::StrContains(history.out, "GoalSet [erased]"))
      << history.out;
  EXPECT_TRUE(absl::StrContains(history.out, "CaseErased")) << history.out;
  EXPECT_TRUE(absl::StrContains(history.out, "dpo-maria/admin")) << history.out;
  EXPECT_EQ(Casectl("plan c1").exit_code, 3);
  EXPECT_EQ(Casectl("verify").exit_code, 0);
  CliRun again = Casectl(
      "erase c1 --reason='client request 2026-118' --legal-basis='GDPR art. "
      "17' --by=dpo-maria");
  EXPECT_EQ(again.exit_code, 0) << again.out;
  EXPECT_TRUE(absl::StrContains(again.out, "was already erased")) << again.out;
}

TEST_F(CasectlTest, ExportImportCarriesAnErasedCase) {
  const int a = server_->port();
  ASSERT_EQ(CasectlAt(a, "demo --cases=3 --seed=5 --progress=none").exit_code,
            0);
  CliRun erase =
      CasectlAt(a,
                "erase case-000002 --reason='client request 2026-120' "
                "--legal-basis='GDPR art. 17'");
  ASSERT_EQ(erase.exit_code, 0) << erase.err;
  const std::string first = dir_.Sub("erased.jsonl");
  CliRun exported = CasectlAt(a, absl::StrCat("export --out=", first));
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  // The erased case's events are envelopes marked erased, then its record.
  const std::string lines_text = ReadFile(first);
  const std::vector<std::string> lines = ExportedEvents(lines_text);
  size_t erased_events = 0;
  size_t records = 0;
  for (const std::string& line : lines) {
    v1::Event event;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &event).ok())
        << line;
    if (event.envelope().case_id() != "case-000002") continue;
    if (event.payload().has_case_erased()) {
      ++records;
      EXPECT_EQ(event.payload().case_erased().reason(),
                "client request 2026-120");
    } else {
      ++erased_events;
      EXPECT_TRUE(event.payload_erased()) << line;
      EXPECT_FALSE(event.has_payload()) << line;
      EXPECT_FALSE(event.envelope().event_type().empty()) << line;
    }
  }
  EXPECT_GT(erased_events, 10u);
  EXPECT_EQ(records, 1u);

  std::unique_ptr<services::LedgerServer> second = StartSecondServer();
  ASSERT_NE(second, nullptr);
  const int b = second->port();
  ASSERT_NO_FATAL_FAILURE(ExpectRoundTrip(b, first, lines_text, 40));

  // The second ledger shows the case erased: history with erased markers,
  // no plan, appends refused; the other cases as in the first.
  CliRun history = CasectlAt(b, "history case-000002");
  EXPECT_EQ(history.exit_code, 0) << history.err;
  EXPECT_TRUE(absl::StrContains(history.out, "[erased]")) << history.out;
  EXPECT_TRUE(absl::StrContains(history.out, "CaseErased")) << history.out;
  CliRun plan = CasectlAt(b, "plan case-000002");
  EXPECT_EQ(plan.exit_code, 3) << plan.err;
  EXPECT_TRUE(absl::StrContains(plan.err, "erased")) << plan.err;
  WriteFile(dir_.Sub("more.json"), kEvents);
  CliRun append =
      CasectlAt(b, "append case-000002 --file=" + dir_.Sub("more.json"));
  EXPECT_NE(append.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(append.err, "erased")) << append.err;
  EXPECT_EQ(CasectlAt(b, "verify").exit_code, 0);
  const CliRun plan_a = CasectlAt(a, "--json plan case-000001");
  const CliRun plan_b = CasectlAt(b, "--json plan case-000001");
  ASSERT_EQ(plan_b.exit_code, 0) << plan_b.err;
  EXPECT_EQ(plan_a.out, plan_b.out);
}

// casectl's identity flags against a server that requires TLS (mutual TLS
// offered): --tls-ca, --tls-cert/--tls-key and --token-file, and the exit
// codes and messages when they are wrong or missing.
class CasectlTlsTest : public ::testing::Test {
 protected:
  static constexpr char kClientIdentity[] = "casectl-client";

  void SetUp() override {
    const testing::Pem server = ca_.Server();
    const testing::Pem client = ca_.Client(kClientIdentity);
    const testing::Pem stranger = rogue_.Client(kClientIdentity);
    WriteFile(dir_.Sub("server.pem"), server.certificate);
    WriteFile(dir_.Sub("server.key"), server.private_key);
    WriteFile(dir_.Sub("ca.pem"), ca_.certificate());
    WriteFile(dir_.Sub("client.pem"), client.certificate);
    WriteFile(dir_.Sub("client.key"), client.private_key);
    WriteFile(dir_.Sub("rogue-ca.pem"), rogue_.certificate());
    WriteFile(dir_.Sub("stranger.pem"), stranger.certificate);
    WriteFile(dir_.Sub("stranger.key"), stranger.private_key);
    WriteFile(dir_.Sub("token"), std::string(testing::kTestToken) + "\n");
    WriteFile(dir_.Sub("wrong.token"), kWrongToken);
    WriteFile(dir_.Sub("empty.token"), "\n");
    services::ServerOptions options;
    options.data_dir = dir_.Sub("data");
    options.listen = "127.0.0.1:0";
    options.log.sync = false;
    options.tls.cert_file = dir_.Sub("server.pem");
    options.tls.key_file = dir_.Sub("server.key");
    options.tls.client_ca_file = dir_.Sub("ca.pem");
    options.access.policy = testing::SuperuserPolicy();
    // The same grants for whoever holds the client certificate.
    v1::Principal* by_certificate = options.access.policy.add_principals();
    *by_certificate = options.access.policy.principals(0);
    by_certificate->set_id(kClientIdentity);
    by_certificate->clear_token_sha256_hex();
    by_certificate->set_certificate_identity(kClientIdentity);
    ASSERT_OK_AND_ASSIGN(server_, services::LedgerServer::Start(options));
  }

  // Runs casectl against the TLS server with `args`; stdout and stderr
  // apart.
  CliRun Run(const std::string& args) {
    const std::string err_file = dir_.Sub("stderr.txt");
    CliRun run = RunCommand(
        absl::StrCat(CASECTL_PATH, " --server=127.0.0.1:", server_->port(),
                     " --timeout=10 ", args, " 2>", err_file, " </dev/null"));
    run.err = ReadFile(err_file);
    return run;
  }

  std::string Flag(const std::string& name, const std::string& file) {
    return absl::StrCat(" --", name, "=", dir_.Sub(file));
  }

  // The access log's records of `principal`.
  std::vector<v1::Event> RecordsOf(const std::string& principal) {
    services::AccessLogQuery query;
    query.principal = principal;
    query.max_count = 1000;
    absl::StatusOr<services::AccessLogPage> page =
        server_->access_log()->Query(query);
    EXPECT_OK(page.status());
    return page.ok() ? page->records : std::vector<v1::Event>();
  }

  static constexpr char kWrongToken[] =
      "wrong-token-0f1e2d3c4b5a69788796a5b4c3d2e1f0aabbccdd";
  TempDir dir_;
  testing::TestCa ca_{"casectl test CA"};
  testing::TestCa rogue_{"rogue CA"};
  std::unique_ptr<services::LedgerServer> server_;
};

TEST_F(CasectlTlsTest, TlsWithTokenOrClientCertificate) {
  // TLS with the test CA and a bearer token from --token-file.
  CliRun append = RunCommand(absl::StrCat(
      CASECTL_PATH, " --server=127.0.0.1:", server_->port(), " --timeout=10",
      Flag("tls-ca", "ca.pem"), Flag("token-file", "token"),
      " append c1 --expect=no-stream < ",
      [&] {
        WriteFile(dir_.Sub("events.json"), kEvents);
        return dir_.Sub("events.json");
      }(),
      " 2>&1"));
  ASSERT_EQ(append.exit_code, 0) << append.out;
  CliRun plan = Run(Flag("tls-ca", "ca.pem") + Flag("token-file", "token") +
                    " --purpose=tls-token plan c1");
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_TRUE(absl::StrContains(plan.out, "Goal 'Get my own flat'"))
      << plan.out;
  // Mutual TLS: the client certificate alone identifies the caller.
  CliRun history = Run(
      Flag("tls-ca", "ca.pem") + Flag("tls-cert", "client.pem") +
      Flag("tls-key", "client.key") + " --purpose=tls-certificate history c1");
  EXPECT_EQ(history.exit_code, 0) << history.err;
  EXPECT_TRUE(absl::StrContains(history.out, "GoalSet")) << history.out;
  const std::vector<v1::Event> records = RecordsOf(kClientIdentity);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].payload().access_recorded().purpose(),
            "tls-certificate");
  EXPECT_EQ(records[0].payload().access_recorded().output(), "history");
  EXPECT_EQ(RecordsOf("test-superuser").size(), 1u);  // the plan read
}

TEST_F(CasectlTlsTest, WrongCaOrMissingCredentialsFailClearlyWithoutSecrets) {
  auto expect_clean = [](const CliRun& run) {
    EXPECT_FALSE(absl::StrContains(run.err, testing::kTestToken)) << run.err;
    EXPECT_FALSE(absl::StrContains(run.err, kWrongToken)) << run.err;
    EXPECT_FALSE(absl::StrContains(run.err, "PRIVATE KEY")) << run.err;
    EXPECT_TRUE(run.out.empty()) << run.out;
  };
  // A CA that did not sign the server's certificate: no connection (5).
  CliRun wrong_ca = Run(Flag("tls-ca", "rogue-ca.pem") +
                        Flag("token-file", "token") + " status");
  EXPECT_EQ(wrong_ca.exit_code, 5) << wrong_ca.err;
  // (gRPC itself may log the failed handshake first.)
  EXPECT_TRUE(absl::StrContains(wrong_ca.err, "casectl: UNAVAILABLE"))
      << wrong_ca.err;
  EXPECT_TRUE(absl::StrContains(wrong_ca.err, "--tls-ca")) << wrong_ca.err;
  expect_clean(wrong_ca);
  // Plaintext to a TLS server: no connection either.
  CliRun plaintext = Run(Flag("token-file", "token") + " status");
  EXPECT_EQ(plaintext.exit_code, 5) << plaintext.err;
  expect_clean(plaintext);
  // A client certificate from another CA fails the handshake.
  CliRun stranger =
      Run(Flag("tls-ca", "ca.pem") + Flag("tls-cert", "stranger.pem") +
          Flag("tls-key", "stranger.key") + " status");
  EXPECT_EQ(stranger.exit_code, 5) << stranger.err;
  expect_clean(stranger);
  // TLS but no token and no certificate: not authenticated (7).
  CliRun anonymous = Run(Flag("tls-ca", "ca.pem") + " status");
  EXPECT_EQ(anonymous.exit_code, 7) << anonymous.err;
  EXPECT_TRUE(absl::StrContains(anonymous.err, "UNAUTHENTICATED"))
      << anonymous.err;
  expect_clean(anonymous);
  // A token nobody holds: 7, and the token is not echoed.
  CliRun wrong_token = Run(Flag("tls-ca", "ca.pem") +
                           Flag("token-file", "wrong.token") + " status");
  EXPECT_EQ(wrong_token.exit_code, 7) << wrong_token.err;
  expect_clean(wrong_token);
  // A token file that is missing or empty: usage (2), before any call.
  CliRun missing = Run(Flag("tls-ca", "ca.pem") +
                       Flag("token-file", "no-such.token") + " status");
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_EQ(missing.err, "casectl: --token-file: cannot read the file\n");
  CliRun empty = Run(Flag("tls-ca", "ca.pem") +
                     Flag("token-file", "empty.token") + " status");
  EXPECT_EQ(empty.exit_code, 2) << empty.err;
  EXPECT_EQ(empty.err, "casectl: --token-file: the file is empty\n");
  // Half a client certificate, or one without a CA: usage (2).
  CliRun half = Run(Flag("tls-ca", "ca.pem") + Flag("tls-cert", "client.pem") +
                    " status");
  EXPECT_EQ(half.exit_code, 2) << half.err;
  EXPECT_TRUE(absl::StrContains(half.err, "--tls-cert and --tls-key"))
      << half.err;
  CliRun no_ca = Run(Flag("tls-cert", "client.pem") +
                     Flag("tls-key", "client.key") + " status");
  EXPECT_EQ(no_ca.exit_code, 2) << no_ca.err;
  EXPECT_TRUE(absl::StrContains(no_ca.err, "--tls-cert needs --tls-ca"))
      << no_ca.err;
  // Nothing of these reached the handlers as an authenticated read.
  EXPECT_TRUE(RecordsOf(kClientIdentity).empty());
}

}  // namespace
}  // namespace caseledger
