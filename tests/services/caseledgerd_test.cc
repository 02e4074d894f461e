// The caseledgerd binary as an operator runs it: started as a child process,
// fed over gRPC, stopped with SIGTERM (graceful: exit 0, every acknowledged
// append durable), restarted on the same data directory.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "caseledger/v1/ledger_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/event_builders.h"
#include "tests/testing/temp_dir.h"

extern char** environ;

namespace caseledger {
namespace {

using ::caseledger::testing::MakeNoteEvent;
using ::caseledger::testing::TempDir;

// A running caseledgerd child whose stderr (the log) is read line by line.
class Daemon {
 public:
  explicit Daemon(const std::vector<std::string>& args) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<std::string> all = {CASELEDGERD_PATH};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, CASELEDGERD_PATH, &actions, nullptr,
                          argv.data(), environ),
              0);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    log_ = fdopen(fds[0], "r");
  }

  ~Daemon() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (log_ != nullptr) fclose(log_);
  }

  // Reads log lines until one contains `needle`; returns it ("" at EOF).
  std::string WaitFor(const std::string& needle) {
    char line[4096];
    while (fgets(line, sizeof(line), log_) != nullptr) {
      all_ += line;
      if (absl::StrContains(line, needle)) return line;
    }
    return "";
  }

  // SIGTERM, then the exit status (or -1 if it did not exit normally).
  int Terminate() {
    kill(pid_, SIGTERM);
    return Wait();
  }

  // Waits for the process to exit by itself; its exit status, or -1.
  int Wait() {
    WaitFor("\n<never>");  // drain the log to EOF
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  const std::string& log() const { return all_; }

 private:
  pid_t pid_ = -1;
  FILE* log_ = nullptr;
  std::string all_;
};

int PortFrom(const std::string& line) {
  const size_t at = line.find(" port=");
  int port = 0;
  if (at == std::string::npos) return 0;
  const std::string rest = line.substr(at + 6);
  (void)absl::SimpleAtoi(rest.substr(0, rest.find(' ')), &port);
  return port;
}

TEST(CaseledgerdTest, SigtermShutsDownGracefullyAndKeepsAcknowledgedAppends) {
  TempDir dir;
  const std::vector<std::string> args = {"--data_dir=" + dir.Sub("data"),
                                         "--listen=127.0.0.1:0"};
  std::vector<std::string> acknowledged;
  {
    Daemon daemon(args);
    const int port = PortFrom(daemon.WaitFor("caseledgerd serving"));
    ASSERT_GT(port, 0) << daemon.log();
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                       grpc::InsecureChannelCredentials());
    auto writer = v1::CaseWriter::NewStub(channel);
    for (int i = 0; i < 20; ++i) {
      v1::AppendEventsRequest request;
      request.set_case_id("case-" + std::to_string(i % 4));
      *request.add_events() = MakeNoteEvent();
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
      v1::AppendEventsResponse response;
      const grpc::Status status =
          writer->AppendEvents(&context, request, &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
      acknowledged.push_back(request.events(0).envelope().event_id());
    }
    EXPECT_EQ(daemon.Terminate(), 0) << daemon.log();
    EXPECT_TRUE(absl::StrContains(daemon.log(), "signal=SIGTERM"));
    EXPECT_TRUE(absl::StrContains(daemon.log(), "msg=stopped log_position=20"))
        << daemon.log();
  }
  // Restarted on the same data directory: every acknowledged event is there.
  Daemon daemon(args);
  const std::string serving = daemon.WaitFor("caseledgerd serving");
  EXPECT_TRUE(absl::StrContains(serving, "log_position=20")) << serving;
  const int port = PortFrom(serving);
  auto audit = v1::Audit::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  std::vector<std::string> stored;
  for (int c = 0; c < 4; ++c) {
    v1::ReadCaseHistoryRequest request;
    request.set_case_id("case-" + std::to_string(c));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    v1::ReadCaseHistoryResponse response;
    ASSERT_TRUE(audit->ReadCaseHistory(&context, request, &response).ok());
    for (const auto& e : response.events()) {
      stored.push_back(e.event().envelope().event_id());
    }
  }
  EXPECT_EQ(stored.size(), acknowledged.size());
  for (const std::string& id : acknowledged) {
    EXPECT_NE(std::find(stored.begin(), stored.end(), id), stored.end()) << id;
  }
  EXPECT_EQ(daemon.Terminate(), 0);
}

TEST(CaseledgerdTest, BadConfigurationFailsWithAClearMessage) {
  TempDir dir;
  Daemon daemon({"--config=" + dir.Sub("missing.textproto")});
  EXPECT_EQ(daemon.Wait(), 2);
  EXPECT_TRUE(
      absl::StrContains(daemon.log(), "cannot read the configuration file"))
      << daemon.log();
}

}  // namespace
}  // namespace caseledger
