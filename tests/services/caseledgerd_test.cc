// The caseledgerd binary as an operator runs it: started as a child process,
// fed over gRPC, stopped with SIGTERM (graceful: exit 0, every acknowledged
// append durable), restarted on the same data directory.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
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
#include "tests/testing/access.h"
#include "tests/testing/daemon.h"
#include "tests/testing/event_builders.h"
#include "tests/testing/temp_dir.h"

namespace caseledger {
namespace {

using ::caseledger::testing::MakeNoteEvent;
using ::caseledger::testing::PortFrom;
using ::caseledger::testing::TempDir;

// caseledgerd as built with the tests.
class Daemon : public ::caseledger::testing::Daemon {
 public:
  explicit Daemon(const std::vector<std::string>& args)
      : ::caseledger::testing::Daemon(CASELEDGERD_PATH, args) {}
};

TEST(CaseledgerdTest, SigtermShutsDownGracefullyAndKeepsAcknowledgedAppends) {
  TempDir dir;
  const std::string policy = dir.Sub("policy.textproto");
  {
    std::ofstream out(policy);
    out << testing::SuperuserPolicyText();
  }
  const std::vector<std::string> args = {
      "--data_dir=" + dir.Sub("data"), "--listen=127.0.0.1:0",
      "--plaintext_loopback", "--policy=" + policy};
  std::vector<std::string> acknowledged;
  {
    Daemon daemon(args);
    const int port = PortFrom(daemon.WaitFor("caseledgerd serving"));
    ASSERT_GT(port, 0) << daemon.log();
    auto channel = testing::TokenChannel(absl::StrCat("127.0.0.1:", port));
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
  auto audit = v1::Audit::NewStub(
      testing::TokenChannel(absl::StrCat("127.0.0.1:", port)));
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
