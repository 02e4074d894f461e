// The event log under storage faults: failed writes and syncs (EIO, ENOSPC,
// once or for good) and power loss, through a fault-injecting RocksDB file
// system (tests/testing/fault_injection_fs.h).
//
// The contract checked: an acknowledged append is durable (present, with its
// content, after reopening); an append that failed is all-or-nothing and,
// when its events did reach the disk, a retry of it is recognised
// (replayed); after a storage error the log refuses writes with UNAVAILABLE,
// Health() says why, reads keep working, and reopening recovers; every hash
// chain verifies and positions stay gap-free.

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "engine/event_log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/event_builders.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fault_injection_fs.h"
#include "tests/testing/log_reading.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace caseledger::engine {
namespace {

using ::caseledger::testing::FaultInjectionEnv;
using ::caseledger::testing::FaultInjectionFs;
using ::caseledger::testing::MakeEvent;
using ::caseledger::testing::StatusIs;
using ::caseledger::testing::TempDir;
using Fault = FaultInjectionFs::Fault;

// An append the test sent, and what the log answered.
struct Sent {
  AppendRequest request;
  absl::StatusOr<AppendResult> outcome;
};

class StorageFaultsTest : public ::testing::Test {
 protected:
  EventLogOptions Options(bool faulty) {
    EventLogOptions options;
    options.path = dir_.Sub("db");
    options.clock = &clock_;
    if (faulty) options.env = faults_.env.get();
    return options;
  }

  void Open(bool faulty = true) {
    log_.reset();
    absl::StatusOr<std::unique_ptr<EventLog>> log =
        EventLog::Open(Options(faulty));
    ASSERT_OK(log.status());
    log_ = std::move(log).value();
  }

  FaultInjectionFs& fs() { return *faults_.fs; }

  // A request of `n` note events with distinct texts.
  AppendRequest NewRequest(const std::string& case_id, int n) {
    AppendRequest request;
    request.case_id = case_id;
    for (int i = 0; i < n; ++i) {
      v1::EventPayload payload;
      payload.mutable_note_recorded()->set_note_id(
          absl::StrCat("n", next_note_));
      payload.mutable_note_recorded()->set_text(
          absl::StrCat("note ", next_note_, " of ", case_id));
      ++next_note_;
      request.events.push_back(MakeEvent(payload));
    }
    return request;
  }

  // Sends one append, remembers it and returns the outcome.
  absl::StatusOr<AppendResult> Send(const std::string& case_id, int n) {
    AppendRequest request = NewRequest(case_id, n);
    absl::StatusOr<AppendResult> outcome = log_->Append(request);
    absl::MutexLock lock(&sent_mu_);
    sent_.push_back(Sent{std::move(request), outcome});
    return outcome;
  }

  std::vector<v1::Event> ReadEverything() {
    absl::StatusOr<std::vector<v1::Event>> all =
        ::caseledger::testing::ReadWholeLog(*log_);
    EXPECT_OK(all.status());
    return all.ok() ? *std::move(all) : std::vector<v1::Event>();
  }

  // Checks the reopened log against everything sent: acknowledged appends
  // are present with their content at their positions; failed ones are
  // all-or-nothing, and a stored one is recognised as a retry; nothing else
  // is stored; chains verify and positions are gap-free.
  void CheckAgainstSent() {
    std::vector<v1::Event> all = ReadEverything();
    absl::flat_hash_map<std::string, const v1::Event*> by_id;
    for (size_t i = 0; i < all.size(); ++i) {
      ASSERT_EQ(all[i].envelope().global_position(), i + 1);
      by_id[all[i].envelope().event_id()] = &all[i];
    }
    size_t expected_events = 0;
    absl::MutexLock lock(&sent_mu_);
    for (const Sent& sent : sent_) {
      size_t present = 0;
      for (size_t i = 0; i < sent.request.events.size(); ++i) {
        const v1::Event& want = sent.request.events[i];
        auto found = by_id.find(want.envelope().event_id());
        if (found == by_id.end()) continue;
        ++present;
        const v1::Event& got = *found->second;
        EXPECT_EQ(got.envelope().case_id(), sent.request.case_id);
        EXPECT_EQ(got.payload().SerializeAsString(),
                  want.payload().SerializeAsString());
        if (sent.outcome.ok()) {
          EXPECT_EQ(got.envelope().global_position(),
                    sent.outcome->first_position + i);
          EXPECT_EQ(got.envelope().stream_version(),
                    sent.outcome->first_version + i);
        }
      }
      if (sent.outcome.ok()) {
        EXPECT_EQ(present, sent.request.events.size())
            << "an acknowledged append is missing";
      } else {
        EXPECT_TRUE(present == 0 || present == sent.request.events.size())
            << "a failed append is partly stored: " << present << " of "
            << sent.request.events.size();
      }
      expected_events += present;
    }
    EXPECT_EQ(all.size(), expected_events) << "an event nobody sent is stored";
    absl::StatusOr<VerifyReport> report = log_->VerifyAll();
    ASSERT_OK(report.status());
    EXPECT_TRUE(report->ok)
        << report->problem << " at " << report->first_broken_position;
    EXPECT_EQ(report->events_checked, all.size());
  }

  // Retries every failed append whose events are stored: each must come
  // back as replayed. REQUIRES: a healthy log.
  void RetryStoredFailures() {
    std::vector<AppendRequest> retries;
    {
      absl::MutexLock lock(&sent_mu_);
      for (const Sent& sent : sent_) {
        if (!sent.outcome.ok()) retries.push_back(sent.request);
      }
    }
    absl::flat_hash_map<std::string, bool> stored;
    for (const v1::Event& e : ReadEverything()) {
      stored[e.envelope().event_id()] = true;
    }
    for (const AppendRequest& request : retries) {
      if (!stored.contains(request.events[0].envelope().event_id())) continue;
      ASSERT_OK_AND_ASSIGN(AppendResult retried, log_->Append(request));
      EXPECT_TRUE(retried.replayed);
    }
  }

  TempDir dir_;
  ::caseledger::testing::FakeClock clock_{absl::FromUnixSeconds(1800000000)};
  FaultInjectionEnv faults_;
  std::unique_ptr<EventLog> log_;
  int next_note_ = 0;
  absl::Mutex sent_mu_;
  std::vector<Sent> sent_ ABSL_GUARDED_BY(sent_mu_);
};

struct OneFault {
  const char* name;
  FaultInjectionFs::Op op;
  FaultInjectionFs::Error error;
  FaultInjectionFs::Mode mode;
  absl::StatusCode failed_code;  // what the failing append returns
};

class StorageFaultsWalTest : public StorageFaultsTest,
                             public ::testing::WithParamInterface<OneFault> {};

// A write or sync of the WAL fails: the append that hit it fails with the
// mapped code and every later one is refused with UNAVAILABLE, even after a
// one-off fault; Health() reports it; reads go on; reopening recovers with
// every acknowledged event and the failed append either absent or whole.
TEST_P(StorageFaultsWalTest, FailedAppendIsAbsentOrWholeAndLogRefusesWrites) {
  const OneFault& param = GetParam();
  Open();
  for (int i = 0; i < 5; ++i) ASSERT_OK(Send("c1", 2));
  Fault fault;
  fault.op = param.op;
  fault.error = param.error;
  fault.mode = param.mode;
  fault.files = FaultInjectionFs::Files::kWal;
  fault.nth = 1;
  fs().Arm(fault);

  EXPECT_THAT(Send("c1", 3), StatusIs(param.failed_code));
  EXPECT_EQ(fs().injected(), 1u);
  EXPECT_FALSE(log_->Health().ok());
  // Refused cleanly from now on, whatever the disk does.
  EXPECT_THAT(Send("c2", 1), StatusIs(absl::StatusCode::kUnavailable,
                                      ::testing::HasSubstr("refuses writes")));
  // Reads keep serving what was acknowledged.
  EXPECT_EQ(log_->LastPosition(), 10u);
  ReadCaseRequest read;
  read.case_id = "c1";
  ASSERT_OK_AND_ASSIGN(ReadPage page, log_->ReadCase(read));
  EXPECT_EQ(page.events.size(), 10u);

  fs().Disarm();
  Open();
  EXPECT_OK(log_->Health());
  CheckAgainstSent();
  RetryStoredFailures();
  // Writable again, and the chain continues.
  ASSERT_OK(Send("c1", 1));
  CheckAgainstSent();
}

INSTANTIATE_TEST_SUITE_P(
    Faults, StorageFaultsWalTest,
    ::testing::Values(
        OneFault{"WriteEioOnce", FaultInjectionFs::Op::kWrite,
                 FaultInjectionFs::Error::kIo, FaultInjectionFs::Mode::kOnce,
                 absl::StatusCode::kUnavailable},
        OneFault{"WriteEnospcOnce", FaultInjectionFs::Op::kWrite,
                 FaultInjectionFs::Error::kNoSpace,
                 FaultInjectionFs::Mode::kOnce,
                 absl::StatusCode::kResourceExhausted},
        OneFault{"SyncEioOnce", FaultInjectionFs::Op::kSync,
                 FaultInjectionFs::Error::kIo, FaultInjectionFs::Mode::kOnce,
                 absl::StatusCode::kUnavailable},
        OneFault{"SyncEnospcOnce", FaultInjectionFs::Op::kSync,
                 FaultInjectionFs::Error::kNoSpace,
                 FaultInjectionFs::Mode::kOnce,
                 absl::StatusCode::kResourceExhausted},
        OneFault{"WriteEioPersistent", FaultInjectionFs::Op::kWrite,
                 FaultInjectionFs::Error::kIo,
                 FaultInjectionFs::Mode::kPersistent,
                 absl::StatusCode::kUnavailable},
        OneFault{"SyncEnospcPersistent", FaultInjectionFs::Op::kSync,
                 FaultInjectionFs::Error::kNoSpace,
                 FaultInjectionFs::Mode::kPersistent,
                 absl::StatusCode::kResourceExhausted}),
    [](const ::testing::TestParamInfo<OneFault>& info) {
      return std::string(info.param.name);
    });

// A persistent failure that starts at a random write or sync: every append
// before it is acknowledged and durable, none after it is.
TEST_F(StorageFaultsTest, PersistentFailureAtTheNthOperation) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::mt19937_64 random(seed);
    Open();
    Fault fault;
    fault.op = random() % 2 ? FaultInjectionFs::Op::kWrite
                            : FaultInjectionFs::Op::kSync;
    fault.error = random() % 2 ? FaultInjectionFs::Error::kIo
                               : FaultInjectionFs::Error::kNoSpace;
    fault.mode = FaultInjectionFs::Mode::kPersistent;
    fault.nth = 1 + random() % 20;
    fs().Arm(fault);
    for (int i = 0; i < 40; ++i) {
      if (!Send(absl::StrCat("c", random() % 3), 1 + random() % 3).ok()) {
        break;
      }
    }
    EXPECT_GE(fs().injected(), 1u);
    EXPECT_FALSE(log_->Health().ok());
    EXPECT_THAT(Send("c0", 1), StatusIs(absl::StatusCode::kUnavailable));
    fs().Disarm();
    Open();
    EXPECT_OK(log_->Health());
    CheckAgainstSent();
    RetryStoredFailures();
    ASSERT_OK(Send("c0", 1));
  }
}

// A flush (memtable -> table file) that cannot write: Flush fails, Health()
// reports the background error at once, appends are refused, and reopening
// recovers from the WAL with nothing lost.
TEST_F(StorageFaultsTest, FailedFlushIsReportedAndRecovered) {
  Open();
  for (int i = 0; i < 20; ++i) ASSERT_OK(Send("c1", 2));
  Fault fault;
  fault.op = FaultInjectionFs::Op::kWrite;
  fault.error = FaultInjectionFs::Error::kNoSpace;
  fault.mode = FaultInjectionFs::Mode::kPersistent;
  fault.files = FaultInjectionFs::Files::kTable;
  fs().Arm(fault);
  EXPECT_FALSE(log_->Flush().ok());
  EXPECT_THAT(log_->Health(), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(Send("c1", 1), StatusIs(absl::StatusCode::kUnavailable));
  fs().Disarm();
  Open();
  EXPECT_OK(log_->Health());
  CheckAgainstSent();
  ASSERT_OK(Send("c1", 1));
  ASSERT_OK(log_->Flush());
  Open();
  CheckAgainstSent();
}

// Power loss at a random write or sync of any file (WAL, table, MANIFEST,
// CURRENT) while three threads append and the log sometimes flushes; then
// the unsynced data is lost (or, for odd seeds, torn at a random point) and
// the log reopens: every acknowledged event is there, no failed append is
// partly visible, nothing unsent is there, and the chains verify.
TEST_F(StorageFaultsTest, PowerLossKeepsEveryAcknowledgedEvent) {
  int cut_mid_run = 0;
  for (uint64_t seed = 1; seed <= 16; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::mt19937_64 random(seed);
    Open();
    Fault fault;
    fault.op = random() % 2 ? FaultInjectionFs::Op::kWrite
                            : FaultInjectionFs::Op::kSync;
    fault.mode = FaultInjectionFs::Mode::kPowerLoss;
    fault.nth = 1 + random() % 60;
    fs().Arm(fault);
    std::vector<std::thread> writers;
    absl::Mutex requests_mu;
    for (int t = 0; t < 3; ++t) {
      const uint64_t thread_seed = random();
      writers.emplace_back([&, t, thread_seed] {
        std::mt19937_64 mine(thread_seed);
        for (int i = 0; i < 60 && !fs().power_cut(); ++i) {
          AppendRequest request;
          {
            absl::MutexLock lock(&requests_mu);
            request = NewRequest(absl::StrCat("c", t, "-", mine() % 2),
                                 1 + mine() % 3);
          }
          absl::StatusOr<AppendResult> outcome = log_->Append(request);
          {
            absl::MutexLock lock(&sent_mu_);
            sent_.push_back(Sent{std::move(request), outcome});
          }
          if (t == 0 && mine() % 8 == 0) (void)log_->Flush();
        }
      });
    }
    for (std::thread& w : writers) w.join();
    if (fs().power_cut()) ++cut_mid_run;
    if (!fs().power_cut()) fs().CutPower();
    log_.reset();  // the process dies with the power
    ASSERT_OK(fs().LoseUnsyncedData(seed % 2 ? std::optional<uint64_t>(seed)
                                             : std::nullopt));
    Open();
    CheckAgainstSent();
    RetryStoredFailures();
    ASSERT_OK(Send("c0-0", 1));
    log_.reset();
    std::filesystem::remove_all(Options(false).path);
    absl::MutexLock lock(&sent_mu_);
    sent_.clear();
  }
  // The seeds must mostly cut the power while appends run, not after.
  EXPECT_GE(cut_mid_run, 12);
}

}  // namespace
}  // namespace caseledger::engine
