// The crash loop: caseledgerd as a child process, clients appending over
// gRPC concurrently, the server SIGKILLed at a seeded number of acknowledged
// appends, restarted on the same data directory, again and again. After each
// kill the data directory is checked in this process:
//  - every acknowledged event is stored, with its content, at the version
//    and position its acknowledgement gave;
//  - an append whose outcome the client never learnt (in flight at the kill)
//    is stored whole or not at all, and its client retries it after the
//    restart (same event ids: an idempotent retry);
//  - no event is stored that no client sent;
//  - positions and versions are gap-free and every hash chain verifies;
//  - the server's projection store, caught up, equals a clean rebuild from
//    the log, key by key, and plan, timeline and metrics of every case agree.
//
// Clients send the demo caseload (tools/caseload), each stream's appends in
// order with exact expected versions, as case managers would.
//
// Environment (tools/crash_loop.sh runs the long version):
//   CASELEDGER_CRASH_CYCLES       kills (default 20)
//   CASELEDGER_CRASH_SEED         seed of the kill points and caseload (1)
//   CASELEDGER_CRASH_CHECK_EVERY  check every Nth cycle (1); the last cycle
//                                 is always checked

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "caseledger/v1/ledger_service.grpc.pb.h"
#include "engine/event_log.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "projections/case_projection.h"
#include "services/master_key.h"
#include "tests/testing/access.h"
#include "tests/testing/child_process.h"
#include "tests/testing/daemon.h"
#include "tests/testing/log_reading.h"
#include "tests/testing/projection_dump.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tools/caseload/caseload.h"

namespace caseledger {
namespace {

using ::caseledger::testing::ChildProcess;
using ::caseledger::testing::TempDir;
using ::google::protobuf::util::MessageDifferencer;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  uint64_t parsed = 0;
  if (value == nullptr || !absl::SimpleAtoi(value, &parsed) || parsed == 0) {
    return fallback;
  }
  return parsed;
}

// An acknowledged event as the client sent it and the server placed it.
struct AckedEvent {
  std::string case_id;
  uint64_t version = 0;
  uint64_t position = 0;
  v1::Event sent;
};

// What the clients sent and learnt. Thread-safe.
class Ledger {
 public:
  void Acked(const engine::AppendRequest& request,
             const v1::AppendEventsResponse& response) {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < request.events.size(); ++i) {
      AckedEvent& acked = acked_[request.events[i].envelope().event_id()];
      acked.case_id = request.case_id;
      acked.version = response.first_version() + i;
      acked.position = response.first_position() + i;
      acked.sent = request.events[i];
    }
    ++acked_appends_;
  }

  uint64_t acked_appends() const {
    absl::MutexLock lock(&mu_);
    return acked_appends_;
  }

  // Starts a cycle in which `clients` client threads send.
  void StartCycle(size_t clients) {
    absl::MutexLock lock(&mu_);
    running_clients_ = clients;
  }

  // A client thread calls this when it stops sending.
  void ClientEnded() {
    absl::MutexLock lock(&mu_);
    --running_clients_;
  }

  // Blocks until `count` appends are acknowledged in all, or every client
  // thread of the cycle has ended.
  void WaitFor(uint64_t count) const {
    absl::MutexLock lock(&mu_);
    struct Args {
      const Ledger* self;
      uint64_t count;
    } args{this, count};
    mu_.Await(absl::Condition(
        +[](Args* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return a->self->acked_appends_ >= a->count ||
                 a->self->running_clients_ == 0;
        },
        &args));
  }

  absl::flat_hash_map<std::string, AckedEvent> acked() const {
    absl::MutexLock lock(&mu_);
    return acked_;
  }

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, AckedEvent> acked_ ABSL_GUARDED_BY(mu_);
  uint64_t acked_appends_ ABSL_GUARDED_BY(mu_) = 0;
  size_t running_clients_ ABSL_GUARDED_BY(mu_) = 0;
};

// One case manager's client: sends its streams' appends in order; an append
// whose outcome is unknown (the server died) is retried first next time.
// Run() is called from one thread at a time.
class Client {
 public:
  Client(const caseload::CaseloadGenerator* generator, size_t first_stream,
         size_t stride)
      : generator_(generator), next_stream_(first_stream), stride_(stride) {}

  // Appends until an append fails or `stop` is set. Returns false when the
  // client has sent everything it had.
  bool Run(v1::CaseWriter::Stub* writer, Ledger* ledger,
           const std::atomic<bool>* stop) {
    while (!stop->load()) {
      if (!pending_ && !Next()) return false;
      v1::AppendEventsRequest request;
      request.set_case_id(pending_->case_id);
      switch (pending_->expected.kind()) {
        case engine::ExpectedVersion::Kind::kAny:
          request.mutable_expected()->set_any(true);
          break;
        case engine::ExpectedVersion::Kind::kNoStream:
          request.mutable_expected()->set_no_stream(true);
          break;
        case engine::ExpectedVersion::Kind::kStreamExists:
          request.mutable_expected()->set_stream_exists(true);
          break;
        case engine::ExpectedVersion::Kind::kExact:
          request.mutable_expected()->set_exact(pending_->expected.version());
          break;
      }
      for (const v1::Event& e : pending_->events) *request.add_events() = e;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
      v1::AppendEventsResponse response;
      const grpc::Status status =
          writer->AppendEvents(&context, request, &response);
      if (status.ok()) {
        ledger->Acked(*pending_, response);
        pending_.reset();
        continue;
      }
      switch (status.error_code()) {
        case grpc::StatusCode::UNAVAILABLE:
        case grpc::StatusCode::CANCELLED:
        case grpc::StatusCode::UNKNOWN:
        case grpc::StatusCode::INTERNAL:
        case grpc::StatusCode::DEADLINE_EXCEEDED:
          return true;  // the server died: outcome unknown, retry later
        default:
          ADD_FAILURE() << "append to " << pending_->case_id
                        << " failed: " << status.error_code() << " "
                        << status.error_message();
          return false;
      }
    }
    return true;
  }

  // The append in flight when the server died, if any.
  const std::optional<engine::AppendRequest>& pending() const {
    return pending_;
  }

 private:
  bool Next() {
    while (next_append_ >= script_.appends.size()) {
      if (next_stream_ >= generator_->stream_count()) return false;
      script_ = generator_->Stream(next_stream_);
      next_stream_ += stride_;
      next_append_ = 0;
    }
    pending_ = script_.appends[next_append_++];
    return true;
  }

  const caseload::CaseloadGenerator* const generator_;
  size_t next_stream_;
  const size_t stride_;
  caseload::StreamScript script_;
  size_t next_append_ = 0;
  std::optional<engine::AppendRequest> pending_;
};

class CrashLoopTest : public ::testing::Test {
 protected:
  std::string DataDir() const { return dir_.Sub("data"); }

  // Starts caseledgerd and returns its port (0 on failure).
  int StartServer(ChildProcess& server) {
    // As the test principal, plaintext on loopback.
    const std::string policy = dir_.Sub("policy.textproto");
    std::ofstream(policy) << testing::SuperuserPolicyText();
    server.Spawn(CASELEDGERD_PATH,
                 {"--data_dir=" + DataDir(), "--listen=127.0.0.1:0",
                  "--plaintext_loopback", "--policy=" + policy},
                 /*capture_fd=*/2);
    std::string fragment;
    std::string seen;
    while (std::optional<std::string> line = server.ReadLine(&fragment)) {
      seen += *line + "\n";
      if (absl::StrContains(*line, "caseledgerd serving")) {
        return testing::PortFrom(*line);
      }
    }
    ADD_FAILURE() << "caseledgerd did not start:\n" << seen << fragment;
    return 0;
  }

  // Checks the killed server's data directory against what the clients
  // learnt (see the file comment).
  void Check(const Ledger& ledger, const std::vector<Client>& clients,
             int cycle) {
    engine::EventLogOptions log_options;
    log_options.path = DataDir() + "/log";
    log_options.create_if_missing = false;
    // The server encrypts payloads under its key store (README, "Erasure").
    log_options.key_store_path = DataDir() + "/keys";
    ASSERT_OK_AND_ASSIGN(
        log_options.master_key,
        services::ReadMasterKeyFile(DataDir() + "/master.key"));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<engine::EventLog> log,
                         engine::EventLog::Open(log_options));
    ASSERT_OK_AND_ASSIGN(const std::vector<v1::Event> all,
                         testing::ReadWholeLog(*log));
    absl::flat_hash_map<std::string, const v1::Event*> stored;
    for (size_t i = 0; i < all.size(); ++i) {
      ASSERT_EQ(all[i].envelope().global_position(), i + 1);
      stored[all[i].envelope().event_id()] = &all[i];
    }
    const absl::flat_hash_map<std::string, AckedEvent> acked = ledger.acked();
    for (const auto& [id, want] : acked) {
      auto found = stored.find(id);
      ASSERT_NE(found, stored.end())
          << "cycle " << cycle << ": acknowledged event " << id << " of "
          << want.case_id << " is missing";
      const v1::EventEnvelope& got = found->second->envelope();
      EXPECT_EQ(got.case_id(), want.case_id);
      EXPECT_EQ(got.stream_version(), want.version) << id;
      EXPECT_EQ(got.global_position(), want.position) << id;
      EXPECT_TRUE(MessageDifferencer::Equals(found->second->payload(),
                                             want.sent.payload()))
          << "cycle " << cycle << ": content of " << id << " differs";
      EXPECT_TRUE(MessageDifferencer::Equals(
          got.occurred_at(), want.sent.envelope().occurred_at()));
    }
    size_t in_doubt = 0;
    for (const Client& client : clients) {
      if (!client.pending()) continue;
      size_t present = 0;
      for (const v1::Event& e : client.pending()->events) {
        auto found = stored.find(e.envelope().event_id());
        if (found == stored.end()) continue;
        ++present;
        EXPECT_TRUE(
            MessageDifferencer::Equals(found->second->payload(), e.payload()));
      }
      EXPECT_TRUE(present == 0 || present == client.pending()->events.size())
          << "cycle " << cycle << ": an append in flight at the kill is "
          << "partly stored (" << present << " of "
          << client.pending()->events.size() << " events)";
      in_doubt += present;
      if (present > 0) ++in_doubt_stored_;
    }
    EXPECT_EQ(all.size(), acked.size() + in_doubt)
        << "cycle " << cycle << ": events stored that no client sent";
    ASSERT_OK_AND_ASSIGN(engine::VerifyReport report, log->VerifyAll());
    EXPECT_TRUE(report.ok) << "cycle " << cycle << ": " << report.problem
                           << " at " << report.first_broken_position;
    EXPECT_EQ(report.events_checked, all.size());
    ASSERT_NO_FATAL_FAILURE(CompareProjections(*log, all, cycle));
  }

  // The server's projection store, caught up, against a clean build.
  void CompareProjections(engine::EventLog& log,
                          const std::vector<v1::Event>& all, int cycle) {
    projections::CaseProjectionOptions served_options;
    served_options.dir = DataDir() + "/projections";
    projections::CaseProjectionOptions clean_options;
    clean_options.dir = dir_.Sub(absl::StrCat("clean-", cycle));
    ASSERT_OK_AND_ASSIGN(
        std::unique_ptr<projections::CaseProjection> served,
        projections::CaseProjection::Open(served_options, &log));
    ASSERT_OK(served->CatchUp());
    ASSERT_OK_AND_ASSIGN(
        std::unique_ptr<projections::CaseProjection> clean,
        projections::CaseProjection::Open(clean_options, &log));
    ASSERT_OK(clean->CatchUp());
    ASSERT_EQ(served->Position(), log.LastPosition());
    ASSERT_EQ(clean->Position(), log.LastPosition());
    ASSERT_OK_AND_ASSIGN(testing::ProjectionDump served_dump, served->Dump());
    ASSERT_OK_AND_ASSIGN(testing::ProjectionDump clean_dump, clean->Dump());
    testing::ExpectSameDump(served_dump, clean_dump);

    // The same through the query API, case by case.
    std::map<std::string, bool> cases;
    for (const v1::Event& e : all) cases[e.envelope().case_id()] = true;
    v1::Date as_of;
    as_of.set_year(2026);
    as_of.set_month(6);
    as_of.set_day(30);
    for (const auto& [case_id, unused] : cases) {
      SCOPED_TRACE(absl::StrCat("cycle ", cycle, " case ", case_id));
      ExpectSame(served->GetPlan(case_id), clean->GetPlan(case_id));
      ExpectSame(served->GetCaseMetrics(case_id, as_of),
                 clean->GetCaseMetrics(case_id, as_of));
      projections::TimelineQuery query;
      query.case_id = case_id;
      query.page_size = 1000;
      for (;;) {
        absl::StatusOr<projections::TimelinePage> a =
            served->GetTimeline(query);
        absl::StatusOr<projections::TimelinePage> b = clean->GetTimeline(query);
        ASSERT_EQ(a.status(), b.status());
        if (!a.ok()) break;
        ASSERT_EQ(a->entries.size(), b->entries.size());
        for (size_t i = 0; i < a->entries.size(); ++i) {
          EXPECT_TRUE(MessageDifferencer::Equals(a->entries[i], b->entries[i]));
        }
        ASSERT_EQ(a->next_version, b->next_version);
        if (a->next_version == 0) break;
        query.from_version = a->next_version;
      }
    }
    clean.reset();
    std::filesystem::remove_all(clean_options.dir);
  }

  template <typename M>
  static void ExpectSame(const absl::StatusOr<M>& a,
                         const absl::StatusOr<M>& b) {
    ASSERT_EQ(a.status(), b.status());
    if (a.ok()) {
      EXPECT_TRUE(MessageDifferencer::Equals(*a, *b))
          << "served: " << a->ShortDebugString()
          << "\nclean:  " << b->ShortDebugString();
    }
  }

  TempDir dir_;
  // Appends in flight at a kill that a check found stored.
  uint64_t in_doubt_stored_ = 0;
};

TEST_F(CrashLoopTest, EveryAcknowledgedEventSurvivesRepeatedSigkill) {
  const uint64_t cycles = EnvOr("CASELEDGER_CRASH_CYCLES", 20);
  const uint64_t seed = EnvOr("CASELEDGER_CRASH_SEED", 1);
  const uint64_t check_every = EnvOr("CASELEDGER_CRASH_CHECK_EVERY", 1);
  constexpr size_t kClients = 4;
  constexpr uint64_t kMaxAcksPerCycle = 24;

  caseload::CaseloadOptions caseload_options;
  caseload_options.seed = seed;
  // Enough streams that the clients never run dry.
  caseload_options.cases = static_cast<int>(std::max<uint64_t>(16, cycles));
  caseload::CaseloadGenerator generator(caseload_options);
  std::vector<Client> clients;
  clients.reserve(kClients);
  for (size_t c = 0; c < kClients; ++c) {
    clients.emplace_back(&generator, c, kClients);
  }
  Ledger ledger;
  std::mt19937_64 random(seed);
  const absl::Time started = absl::Now();
  uint64_t checks = 0;
  uint64_t in_doubt_total = 0;

  for (uint64_t cycle = 1; cycle <= cycles; ++cycle) {
    ChildProcess server;
    const int port = StartServer(server);
    ASSERT_GT(port, 0);
    auto channel = testing::TokenChannel(absl::StrCat("127.0.0.1:", port));
    std::unique_ptr<v1::CaseWriter::Stub> writer =
        v1::CaseWriter::NewStub(channel);

    // Kill after a seeded number of acknowledgements in this cycle.
    const uint64_t kill_at =
        ledger.acked_appends() + 1 + random() % kMaxAcksPerCycle;
    std::atomic<bool> stop{false};
    ledger.StartCycle(clients.size());
    std::vector<std::thread> threads;
    for (Client& client : clients) {
      threads.emplace_back([&, c = &client] {
        c->Run(writer.get(), &ledger, &stop);
        ledger.ClientEnded();
      });
    }
    ledger.WaitFor(kill_at);
    const int status = server.KillAndWait();
    stop.store(true);
    for (std::thread& t : threads) t.join();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "caseledgerd ended by itself: "
        << testing::DescribeWaitStatus(status);
    for (const Client& client : clients)
      in_doubt_total += client.pending() ? 1 : 0;

    if (cycle % check_every == 0 || cycle == cycles) {
      ++checks;
      ASSERT_NO_FATAL_FAILURE(Check(ledger, clients, static_cast<int>(cycle)));
      if (HasFailure()) return;
    }
  }
  std::cout << "crash loop: " << cycles << " SIGKILLs, " << checks
            << " full checks, " << ledger.acked_appends()
            << " acknowledged appends (" << ledger.acked().size()
            << " events), " << in_doubt_total
            << " appends in flight at a kill (" << in_doubt_stored_
            << " of them found stored by a check), seed " << seed << ", "
            << absl::FormatDuration(absl::Now() - started) << std::endl;
}

}  // namespace
}  // namespace caseledger
