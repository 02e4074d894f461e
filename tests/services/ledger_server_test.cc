// Integration tests of caseledgerd's gRPC API: a real LedgerServer in this
// process, on a free local port, spoken to over a real channel with the
// generated stubs.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "caseledger/v1/ledger_service.grpc.pb.h"
#include "engine/event_log.h"
#include "gmock/gmock.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "projections/case_projection.h"
#include "projections/dates.h"
#include "services/master_key.h"
#include "services/server.h"
#include "tests/testing/access.h"
#include "tests/testing/event_builders.h"
#include "tests/testing/fault_injection_fs.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace caseledger::services {
namespace {

using ::caseledger::testing::MakeEvent;
using ::caseledger::testing::MakeGoalSetEvent;
using ::caseledger::testing::MakeNoteEvent;
using ::caseledger::testing::StatusIs;
using ::caseledger::testing::TempDir;
using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

constexpr absl::Duration kCallDeadline = absl::Seconds(15);
// Streams that are expected to end on their own get a generous deadline so
// that a bug makes the test fail instead of hang.
constexpr absl::Duration kStreamDeadline = absl::Seconds(60);

MATCHER_P(GrpcCodeIs, code,
          "has gRPC status code " + ::testing::PrintToString(code)) {
  *result_listener << "status " << arg.error_code() << ": "
                   << arg.error_message();
  return arg.error_code() == code;
}

#define ASSERT_GRPC_OK(expr)                                               \
  do {                                                                     \
    const ::grpc::Status _s = (expr);                                      \
    ASSERT_TRUE(_s.ok()) << _s.error_code() << ": " << _s.error_message(); \
  } while (false)
#define EXPECT_GRPC_OK(expr)                                               \
  do {                                                                     \
    const ::grpc::Status _s = (expr);                                      \
    EXPECT_TRUE(_s.ok()) << _s.error_code() << ": " << _s.error_message(); \
  } while (false)

void SetDeadline(grpc::ClientContext* context,
                 absl::Duration timeout = kCallDeadline) {
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

absl::Time Day(int year, int month, int day) {
  return absl::FromCivil(absl::CivilDay(year, month, day), absl::UTCTimeZone());
}

google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

v1::Event Opened(const std::string& program, const std::string& manager) {
  v1::EventPayload p;
  p.mutable_case_opened()->set_program(program);
  p.mutable_case_opened()->set_case_manager_id(manager);
  p.mutable_case_opened()->set_team("team-north");
  p.mutable_case_opened()->set_client_name("Client Name");
  return MakeEvent(p, Day(2026, 1, 5));
}

v1::Event GoalOn(const std::string& goal_id, const std::string& statement,
                 absl::Time occurred) {
  v1::Event event = MakeGoalSetEvent(goal_id, statement);
  *event.mutable_envelope()->mutable_occurred_at() = ToProto(occurred);
  return event;
}

v1::ExpectedVersion Exact(uint64_t version) {
  v1::ExpectedVersion e;
  e.set_exact(version);
  return e;
}

std::string Trailer(const grpc::ClientContext& context,
                    const std::string& key) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find(key);
  if (it == trailers.end()) return "<absent>";
  return std::string(it->second.data(), it->second.size());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<uint64_t> Positions(const std::vector<v1::Event>& events) {
  std::vector<uint64_t> positions;
  for (const v1::Event& e : events) {
    positions.push_back(e.envelope().global_position());
  }
  return positions;
}

std::vector<uint64_t> Range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> r;
  for (uint64_t p = first; p <= last; ++p) r.push_back(p);
  return r;
}

// What a subscription delivered so far.
struct Delivered {
  std::vector<v1::SubscribeResponse> messages;
  std::vector<v1::Event> events;
};

// Reads until at least `want` events have arrived in total. False if the
// stream ended first.
bool ReadEvents(grpc::ClientReader<v1::SubscribeResponse>* reader, size_t want,
                Delivered* out) {
  while (out->events.size() < want) {
    v1::SubscribeResponse message;
    if (!reader->Read(&message)) return false;
    for (const v1::Event& e : message.events()) out->events.push_back(e);
    out->messages.push_back(std::move(message));
  }
  return true;
}

// Reads until a message says caught_up. False if the stream ended first.
bool ReadUntilCaughtUp(grpc::ClientReader<v1::SubscribeResponse>* reader,
                       Delivered* out) {
  for (;;) {
    v1::SubscribeResponse message;
    if (!reader->Read(&message)) return false;
    for (const v1::Event& e : message.events()) out->events.push_back(e);
    const bool caught_up = message.caught_up();
    out->messages.push_back(std::move(message));
    if (caught_up) return true;
  }
}

// The resume_from contract: never skips, never repeats. For an unfiltered
// subscription starting at `from`, each message's first event is exactly
// where the previous message said to resume, and resume_from is right after
// its last event; progress messages never move resume_from backwards.
void ExpectResumeFromContiguous(const Delivered& d, uint64_t from) {
  uint64_t resume = from;
  for (size_t i = 0; i < d.messages.size(); ++i) {
    const v1::SubscribeResponse& m = d.messages[i];
    if (m.events().empty()) {
      EXPECT_GE(m.resume_from(), resume) << "message " << i;
    } else {
      EXPECT_EQ(m.events(0).envelope().global_position(), resume)
          << "message " << i;
      EXPECT_EQ(m.resume_from(),
                m.events(m.events_size() - 1).envelope().global_position() + 1)
          << "message " << i;
    }
    resume = m.resume_from();
  }
}

// For filtered subscriptions: resume_from is past every delivered event and
// never goes backwards.
void ExpectResumeFromMonotonic(const Delivered& d, uint64_t from) {
  uint64_t resume = from;
  for (size_t i = 0; i < d.messages.size(); ++i) {
    const v1::SubscribeResponse& m = d.messages[i];
    EXPECT_GE(m.resume_from(), resume) << "message " << i;
    for (const v1::Event& e : m.events()) {
      EXPECT_GE(e.envelope().global_position(), resume) << "message " << i;
      EXPECT_LT(e.envelope().global_position(), m.resume_from())
          << "message " << i;
    }
    resume = m.resume_from();
  }
}

class LedgerServerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartServer(Options())); }

  ServerOptions Options() const {
    ServerOptions options;
    options.data_dir = data_dir();
    options.listen = "127.0.0.1:0";
    options.workers = 4;
    options.plaintext_loopback = true;
    options.access.policy = testing::SuperuserPolicy();
    return options;
  }

  std::string data_dir() const { return dir_.Sub("data"); }

  void StartServer(const ServerOptions& options) {
    ASSERT_OK_AND_ASSIGN(server_, LedgerServer::Start(options));
    ASSERT_GT(server_->port(), 0);
    channel_ =
        testing::TokenChannel(absl::StrCat("127.0.0.1:", server_->port()));
    writer_ = v1::CaseWriter::NewStub(channel_);
    audit_ = v1::Audit::NewStub(channel_);
    queries_ = v1::Queries::NewStub(channel_);
    analytics_ = v1::Analytics::NewStub(channel_);
    operations_ = v1::Operations::NewStub(channel_);
    subscriptions_ = v1::Subscriptions::NewStub(channel_);
  }

  void StopServer() {
    writer_.reset();
    audit_.reset();
    queries_.reset();
    analytics_.reset();
    operations_.reset();
    subscriptions_.reset();
    channel_.reset();
    server_.reset();
  }

  grpc::Status Append(const std::string& case_id, std::vector<v1::Event> events,
                      v1::AppendEventsResponse* response,
                      const v1::ExpectedVersion& expected = {}) {
    v1::AppendEventsRequest request;
    request.set_case_id(case_id);
    *request.mutable_expected() = expected;
    for (v1::Event& e : events) *request.add_events() = std::move(e);
    grpc::ClientContext context;
    SetDeadline(&context);
    return writer_->AppendEvents(&context, request, response);
  }

  // Appends and expects success.
  v1::AppendEventsResponse MustAppend(const std::string& case_id,
                                      std::vector<v1::Event> events) {
    v1::AppendEventsResponse response;
    const grpc::Status status = Append(case_id, std::move(events), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  grpc::Status ReadHistory(const v1::ReadCaseHistoryRequest& request,
                           v1::ReadCaseHistoryResponse* response) {
    grpc::ClientContext context;
    SetDeadline(&context);
    return audit_->ReadCaseHistory(&context, request, response);
  }

  // Every event id of a case, in version order.
  std::vector<std::string> AllEventIds(const std::string& case_id) {
    std::vector<std::string> ids;
    v1::ReadCaseHistoryRequest request;
    request.set_case_id(case_id);
    request.set_page_size(1000);
    for (;;) {
      v1::ReadCaseHistoryResponse response;
      const grpc::Status status = ReadHistory(request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const v1::HistoryEvent& e : response.events()) {
        ids.push_back(e.event().envelope().event_id());
      }
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return ids;
  }

  grpc::Status Verify(const std::string& case_id, v1::VerifyResponse* r) {
    v1::VerifyRequest request;
    request.set_case_id(case_id);
    grpc::ClientContext context;
    SetDeadline(&context);
    return audit_->Verify(&context, request, r);
  }

  grpc::Status GetPlan(const v1::GetPlanRequest& request,
                       v1::GetPlanResponse* response) {
    grpc::ClientContext context;
    SetDeadline(&context);
    return queries_->GetPlan(&context, request, response);
  }

  grpc::Status GetTimeline(const v1::GetTimelineRequest& request,
                           v1::GetTimelineResponse* response) {
    grpc::ClientContext context;
    SetDeadline(&context);
    return queries_->GetTimeline(&context, request, response);
  }

  grpc::Status GetStatus(v1::GetProjectionStatusResponse* response) {
    grpc::ClientContext context;
    SetDeadline(&context);
    return operations_->GetProjectionStatus(
        &context, v1::GetProjectionStatusRequest(), response);
  }

  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> Subscribe(
      grpc::ClientContext* context, const v1::SubscribeRequest& request) {
    SetDeadline(context, kStreamDeadline);
    return subscriptions_->Subscribe(context, request);
  }

  static v1::SubscribeRequest From(uint64_t position, uint32_t max_batch = 0) {
    v1::SubscribeRequest request;
    request.set_from_position(position);
    request.set_max_batch(max_batch);
    return request;
  }

  TempDir dir_;
  std::unique_ptr<LedgerServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::CaseWriter::Stub> writer_;
  std::unique_ptr<v1::Audit::Stub> audit_;
  std::unique_ptr<v1::Queries::Stub> queries_;
  std::unique_ptr<v1::Analytics::Stub> analytics_;
  std::unique_ptr<v1::Operations::Stub> operations_;
  std::unique_ptr<v1::Subscriptions::Stub> subscriptions_;
};

// ---------------------------------------------------------------------------
// Start failures
//
// Each runs in a child process (a death test expecting a clean exit), so that
// a crash while cleaning up after a failed Start fails only that test instead
// of taking the whole binary down. The child exits 0 when every check holds
// and prints what went wrong otherwise.

// Starts a server and reports on stderr; returns false on failure.
bool StartOrReport(const ServerOptions& options,
                   std::unique_ptr<LedgerServer>* server) {
  absl::StatusOr<std::unique_ptr<LedgerServer>> started =
      LedgerServer::Start(options);
  if (!started.ok()) {
    std::fprintf(stderr, "first Start failed: %s\n",
                 started.status().ToString().c_str());
    return false;
  }
  *server = std::move(started).value();
  return true;
}

// Exit code of a child: 0 if `status` has `code`.
int ExpectStartError(const absl::Status& status, absl::StatusCode code) {
  std::fprintf(stderr, "Start returned: %s\n", status.ToString().c_str());
  return status.code() == code ? 0 : 1;
}

ServerOptions LocalOptions(const TempDir& dir, const std::string& name) {
  ServerOptions options;
  options.data_dir = dir.Sub(name);
  options.listen = "127.0.0.1:0";
  options.plaintext_loopback = true;
  return options;
}

class LedgerServerStartDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(LedgerServerStartDeathTest, FailsCleanlyWhenTheDataDirectoryIsInUse) {
  EXPECT_EXIT(
      {
        TempDir dir;
        std::unique_ptr<LedgerServer> first;
        if (!StartOrReport(LocalOptions(dir, "data"), &first)) std::_Exit(2);
        // The first server holds the log's lock.
        absl::StatusOr<std::unique_ptr<LedgerServer>> second =
            LedgerServer::Start(LocalOptions(dir, "data"));
        std::fprintf(stderr, "second Start: %s\n",
                     second.status().ToString().c_str());
        if (second.ok()) std::_Exit(1);
        first->Shutdown();
        std::fflush(stderr);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(LedgerServerStartDeathTest, FailsCleanlyWhenTheDataDirectoryIsAFile) {
  EXPECT_EXIT(
      {
        TempDir dir;
        std::ofstream(dir.Sub("a-file")) << "not a directory";
        const int code = ExpectStartError(
            LedgerServer::Start(LocalOptions(dir, "a-file")).status(),
            absl::StatusCode::kFailedPrecondition);
        std::fflush(stderr);
        std::_Exit(code);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(LedgerServerStartDeathTest, FailsWhenTheAddressIsTaken) {
  EXPECT_EXIT(
      {
        TempDir dir;
        std::unique_ptr<LedgerServer> first;
        if (!StartOrReport(LocalOptions(dir, "one"), &first)) std::_Exit(2);
        ServerOptions options = LocalOptions(dir, "two");
        options.listen = absl::StrCat("127.0.0.1:", first->port());
        const int code =
            ExpectStartError(LedgerServer::Start(options).status(),
                             absl::StatusCode::kFailedPrecondition);
        first->Shutdown();
        std::fflush(stderr);
        std::_Exit(code);
      },
      ::testing::ExitedWithCode(0), "");
}

// ---------------------------------------------------------------------------
// Writing

TEST_F(LedgerServerTest, AppendAssignsVersionsAndGlobalPositions) {
  v1::AppendEventsResponse r1 =
      MustAppend("c1", {Opened("p", "cm"), MakeNoteEvent(), MakeNoteEvent()});
  EXPECT_EQ(r1.first_version(), 1u);
  EXPECT_EQ(r1.last_version(), 3u);
  EXPECT_EQ(r1.first_position(), 1u);
  EXPECT_EQ(r1.last_position(), 3u);
  EXPECT_EQ(r1.commit_position(), 3u);
  EXPECT_FALSE(r1.replayed());

  v1::AppendEventsResponse r2 =
      MustAppend("c2", {Opened("p", "cm"), MakeNoteEvent()});
  EXPECT_EQ(r2.first_version(), 1u);
  EXPECT_EQ(r2.last_version(), 2u);
  EXPECT_EQ(r2.first_position(), 4u);
  EXPECT_EQ(r2.last_position(), 5u);
  EXPECT_EQ(r2.commit_position(), 5u);

  v1::AppendEventsResponse r3;
  ASSERT_GRPC_OK(Append("c1", {MakeNoteEvent()}, &r3, Exact(3)));
  EXPECT_EQ(r3.first_version(), 4u);
  EXPECT_EQ(r3.last_version(), 4u);
  EXPECT_EQ(r3.first_position(), 6u);
  EXPECT_EQ(r3.commit_position(), 6u);

  v1::ExpectedVersion no_stream;
  no_stream.set_no_stream(true);
  v1::AppendEventsResponse r4;
  ASSERT_GRPC_OK(Append("c3", {Opened("p", "cm")}, &r4, no_stream));
  EXPECT_EQ(r4.first_version(), 1u);
  EXPECT_EQ(r4.first_position(), 7u);

  v1::ExpectedVersion exists;
  exists.set_stream_exists(true);
  v1::AppendEventsResponse r5;
  ASSERT_GRPC_OK(Append("c3", {MakeNoteEvent()}, &r5, exists));
  EXPECT_EQ(r5.first_version(), 2u);
  EXPECT_EQ(r5.commit_position(), 8u);

  EXPECT_EQ(server_->log()->LastPosition(), 8u);
}

TEST_F(LedgerServerTest, RetriedAppendIsReplayedWithTheSamePositions) {
  MustAppend("other", {Opened("p", "cm")});
  v1::AppendEventsRequest request;
  request.set_case_id("c1");
  *request.add_events() = Opened("p", "cm");
  *request.add_events() = MakeGoalSetEvent("g1", "Find a flat");
  request.mutable_expected()->set_no_stream(true);

  v1::AppendEventsResponse first;
  {
    grpc::ClientContext context;
    SetDeadline(&context);
    ASSERT_GRPC_OK(writer_->AppendEvents(&context, request, &first));
  }
  EXPECT_FALSE(first.replayed());
  const uint64_t position = server_->log()->LastPosition();
  ASSERT_EQ(position, 3u);

  // The response was "lost": the client sends the very same request again
  // (same event ids; even the no_stream condition, now false, is not an
  // error for an exact retry).
  v1::AppendEventsResponse second;
  {
    grpc::ClientContext context;
    SetDeadline(&context);
    ASSERT_GRPC_OK(writer_->AppendEvents(&context, request, &second));
  }
  EXPECT_TRUE(second.replayed());
  EXPECT_EQ(second.first_version(), first.first_version());
  EXPECT_EQ(second.last_version(), first.last_version());
  EXPECT_EQ(second.first_position(), first.first_position());
  EXPECT_EQ(second.last_position(), first.last_position());
  EXPECT_EQ(second.commit_position(), first.commit_position());
  EXPECT_EQ(server_->log()->LastPosition(), position);
  EXPECT_THAT(AllEventIds("c1"),
              ElementsAre(request.events(0).envelope().event_id(),
                          request.events(1).envelope().event_id()));
}

// ---------------------------------------------------------------------------
// Audit

TEST_F(LedgerServerTest, ReadCaseHistoryPagesBothWaysWithVerifiedChain) {
  std::vector<std::string> ids;
  for (int round = 0; round < 5; ++round) {
    v1::Event note = MakeNoteEvent();
    ids.push_back(note.envelope().event_id());
    MustAppend("c1", {note});
    MustAppend("noise", {MakeNoteEvent()});  // interleaved positions
  }

  v1::ReadCaseHistoryRequest request;
  request.set_case_id("c1");
  request.set_page_size(2);
  std::vector<uint64_t> versions;
  std::vector<std::string> read_ids;
  int pages = 0;
  for (;;) {
    v1::ReadCaseHistoryResponse response;
    ASSERT_GRPC_OK(ReadHistory(request, &response));
    ++pages;
    EXPECT_EQ(response.case_version(), 5u);
    for (const v1::HistoryEvent& e : response.events()) {
      EXPECT_EQ(e.chain_status(), v1::CHAIN_STATUS_VERIFIED)
          << "version " << e.event().envelope().stream_version();
      EXPECT_EQ(e.event().hash().size(), 32u);
      versions.push_back(e.event().envelope().stream_version());
      read_ids.push_back(e.event().envelope().event_id());
      EXPECT_EQ(e.event().envelope().global_position(),
                2 * e.event().envelope().stream_version() - 1);
    }
    if (response.next_page_token().empty()) break;
    ASSERT_LT(pages, 10) << "paging does not end";
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(versions, ElementsAre(1, 2, 3, 4, 5));
  EXPECT_EQ(read_ids, ids);

  request.Clear();
  request.set_case_id("c1");
  request.set_backward(true);
  request.set_page_size(2);
  versions.clear();
  pages = 0;
  for (;;) {
    v1::ReadCaseHistoryResponse response;
    ASSERT_GRPC_OK(ReadHistory(request, &response));
    ++pages;
    for (const v1::HistoryEvent& e : response.events()) {
      EXPECT_EQ(e.chain_status(), v1::CHAIN_STATUS_VERIFIED)
          << "version " << e.event().envelope().stream_version();
      versions.push_back(e.event().envelope().stream_version());
    }
    if (response.next_page_token().empty()) break;
    ASSERT_LT(pages, 10) << "paging does not end";
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(versions, ElementsAre(5, 4, 3, 2, 1));

  request.set_page_token("not-a-token");
  v1::ReadCaseHistoryResponse bad;
  EXPECT_THAT(ReadHistory(request, &bad),
              GrpcCodeIs(grpc::StatusCode::INVALID_ARGUMENT));
}

TEST_F(LedgerServerTest, LargeEventsArriveInMessagesADefaultClientAccepts) {
  // 120 events of ~60 KB: a 500-event subscription batch or a 100-event
  // history page would be far over the 4 MiB a default client accepts.
  for (int i = 0; i < 120; i += 10) {
    std::vector<v1::Event> events;
    for (int j = 0; j < 10; ++j) events.push_back(MakeNoteEvent(60000));
    MustAppend("big", std::move(events));
  }
  grpc::ClientContext context;
  auto reader = Subscribe(&context, From(1));
  Delivered delivered;
  ASSERT_TRUE(ReadEvents(reader.get(), 120, &delivered));
  EXPECT_EQ(Positions(delivered.events), Range(1, 120));
  ExpectResumeFromContiguous(delivered, 1);
  EXPECT_GT(delivered.messages.size(), 1u);
  context.TryCancel();

  v1::ReadCaseHistoryRequest request;
  request.set_case_id("big");
  size_t read = 0, pages = 0;
  for (;;) {
    v1::ReadCaseHistoryResponse response;
    const grpc::Status status = ReadHistory(request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    read += response.events_size();
    ++pages;
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(read, 120u);
  EXPECT_GT(pages, 2u);
}

TEST_F(LedgerServerTest, VerifyChecksOneCaseOrTheWholeLog) {
  MustAppend("c1", {Opened("p", "cm"), MakeNoteEvent(), MakeNoteEvent()});
  MustAppend("c2", {Opened("p", "cm"), MakeNoteEvent()});

  v1::VerifyResponse one;
  ASSERT_GRPC_OK(Verify("c1", &one));
  EXPECT_TRUE(one.ok()) << one.problem();
  EXPECT_EQ(one.events_checked(), 3u);
  EXPECT_EQ(one.cases_checked(), 1u);
  EXPECT_EQ(one.first_broken_position(), 0u);
  EXPECT_EQ(one.log_position(), 5u);

  v1::VerifyResponse all;
  ASSERT_GRPC_OK(Verify("", &all));
  EXPECT_TRUE(all.ok()) << all.problem();
  EXPECT_EQ(all.events_checked(), 5u);
  EXPECT_EQ(all.cases_checked(), 2u);
  EXPECT_EQ(all.log_position(), 5u);
}

// ---------------------------------------------------------------------------
// Queries

TEST_F(LedgerServerTest, GetPlanCurrentAndAtPointsInTime) {
  // g1 is recorded first but happened on March 1st; g2 is recorded later
  // about February 1st.
  v1::AppendEventsResponse r1 =
      MustAppend("c1", {Opened("housing-first", "cm-anna"),
                        GoalOn("g1", "Find stable housing", Day(2026, 3, 1))});
  v1::AppendEventsResponse r2 = MustAppend(
      "c1", {GoalOn("g2", "Return to part-time work", Day(2026, 2, 1))});

  // Read-your-writes: the current plan at the append's commit position.
  v1::GetPlanRequest request;
  request.set_case_id("c1");
  request.set_min_position(r2.commit_position());
  v1::GetPlanResponse current;
  ASSERT_GRPC_OK(GetPlan(request, &current));
  EXPECT_GE(current.projection_position(), r2.commit_position());
  EXPECT_EQ(current.plan().case_id(), "c1");
  EXPECT_EQ(current.plan().program(), "housing-first");
  EXPECT_EQ(current.plan().version(), 3u);
  EXPECT_EQ(current.plan().position(), r2.commit_position());
  ASSERT_EQ(current.plan().goals_size(), 2);
  EXPECT_EQ(current.plan().goals(0).statement(), "Find stable housing");
  EXPECT_EQ(current.plan().goals(1).statement(), "Return to part-time work");

  // As the record stood after the first append.
  v1::GetPlanRequest recorded;
  recorded.set_case_id("c1");
  recorded.set_recorded_position(r1.commit_position());
  v1::GetPlanResponse then;
  ASSERT_GRPC_OK(GetPlan(recorded, &then));
  EXPECT_EQ(then.plan().version(), 2u);
  ASSERT_EQ(then.plan().goals_size(), 1);
  EXPECT_EQ(then.plan().goals(0).goal_id(), "g1");

  // As things were on February 15th: only g2 had happened, although it was
  // recorded after g1.
  v1::GetPlanRequest occurred;
  occurred.set_case_id("c1");
  *occurred.mutable_occurred_at() = ToProto(Day(2026, 2, 15));
  v1::GetPlanResponse was;
  ASSERT_GRPC_OK(GetPlan(occurred, &was));
  ASSERT_EQ(was.plan().goals_size(), 1);
  EXPECT_EQ(was.plan().goals(0).goal_id(), "g2");
  EXPECT_EQ(was.plan().program(), "housing-first");

  // As recorded now: everything.
  v1::GetPlanRequest recorded_now;
  recorded_now.set_case_id("c1");
  *recorded_now.mutable_recorded_at() = ToProto(absl::Now() + absl::Hours(1));
  v1::GetPlanResponse now;
  ASSERT_GRPC_OK(GetPlan(recorded_now, &now));
  EXPECT_EQ(now.plan().goals_size(), 2);

  // Bad timestamps name the field.
  occurred.mutable_occurred_at()->set_nanos(-1);
  v1::GetPlanResponse bad;
  EXPECT_THAT(GetPlan(occurred, &bad),
              GrpcCodeIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(GetPlan(occurred, &bad).error_message(),
              StartsWith("occurred_at"));
}

TEST_F(LedgerServerTest, GetTimelineFiltersAndPages) {
  // CaseOpened occurred 2026-01-05, the others 2026-01-01.
  MustAppend("c1", {Opened("p", "cm"), MakeGoalSetEvent("g1", "one"),
                    MakeNoteEvent(), MakeGoalSetEvent("g2", "two")});
  const v1::AppendEventsResponse last = MustAppend("c1", {MakeNoteEvent()});

  v1::GetTimelineRequest request;
  request.set_case_id("c1");
  request.set_min_position(last.commit_position());
  request.set_page_size(2);
  std::vector<uint64_t> versions;
  int pages = 0;
  for (;;) {
    v1::GetTimelineResponse response;
    ASSERT_GRPC_OK(GetTimeline(request, &response));
    ++pages;
    EXPECT_GE(response.projection_position(), last.commit_position());
    for (const v1::TimelineEntry& e : response.entries()) {
      EXPECT_EQ(e.case_id(), "c1");
      EXPECT_EQ(e.global_position(), e.stream_version());
      EXPECT_FALSE(e.summary().empty());
      versions.push_back(e.stream_version());
    }
    if (response.next_page_token().empty()) break;
    ASSERT_LT(pages, 10) << "paging does not end";
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(versions, ElementsAre(1, 2, 3, 4, 5));

  v1::GetTimelineRequest goals;
  goals.set_case_id("c1");
  goals.add_event_types("GoalSet");
  v1::GetTimelineResponse only_goals;
  ASSERT_GRPC_OK(GetTimeline(goals, &only_goals));
  ASSERT_EQ(only_goals.entries_size(), 2);
  EXPECT_EQ(only_goals.entries(0).stream_version(), 2u);
  EXPECT_EQ(only_goals.entries(1).stream_version(), 4u);
  EXPECT_EQ(only_goals.entries(1).event_type(), "GoalSet");

  v1::GetTimelineRequest since;
  since.set_case_id("c1");
  *since.mutable_since() = ToProto(Day(2026, 1, 2));
  v1::GetTimelineResponse after;
  ASSERT_GRPC_OK(GetTimeline(since, &after));
  ASSERT_EQ(after.entries_size(), 1);
  EXPECT_EQ(after.entries(0).event_type(), "CaseOpened");

  v1::GetTimelineRequest until;
  until.set_case_id("c1");
  *until.mutable_until() = ToProto(Day(2026, 1, 2));
  v1::GetTimelineResponse before;
  ASSERT_GRPC_OK(GetTimeline(until, &before));
  ASSERT_EQ(before.entries_size(), 4);
  for (const v1::TimelineEntry& e : before.entries()) {
    EXPECT_NE(e.event_type(), "CaseOpened");
  }

  request.set_page_token("0");
  v1::GetTimelineResponse bad;
  EXPECT_THAT(GetTimeline(request, &bad),
              GrpcCodeIs(grpc::StatusCode::INVALID_ARGUMENT));
}

// ---------------------------------------------------------------------------
// Analytics

TEST_F(LedgerServerTest, GetCaseMetrics) {
  const v1::AppendEventsResponse r =
      MustAppend("c1", {Opened("p", "cm"), MakeGoalSetEvent("g1", "one"),
                        MakeGoalSetEvent("g2", "two")});
  v1::GetCaseMetricsRequest request;
  request.set_case_id("c1");
  request.set_min_position(r.commit_position());
  *request.mutable_as_of() = projections::MakeDate(2026, 6, 1);
  v1::GetCaseMetricsResponse response;
  {
    grpc::ClientContext context;
    SetDeadline(&context);
    ASSERT_GRPC_OK(analytics_->GetCaseMetrics(&context, request, &response));
  }
  const v1::CaseMetrics& m = response.metrics();
  EXPECT_EQ(m.case_id(), "c1");
  EXPECT_EQ(m.version(), 3u);
  EXPECT_EQ(m.position(), r.commit_position());
  EXPECT_EQ(projections::FormatDate(m.as_of()), "2026-06-01");
  EXPECT_EQ(m.goal_attainment().denominator(), 2u);
  EXPECT_EQ(m.goal_attainment().numerator(), 0u);

  *request.mutable_as_of() = projections::MakeDate(2026, 2, 30);
  grpc::ClientContext context;
  SetDeadline(&context);
  const grpc::Status bad =
      analytics_->GetCaseMetrics(&context, request, &response);
  EXPECT_THAT(bad, GrpcCodeIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(bad.error_message(), StartsWith("as_of"));
}

TEST_F(LedgerServerTest, GetMetricsGroupsByProgramAndSuppressesSmallGroups) {
  uint64_t commit = 0;
  for (int c = 0; c < 7; ++c) {
    commit = MustAppend("m" + std::to_string(c),
                        {Opened(c < 5 ? "big-program" : "small-program", "cm"),
                         MakeGoalSetEvent("g", "goal")})
                 .commit_position();
  }
  v1::GetMetricsRequest request;
  request.set_group_by(v1::METRICS_GROUP_BY_PROGRAM);
  *request.mutable_as_of() = projections::MakeDate(2026, 6, 1);
  request.set_min_position(commit);
  v1::GetMetricsResponse response;
  {
    grpc::ClientContext context;
    SetDeadline(&context);
    ASSERT_GRPC_OK(analytics_->GetMetrics(&context, request, &response));
  }
  const v1::MetricsReport& report = response.report();
  EXPECT_EQ(report.group_by(), v1::METRICS_GROUP_BY_PROGRAM);
  EXPECT_GE(report.position(), commit);
  EXPECT_EQ(report.min_group_size(), 5u);
  EXPECT_EQ(report.projection_version(), projections::CaseProjection::kVersion);
  ASSERT_EQ(report.groups_size(), 2);
  EXPECT_EQ(report.groups(0).key(), "big-program");
  EXPECT_FALSE(report.groups(0).suppressed());
  EXPECT_EQ(report.groups(0).cases(), 5u);
  EXPECT_TRUE(report.groups(0).has_figures());
  EXPECT_EQ(report.groups(0).figures().goal_attainment().denominator(), 5u);
  EXPECT_EQ(report.groups(1).key(), "small-program");
  EXPECT_TRUE(report.groups(1).suppressed());
  EXPECT_EQ(report.groups(1).cases(), 0u);
  EXPECT_FALSE(report.groups(1).has_figures());

  // Ungrouped: all seven cases together.
  request.set_group_by(v1::METRICS_GROUP_BY_NONE);
  {
    grpc::ClientContext context;
    SetDeadline(&context);
    ASSERT_GRPC_OK(analytics_->GetMetrics(&context, request, &response));
  }
  ASSERT_EQ(response.report().groups_size(), 1);
  EXPECT_FALSE(response.report().groups(0).suppressed());
  EXPECT_EQ(response.report().groups(0).cases(), 7u);

  request.set_group_by(static_cast<v1::MetricsGroupBy>(99));
  grpc::ClientContext context;
  SetDeadline(&context);
  const grpc::Status bad = analytics_->GetMetrics(&context, request, &response);
  EXPECT_THAT(bad, GrpcCodeIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(bad.error_message(), StartsWith("group_by"));
}

// ---------------------------------------------------------------------------
// Operations

TEST_F(LedgerServerTest, ProjectionStatusAndRebuild) {
  MustAppend("c1", {Opened("p", "cm"), MakeGoalSetEvent("g1", "Walk daily")});
  const v1::AppendEventsResponse r =
      MustAppend("c2", {Opened("p", "cm"), MakeNoteEvent()});
  v1::GetPlanRequest plan_request;
  plan_request.set_case_id("c1");
  plan_request.set_min_position(r.commit_position());
  v1::GetPlanResponse before;
  ASSERT_GRPC_OK(GetPlan(plan_request, &before));

  v1::GetProjectionStatusResponse status;
  ASSERT_GRPC_OK(GetStatus(&status));
  std::vector<std::string> names;
  for (const v1::ProjectionStatusInfo& p : status.projections()) {
    names.push_back(p.name());
    EXPECT_EQ(p.version(), projections::CaseProjection::kVersion);
    EXPECT_EQ(p.position(), r.commit_position()) << p.name();
    EXPECT_EQ(p.log_position(), r.commit_position()) << p.name();
    EXPECT_EQ(p.lag(), 0u) << p.name();
    EXPECT_EQ(p.events_applied(), 4u) << p.name();
    EXPECT_FALSE(p.rebuilding());
    EXPECT_EQ(p.last_error(), "");
  }
  EXPECT_THAT(names, UnorderedElementsAre("plan", "timeline", "metrics"));

  const std::string current_file = data_dir() + "/projections/CURRENT";
  const std::string generation_before = ReadFile(current_file);
  ASSERT_FALSE(generation_before.empty());

  {
    grpc::ClientContext context;
    SetDeadline(&context);
    v1::RebuildProjectionsResponse response;
    ASSERT_GRPC_OK(operations_->RebuildProjections(
        &context, v1::RebuildProjectionsRequest(), &response));
  }
  // The rebuild runs in the background; wait for it to be swapped in.
  server_->projection()->WaitForRebuild();
  ASSERT_GRPC_OK(GetStatus(&status));
  for (const v1::ProjectionStatusInfo& p : status.projections()) {
    EXPECT_FALSE(p.rebuilding()) << p.name();
    EXPECT_EQ(p.position(), r.commit_position()) << p.name();
    EXPECT_EQ(p.last_error(), "") << p.name();
  }
  // A new generation serves now, with the same content.
  EXPECT_NE(ReadFile(current_file), generation_before);
  v1::GetPlanResponse after;
  ASSERT_GRPC_OK(GetPlan(plan_request, &after));
  EXPECT_EQ(after.plan().SerializeAsString(),
            before.plan().SerializeAsString());

  // And it keeps following the log.
  const v1::AppendEventsResponse more =
      MustAppend("c1", {MakeGoalSetEvent("g2", "Cook twice a week")});
  plan_request.set_min_position(more.commit_position());
  ASSERT_GRPC_OK(GetPlan(plan_request, &after));
  EXPECT_EQ(after.plan().goals_size(), 2);
}

TEST_F(LedgerServerTest, RebuildStatusPolledUntilDone) {
  for (int c = 0; c < 20; ++c) {
    MustAppend("c" + std::to_string(c), {Opened("p", "cm"), MakeNoteEvent()});
  }
  const std::string current_file = data_dir() + "/projections/CURRENT";
  const std::string generation_before = ReadFile(current_file);
  {
    grpc::ClientContext context;
    SetDeadline(&context);
    v1::RebuildProjectionsResponse response;
    ASSERT_GRPC_OK(operations_->RebuildProjections(
        &context, v1::RebuildProjectionsRequest(), &response));
  }
  // Bounded polling, each call with a short deadline: the rebuild of 40
  // events takes milliseconds, a status call about a tenth of one.
  constexpr int kMaxPolls = 20000;
  bool done = false;
  for (int i = 0; i < kMaxPolls && !done; ++i) {
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(2));
    v1::GetProjectionStatusResponse status;
    ASSERT_GRPC_OK(operations_->GetProjectionStatus(
        &context, v1::GetProjectionStatusRequest(), &status));
    ASSERT_GT(status.projections_size(), 0);
    done = !status.projections(0).rebuilding();
  }
  EXPECT_TRUE(done) << "still rebuilding after " << kMaxPolls
                    << " status calls";
  EXPECT_NE(ReadFile(current_file), generation_before);
  v1::GetPlanRequest request;
  request.set_case_id("c19");
  v1::GetPlanResponse plan;
  ASSERT_GRPC_OK(GetPlan(request, &plan));
  EXPECT_EQ(plan.plan().version(), 2u);
}

TEST_F(LedgerServerTest, BackupToANamedDirectoryOpensAsALog) {
  v1::Event goal = MakeGoalSetEvent("g1", "Walk daily");
  MustAppend("c1", {Opened("p", "cm"), goal});
  const v1::AppendEventsResponse r = MustAppend("c2", {Opened("p", "cm")});

  v1::BackupRequest request;
  request.set_directory("snap-1");
  v1::BackupResponse response;
  {
    grpc::ClientContext context;
    SetDeadline(&context);
    ASSERT_GRPC_OK(operations_->Backup(&context, request, &response));
  }
  EXPECT_EQ(response.directory(), data_dir() + "/backups/snap-1");
  EXPECT_GE(response.position(), r.commit_position());

  {
    // The backup holds ciphertext only: it verifies without keys, and its
    // payloads need the key store (README, "Erasure").
    engine::EventLogOptions options;
    options.path = response.directory();
    options.create_if_missing = false;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<engine::EventLog> backup,
                         engine::EventLog::Open(options));
    EXPECT_GE(backup->LastPosition(), response.position());
    ASSERT_OK_AND_ASSIGN(engine::VerifyReport report, backup->VerifyAll());
    EXPECT_TRUE(report.ok) << report.problem;
    EXPECT_THAT(backup->ReadEvent(1).status(),
                StatusIs(absl::StatusCode::kFailedPrecondition));
  }
  {
    // With the server's key store (free once the server stops) it reads.
    StopServer();
    engine::EventLogOptions options;
    options.path = response.directory();
    options.create_if_missing = false;
    options.key_store_path = data_dir() + "/keys";
    ASSERT_OK_AND_ASSIGN(options.master_key,
                         ReadMasterKeyFile(data_dir() + "/master.key"));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<engine::EventLog> backup,
                         engine::EventLog::Open(options));
    engine::ReadCaseRequest read;
    read.case_id = "c1";
    ASSERT_OK_AND_ASSIGN(engine::ReadPage page, backup->ReadCase(read));
    ASSERT_EQ(page.events.size(), 2u);
    EXPECT_EQ(page.events[1].envelope().event_id(), goal.envelope().event_id());
    EXPECT_EQ(page.events[1].payload().goal_set().statement(), "Walk daily");
    backup.reset();
    ASSERT_NO_FATAL_FAILURE(StartServer(Options()));
  }

  // The directory must not exist yet.
  grpc::ClientContext again;
  SetDeadline(&again);
  EXPECT_THAT(operations_->Backup(&again, request, &response),
              GrpcCodeIs(grpc::StatusCode::FAILED_PRECONDITION));
  // Only plain names: a caller cannot place the log elsewhere on the server.
  for (const char* outside :
       {"nightly/snap-2", "../escaped", "/tmp/escaped", "..", "."}) {
    v1::BackupRequest bad;
    bad.set_directory(outside);
    grpc::ClientContext context;
    SetDeadline(&context);
    const grpc::Status status = operations_->Backup(&context, bad, &response);
    EXPECT_THAT(status, GrpcCodeIs(grpc::StatusCode::INVALID_ARGUMENT))
        << outside;
    EXPECT_THAT(status.error_message(), StartsWith("directory")) << outside;
  }
  request.clear_directory();
  grpc::ClientContext empty;
  SetDeadline(&empty);
  const grpc::Status missing = operations_->Backup(&empty, request, &response);
  EXPECT_THAT(missing, GrpcCodeIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(missing.error_message(), StartsWith("directory"));
}

// The standard health service and server reflection, spoken to with the
// generic stub (their generated headers are not installed): the messages are
// tiny, so they are encoded and decoded with UnknownFieldSet.
grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return bytes;
}

// grpc.health.v1.Health/Check; on OK sets *serving_status (the response's
// field 1).
grpc::Status HealthCheck(const std::shared_ptr<grpc::Channel>& channel,
                         const std::string& service, uint64_t* serving_status) {
  google::protobuf::UnknownFieldSet request_fields;
  if (!service.empty()) request_fields.AddLengthDelimited(1, service);
  std::string request_bytes;
  EXPECT_TRUE(request_fields.SerializeToString(&request_bytes));
  grpc::ByteBuffer request = ToBuffer(request_bytes);
  grpc::ByteBuffer response;
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  SetDeadline(&context);
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request, &response, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  *serving_status = 0;
  if (status.ok()) {
    google::protobuf::UnknownFieldSet fields;
    EXPECT_TRUE(fields.ParseFromString(FromBuffer(response)));
    for (int i = 0; i < fields.field_count(); ++i) {
      if (fields.field(i).number() == 1) {
        *serving_status = fields.field(i).varint();
      }
    }
  }
  return status;
}

TEST_F(LedgerServerTest, StandardHealthServiceReportsServing) {
  constexpr uint64_t kServing = 1;  // HealthCheckResponse.SERVING
  uint64_t serving = 0;
  ASSERT_GRPC_OK(HealthCheck(channel_, "", &serving));
  EXPECT_EQ(serving, kServing);
  for (const char* service :
       {"caseledger.v1.CaseWriter", "caseledger.v1.Audit",
        "caseledger.v1.Queries", "caseledger.v1.Analytics",
        "caseledger.v1.Subscriptions", "caseledger.v1.Operations"}) {
    ASSERT_GRPC_OK(HealthCheck(channel_, service, &serving));
    EXPECT_EQ(serving, kServing) << service;
  }
  EXPECT_THAT(HealthCheck(channel_, "no.such.Service", &serving),
              GrpcCodeIs(grpc::StatusCode::NOT_FOUND));
}

// A server whose logs write through a file system that fails on purpose.
class LedgerServerStorageFaultTest : public LedgerServerTest {
 protected:
  void SetUp() override {
    ServerOptions options = Options();
    options.log.env = faults_.env.get();
    ASSERT_NO_FATAL_FAILURE(StartServer(options));
  }
  // The server goes before the file system under it.
  void TearDown() override { StopServer(); }

  uint64_t Serving(const std::string& service) {
    uint64_t serving = 0;
    EXPECT_TRUE(HealthCheck(channel_, service, &serving).ok()) << service;
    return serving;
  }

  testing::FaultInjectionEnv faults_;
};

TEST_F(LedgerServerStorageFaultTest,
       FailedCommitTurnsWritingServicesNotServing) {
  constexpr uint64_t kServing = 1, kNotServing = 2;
  MustAppend("case-h", {MakeNoteEvent()});
  EXPECT_EQ(Serving(""), kServing);

  // The next WAL sync fails once: the event log then refuses writes until
  // it is reopened (tests/engine/storage_faults_test.cc).
  testing::FaultInjectionFs::Fault fault;
  fault.op = testing::FaultInjectionFs::Op::kSync;
  fault.files = testing::FaultInjectionFs::Files::kWal;
  faults_.fs->Arm(fault);
  v1::AppendEventsResponse response;
  EXPECT_FALSE(
      Append("case-h", {MakeGoalSetEvent("g1", "walk daily")}, &response).ok());
  faults_.fs->Disarm();

  // The health listener ran before the failed call was finished.
  EXPECT_EQ(Serving(""), kNotServing);
  for (const char* writing :
       {"caseledger.v1.CaseWriter", "caseledger.v1.Transfer",
        "caseledger.v1.Erasure"}) {
    EXPECT_EQ(Serving(writing), kNotServing) << writing;
  }
  for (const char* reading :
       {"caseledger.v1.Audit", "caseledger.v1.Queries",
        "caseledger.v1.Operations", "caseledger.v1.AccessLogService"}) {
    EXPECT_EQ(Serving(reading), kServing) << reading;
  }
  // Reads go on; writes stay refused.
  EXPECT_THAT(AllEventIds("case-h"), SizeIs(1));
  EXPECT_FALSE(
      Append("case-h", {MakeGoalSetEvent("g2", "cook")}, &response).ok());
}

TEST_F(LedgerServerTest, ServerReflectionListsTheServices) {
  grpc::GenericStub stub(channel_);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  SetDeadline(&context);
  auto call = stub.PrepareCall(
      &context,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](intptr_t expected) {
    ASSERT_TRUE(cq.Next(&tag, &ok));
    ASSERT_EQ(reinterpret_cast<intptr_t>(tag), expected);
  };
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_NO_FATAL_FAILURE(step(1));
  ASSERT_TRUE(ok);
  // ServerReflectionRequest { list_services = 7: "" }
  google::protobuf::UnknownFieldSet request_fields;
  request_fields.AddLengthDelimited(7, "");
  std::string request_bytes;
  ASSERT_TRUE(request_fields.SerializeToString(&request_bytes));
  call->Write(ToBuffer(request_bytes), reinterpret_cast<void*>(2));
  ASSERT_NO_FATAL_FAILURE(step(2));
  ASSERT_TRUE(ok);
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(3));
  ASSERT_NO_FATAL_FAILURE(step(3));
  ASSERT_TRUE(ok) << "no reflection response";
  call->WritesDone(reinterpret_cast<void*>(4));
  ASSERT_NO_FATAL_FAILURE(step(4));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  ASSERT_NO_FATAL_FAILURE(step(5));
  EXPECT_GRPC_OK(status);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }

  // ServerReflectionResponse.list_services_response (6) holds repeated
  // ServiceResponse (1) { name (1) }.
  std::set<std::string> services;
  google::protobuf::UnknownFieldSet fields;
  ASSERT_TRUE(fields.ParseFromString(FromBuffer(response)));
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() != 6) continue;
    google::protobuf::UnknownFieldSet list;
    ASSERT_TRUE(list.ParseFromString(fields.field(i).length_delimited()));
    for (int j = 0; j < list.field_count(); ++j) {
      google::protobuf::UnknownFieldSet service;
      ASSERT_TRUE(service.ParseFromString(list.field(j).length_delimited()));
      for (int k = 0; k < service.field_count(); ++k) {
        if (service.field(k).number() == 1) {
          services.insert(service.field(k).length_delimited());
        }
      }
    }
  }
  for (const char* name :
       {"caseledger.v1.CaseWriter", "caseledger.v1.Audit",
        "caseledger.v1.Queries", "caseledger.v1.Analytics",
        "caseledger.v1.Subscriptions", "caseledger.v1.Operations",
        "caseledger.v1.Erasure", "grpc.health.v1.Health"}) {
    EXPECT_TRUE(services.count(name)) << name << " not listed";
  }
}

// ---------------------------------------------------------------------------
// Error mapping

TEST_F(LedgerServerTest, InvalidArgumentNamesTheField) {
  v1::AppendEventsResponse response;

  v1::Event bad_id = MakeNoteEvent();
  bad_id.mutable_envelope()->set_event_id("not-a-uuid");
  grpc::Status s = Append("c1", {bad_id}, &response);
  EXPECT_THAT(s, GrpcCodeIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(s.error_message(), StartsWith("events[0].envelope.event_id"));

  v1::Event undated = MakeNoteEvent();
  undated.mutable_envelope()->clear_occurred_at();
  s = Append("c1", {MakeNoteEvent(), undated}, &response);
  EXPECT_THAT(s, GrpcCodeIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(s.error_message(), StartsWith("events[1].envelope.occurred_at"));

  std::vector<v1::Event> too_many;
  for (int i = 0; i < 101; ++i) too_many.push_back(MakeNoteEvent());
  s = Append("c1", too_many, &response);
  EXPECT_THAT(s, GrpcCodeIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(s.error_message(), StartsWith("events:"));

  s = Append("bad case id!", {MakeNoteEvent()}, &response);
  EXPECT_THAT(s, GrpcCodeIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(s.error_message(), StartsWith("case_id"));

  // A message names the field but never repeats the record's content.
  const std::string secret = "Leave the violent partner safely";
  v1::Event no_goal_id = MakeGoalSetEvent("", secret);
  s = Append("c1", {no_goal_id}, &response);
  EXPECT_THAT(s, GrpcCodeIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(s.error_message(),
              StartsWith("events[0].payload.goal_set.goal_id"));
  EXPECT_THAT(s.error_message(), Not(HasSubstr("violent")));

  EXPECT_EQ(server_->log()->LastPosition(), 0u) << "nothing is stored";

  // Read-your-writes beyond the end of the log cannot be waited for.
  MustAppend("c1", {Opened("p", "cm")});
  v1::GetPlanRequest plan;
  plan.set_case_id("c1");
  plan.set_min_position(100);
  v1::GetPlanResponse plan_response;
  s = GetPlan(plan, &plan_response);
  EXPECT_THAT(s, GrpcCodeIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(s.error_message(), StartsWith("min_position"));

  v1::SubscribeRequest bad_case = From(1);
  bad_case.set_case_id("bad case id!");
  grpc::ClientContext context;
  auto reader = Subscribe(&context, bad_case);
  v1::SubscribeResponse message;
  EXPECT_FALSE(reader->Read(&message));
  s = reader->Finish();
  EXPECT_THAT(s, GrpcCodeIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(s.error_message(), StartsWith("case_id"));
}

TEST_F(LedgerServerTest, WrongExpectedVersionIsAbortedWithCurrentVersion) {
  const std::string secret = "Reduce drinking to weekends";
  MustAppend("c1", {Opened("p", "cm"), MakeGoalSetEvent("g1", secret),
                    MakeNoteEvent()});
  const uint64_t position = server_->log()->LastPosition();

  struct Case {
    std::string case_id;
    v1::ExpectedVersion expected;
    std::string current;
  };
  v1::ExpectedVersion no_stream;
  no_stream.set_no_stream(true);
  v1::ExpectedVersion exists;
  exists.set_stream_exists(true);
  const Case cases[] = {
      {"c1", Exact(1), "3"},
      {"c1", no_stream, "3"},
      {"fresh", exists, "0"},
      {"fresh", Exact(2), "0"},
  };
  for (const Case& c : cases) {
    v1::AppendEventsRequest request;
    request.set_case_id(c.case_id);
    *request.mutable_expected() = c.expected;
    *request.add_events() = MakeGoalSetEvent("g9", secret);
    grpc::ClientContext context;
    SetDeadline(&context);
    v1::AppendEventsResponse response;
    const grpc::Status s = writer_->AppendEvents(&context, request, &response);
    EXPECT_THAT(s, GrpcCodeIs(grpc::StatusCode::ABORTED))
        << c.case_id << " " << c.expected.ShortDebugString();
    EXPECT_EQ(Trailer(context, "current-version"), c.current)
        << c.case_id << " " << c.expected.ShortDebugString();
    EXPECT_THAT(s.error_message(), HasSubstr("version " + c.current));
    EXPECT_THAT(s.error_message(), Not(HasSubstr("drinking")));
  }
  EXPECT_EQ(server_->log()->LastPosition(), position);
}

TEST_F(LedgerServerTest, ReusedEventIdWithOtherContentIsAlreadyExists) {
  v1::Event goal = MakeGoalSetEvent("g1", "Attend the parenting course");
  MustAppend("c1", {Opened("p", "cm"), goal});
  const uint64_t position = server_->log()->LastPosition();

  v1::Event changed = goal;
  changed.mutable_payload()->mutable_goal_set()->set_statement(
      "Regain custody of the children");
  v1::AppendEventsResponse response;
  const grpc::Status s = Append("c1", {changed}, &response);
  EXPECT_THAT(s, GrpcCodeIs(grpc::StatusCode::ALREADY_EXISTS));
  EXPECT_THAT(s.error_message(), Not(HasSubstr("custody")));
  EXPECT_THAT(s.error_message(), Not(HasSubstr("parenting")));
  EXPECT_EQ(server_->log()->LastPosition(), position);
}

TEST_F(LedgerServerTest, UnknownCaseIsNotFound) {
  MustAppend("c1", {Opened("p", "cm")});

  v1::GetPlanRequest plan;
  plan.set_case_id("nobody");
  v1::GetPlanResponse plan_response;
  EXPECT_THAT(GetPlan(plan, &plan_response),
              GrpcCodeIs(grpc::StatusCode::NOT_FOUND));
  plan.set_recorded_position(1);
  EXPECT_THAT(GetPlan(plan, &plan_response),
              GrpcCodeIs(grpc::StatusCode::NOT_FOUND));

  v1::ReadCaseHistoryRequest history;
  history.set_case_id("nobody");
  v1::ReadCaseHistoryResponse history_response;
  EXPECT_THAT(ReadHistory(history, &history_response),
              GrpcCodeIs(grpc::StatusCode::NOT_FOUND));
  history.set_backward(true);
  EXPECT_THAT(ReadHistory(history, &history_response),
              GrpcCodeIs(grpc::StatusCode::NOT_FOUND));

  v1::VerifyResponse verify;
  EXPECT_THAT(Verify("nobody", &verify),
              GrpcCodeIs(grpc::StatusCode::NOT_FOUND));

  v1::GetTimelineRequest timeline;
  timeline.set_case_id("nobody");
  v1::GetTimelineResponse timeline_response;
  EXPECT_THAT(GetTimeline(timeline, &timeline_response),
              GrpcCodeIs(grpc::StatusCode::NOT_FOUND));
}

class SmallServerTest : public LedgerServerTest {
 protected:
  void SetUp() override {
    ServerOptions options = Options();
    options.max_receive_bytes = 16 * 1024;
    options.limits.max_subscriptions = 1;
    ASSERT_NO_FATAL_FAILURE(StartServer(options));
  }
};

TEST_F(SmallServerTest, RequestLargerThanMaxReceiveBytesIsResourceExhausted) {
  v1::AppendEventsResponse response;
  ASSERT_GRPC_OK(Append("c1", {MakeNoteEvent(1000)}, &response));
  // 32 KiB is within the engine's event limit (64 KiB) but beyond the
  // server's receive limit.
  EXPECT_THAT(Append("c1", {MakeNoteEvent(32 * 1024)}, &response),
              GrpcCodeIs(grpc::StatusCode::RESOURCE_EXHAUSTED));
  EXPECT_EQ(server_->log()->LastPosition(), 1u);
  // The server keeps serving.
  ASSERT_GRPC_OK(Append("c1", {MakeNoteEvent(1000)}, &response));
  EXPECT_EQ(response.commit_position(), 2u);
}

TEST_F(SmallServerTest, CancelledSubscriptionEndsAndFreesItsSlot) {
  MustAppend("c1", {Opened("p", "cm"), MakeNoteEvent()});

  auto live = std::make_unique<grpc::ClientContext>();
  auto reader = Subscribe(live.get(), From(1));
  Delivered delivered;
  ASSERT_TRUE(ReadUntilCaughtUp(reader.get(), &delivered));
  EXPECT_THAT(Positions(delivered.events), ElementsAre(1, 2));

  // The limit is one subscription.
  {
    grpc::ClientContext context;
    auto second = Subscribe(&context, From(1));
    v1::SubscribeResponse message;
    EXPECT_FALSE(second->Read(&message));
    EXPECT_THAT(second->Finish(),
                GrpcCodeIs(grpc::StatusCode::RESOURCE_EXHAUSTED));
  }

  // Cancel the live one (it is waiting for the next commit).
  live->TryCancel();
  v1::SubscribeResponse message;
  EXPECT_FALSE(reader->Read(&message));
  EXPECT_THAT(reader->Finish(), GrpcCodeIs(grpc::StatusCode::CANCELLED));
  reader.reset();
  live.reset();

  // The server keeps serving unary calls.
  v1::GetProjectionStatusResponse status;
  ASSERT_GRPC_OK(GetStatus(&status));

  // The slot is released when the server has finished with the cancelled
  // stream (OnDone), which may be just after the client saw CANCELLED: retry
  // for a bounded time. Every attempt is a real call, no sleeping. Nothing
  // is appended meanwhile: the cancelled subscription was waiting for a
  // commit, and cancelling must end it without one.
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> again;
  Delivered from_two;
  int attempts = 0;
  for (;;) {
    ++attempts;
    again.reset();  // before its context
    context = std::make_unique<grpc::ClientContext>();
    again = Subscribe(context.get(), From(2));
    v1::SubscribeResponse first;
    if (again->Read(&first)) {
      for (const v1::Event& e : first.events()) from_two.events.push_back(e);
      from_two.messages.push_back(first);
      break;
    }
    const grpc::Status s = again->Finish();
    ASSERT_THAT(s, GrpcCodeIs(grpc::StatusCode::RESOURCE_EXHAUSTED));
    ASSERT_LT(absl::Now(), give_up)
        << "the cancelled subscription's slot was never released (" << attempts
        << " attempts)";
  }
  ASSERT_TRUE(ReadEvents(again.get(), 1, &from_two));
  const v1::AppendEventsResponse r = MustAppend("c1", {MakeNoteEvent()});
  ASSERT_EQ(r.commit_position(), 3u);
  ASSERT_TRUE(ReadEvents(again.get(), 2, &from_two));
  EXPECT_THAT(Positions(from_two.events), ElementsAre(2, 3));
  context->TryCancel();
  EXPECT_THAT(again->Finish(), GrpcCodeIs(grpc::StatusCode::CANCELLED));
}

// ---------------------------------------------------------------------------
// Subscriptions

TEST_F(LedgerServerTest, SubscriptionCatchesUpThenFollowsConcurrentAppends) {
  // N existing events in several cases.
  std::set<std::string> sent_ids;
  constexpr int kExistingAppends = 60;
  for (int i = 0; i < kExistingAppends; ++i) {
    std::vector<v1::Event> events = {MakeNoteEvent(), MakeNoteEvent()};
    for (const v1::Event& e : events) sent_ids.insert(e.envelope().event_id());
    MustAppend("old-" + std::to_string(i % 7), std::move(events));
  }
  const uint64_t existing = server_->log()->LastPosition();
  ASSERT_EQ(existing, 2u * kExistingAppends);

  grpc::ClientContext context;
  auto reader = Subscribe(&context, From(1, /*max_batch=*/7));
  Delivered delivered;
  ASSERT_TRUE(ReadEvents(reader.get(), 1, &delivered));

  // M more events from other threads while the subscription runs (it is
  // still catching up when they start, and live when they finish).
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  absl::Mutex ids_mu;
  std::vector<std::thread> appenders;
  for (int t = 0; t < kThreads; ++t) {
    appenders.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        v1::Event note = MakeNoteEvent();
        {
          absl::MutexLock lock(&ids_mu);
          sent_ids.insert(note.envelope().event_id());
        }
        v1::AppendEventsResponse response;
        const grpc::Status s =
            Append("new-" + std::to_string(t), {note}, &response);
        EXPECT_TRUE(s.ok()) << s.error_message();
      }
    });
  }
  const size_t total = existing + kThreads * kPerThread;
  const bool complete = ReadEvents(reader.get(), total, &delivered);
  for (std::thread& t : appenders) t.join();
  ASSERT_TRUE(complete) << "stream ended after " << delivered.events.size()
                        << " events";

  // Every position exactly once, in order: no gap, no duplicate.
  EXPECT_EQ(Positions(delivered.events), Range(1, total));
  std::set<std::string> received_ids;
  for (const v1::Event& e : delivered.events) {
    received_ids.insert(e.envelope().event_id());
  }
  EXPECT_EQ(received_ids, sent_ids);
  ExpectResumeFromContiguous(delivered, 1);
  for (const v1::SubscribeResponse& m : delivered.messages) {
    EXPECT_LE(m.events_size(), 7);
  }
  // The message with the last event reached the end of the log.
  EXPECT_TRUE(delivered.messages.back().caught_up());

  // Still live: one more append arrives.
  MustAppend("c-last", {MakeNoteEvent()});
  ASSERT_TRUE(ReadEvents(reader.get(), total + 1, &delivered));
  EXPECT_EQ(Positions(delivered.events), Range(1, total + 1));
  ExpectResumeFromContiguous(delivered, 1);

  context.TryCancel();
  EXPECT_THAT(reader->Finish(), GrpcCodeIs(grpc::StatusCode::CANCELLED));
}

TEST_F(LedgerServerTest, SubscriptionFiltersByEventType) {
  MustAppend("c1", {Opened("p", "cm"), MakeGoalSetEvent("g1", "one"),
                    MakeNoteEvent()});
  MustAppend("c2", {Opened("p", "cm"), MakeGoalSetEvent("g2", "two")});

  v1::SubscribeRequest request = From(1);
  request.add_event_types("GoalSet");
  grpc::ClientContext context;
  auto reader = Subscribe(&context, request);
  Delivered delivered;
  ASSERT_TRUE(ReadUntilCaughtUp(reader.get(), &delivered));
  EXPECT_THAT(Positions(delivered.events), ElementsAre(2, 5));

  MustAppend("c3", {Opened("p", "cm"), MakeNoteEvent()});
  MustAppend("c3", {MakeGoalSetEvent("g3", "three"), MakeNoteEvent()});
  ASSERT_TRUE(ReadEvents(reader.get(), 3, &delivered));
  EXPECT_THAT(Positions(delivered.events), ElementsAre(2, 5, 8));
  for (const v1::Event& e : delivered.events) {
    EXPECT_EQ(e.envelope().event_type(), "GoalSet");
  }
  ExpectResumeFromMonotonic(delivered, 1);

  // Nothing else shows up: the next delivered event is the next GoalSet.
  MustAppend("c3", {MakeNoteEvent()});
  MustAppend("c4", {MakeGoalSetEvent("g4", "four")});
  ASSERT_TRUE(ReadEvents(reader.get(), 4, &delivered));
  EXPECT_THAT(Positions(delivered.events), ElementsAre(2, 5, 8, 11));
  context.TryCancel();
  reader->Finish();
}

TEST_F(LedgerServerTest, SubscriptionFiltersByCase) {
  MustAppend("c1", {Opened("p", "cm"), MakeNoteEvent()});
  MustAppend("c2", {Opened("p", "cm")});
  MustAppend("c1", {MakeNoteEvent()});

  v1::SubscribeRequest request = From(1);
  request.set_case_id("c1");
  grpc::ClientContext context;
  auto reader = Subscribe(&context, request);
  Delivered delivered;
  ASSERT_TRUE(ReadUntilCaughtUp(reader.get(), &delivered));
  EXPECT_THAT(Positions(delivered.events), ElementsAre(1, 2, 4));

  MustAppend("c2", {MakeNoteEvent(), MakeNoteEvent()});
  MustAppend("c1", {MakeNoteEvent()});
  ASSERT_TRUE(ReadEvents(reader.get(), 4, &delivered));
  EXPECT_THAT(Positions(delivered.events), ElementsAre(1, 2, 4, 7));
  for (const v1::Event& e : delivered.events) {
    EXPECT_EQ(e.envelope().case_id(), "c1");
  }
  ExpectResumeFromMonotonic(delivered, 1);
  context.TryCancel();
  reader->Finish();
}

TEST_F(LedgerServerTest, SubscriptionFromNowDeliversOnlyNewEvents) {
  MustAppend("c1", {Opened("p", "cm"), MakeNoteEvent(), MakeNoteEvent()});

  v1::SubscribeRequest request;
  request.set_from_now(true);
  grpc::ClientContext context;
  auto reader = Subscribe(&context, request);
  // The subscription announces where it starts.
  v1::SubscribeResponse first;
  ASSERT_TRUE(reader->Read(&first));
  EXPECT_EQ(first.events_size(), 0);
  EXPECT_TRUE(first.caught_up());
  EXPECT_EQ(first.resume_from(), 4u);

  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    v1::Event note = MakeNoteEvent();
    ids.push_back(note.envelope().event_id());
    MustAppend("c2", {note});
  }
  Delivered delivered;
  ASSERT_TRUE(ReadEvents(reader.get(), 3, &delivered));
  EXPECT_THAT(Positions(delivered.events), ElementsAre(4, 5, 6));
  std::vector<std::string> received;
  for (const v1::Event& e : delivered.events) {
    received.push_back(e.envelope().event_id());
  }
  EXPECT_EQ(received, ids);
  ExpectResumeFromContiguous(delivered, 4);
  context.TryCancel();
  reader->Finish();
}

TEST_F(LedgerServerTest, ResumingFromResumeFromContinuesExactly) {
  for (int i = 0; i < 10; ++i) {
    MustAppend("c" + std::to_string(i % 3), {MakeNoteEvent(), MakeNoteEvent()});
  }
  Delivered first;
  uint64_t resume_from = 0;
  {
    grpc::ClientContext context;
    auto reader = Subscribe(&context, From(1, /*max_batch=*/3));
    for (int m = 0; m < 2; ++m) {
      v1::SubscribeResponse message;
      ASSERT_TRUE(reader->Read(&message));
      for (const v1::Event& e : message.events()) first.events.push_back(e);
      resume_from = message.resume_from();
    }
    context.TryCancel();
    EXPECT_THAT(reader->Finish(), GrpcCodeIs(grpc::StatusCode::CANCELLED));
  }
  ASSERT_EQ(resume_from, 7u);
  EXPECT_EQ(Positions(first.events), Range(1, 6));

  grpc::ClientContext context;
  auto reader = Subscribe(&context, From(resume_from, /*max_batch=*/4));
  Delivered rest;
  ASSERT_TRUE(ReadUntilCaughtUp(reader.get(), &rest));
  EXPECT_EQ(Positions(rest.events), Range(7, 20));
  ExpectResumeFromContiguous(rest, 7);
  context.TryCancel();
  reader->Finish();
}

// ---------------------------------------------------------------------------
// Shutdown

TEST_F(LedgerServerTest, ShutdownKeepsEveryAcknowledgedAppend) {
  constexpr int kClients = 4;
  constexpr int kAcksBeforeShutdown = 100;
  absl::Mutex mu;
  int acks = 0;
  std::map<std::string, std::vector<std::string>> acknowledged;  // by case
  std::vector<grpc::StatusCode> endings(kClients, grpc::StatusCode::OK);
  std::vector<std::string> ending_messages(kClients);
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      auto stub = v1::CaseWriter::NewStub(channel_);
      const std::string case_id = "w" + std::to_string(t);
      // Bounded: the server is shut down after kAcksBeforeShutdown acks in
      // total; a client that never sees an error fails the test.
      for (int i = 0; i < 100000; ++i) {
        v1::AppendEventsRequest request;
        request.set_case_id(case_id);
        *request.add_events() = MakeNoteEvent();
        grpc::ClientContext context;
        SetDeadline(&context);
        v1::AppendEventsResponse response;
        const grpc::Status s = stub->AppendEvents(&context, request, &response);
        absl::MutexLock lock(&mu);
        if (!s.ok()) {
          endings[t] = s.error_code();
          ending_messages[t] = s.error_message();
          return;
        }
        ++acks;
        acknowledged[case_id].push_back(
            request.events(0).envelope().event_id());
      }
    });
  }
  int acks_at_shutdown = 0;
  {
    absl::MutexLock lock(&mu);
    mu.AwaitWithTimeout(
        absl::Condition(
            +[](int* n) { return *n >= kAcksBeforeShutdown; }, &acks),
        absl::Seconds(60));
    acks_at_shutdown = acks;
  }
  // Appends are in flight while the server shuts down.
  server_->Shutdown();
  for (std::thread& t : clients) t.join();
  ASSERT_GE(acks_at_shutdown, kAcksBeforeShutdown)
      << "too few appends acknowledged before shutting down";
  for (int t = 0; t < kClients; ++t) {
    EXPECT_THAT(endings[t], AnyOf(grpc::StatusCode::UNAVAILABLE,
                                  grpc::StatusCode::CANCELLED))
        << "client " << t << ": " << ending_messages[t];
  }

  // A new server on the same data directory has every acknowledged event.
  StopServer();
  ASSERT_NO_FATAL_FAILURE(StartServer(Options()));
  int found = 0;
  for (const auto& [case_id, ids] : acknowledged) {
    const std::vector<std::string> stored = AllEventIds(case_id);
    const std::set<std::string> stored_set(stored.begin(), stored.end());
    EXPECT_EQ(stored_set.size(), stored.size()) << "duplicate in " << case_id;
    for (const std::string& id : ids) {
      if (stored_set.count(id)) {
        ++found;
      } else {
        ADD_FAILURE() << "acknowledged event " << id << " of " << case_id
                      << " is missing";
      }
    }
    // Acknowledged appends of one client are in order, at the front.
    ASSERT_GE(stored.size(), ids.size());
    EXPECT_EQ(
        std::vector<std::string>(stored.begin(), stored.begin() + ids.size()),
        ids)
        << case_id;
  }
  EXPECT_GE(found, kAcksBeforeShutdown);
  v1::VerifyResponse verify;
  ASSERT_GRPC_OK(Verify("", &verify));
  EXPECT_TRUE(verify.ok()) << verify.problem();
  EXPECT_EQ(verify.events_checked(), server_->log()->LastPosition());
  EXPECT_GE(verify.events_checked(), static_cast<uint64_t>(found));
}

TEST_F(LedgerServerTest, ShutdownEndsLiveSubscriptionsWithUnavailable) {
  MustAppend("c1", {Opened("p", "cm"), MakeNoteEvent()});
  grpc::ClientContext context;
  auto reader = Subscribe(&context, From(1));
  Delivered delivered;
  ASSERT_TRUE(ReadUntilCaughtUp(reader.get(), &delivered));
  EXPECT_THAT(Positions(delivered.events), ElementsAre(1, 2));

  // The grace period is long: the server must end the subscription itself
  // rather than wait for the grace to run out (gRPC would then cancel the
  // call, also with UNAVAILABLE, so only the time tells them apart).
  constexpr absl::Duration kGrace = absl::Seconds(60);
  const absl::Time start = absl::Now();
  absl::Time stopped;
  std::thread stopper([&] {
    server_->Shutdown(kGrace);
    stopped = absl::Now();
  });
  v1::SubscribeResponse message;
  const bool got = reader->Read(&message);
  const grpc::Status status = reader->Finish();
  stopper.join();
  EXPECT_FALSE(got) << "unexpected message " << message.ShortDebugString();
  EXPECT_THAT(status, GrpcCodeIs(grpc::StatusCode::UNAVAILABLE));
  EXPECT_LT(stopped - start, kGrace / 2)
      << "Shutdown waited for the grace period instead of ending the "
         "subscription";
}

}  // namespace
}  // namespace caseledger::services
