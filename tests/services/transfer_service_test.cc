// The Transfer service over a real channel to a real in-process server:
// ImportEvents (all or nothing, idempotent, version conflicts with their
// trailer) and VerifyLog (progress, then the result).

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "caseledger/v1/transfer.grpc.pb.h"
#include "engine/ids.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/server.h"
#include "tests/testing/access.h"
#include "tests/testing/event_builders.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace caseledger::services {
namespace {

using ::caseledger::testing::MakeNoteEvent;
using ::caseledger::testing::TempDir;
using ::testing::HasSubstr;

class TransferServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.data_dir = dir_.Sub("data");
    options.listen = "127.0.0.1:0";
    options.log.sync = false;  // many events; durability is not under test
    options.plaintext_loopback = true;
    options.access.policy = testing::SuperuserPolicy();
    ASSERT_OK_AND_ASSIGN(server_, LedgerServer::Start(options));
    stub_ = v1::Transfer::NewStub(
        testing::TokenChannel(absl::StrCat("127.0.0.1:", server_->port())));
  }

  // Event `version` of `case_id`, as an export carries it.
  static v1::Event Exported(const std::string& case_id, uint64_t version,
                            int64_t recorded_seconds) {
    v1::Event event = MakeNoteEvent();
    v1::EventEnvelope* env = event.mutable_envelope();
    env->set_case_id(case_id);
    env->set_stream_version(version);
    env->set_event_type("NoteRecorded");
    env->mutable_recorded_at()->set_seconds(recorded_seconds);
    return event;
  }

  grpc::Status Import(const std::vector<v1::Event>& events,
                      v1::ImportEventsResponse* response,
                      std::string* current_version = nullptr) {
    v1::ImportEventsRequest request;
    for (const v1::Event& e : events) *request.add_events() = e;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    grpc::Status status = stub_->ImportEvents(&context, request, response);
    if (current_version != nullptr) {
      auto it = context.GetServerTrailingMetadata().find("current-version");
      if (it != context.GetServerTrailingMetadata().end()) {
        *current_version = std::string(it->second.data(), it->second.size());
      }
    }
    return status;
  }

  TempDir dir_;
  std::unique_ptr<LedgerServer> server_;
  std::unique_ptr<v1::Transfer::Stub> stub_;
};

TEST_F(TransferServiceTest, ImportsAllOrNothingAndIdempotently) {
  const int64_t t = 1767225600;
  const std::vector<v1::Event> events = {
      Exported("c1", 1, t), Exported("c2", 1, t + 1), Exported("c1", 2, t + 2)};
  std::vector<v1::Event> broken = events;
  broken[2].mutable_envelope()->set_stream_version(4);
  v1::ImportEventsResponse response;
  std::string current_version;
  const grpc::Status refused = Import(broken, &response, &current_version);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(refused.error_message(),
              HasSubstr("events[2].envelope.stream_version"));
  EXPECT_EQ(current_version, "1");
  EXPECT_EQ(server_->log()->LastPosition(), 0u);

  ASSERT_TRUE(Import(events, &response).ok());
  EXPECT_EQ(response.imported(), 3u);
  EXPECT_EQ(response.positions_kept(), 0u);  // the events carried none
  EXPECT_EQ(response.commit_position(), 3u);
  ASSERT_TRUE(Import(events, &response).ok());
  EXPECT_EQ(response.imported(), 0u);
  EXPECT_EQ(response.already_present(), 3u);

  std::vector<v1::Event> invalid = {Exported("c3", 1, t)};
  invalid[0].mutable_envelope()->clear_actor();
  const grpc::Status bad = Import(invalid, &response);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.error_message(), HasSubstr("events[0].envelope.actor"));
}

TEST_F(TransferServiceTest, VerifyLogStreamsProgressThenTheResult) {
  // 25,000 events: VerifyAll reports progress every 10,000.
  constexpr int kEvents = 25000;
  const int64_t t = 1767225600;
  std::vector<v1::Event> batch;
  v1::ImportEventsResponse response;
  for (int i = 0; i < kEvents; ++i) {
    batch.push_back(Exported(absl::StrCat("case-", i % 50), i / 50 + 1, t));
    if (batch.size() == 2000 || i + 1 == kEvents) {
      ASSERT_TRUE(Import(batch, &response).ok());
      batch.clear();
    }
  }
  ASSERT_EQ(server_->log()->LastPosition(), static_cast<uint64_t>(kEvents));

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  std::unique_ptr<grpc::ClientReader<v1::VerifyLogProgress>> reader =
      stub_->VerifyLog(&context, v1::VerifyLogRequest());
  std::vector<v1::VerifyLogProgress> messages;
  v1::VerifyLogProgress message;
  while (reader->Read(&message)) messages.push_back(message);
  const grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GE(messages.size(), 2u);  // the first progress is always sent
  uint64_t checked = 0;
  for (size_t i = 0; i + 1 < messages.size(); ++i) {
    EXPECT_FALSE(messages[i].has_result());
    EXPECT_GE(messages[i].events_checked(), checked);
    checked = messages[i].events_checked();
    EXPECT_EQ(messages[i].log_position(), static_cast<uint64_t>(kEvents));
  }
  EXPECT_EQ(messages[0].events_checked(), 10000u);
  const v1::VerifyLogProgress& last = messages.back();
  ASSERT_TRUE(last.has_result());
  EXPECT_TRUE(last.result().ok()) << last.result().problem();
  EXPECT_EQ(last.result().events_checked(), static_cast<uint64_t>(kEvents));
  EXPECT_EQ(last.result().cases_checked(), 50u);
}

}  // namespace
}  // namespace caseledger::services
