#include "engine/event_log.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "caseledger/v1/stored_event.pb.h"
#include "engine/ids.h"
#include "engine/internal/keys.h"
#include "engine/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/testing/event_builders.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace caseledger::engine {
namespace {

using ::caseledger::testing::MakeGoalSetEvent;
using ::caseledger::testing::MakeNoteEvent;
using ::caseledger::testing::StatusIs;
using ::caseledger::testing::TempDir;
using ::testing::HasSubstr;

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  EventLogOptions Options() {
    EventLogOptions options;
    options.path = dir_.Sub("db");
    options.clock = &clock_;
    return options;
  }

  void Reopen() {
    log_.reset();
    absl::StatusOr<std::unique_ptr<EventLog>> log = EventLog::Open(Options());
    ASSERT_OK(log.status());
    log_ = std::move(log).value();
  }

  void Close() { log_.reset(); }

  static AppendRequest Request(const std::string& case_id,
                               ExpectedVersion expected,
                               std::vector<v1::Event> events) {
    AppendRequest request;
    request.case_id = case_id;
    request.expected = expected;
    request.events = std::move(events);
    return request;
  }

  std::vector<v1::Event> ReadEverything() {
    std::vector<v1::Event> all;
    ReadAllRequest request;
    request.from_position = 1;
    for (;;) {
      absl::StatusOr<ReadPage> page = log_->ReadAll(request);
      EXPECT_OK(page.status());
      if (!page.ok()) break;
      for (auto& e : page->events) all.push_back(std::move(e));
      if (page->end) break;
      request.from_position = page->next;
    }
    return all;
  }

  // Opens the raw RocksDB under the log (the log must be closed) with every
  // column family it has, and applies `edit` to it.
  void WithRawDb(
      const std::function<void(
          rocksdb::DB*, std::vector<rocksdb::ColumnFamilyHandle*>&)>& edit) {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(),
                                                Options().path, &names)
                    .ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : names) {
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), Options().path,
                                  descriptors, &handles, &db)
                    .ok());
    edit(db, handles);
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }

  // WithRawDb, the handles ordered as the log does: default, events,
  // case_index, case_heads, event_ids.
  void EditRawDb(
      const std::function<void(
          rocksdb::DB*, std::vector<rocksdb::ColumnFamilyHandle*>&)>& edit) {
    WithRawDb([&](rocksdb::DB* db,
                  std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
      std::vector<rocksdb::ColumnFamilyHandle*> ordered;
      for (const char* want :
           {"default", internal::kEventsCf, internal::kCaseIndexCf,
            internal::kCaseHeadsCf, internal::kEventIdsCf}) {
        for (auto* h : handles) {
          if (h->GetName() == want) ordered.push_back(h);
        }
      }
      ASSERT_EQ(ordered.size(), 5u);
      edit(db, ordered);
    });
  }

  TempDir dir_;
  ::caseledger::testing::FakeClock clock_{absl::FromUnixSeconds(1800000000)};
  std::unique_ptr<EventLog> log_;
};

TEST_F(EventLogTest, AppendAssignsVersionsPositionsAndServerFields) {
  ASSERT_OK_AND_ASSIGN(
      AppendResult a,
      log_->Append(Request(
          "case-a", ExpectedVersion::NoStream(),
          {MakeGoalSetEvent("g1", "Get my own flat"), MakeNoteEvent()})));
  EXPECT_EQ(a.first_version, 1u);
  EXPECT_EQ(a.last_version, 2u);
  EXPECT_EQ(a.first_position, 1u);
  EXPECT_EQ(a.last_position, 2u);
  EXPECT_EQ(a.commit_position, 2u);
  EXPECT_FALSE(a.replayed);

  ASSERT_OK_AND_ASSIGN(AppendResult b,
                       log_->Append(Request("case-b", ExpectedVersion::Any(),
                                            {MakeNoteEvent()})));
  EXPECT_EQ(b.first_version, 1u);
  EXPECT_EQ(b.first_position, 3u);
  EXPECT_EQ(log_->LastPosition(), 3u);

  std::vector<v1::Event> all = ReadEverything();
  ASSERT_EQ(all.size(), 3u);
  const v1::EventEnvelope& first = all[0].envelope();
  EXPECT_EQ(first.case_id(), "case-a");
  EXPECT_EQ(first.stream_version(), 1u);
  EXPECT_EQ(first.global_position(), 1u);
  EXPECT_EQ(first.event_type(), "GoalSet");
  EXPECT_EQ(first.schema_version(), 1u);
  EXPECT_EQ(first.recorded_at().seconds(), 1800000000);
  EXPECT_EQ(first.prev_hash(), std::string(32, '\0'));
  EXPECT_EQ(all[0].payload().goal_set().statement(), "Get my own flat");
  EXPECT_EQ(all[0].hash().size(), 32u);
  // The second event of case-a links to the first.
  EXPECT_EQ(all[1].envelope().prev_hash(), all[0].hash());
  EXPECT_EQ(all[1].envelope().event_type(), "NoteRecorded");
  // case-b starts its own chain.
  EXPECT_EQ(all[2].envelope().prev_hash(), std::string(32, '\0'));

  ASSERT_OK_AND_ASSIGN(CaseHead head, log_->GetCaseHead("case-a"));
  EXPECT_EQ(head.version, 2u);
  EXPECT_EQ(head.last_position, 2u);
  EXPECT_EQ(head.last_hash, all[1].hash());
  ASSERT_OK_AND_ASSIGN(CaseHead none, log_->GetCaseHead("case-none"));
  EXPECT_EQ(none.version, 0u);
}

TEST_F(EventLogTest, ExpectedVersionModes) {
  // kStreamExists on a missing case.
  absl::StatusOr<AppendResult> r = log_->Append(
      Request("c1", ExpectedVersion::StreamExists(), {MakeNoteEvent()}));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(CurrentVersionOf(r.status()), 0u);

  // kExact(0) creates; kNoStream then fails and reports the version.
  ASSERT_OK(log_->Append(
      Request("c1", ExpectedVersion::Exact(0), {MakeNoteEvent()})));
  r = log_->Append(
      Request("c1", ExpectedVersion::NoStream(), {MakeNoteEvent()}));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kAborted,
                          HasSubstr("case is at version 1")));
  EXPECT_EQ(CurrentVersionOf(r.status()), 1u);

  ASSERT_OK(log_->Append(
      Request("c1", ExpectedVersion::StreamExists(), {MakeNoteEvent()})));
  r = log_->Append(Request("c1", ExpectedVersion::Exact(1), {MakeNoteEvent()}));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(CurrentVersionOf(r.status()), 2u);
  ASSERT_OK(log_->Append(
      Request("c1", ExpectedVersion::Exact(2), {MakeNoteEvent()})));
  ASSERT_OK(
      log_->Append(Request("c1", ExpectedVersion::Any(), {MakeNoteEvent()})));
  ASSERT_OK_AND_ASSIGN(CaseHead head, log_->GetCaseHead("c1"));
  EXPECT_EQ(head.version, 4u);
  // Failed appends consumed no positions.
  EXPECT_EQ(log_->LastPosition(), 4u);
  // Other statuses carry no version.
  EXPECT_EQ(CurrentVersionOf(absl::InvalidArgumentError("x")), std::nullopt);
}

TEST_F(EventLogTest, IdempotentRetryReturnsOriginalResultAndStoresNothing) {
  AppendRequest request = Request("c1", ExpectedVersion::NoStream(),
                                  {MakeNoteEvent(), MakeNoteEvent()});
  ASSERT_OK_AND_ASSIGN(AppendResult first, log_->Append(request));
  ASSERT_OK(
      log_->Append(Request("c2", ExpectedVersion::Any(), {MakeNoteEvent()})));
  // The retry would fail its expected version, yet it is recognised first.
  ASSERT_OK_AND_ASSIGN(AppendResult again, log_->Append(request));
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.first_position, first.first_position);
  EXPECT_EQ(again.last_position, first.last_position);
  EXPECT_EQ(again.first_version, 1u);
  EXPECT_EQ(again.last_version, 2u);
  EXPECT_EQ(log_->LastPosition(), 3u);
  // Also after a restart.
  Reopen();
  ASSERT_OK_AND_ASSIGN(AppendResult after, log_->Append(request));
  EXPECT_TRUE(after.replayed);
  EXPECT_EQ(after.last_position, first.last_position);
  EXPECT_EQ(log_->LastPosition(), 3u);
}

TEST_F(EventLogTest, SameEventIdWithOtherContentIsRejected) {
  v1::Event event = MakeNoteEvent(10);
  ASSERT_OK(log_->Append(Request("c1", ExpectedVersion::Any(), {event})));
  v1::Event changed = event;
  changed.mutable_payload()->mutable_note_recorded()->set_text("changed");
  EXPECT_THAT(log_->Append(Request("c1", ExpectedVersion::Any(), {changed})),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("different content")));
  // The same id in another case is other content too.
  EXPECT_THAT(log_->Append(Request("c2", ExpectedVersion::Any(), {event})),
              StatusIs(absl::StatusCode::kAlreadyExists));
  // A new append that reuses one stored id among new ones.
  EXPECT_THAT(log_->Append(Request("c1", ExpectedVersion::Any(),
                                   {MakeNoteEvent(), event})),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(log_->LastPosition(), 1u);
}

TEST_F(EventLogTest, RejectedMultiEventAppendStoresNothing) {
  ASSERT_OK(
      log_->Append(Request("c1", ExpectedVersion::Any(), {MakeNoteEvent()})));
  // The third event is invalid: nothing of the append is stored.
  v1::Event bad = MakeNoteEvent();
  bad.mutable_envelope()->clear_occurred_at();
  EXPECT_THAT(log_->Append(Request("c1", ExpectedVersion::Any(),
                                   {MakeNoteEvent(), MakeNoteEvent(), bad})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("events[2].envelope.occurred_at")));
  // A version conflict: nothing stored either.
  EXPECT_THAT(log_->Append(Request("c1", ExpectedVersion::Exact(7),
                                   {MakeNoteEvent(), MakeNoteEvent()})),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(log_->LastPosition(), 1u);
  ASSERT_OK_AND_ASSIGN(CaseHead head, log_->GetCaseHead("c1"));
  EXPECT_EQ(head.version, 1u);
  EXPECT_EQ(ReadEverything().size(), 1u);
  Reopen();
  EXPECT_EQ(ReadEverything().size(), 1u);
}

TEST_F(EventLogTest, LimitsAreEnforcedWithFieldNames) {
  Close();
  EventLogOptions options = Options();
  options.max_events_per_append = 3;
  options.max_event_bytes = 1000;
  ASSERT_OK_AND_ASSIGN(log_, EventLog::Open(options));
  EXPECT_THAT(
      log_->Append(Request("c1", ExpectedVersion::Any(),
                           {MakeNoteEvent(), MakeNoteEvent(), MakeNoteEvent(),
                            MakeNoteEvent()})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 3")));
  EXPECT_THAT(log_->Append(
                  Request("c1", ExpectedVersion::Any(), {MakeNoteEvent(2000)})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("events[0]: event is")));
  EXPECT_THAT(
      log_->Append(
          Request("bad case id", ExpectedVersion::Any(), {MakeNoteEvent()})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("case_id")));
  EXPECT_THAT(
      log_->Append(Request("c1", ExpectedVersion::Any(), {})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("events")));
  EXPECT_OK(log_->Append(
      Request("c1", ExpectedVersion::Any(), {MakeNoteEvent(500)})));
  EXPECT_EQ(log_->LastPosition(), 1u);
}

TEST_F(EventLogTest, ConcurrentWritersToOneCaseGetExactlyOneWinnerPerVersion) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::atomic<int> conflicts{0};
  absl::Mutex mu;
  std::vector<std::string> won;  // event ids, in any order
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread;) {
        absl::StatusOr<CaseHead> head = log_->GetCaseHead("shared");
        ASSERT_OK(head.status());
        v1::Event event = MakeNoteEvent();
        absl::StatusOr<AppendResult> r = log_->Append(
            Request("shared", ExpectedVersion::Exact(head->version), {event}));
        if (r.status().code() == absl::StatusCode::kAborted) {
          ++conflicts;
          continue;
        }
        ASSERT_OK(r.status());
        EXPECT_EQ(r->first_version, head->version + 1);
        absl::MutexLock lock(&mu);
        won.push_back(event.envelope().event_id());
        ++i;
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::vector<v1::Event> all = ReadEverything();
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  absl::flat_hash_set<std::string> ids;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].envelope().stream_version(), i + 1);
    EXPECT_EQ(all[i].envelope().global_position(), i + 1);
    EXPECT_TRUE(ids.insert(all[i].envelope().event_id()).second);
  }
  for (const std::string& id : won) EXPECT_TRUE(ids.contains(id));
  ASSERT_OK_AND_ASSIGN(VerifyReport report, log_->VerifyAll());
  EXPECT_TRUE(report.ok) << report.problem;
}

TEST_F(EventLogTest, ConcurrentWritersToManyCasesLeaveNoGaps) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string case_id = "case-" + std::to_string(t * 3 + i % 3);
        ASSERT_OK(log_->Append(Request(case_id, ExpectedVersion::Any(),
                                       {MakeNoteEvent(), MakeNoteEvent()})));
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::vector<v1::Event> all = ReadEverything();
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread * 2));
  absl::flat_hash_map<std::string, uint64_t> versions;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].envelope().global_position(), i + 1);
    uint64_t& v = versions[all[i].envelope().case_id()];
    EXPECT_EQ(all[i].envelope().stream_version(), ++v);
  }
  // Both events of one append are adjacent in the global log.
  for (size_t i = 0; i < all.size(); i += 2) {
    EXPECT_EQ(all[i].envelope().case_id(), all[i + 1].envelope().case_id());
  }
  ASSERT_OK_AND_ASSIGN(VerifyReport report, log_->VerifyAll());
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.events_checked, all.size());
  EXPECT_EQ(report.cases_checked, 24u);
}

TEST_F(EventLogTest, ConcurrentIdempotentRetriesStoreOnce) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    const AppendRequest request =
        Request("retry-" + std::to_string(round % 4), ExpectedVersion::Any(),
                {MakeNoteEvent(), MakeNoteEvent(), MakeNoteEvent()});
    std::vector<absl::StatusOr<AppendResult>> results(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] { results[t] = log_->Append(request); });
    }
    for (auto& t : threads) t.join();
    int originals = 0;
    for (const auto& r : results) {
      ASSERT_OK(r.status());
      EXPECT_EQ(r->first_position, results[0]->first_position);
      EXPECT_EQ(r->last_position, results[0]->last_position);
      if (!r->replayed) ++originals;
    }
    EXPECT_EQ(originals, 1);
  }
  EXPECT_EQ(log_->LastPosition(), static_cast<uint64_t>(kRounds * 3));
  ASSERT_OK_AND_ASSIGN(VerifyReport report, log_->VerifyAll());
  EXPECT_TRUE(report.ok) << report.problem;
}

TEST_F(EventLogTest, ReopenKeepsEverythingAndContinues) {
  ASSERT_OK(log_->Append(Request("c1", ExpectedVersion::Any(),
                                 {MakeNoteEvent(), MakeNoteEvent()})));
  const std::vector<v1::Event> before = ReadEverything();
  Reopen();
  EXPECT_EQ(log_->LastPosition(), 2u);
  const std::vector<v1::Event> after = ReadEverything();
  ASSERT_EQ(after.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(after[i].SerializeAsString(), before[i].SerializeAsString());
  }
  ASSERT_OK_AND_ASSIGN(AppendResult r,
                       log_->Append(Request("c1", ExpectedVersion::Exact(2),
                                            {MakeNoteEvent()})));
  EXPECT_EQ(r.first_position, 3u);
  EXPECT_EQ(r.first_version, 3u);
  ASSERT_OK_AND_ASSIGN(v1::Event third, log_->ReadEvent(3));
  EXPECT_EQ(third.envelope().prev_hash(), before[1].hash());
}

// Global positions of `term`'s events, page by page of `page_size`.
std::vector<uint64_t> TermPositions(const EventLog& log,
                                    const std::string& term,
                                    uint32_t page_size = 0) {
  std::vector<uint64_t> out;
  ReadTermRequest read;
  read.term = term;
  read.max_count = page_size;
  for (;;) {
    absl::StatusOr<ReadPage> page = log.ReadTerm(read);
    EXPECT_OK(page.status());
    if (!page.ok()) break;
    for (const v1::Event& e : page->events) {
      out.push_back(e.envelope().global_position());
    }
    if (page->end) break;
    read.from_position = page->next;
  }
  return out;
}

TEST_F(EventLogTest, IndexTermsAreWrittenWithTheirEventsAndReadBack) {
  AppendRequest a =
      Request("c1", ExpectedVersion::Any(), {MakeNoteEvent(), MakeNoteEvent()});
  a.index_terms = {"t/a"};
  ASSERT_OK(log_->Append(a));
  AppendRequest b = Request("c2", ExpectedVersion::Any(), {MakeNoteEvent()});
  b.index_terms = {"t/b", "t/a"};
  ASSERT_OK(log_->Append(b));
  ASSERT_OK(
      log_->Append(Request("c1", ExpectedVersion::Any(), {MakeNoteEvent()})));
  // A term that extends another is a term of its own.
  AppendRequest c = Request("c3", ExpectedVersion::Any(), {MakeNoteEvent()});
  c.index_terms = {"t/ab"};
  ASSERT_OK(log_->Append(c));
  // A rejected append indexes nothing; an exact retry adds nothing.
  AppendRequest rejected =
      Request("c1", ExpectedVersion::Exact(1), {MakeNoteEvent()});
  rejected.index_terms = {"t/rejected"};
  EXPECT_THAT(log_->Append(rejected), StatusIs(absl::StatusCode::kAborted));
  AppendRequest retry = b;
  retry.index_terms = {"t/retry"};
  ASSERT_OK_AND_ASSIGN(AppendResult replayed, log_->Append(retry));
  EXPECT_TRUE(replayed.replayed);

  auto check = [&] {
    EXPECT_THAT(TermPositions(*log_, "t/a"), ::testing::ElementsAre(1, 2, 3));
    EXPECT_THAT(TermPositions(*log_, "t/a", 2),
                ::testing::ElementsAre(1, 2, 3));
    EXPECT_THAT(TermPositions(*log_, "t/b"), ::testing::ElementsAre(3));
    EXPECT_THAT(TermPositions(*log_, "t/ab"), ::testing::ElementsAre(5));
    EXPECT_TRUE(TermPositions(*log_, "t/rejected").empty());
    EXPECT_TRUE(TermPositions(*log_, "t/retry").empty());
    EXPECT_TRUE(TermPositions(*log_, "t/none").empty());
  };
  check();
  // The indexed events are the log's own, checked as every read is.
  ReadTermRequest from_two;
  from_two.term = "t/a";
  from_two.from_position = 2;
  from_two.max_count = 1;
  ASSERT_OK_AND_ASSIGN(ReadPage page, log_->ReadTerm(from_two));
  ASSERT_EQ(page.events.size(), 1u);
  ASSERT_OK_AND_ASSIGN(v1::Event second, log_->ReadEvent(2));
  EXPECT_EQ(page.events[0].SerializeAsString(), second.SerializeAsString());
  EXPECT_FALSE(page.end);
  EXPECT_EQ(page.next, 3u);
  Reopen();
  check();
  // The chain verification is as before.
  ASSERT_OK_AND_ASSIGN(VerifyReport report, log_->VerifyAll());
  EXPECT_TRUE(report.ok) << report.problem;

  // Limits.
  AppendRequest bad = Request("c4", ExpectedVersion::Any(), {MakeNoteEvent()});
  bad.index_terms = {"1", "2", "3", "4", "5"};
  EXPECT_THAT(log_->Append(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("index_terms")));
  bad.index_terms = {"x", "x"};
  EXPECT_THAT(log_->Append(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("index_terms[1]")));
  bad.index_terms = {std::string(kMaxIndexTermBytes + 1, 'x')};
  EXPECT_THAT(log_->Append(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("index_terms[0]")));
  ReadTermRequest empty;
  EXPECT_THAT(log_->ReadTerm(empty),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(EventLogTest, ALogFromBeforeTheTermIndexGetsItAtOpen) {
  ASSERT_OK(
      log_->Append(Request("c1", ExpectedVersion::Any(), {MakeNoteEvent()})));
  Close();
  WithRawDb(
      [](rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
        for (auto* h : handles) {
          if (h->GetName() == internal::kTermIndexCf) {
            ASSERT_TRUE(db->DropColumnFamily(h).ok());
          }
        }
      });
  EventLogOptions options = Options();
  options.create_if_missing = false;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, EventLog::Open(options));
  AppendRequest a = Request("c1", ExpectedVersion::Any(), {MakeNoteEvent()});
  a.index_terms = {"t/a"};
  ASSERT_OK(log->Append(a));
  EXPECT_THAT(TermPositions(*log, "t/a"), ::testing::ElementsAre(2));
  log.reset();
  // A directory that is not a log is still refused without create_if_missing.
  options.path = dir_.Sub("nothing-here");
  EXPECT_THAT(EventLog::Open(options).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(EventLogTest, RecordedAtNeverDecreases) {
  ASSERT_OK(
      log_->Append(Request("c1", ExpectedVersion::Any(), {MakeNoteEvent()})));
  clock_.Set(absl::FromUnixSeconds(1700000000));  // the clock steps back
  ASSERT_OK(
      log_->Append(Request("c1", ExpectedVersion::Any(), {MakeNoteEvent()})));
  Reopen();
  ASSERT_OK(
      log_->Append(Request("c1", ExpectedVersion::Any(), {MakeNoteEvent()})));
  const std::vector<v1::Event> all = ReadEverything();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].envelope().recorded_at().seconds(), 1800000000);
  EXPECT_EQ(all[2].envelope().recorded_at().seconds(), 1800000000);
  clock_.Set(absl::FromUnixSeconds(1900000000));
  ASSERT_OK(
      log_->Append(Request("c1", ExpectedVersion::Any(), {MakeNoteEvent()})));
  ASSERT_OK_AND_ASSIGN(v1::Event fourth, log_->ReadEvent(4));
  EXPECT_EQ(fourth.envelope().recorded_at().seconds(), 1900000000);
}

TEST_F(EventLogTest, ReadAllPagesAndFiltersWithoutSkippingOrRepeating) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK(log_->Append(
        Request(i % 2 == 0 ? "even" : "odd", ExpectedVersion::Any(),
                {i % 3 == 0 ? MakeGoalSetEvent("g" + std::to_string(i), "goal")
                            : MakeNoteEvent()})));
  }
  // Paging in 3s.
  ReadAllRequest request;
  request.max_count = 3;
  std::vector<uint64_t> positions;
  for (;;) {
    ASSERT_OK_AND_ASSIGN(ReadPage page, log_->ReadAll(request));
    for (const auto& e : page.events) {
      positions.push_back(e.envelope().global_position());
    }
    if (page.end) break;
    request.from_position = page.next;
  }
  EXPECT_THAT(positions, ::testing::ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));

  // By type.
  ReadAllRequest by_type;
  by_type.event_types = {"GoalSet"};
  ASSERT_OK_AND_ASSIGN(ReadPage goals, log_->ReadAll(by_type));
  std::vector<uint64_t> goal_positions;
  for (const auto& e : goals.events) {
    goal_positions.push_back(e.envelope().global_position());
  }
  EXPECT_THAT(goal_positions, ::testing::ElementsAre(1, 4, 7, 10));
  EXPECT_TRUE(goals.end);

  // By case, from a position, paged.
  ReadAllRequest by_case;
  by_case.case_id = "odd";
  by_case.from_position = 3;
  by_case.max_count = 2;
  ASSERT_OK_AND_ASSIGN(ReadPage odd, log_->ReadAll(by_case));
  ASSERT_EQ(odd.events.size(), 2u);
  EXPECT_EQ(odd.events[0].envelope().global_position(), 4u);
  EXPECT_EQ(odd.events[1].envelope().global_position(), 6u);
  EXPECT_FALSE(odd.end);
  by_case.from_position = odd.next;
  by_case.max_count = 10;
  ASSERT_OK_AND_ASSIGN(ReadPage rest, log_->ReadAll(by_case));
  ASSERT_EQ(rest.events.size(), 2u);
  EXPECT_EQ(rest.events[0].envelope().global_position(), 8u);
  EXPECT_EQ(rest.events[1].envelope().global_position(), 10u);
  EXPECT_TRUE(rest.end);

  // Past the end.
  ReadAllRequest past;
  past.from_position = 11;
  ASSERT_OK_AND_ASSIGN(ReadPage empty, log_->ReadAll(past));
  EXPECT_TRUE(empty.events.empty());
  EXPECT_TRUE(empty.end);
  EXPECT_EQ(empty.next, 11u);
}

// A case-filtered read starts by binary search over the case's versions;
// from every start position (before, on, between and after the case's
// events, interleaved irregularly with another case's) it must return
// exactly the case's events at or after that position.
TEST_F(EventLogTest, CaseFilteredReadStartsAtEveryPosition) {
  // "mine" at positions 1, 2, 5, 6, 7, 11, 13, 14, 20; "other" elsewhere.
  const std::set<uint64_t> mine = {1, 2, 5, 6, 7, 11, 13, 14, 20};
  for (uint64_t p = 1; p <= 22; ++p) {
    ASSERT_OK(log_->Append(Request(mine.count(p) ? "mine" : "other",
                                   ExpectedVersion::Any(), {MakeNoteEvent()})));
  }
  for (uint64_t from = 0; from <= 24; ++from) {
    SCOPED_TRACE(from);
    ReadAllRequest request;
    request.case_id = "mine";
    request.from_position = from;
    ASSERT_OK_AND_ASSIGN(ReadPage page, log_->ReadAll(request));
    std::vector<uint64_t> got;
    for (const auto& e : page.events) {
      EXPECT_EQ(e.envelope().case_id(), "mine");
      got.push_back(e.envelope().global_position());
    }
    std::vector<uint64_t> want;
    for (uint64_t p : mine) {
      if (p >= std::max<uint64_t>(from, 1)) want.push_back(p);
    }
    EXPECT_EQ(got, want);
    EXPECT_TRUE(page.end);
    EXPECT_EQ(page.next, std::max<uint64_t>({from, 1, 23}));
  }
  // A case with no events reads as empty from anywhere.
  ReadAllRequest nobody;
  nobody.case_id = "nobody";
  nobody.from_position = 5;
  ASSERT_OK_AND_ASSIGN(ReadPage empty, log_->ReadAll(nobody));
  EXPECT_TRUE(empty.events.empty());
  EXPECT_TRUE(empty.end);
}

TEST_F(EventLogTest, ReadsStopAtMaxBytes) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK(log_->Append(
        Request("c1", ExpectedVersion::Any(), {MakeNoteEvent(1000)})));
  }
  ReadAllRequest request;
  request.max_bytes = 2500;  // each stored event is a little over 1000 bytes
  ASSERT_OK_AND_ASSIGN(ReadPage page, log_->ReadAll(request));
  ASSERT_EQ(page.events.size(), 3u);
  EXPECT_EQ(page.next, 4u);
  EXPECT_FALSE(page.end);
  request.max_bytes = 1;  // at least one event
  ASSERT_OK_AND_ASSIGN(ReadPage one, log_->ReadAll(request));
  EXPECT_EQ(one.events.size(), 1u);

  ReadCaseRequest by_case;
  by_case.case_id = "c1";
  by_case.max_bytes = 2500;
  ASSERT_OK_AND_ASSIGN(ReadPage forward, log_->ReadCase(by_case));
  ASSERT_EQ(forward.events.size(), 3u);
  EXPECT_EQ(forward.next, 4u);
  EXPECT_FALSE(forward.end);
  by_case.direction = Direction::kBackward;
  ASSERT_OK_AND_ASSIGN(ReadPage backward, log_->ReadCase(by_case));
  ASSERT_EQ(backward.events.size(), 3u);
  EXPECT_EQ(backward.next, 7u);
}

TEST_F(EventLogTest, ReadCaseForwardAndBackward) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(
        log_->Append(Request("c1", ExpectedVersion::Any(), {MakeNoteEvent()})));
    ASSERT_OK(
        log_->Append(Request("c2", ExpectedVersion::Any(), {MakeNoteEvent()})));
  }
  ReadCaseRequest forward;
  forward.case_id = "c1";
  forward.from_version = 2;
  forward.max_count = 3;
  ASSERT_OK_AND_ASSIGN(ReadPage f, log_->ReadCase(forward));
  ASSERT_EQ(f.events.size(), 3u);
  EXPECT_EQ(f.events[0].envelope().stream_version(), 2u);
  EXPECT_EQ(f.events[2].envelope().stream_version(), 4u);
  EXPECT_EQ(f.next, 5u);
  EXPECT_FALSE(f.end);

  ReadCaseRequest backward;
  backward.case_id = "c1";
  backward.direction = Direction::kBackward;
  backward.max_count = 2;
  ASSERT_OK_AND_ASSIGN(ReadPage b, log_->ReadCase(backward));
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_EQ(b.events[0].envelope().stream_version(), 5u);
  EXPECT_EQ(b.events[1].envelope().stream_version(), 4u);
  EXPECT_EQ(b.next, 3u);
  backward.from_version = b.next;
  backward.max_count = 10;
  ASSERT_OK_AND_ASSIGN(ReadPage b2, log_->ReadCase(backward));
  ASSERT_EQ(b2.events.size(), 3u);
  EXPECT_EQ(b2.events[2].envelope().stream_version(), 1u);
  EXPECT_TRUE(b2.end);

  ReadCaseRequest missing;
  missing.case_id = "nobody";
  EXPECT_THAT(log_->ReadCase(missing), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(log_->ReadEvent(99), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(EventLogTest, VerifyPassesOnAnIntactLog) {
  for (int i = 0; i < 6; ++i) {
    ASSERT_OK(log_->Append(Request("c" + std::to_string(i % 2),
                                   ExpectedVersion::Any(), {MakeNoteEvent()})));
  }
  ASSERT_OK_AND_ASSIGN(VerifyReport one, log_->VerifyCase("c1"));
  EXPECT_TRUE(one.ok);
  EXPECT_EQ(one.events_checked, 3u);
  ASSERT_OK_AND_ASSIGN(VerifyReport all, log_->VerifyAll());
  EXPECT_TRUE(all.ok);
  EXPECT_EQ(all.events_checked, 6u);
  EXPECT_EQ(all.cases_checked, 2u);
  EXPECT_THAT(log_->VerifyCase("nobody"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(EventLogTest, FlippedByteInStoredEventIsDetectedAndNeverServed) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK(log_->Append(
        Request("c1", ExpectedVersion::Any(), {MakeNoteEvent(100)})));
  }
  Close();
  EditRawDb([](rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>& cf) {
    std::string value;
    ASSERT_TRUE(
        db->Get(rocksdb::ReadOptions(), cf[1], internal::EventKey(3), &value)
            .ok());
    value[value.size() - 10] ^= 0x01;  // inside the note text
    ASSERT_TRUE(
        db->Put(rocksdb::WriteOptions(), cf[1], internal::EventKey(3), value)
            .ok());
  });
  Reopen();
  EXPECT_THAT(log_->ReadEvent(3), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(log_->ReadAll(ReadAllRequest{}),
              StatusIs(absl::StatusCode::kDataLoss));
  ReadCaseRequest rc;
  rc.case_id = "c1";
  EXPECT_THAT(log_->ReadCase(rc), StatusIs(absl::StatusCode::kDataLoss));
  ASSERT_OK_AND_ASSIGN(VerifyReport one, log_->VerifyCase("c1"));
  EXPECT_FALSE(one.ok);
  EXPECT_EQ(one.first_broken_position, 3u);
  EXPECT_EQ(one.events_checked, 2u);
  ASSERT_OK_AND_ASSIGN(VerifyReport all, log_->VerifyAll());
  EXPECT_FALSE(all.ok);
  EXPECT_EQ(all.first_broken_position, 3u);
}

TEST_F(EventLogTest, RewrittenEventWithRecomputedHashBreaksTheChain) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK(log_->Append(
        Request("c1", ExpectedVersion::Any(), {MakeNoteEvent(100)})));
  }
  Close();
  // A forger rewrites event 2's text and recomputes its own hash: the link
  // from event 3 no longer matches.
  EditRawDb([](rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>& cf) {
    std::string value;
    ASSERT_TRUE(
        db->Get(rocksdb::ReadOptions(), cf[1], internal::EventKey(2), &value)
            .ok());
    v1::StoredEvent stored;
    ASSERT_TRUE(stored.ParseFromString(value.substr(32)));
    v1::EventPayload payload;
    ASSERT_TRUE(payload.ParseFromString(stored.payload()));
    payload.mutable_note_recorded()->set_text("forged");
    stored.set_payload(payload.SerializeAsString());
    const std::string bytes = stored.SerializeAsString();
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), cf[1], internal::EventKey(2),
                        Sha256(bytes) + bytes)
                    .ok());
  });
  Reopen();
  ASSERT_OK_AND_ASSIGN(VerifyReport one, log_->VerifyCase("c1"));
  EXPECT_FALSE(one.ok);
  EXPECT_EQ(one.first_broken_position, 3u);
  EXPECT_THAT(one.problem, HasSubstr("previous-hash"));
  ASSERT_OK_AND_ASSIGN(VerifyReport all, log_->VerifyAll());
  EXPECT_FALSE(all.ok);
  EXPECT_EQ(all.first_broken_position, 3u);
}

TEST_F(EventLogTest, CorruptedSstFileIsReportedAsDataLoss) {
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK(
        log_->Append(Request("c" + std::to_string(i % 7),
                             ExpectedVersion::Any(), {MakeNoteEvent(300)})));
  }
  ASSERT_OK(log_->Flush());
  Close();
  // Flip bytes in the middle of every table file (data blocks).
  int corrupted = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(Options().path)) {
    if (entry.path().extension() != ".sst") continue;
    std::fstream file(entry.path(),
                      std::ios::in | std::ios::out | std::ios::binary);
    const auto size = std::filesystem::file_size(entry.path());
    for (auto offset : {size / 8, size / 4, size / 3}) {
      file.seekg(offset);
      char c;
      file.read(&c, 1);
      c ^= 0x5A;
      file.seekp(offset);
      file.write(&c, 1);
    }
    ++corrupted;
  }
  ASSERT_GT(corrupted, 0);
  absl::StatusOr<std::unique_ptr<EventLog>> reopened =
      EventLog::Open(Options());
  if (!reopened.ok()) {
    EXPECT_THAT(reopened, StatusIs(absl::StatusCode::kDataLoss));
    return;
  }
  log_ = std::move(reopened).value();
  absl::StatusOr<VerifyReport> report = log_->VerifyAll();
  if (report.ok()) {
    EXPECT_FALSE(report->ok) << "a corrupted table file verified as intact";
  } else {
    EXPECT_THAT(report, StatusIs(absl::StatusCode::kDataLoss));
  }
}

TEST_F(EventLogTest, WaitForPositionWakesOnCommit) {
  EXPECT_FALSE(log_->WaitForPosition(1, absl::Now()));  // past deadline
  std::atomic<bool> reached{false};
  std::thread waiter(
      [&] { reached = log_->WaitForPosition(2, absl::InfiniteFuture()); });
  ASSERT_OK(
      log_->Append(Request("c1", ExpectedVersion::Any(), {MakeNoteEvent()})));
  ASSERT_OK(
      log_->Append(Request("c1", ExpectedVersion::Any(), {MakeNoteEvent()})));
  waiter.join();
  EXPECT_TRUE(reached);
  EXPECT_TRUE(log_->WaitForPosition(2, absl::Now()));
}

TEST_F(EventLogTest, CommitListenersSeeEveryCommit) {
  absl::Mutex mu;
  std::vector<uint64_t> seen;
  const uint64_t id = log_->AddCommitListener([&](uint64_t position) {
    absl::MutexLock lock(&mu);
    seen.push_back(position);
  });
  ASSERT_OK(log_->Append(Request("c1", ExpectedVersion::Any(),
                                 {MakeNoteEvent(), MakeNoteEvent()})));
  ASSERT_OK(
      log_->Append(Request("c1", ExpectedVersion::Any(), {MakeNoteEvent()})));
  log_->RemoveCommitListener(id);
  ASSERT_OK(
      log_->Append(Request("c1", ExpectedVersion::Any(), {MakeNoteEvent()})));
  absl::MutexLock lock(&mu);
  EXPECT_THAT(seen, ::testing::ElementsAre(2, 3));
}

TEST_F(EventLogTest, AsyncAppendCallsBackOnceAfterCommit) {
  absl::Mutex mu;
  int calls = 0;
  uint64_t position = 0;
  absl::Notification done;
  AppendRequest request =
      Request("c1", ExpectedVersion::Any(), {MakeNoteEvent()});
  log_->AppendAsync(request, [&](absl::StatusOr<AppendResult> r) {
    absl::MutexLock lock(&mu);
    ++calls;
    position = r.ok() ? r->commit_position : 0;
    done.Notify();
  });
  done.WaitForNotification();
  // Committed and visible by the time the callback ran.
  EXPECT_GE(log_->LastPosition(), 1u);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(position, 1u);
}

TEST_F(EventLogTest, MixedSyncAndAsyncAppendersAllCompleteWithoutGaps) {
  constexpr int kThreads = 6;
  constexpr int kPerThread = 50;
  absl::Mutex mu;
  int callbacks = 0;
  std::vector<uint64_t> async_positions;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        AppendRequest request =
            Request("mixed-" + std::to_string(t % 3), ExpectedVersion::Any(),
                    {MakeNoteEvent()});
        if ((t + i) % 2 == 0) {
          ASSERT_OK(log_->Append(request));
        } else {
          log_->AppendAsync(request, [&](absl::StatusOr<AppendResult> r) {
            absl::MutexLock lock(&mu);
            ++callbacks;
            if (r.ok()) async_positions.push_back(r->commit_position);
          });
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const int expected_async = kThreads * kPerThread / 2;
  {
    absl::MutexLock lock(&mu);
    auto all_called = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) {
      return callbacks == expected_async;
    };
    mu.Await(absl::Condition(&all_called));
    EXPECT_EQ(async_positions.size(), static_cast<size_t>(expected_async));
  }
  EXPECT_EQ(log_->LastPosition(), static_cast<uint64_t>(kThreads * kPerThread));
  ASSERT_OK_AND_ASSIGN(VerifyReport report, log_->VerifyAll());
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.events_checked,
            static_cast<uint64_t>(kThreads * kPerThread));
}

// Asynchronous callbacks run group by group in commit order,
// whatever the grouping.
TEST_F(EventLogTest, AsyncCallbacksRunInCommitOrder) {
  constexpr int kAppends = 300;
  absl::Mutex mu;
  std::vector<uint64_t> positions;
  for (int i = 0; i < kAppends; ++i) {
    log_->AppendAsync(Request("order-" + std::to_string(i % 7),
                              ExpectedVersion::Any(), {MakeNoteEvent()}),
                      [&](absl::StatusOr<AppendResult> r) {
                        absl::MutexLock lock(&mu);
                        positions.push_back(r.ok() ? r->commit_position : 0);
                      });
  }
  absl::MutexLock lock(&mu);
  auto all_called = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) {
    return positions.size() == kAppends;
  };
  mu.Await(absl::Condition(&all_called));
  for (int i = 0; i < kAppends; ++i) {
    EXPECT_EQ(positions[i], static_cast<uint64_t>(i + 1)) << "callback " << i;
  }
}

TEST_F(EventLogTest, CloseCompletesQueuedAsyncAppendsDurably) {
  absl::Mutex mu;
  std::vector<std::string> acknowledged;
  int callbacks = 0;
  for (int i = 0; i < 100; ++i) {
    v1::Event event = MakeNoteEvent();
    const std::string id = event.envelope().event_id();
    log_->AppendAsync(
        Request("c" + std::to_string(i % 5), ExpectedVersion::Any(), {event}),
        [&, id](absl::StatusOr<AppendResult> r) {
          absl::MutexLock lock(&mu);
          ++callbacks;
          if (r.ok()) acknowledged.push_back(id);
        });
  }
  Close();  // every queued append is committed or answered before this ends
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(callbacks, 100);
  }
  Reopen();
  absl::flat_hash_set<std::string> stored;
  for (const v1::Event& e : ReadEverything()) {
    stored.insert(e.envelope().event_id());
  }
  absl::MutexLock lock(&mu);
  for (const std::string& id : acknowledged) EXPECT_TRUE(stored.contains(id));
  EXPECT_EQ(acknowledged.size(), 100u);
}

TEST_F(EventLogTest, VerifyAllIsConsistentWhileAppendsRun) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK(log_->Append(Request("c" + std::to_string(i % 5),
                                   ExpectedVersion::Any(), {MakeNoteEvent()})));
  }
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      ASSERT_OK(
          log_->Append(Request("c" + std::to_string(i % 5),
                               ExpectedVersion::Any(), {MakeNoteEvent()})));
    }
  });
  for (int round = 0; round < 20; ++round) {
    ASSERT_OK_AND_ASSIGN(VerifyReport report, log_->VerifyAll());
    EXPECT_TRUE(report.ok) << "round " << round << ": " << report.problem;
    EXPECT_GE(report.events_checked, 50u);
  }
  stop = true;
  writer.join();
}

TEST_F(EventLogTest, VerifyAllStopsWhenProgressSaysSo) {
  // Progress is reported every 10000 events.
  for (int i = 0; i < 101; ++i) {
    std::vector<v1::Event> events;
    for (int j = 0; j < 100; ++j) events.push_back(MakeNoteEvent());
    AppendRequest request =
        Request("c" + std::to_string(i), ExpectedVersion::Any(), events);
    ASSERT_OK(log_->Append(request));
  }
  EXPECT_THAT(log_->VerifyAll([](uint64_t) { return false; }),
              StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(EventLogTest, OneAppendIsAdmittedUnderATinyByteBudget) {
  Close();
  EventLogOptions options = Options();
  options.max_pending_bytes = 1;  // only one append may wait at a time
  ASSERT_OK_AND_ASSIGN(log_, EventLog::Open(options));
  // A single append is always admitted.
  ASSERT_OK(
      log_->Append(Request("c1", ExpectedVersion::Any(), {MakeNoteEvent()})));
}

TEST_F(EventLogTest, BackupIsAConsistentLogOfItsOwn) {
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(log_->Append(Request("c" + std::to_string(i % 3),
                                   ExpectedVersion::Any(), {MakeNoteEvent()})));
  }
  ASSERT_OK_AND_ASSIGN(uint64_t position, log_->Backup(dir_.Sub("backup")));
  EXPECT_EQ(position, 20u);
  EXPECT_THAT(log_->Backup(dir_.Sub("backup")),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // The live log moves on; the backup stays where it was.
  ASSERT_OK(
      log_->Append(Request("c0", ExpectedVersion::Any(), {MakeNoteEvent()})));
  EventLogOptions options = Options();
  options.path = dir_.Sub("backup");
  options.create_if_missing = false;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> restored,
                       EventLog::Open(options));
  EXPECT_EQ(restored->LastPosition(), 20u);
  ASSERT_OK_AND_ASSIGN(VerifyReport report, restored->VerifyAll());
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.events_checked, 20u);
}

TEST_F(EventLogTest, OpenWithoutCreateOnEmptyDirFails) {
  EventLogOptions options;
  options.path = dir_.Sub("nothing-here");
  options.create_if_missing = false;
  EXPECT_THAT(EventLog::Open(options),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  options.path = "";
  EXPECT_THAT(EventLog::Open(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace caseledger::engine
