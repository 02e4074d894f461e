// casectl as a person or a script runs it: the real binary against a real
// server on loopback, checking output and exit codes.

#include <sys/wait.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "caseledger/v1/ledger_service.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace caseledger {
namespace {

using ::caseledger::testing::TempDir;

struct CliRun {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

class CasectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    services::ServerOptions options;
    options.data_dir = dir_.Sub("data");
    options.listen = "127.0.0.1:0";
    ASSERT_OK_AND_ASSIGN(server_, services::LedgerServer::Start(options));
  }

  // Runs casectl with `args` (and `input` on stdin, if any).
  CliRun Casectl(const std::string& args, const std::string& input = "") {
    std::string command =
        absl::StrCat(CASECTL_PATH, " --server=127.0.0.1:", server_->port(), " ",
                     args, " 2>&1");
    if (!input.empty()) {
      const std::string file = dir_.Sub("stdin.json");
      FILE* f = std::fopen(file.c_str(), "w");
      std::fputs(input.c_str(), f);
      std::fclose(f);
      command = absl::StrCat(command, " < ", file);
    }
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
  CliRun down;
  {
    const std::string command = absl::StrCat(
        CASECTL_PATH, " --server=127.0.0.1:1 --timeout=2 status 2>&1");
    FILE* pipe = popen(command.c_str(), "r");
    char buffer[512];
    while (std::fread(buffer, 1, sizeof(buffer), pipe) > 0) {
    }
    const int status = pclose(pipe);
    down.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  EXPECT_EQ(down.exit_code, 5);  // server unavailable
}

}  // namespace
}  // namespace caseledger
