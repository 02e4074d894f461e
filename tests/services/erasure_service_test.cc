// The Erasure service through a real LedgerServer on a loopback port:
// crypto-shredding end to end (log, key store, projections, API), the master
// key file, and restore of a backup taken before an erasure.

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "caseledger/v1/erasure.grpc.pb.h"
#include "caseledger/v1/ledger_service.grpc.pb.h"
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

using ::caseledger::testing::FilesContaining;
using ::caseledger::testing::MakeEvent;
using ::caseledger::testing::MakeGoalSetEvent;
using ::caseledger::testing::StatusIs;
using ::caseledger::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kMarker[] = "PANGOLIN-5521-SECRET";
constexpr char kKept[] = "OKAPI-8803-KEPT";

v1::Event Opened(const std::string& name) {
  v1::EventPayload p;
  p.mutable_case_opened()->set_program("housing-first");
  p.mutable_case_opened()->set_case_manager_id("cm-anna");
  p.mutable_case_opened()->set_client_name(name);
  return MakeEvent(p);
}

class ErasureServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(Start()); }

  std::string data_dir() const { return dir_.Sub("data"); }

  void Start(const std::string& master_key_file = "") {
    ServerOptions options;
    options.data_dir = data_dir();
    options.listen = "127.0.0.1:0";
    options.workers = 2;
    options.master_key_file = master_key_file;
    options.plaintext_loopback = true;
    options.access.policy = testing::SuperuserPolicy();
    ASSERT_OK_AND_ASSIGN(server_, LedgerServer::Start(options));
    channel_ =
        testing::TokenChannel(absl::StrCat("127.0.0.1:", server_->port()));
    writer_ = v1::CaseWriter::NewStub(channel_);
    audit_ = v1::Audit::NewStub(channel_);
    queries_ = v1::Queries::NewStub(channel_);
    operations_ = v1::Operations::NewStub(channel_);
    erasure_ = v1::Erasure::NewStub(channel_);
  }

  void Stop() {
    erasure_.reset();
    operations_.reset();
    queries_.reset();
    audit_.reset();
    writer_.reset();
    channel_.reset();
    server_.reset();
  }

  static void Deadline(grpc::ClientContext* context) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  }

  uint64_t Append(const std::string& case_id, std::vector<v1::Event> events) {
    v1::AppendEventsRequest request;
    request.set_case_id(case_id);
    for (v1::Event& e : events) *request.add_events() = std::move(e);
    grpc::ClientContext context;
    Deadline(&context);
    v1::AppendEventsResponse response;
    grpc::Status status = writer_->AppendEvents(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.commit_position();
  }

  grpc::Status Erase(const std::string& case_id, v1::EraseCaseResponse* out) {
    v1::EraseCaseRequest request;
    request.set_case_id(case_id);
    request.set_reason("client request 2026-118");
    request.set_legal_basis("GDPR art. 17(1)(a)");
    request.mutable_actor()->set_user_id("dpo-maria");
    request.mutable_actor()->set_role("admin");
    grpc::ClientContext context;
    Deadline(&context);
    return erasure_->EraseCase(&context, request, out);
  }

  grpc::Status GetPlan(const std::string& case_id, uint64_t min_position,
                       v1::GetPlanResponse* out) {
    v1::GetPlanRequest request;
    request.set_case_id(case_id);
    request.set_min_position(min_position);
    grpc::ClientContext context;
    Deadline(&context);
    return queries_->GetPlan(&context, request, out);
  }

  v1::ReadCaseHistoryResponse History(const std::string& case_id) {
    v1::ReadCaseHistoryRequest request;
    request.set_case_id(case_id);
    grpc::ClientContext context;
    Deadline(&context);
    v1::ReadCaseHistoryResponse response;
    grpc::Status status = audit_->ReadCaseHistory(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  bool VerifyAll() {
    grpc::ClientContext context;
    Deadline(&context);
    v1::VerifyResponse response;
    grpc::Status status = audit_->Verify(&context, {}, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return status.ok() && response.ok();
  }

  // Two cases; the first carries the marker in its payloads.
  uint64_t AppendTwoCases() {
    Append("case-erase", {Opened(kMarker), MakeGoalSetEvent("g1", kMarker)});
    return Append("case-keep", {Opened(kKept)});
  }

  TempDir dir_;
  std::unique_ptr<LedgerServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::CaseWriter::Stub> writer_;
  std::unique_ptr<v1::Audit::Stub> audit_;
  std::unique_ptr<v1::Queries::Stub> queries_;
  std::unique_ptr<v1::Operations::Stub> operations_;
  std::unique_ptr<v1::Erasure::Stub> erasure_;
};

TEST_F(ErasureServiceTest, EraseCaseShredsTheCaseEverywhere) {
  const uint64_t position = AppendTwoCases();
  v1::GetPlanResponse plan;
  ASSERT_TRUE(GetPlan("case-erase", position, &plan).ok());
  ASSERT_EQ(plan.plan().goals_size(), 1);
  EXPECT_EQ(plan.plan().goals(0).statement(), kMarker);

  // Before erasure, the marker is served, yet with the log, the key store
  // and the projection store flushed and compacted, no file of the data
  // directory holds it in plain: payloads and read models are encrypted.
  ASSERT_OK(server_->log()->Compact());
  ASSERT_OK(server_->projection()->Compact());
  EXPECT_THAT(FilesContaining(data_dir(), kMarker), IsEmpty());
  EXPECT_THAT(FilesContaining(data_dir(), kKept), IsEmpty());

  v1::EraseCaseResponse erased;
  grpc::Status status = Erase("case-erase", &erased);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(erased.already_erased());
  EXPECT_EQ(erased.erasure_position(), position + 1);

  // Read models: nothing of the case is left.
  EXPECT_EQ(GetPlan("case-erase", 0, &plan).error_code(),
            grpc::StatusCode::NOT_FOUND);
  {
    v1::GetTimelineRequest request;
    request.set_case_id("case-erase");
    grpc::ClientContext context;
    Deadline(&context);
    v1::GetTimelineResponse response;
    EXPECT_EQ(queries_->GetTimeline(&context, request, &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  EXPECT_THAT(server_->projection()->GetFacts("case-erase"),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(auto dump, server_->projection()->Dump());
  for (const auto& [key, value] : dump) {
    EXPECT_EQ(key.find("case-erase"), std::string::npos) << key;
    EXPECT_EQ(value.find(kMarker), std::string::npos) << key;
  }
  // The other case is untouched.
  ASSERT_TRUE(GetPlan("case-keep", 0, &plan).ok());
  EXPECT_EQ(plan.plan().case_id(), "case-keep");

  // History: envelopes with the erased marker, then the erasure record.
  v1::ReadCaseHistoryResponse history = History("case-erase");
  ASSERT_EQ(history.events_size(), 3);
  EXPECT_TRUE(history.events(0).event().payload_erased());
  EXPECT_TRUE(history.events(1).event().payload_erased());
  EXPECT_FALSE(history.events(1).event().has_payload());
  EXPECT_EQ(history.events(2).event().envelope().event_type(), "CaseErased");
  EXPECT_EQ(history.events(2).event().envelope().actor().user_id(),
            "dpo-maria");
  EXPECT_TRUE(VerifyAll());

  // No file of the data directory holds the marker.
  ASSERT_OK(server_->log()->Compact());
  ASSERT_OK(server_->projection()->Compact());
  EXPECT_THAT(FilesContaining(data_dir(), kMarker), IsEmpty());

  // Appends are refused; a repeated erasure is reported as such.
  v1::AppendEventsRequest more;
  more.set_case_id("case-erase");
  *more.add_events() = MakeGoalSetEvent("g2", "more");
  grpc::ClientContext context;
  Deadline(&context);
  v1::AppendEventsResponse response;
  grpc::Status refused = writer_->AppendEvents(&context, more, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("erased"));
  v1::EraseCaseResponse again;
  ASSERT_TRUE(Erase("case-erase", &again).ok());
  EXPECT_TRUE(again.already_erased());
  EXPECT_EQ(again.erasure_position(), erased.erasure_position());
}

TEST_F(ErasureServiceTest, BadRequestsAreRefused) {
  const uint64_t position = AppendTwoCases();
  v1::EraseCaseResponse response;
  EXPECT_EQ(Erase("case-none", &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::EraseCaseRequest request;
  request.set_case_id("case-erase");
  request.set_legal_basis("GDPR art. 17(1)(a)");
  request.mutable_actor()->set_user_id("dpo-maria");
  grpc::ClientContext context;
  Deadline(&context);
  grpc::Status status = erasure_->EraseCase(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("reason"));
  v1::GetPlanResponse plan;
  EXPECT_TRUE(GetPlan("case-erase", position, &plan).ok());
}

TEST_F(ErasureServiceTest, RestoredBackupFromBeforeTheErasureServesItErased) {
  AppendTwoCases();
  {
    v1::BackupRequest request;
    request.set_directory("before-erasure");
    grpc::ClientContext context;
    Deadline(&context);
    v1::BackupResponse response;
    ASSERT_TRUE(operations_->Backup(&context, request, &response).ok());
  }
  v1::EraseCaseResponse erased;
  ASSERT_TRUE(Erase("case-erase", &erased).ok());
  Stop();

  // Restore as README describes: the backup becomes <data_dir>/log.
  const std::filesystem::path data(data_dir());
  std::filesystem::remove_all(data / "log");
  std::filesystem::rename(data / "backups" / "before-erasure", data / "log");
  ASSERT_NO_FATAL_FAILURE(Start());

  v1::ReadCaseHistoryResponse history = History("case-erase");
  ASSERT_EQ(history.events_size(), 3);
  EXPECT_TRUE(history.events(0).event().payload_erased());
  const v1::Event& record = history.events(2).event();
  EXPECT_EQ(record.envelope().event_type(), "CaseErased");
  EXPECT_TRUE(record.payload().case_erased().reapplied_after_restore());
  v1::GetPlanResponse plan;
  EXPECT_EQ(GetPlan("case-erase", record.envelope().global_position(), &plan)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(server_->projection()->GetFacts("case-erase"),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_TRUE(GetPlan("case-keep", 0, &plan).ok());
  EXPECT_TRUE(VerifyAll());
}

TEST_F(ErasureServiceTest, MasterKeyFileIsOwnerOnlyAndChecked) {
  const std::string generated = data_dir() + "/master.key";
  struct stat st;
  ASSERT_EQ(::stat(generated.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  Stop();

  // A key file readable by others is refused.
  const std::string outside = dir_.Sub("master.key");
  std::filesystem::copy_file(generated, outside);
  std::filesystem::permissions(outside, std::filesystem::perms::owner_read |
                                            std::filesystem::perms::group_read);
  ServerOptions options;
  options.data_dir = data_dir();
  options.listen = "127.0.0.1:0";
  options.plaintext_loopback = true;
  options.access.policy = testing::SuperuserPolicy();
  options.master_key_file = outside;
  EXPECT_THAT(
      LedgerServer::Start(options),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("chmod 600")));
  // Owner-only, it opens the same key store.
  std::filesystem::permissions(outside, std::filesystem::perms::owner_read,
                               std::filesystem::perm_options::replace);
  ASSERT_NO_FATAL_FAILURE(Start(outside));
  Stop();
  // Another key does not open it.
  const std::string other = dir_.Sub("other.key");
  {
    std::ofstream out(other);
    out << std::string(64, 'a') << "\n";
  }
  std::filesystem::permissions(other, std::filesystem::perms::owner_read,
                               std::filesystem::perm_options::replace);
  options.master_key_file = other;
  EXPECT_THAT(
      LedgerServer::Start(options),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("master key")));
}

}  // namespace
}  // namespace caseledger::services
