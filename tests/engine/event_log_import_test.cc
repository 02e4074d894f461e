// EventLog::Import: moving events between logs, idempotent, all or nothing,
// keeping versions, positions and recorded_at. Real RocksDB in temp dirs.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/event_log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
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

class EventLogImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.Set(absl::FromUnixSeconds(1800000000));
    source_ = OpenLog("source");
    target_ = OpenLog("target");
  }

  std::unique_ptr<EventLog> OpenLog(const std::string& name) {
    EventLogOptions options;
    options.path = dir_.Sub(name);
    options.clock = &clock_;
    absl::StatusOr<std::unique_ptr<EventLog>> log = EventLog::Open(options);
    EXPECT_OK(log.status());
    return log.ok() ? std::move(log).value() : nullptr;
  }

  void AppendTo(EventLog& log, const std::string& case_id,
                std::vector<v1::Event> events) {
    AppendRequest request;
    request.case_id = case_id;
    request.events = std::move(events);
    ASSERT_OK(log.Append(request).status());
    clock_.Set(clock_.Now() + absl::Seconds(1));
  }

  // Every event of `log` as an export carries it: without hash/prev_hash.
  static std::vector<v1::Event> Export(const EventLog& log) {
    std::vector<v1::Event> all;
    ReadAllRequest request;
    for (;;) {
      absl::StatusOr<ReadPage> page = log.ReadAll(request);
      EXPECT_OK(page.status());
      if (!page.ok()) break;
      for (v1::Event& e : page->events) {
        e.clear_hash();
        e.mutable_envelope()->clear_prev_hash();
        all.push_back(std::move(e));
      }
      if (page->end) break;
      request.from_position = page->next;
    }
    return all;
  }

  // A log with a key store: payloads encrypted, erasure possible.
  std::unique_ptr<EventLog> OpenEncryptedLog(const std::string& name) {
    EventLogOptions options;
    options.path = dir_.Sub(name);
    options.key_store_path = dir_.Sub(name + "-keys");
    options.master_key = std::string(32, 'm');
    options.clock = &clock_;
    absl::StatusOr<std::unique_ptr<EventLog>> log = EventLog::Open(options);
    EXPECT_OK(log.status());
    return log.ok() ? std::move(log).value() : nullptr;
  }

  // Two cases, interleaved in the global log, at distinct recorded times.
  void FillSource() {
    AppendTo(*source_, "c1", {MakeGoalSetEvent("g1", "Get my own flat")});
    AppendTo(*source_, "c2", {MakeNoteEvent(), MakeNoteEvent()});
    AppendTo(*source_, "c1", {MakeNoteEvent()});
  }

  static ImportRequest Request(std::vector<v1::Event> events) {
    ImportRequest request;
    request.events = std::move(events);
    return request;
  }

  TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<EventLog> source_;
  std::unique_ptr<EventLog> target_;
};

TEST_F(EventLogImportTest, IntoAnEmptyLogKeepsEverythingButTheChain) {
  FillSource();
  const std::vector<v1::Event> exported = Export(*source_);
  ASSERT_EQ(exported.size(), 4u);
  // The target's clock is later: recorded_at must come from the export.
  clock_.Set(clock_.Now() + absl::Hours(1));
  ASSERT_OK_AND_ASSIGN(ImportResult result, target_->Import(Request(exported)));
  EXPECT_EQ(result.imported, 4u);
  EXPECT_EQ(result.already_present, 0u);
  EXPECT_EQ(result.positions_kept, 4u);
  EXPECT_EQ(result.last_position, 4u);
  const std::vector<v1::Event> again = Export(*target_);
  ASSERT_EQ(again.size(), exported.size());
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].SerializeAsString(), exported[i].SerializeAsString())
        << "event " << i;
  }
  // The target computed its own, valid chain.
  ASSERT_OK_AND_ASSIGN(VerifyReport report, target_->VerifyAll());
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.events_checked, 4u);
  // Appends after an import are never recorded before the imported events.
  const absl::Time imported_last =
      absl::FromUnixSeconds(exported.back().envelope().recorded_at().seconds());
  clock_.Set(imported_last - absl::Hours(5));
  AppendTo(*target_, "c1", {MakeNoteEvent()});
  ASSERT_OK_AND_ASSIGN(v1::Event next, target_->ReadEvent(5));
  EXPECT_GE(next.envelope().recorded_at().seconds(),
            exported.back().envelope().recorded_at().seconds());
}

TEST_F(EventLogImportTest, ReImportingAddsNothing) {
  FillSource();
  const std::vector<v1::Event> exported = Export(*source_);
  ASSERT_OK(target_->Import(Request(exported)).status());
  ASSERT_OK_AND_ASSIGN(ImportResult again, target_->Import(Request(exported)));
  EXPECT_EQ(again.imported, 0u);
  EXPECT_EQ(again.already_present, 4u);
  EXPECT_EQ(target_->LastPosition(), 4u);
  // Into the log it came from, too: the same events are already there.
  ASSERT_OK_AND_ASSIGN(ImportResult home, source_->Import(Request(exported)));
  EXPECT_EQ(home.already_present, 4u);
  EXPECT_EQ(source_->LastPosition(), 4u);
}

TEST_F(EventLogImportTest, AFailingEventLeavesTheWholeRequestUnapplied) {
  FillSource();
  std::vector<v1::Event> exported = Export(*source_);
  // Event 2 claims a version that does not follow its case's.
  exported[2].mutable_envelope()->set_stream_version(5);
  EXPECT_THAT(target_->Import(Request(exported)),
              StatusIs(absl::StatusCode::kAborted,
                       HasSubstr("events[2].envelope.stream_version")));
  EXPECT_EQ(target_->LastPosition(), 0u);
  // Fixed, the same request completes.
  exported[2].mutable_envelope()->set_stream_version(2);
  ASSERT_OK_AND_ASSIGN(ImportResult result, target_->Import(Request(exported)));
  EXPECT_EQ(result.imported, 4u);
}

TEST_F(EventLogImportTest, RefusesWhatWouldBreakTheLogsRules) {
  FillSource();
  const std::vector<v1::Event> exported = Export(*source_);
  {
    std::vector<v1::Event> events = {exported[0]};
    events[0].mutable_envelope()->clear_recorded_at();
    EXPECT_THAT(target_->Import(Request(events)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("events[0].envelope.recorded_at")));
  }
  {
    std::vector<v1::Event> events = {exported[0]};
    events[0].mutable_envelope()->set_event_type("NoteRecorded");
    EXPECT_THAT(target_->Import(Request(events)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("events[0].envelope.event_type")));
  }
  {
    std::vector<v1::Event> events = {exported[0]};
    events[0].mutable_envelope()->mutable_recorded_at()->set_seconds(
        absl::ToUnixSeconds(clock_.Now() + absl::Hours(1)));
    EXPECT_THAT(target_->Import(Request(events)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("in the future")));
  }
  {
    // Even a minute ahead of the clock is refused: an imported recorded_at
    // becomes the log's floor and would pin later appends in the future.
    std::vector<v1::Event> events = {exported[0]};
    events[0].mutable_envelope()->mutable_recorded_at()->set_seconds(
        absl::ToUnixSeconds(clock_.Now() + absl::Minutes(1)));
    EXPECT_THAT(target_->Import(Request(events)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("events[0].envelope.recorded_at")));
  }
  {
    // Payload validation as for Append, with the event's index.
    std::vector<v1::Event> events = {exported[0], exported[1]};
    events[1].mutable_envelope()->clear_occurred_at();
    EXPECT_THAT(target_->Import(Request(events)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("events[1].envelope.occurred_at")));
  }
  EXPECT_EQ(target_->LastPosition(), 0u);
  ASSERT_OK(target_->Import(Request(exported)).status());
  {
    // The same id with other content is not an import of the same event.
    std::vector<v1::Event> events = {exported[3]};
    events[0].mutable_payload()->mutable_note_recorded()->set_text("other");
    EXPECT_THAT(target_->Import(Request(events)),
                StatusIs(absl::StatusCode::kAlreadyExists,
                         HasSubstr("events[0].envelope.event_id")));
  }
  {
    // Nor at another version.
    std::vector<v1::Event> events = {exported[3]};
    events[0].mutable_envelope()->set_stream_version(3);
    EXPECT_THAT(target_->Import(Request(events)),
                StatusIs(absl::StatusCode::kAlreadyExists));
  }
  EXPECT_EQ(target_->LastPosition(), 4u);
}

TEST_F(EventLogImportTest, IntoALogInUseAppendsAfterItsEventsKeepingVersions) {
  AppendTo(*target_, "other", {MakeNoteEvent()});
  FillSource();
  const std::vector<v1::Event> exported = Export(*source_);
  clock_.Set(clock_.Now() + absl::Hours(1));
  AppendTo(*target_, "other", {MakeNoteEvent()});
  ASSERT_OK_AND_ASSIGN(ImportResult result, target_->Import(Request(exported)));
  EXPECT_EQ(result.imported, 4u);
  EXPECT_EQ(result.positions_kept, 0u);
  ASSERT_OK_AND_ASSIGN(CaseHead c1, target_->GetCaseHead("c1"));
  EXPECT_EQ(c1.version, 2u);
  ASSERT_OK_AND_ASSIGN(v1::Event first, target_->ReadEvent(3));
  EXPECT_EQ(first.envelope().event_id(), exported[0].envelope().event_id());
  // Recorded before the target's last event: raised so it never decreases.
  ASSERT_OK_AND_ASSIGN(v1::Event before, target_->ReadEvent(2));
  EXPECT_GE(first.envelope().recorded_at().seconds(),
            before.envelope().recorded_at().seconds());
  ASSERT_OK_AND_ASSIGN(VerifyReport report, target_->VerifyAll());
  EXPECT_TRUE(report.ok) << report.problem;
}

TEST_F(EventLogImportTest, SomeEventsAlreadyPresentAndLaterOnesNew) {
  FillSource();
  const std::vector<v1::Event> exported = Export(*source_);
  ASSERT_OK(target_->Import(Request({exported[0], exported[1]})).status());
  ASSERT_OK_AND_ASSIGN(ImportResult result, target_->Import(Request(exported)));
  EXPECT_EQ(result.already_present, 2u);
  EXPECT_EQ(result.imported, 2u);
  EXPECT_EQ(result.positions_kept, 2u);
  EXPECT_EQ(target_->LastPosition(), 4u);
  const std::vector<v1::Event> again = Export(*target_);
  ASSERT_EQ(again.size(), exported.size());
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].SerializeAsString(), exported[i].SerializeAsString())
        << "event " << i;
  }
}

// An import is committed alone in its group: asynchronous appends queued
// before and after a failing and a successful import are all written if
// they are acknowledged.
TEST_F(EventLogImportTest, AppendsQueuedAroundImportsAreWrittenIfAcknowledged) {
  FillSource();
  std::vector<v1::Event> exported = Export(*source_);
  constexpr int kPerWave = 8;
  absl::BlockingCounter done(4 * kPerWave);
  absl::Mutex mu;
  std::vector<AppendResult> acknowledged;
  const auto queue = [&](int wave) {
    for (int i = 0; i < kPerWave; ++i) {
      AppendRequest request;
      request.case_id = absl::StrCat("async-", wave, "-", i);
      request.events = {MakeNoteEvent()};
      target_->AppendAsync(std::move(request),
                           [&](absl::StatusOr<AppendResult> r) {
                             if (r.ok()) {
                               absl::MutexLock lock(&mu);
                               acknowledged.push_back(*r);
                             }
                             done.DecrementCount();
                           });
    }
  };
  queue(0);
  std::vector<v1::Event> failing = exported;
  failing[3].mutable_envelope()->set_stream_version(9);  // fails at the end
  EXPECT_THAT(target_->Import(Request(failing)),
              StatusIs(absl::StatusCode::kAborted));
  queue(1);
  queue(2);
  ASSERT_OK(target_->Import(Request(exported)).status());
  queue(3);
  done.Wait();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(acknowledged.size(), 4u * kPerWave);
  for (const AppendResult& r : acknowledged) {
    ASSERT_OK_AND_ASSIGN(v1::Event event, target_->ReadEvent(r.first_position));
    EXPECT_EQ(event.envelope().global_position(), r.first_position);
  }
  EXPECT_EQ(target_->LastPosition(), 4u * kPerWave + exported.size());
  ASSERT_OK_AND_ASSIGN(VerifyReport report, target_->VerifyAll());
  EXPECT_TRUE(report.ok) << report.problem;
}

TEST_F(EventLogImportTest, AnErasedCaseIsCarriedOverErased) {
  std::unique_ptr<EventLog> source = OpenEncryptedLog("esource");
  std::unique_ptr<EventLog> copy = OpenEncryptedLog("ecopy");
  AppendTo(*source, "c1", {MakeGoalSetEvent("g1", "Get my own flat")});
  AppendTo(*source, "c2", {MakeNoteEvent()});
  AppendTo(*source, "c1", {MakeNoteEvent()});
  // A copy taken before the erasure holds c1 with its payloads.
  ASSERT_OK(copy->Import(Request(Export(*source))).status());

  EraseRequest erase;
  erase.case_id = "c1";
  erase.reason = "client request";
  erase.legal_basis = "GDPR art. 17";
  erase.actor.set_user_id("dpo");
  ASSERT_OK(source->Erase(erase).status());
  const std::vector<v1::Event> exported = Export(*source);
  ASSERT_EQ(exported.size(), 4u);
  EXPECT_TRUE(exported[0].payload_erased());
  EXPECT_FALSE(exported[0].has_payload());
  EXPECT_EQ(exported[0].envelope().event_type(), "GoalSet");
  EXPECT_FALSE(exported[1].payload_erased());
  ASSERT_TRUE(exported[3].payload().has_case_erased());

  // Into an empty log, in two requests (the erased events, then the
  // erasure record): everything kept; exporting it gives the same events.
  std::unique_ptr<EventLog> fresh = OpenEncryptedLog("efresh");
  ASSERT_OK_AND_ASSIGN(
      ImportResult first,
      fresh->Import(Request({exported.begin(), exported.begin() + 3})));
  EXPECT_EQ(first.imported, 3u);
  ASSERT_OK_AND_ASSIGN(
      ImportResult second,
      fresh->Import(Request({exported.begin() + 3, exported.end()})));
  EXPECT_EQ(second.imported, 1u);
  EXPECT_EQ(second.positions_kept, 1u);
  const std::vector<v1::Event> again = Export(*fresh);
  ASSERT_EQ(again.size(), exported.size());
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].SerializeAsString(), exported[i].SerializeAsString())
        << "event " << i;
  }
  ASSERT_OK_AND_ASSIGN(ImportResult rerun, fresh->Import(Request(exported)));
  EXPECT_EQ(rerun.imported, 0u);
  EXPECT_EQ(rerun.already_present, 4u);

  // Into the copy taken before: the events present with payloads match by
  // id, case and version; the record erases the case there too.
  ASSERT_OK_AND_ASSIGN(ImportResult onto, copy->Import(Request(exported)));
  EXPECT_EQ(onto.imported, 1u);
  EXPECT_EQ(onto.already_present, 3u);

  for (EventLog* log : {fresh.get(), copy.get()}) {
    std::optional<v1::ErasureLedgerEntry> entry = log->GetErasure("c1");
    ASSERT_TRUE(entry.has_value());
    EXPECT_EQ(entry->reason(), "client request");
    EXPECT_EQ(entry->erased_by(), "dpo");
    ReadCaseRequest read;
    read.case_id = "c1";
    ASSERT_OK_AND_ASSIGN(ReadPage page, log->ReadCase(read));
    ASSERT_EQ(page.events.size(), 3u);
    EXPECT_TRUE(page.events[0].payload_erased());
    EXPECT_FALSE(page.events[0].has_payload());
    EXPECT_TRUE(page.events[1].payload_erased());
    EXPECT_TRUE(page.events[2].payload().has_case_erased());
    AppendRequest more;
    more.case_id = "c1";
    more.events = {MakeNoteEvent()};
    EXPECT_THAT(
        log->Append(more),
        StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("erased")));
    read.case_id = "c2";
    ASSERT_OK_AND_ASSIGN(page, log->ReadCase(read));
    ASSERT_EQ(page.events.size(), 1u);
    EXPECT_TRUE(page.events[0].payload().has_note_recorded());
    ASSERT_OK_AND_ASSIGN(VerifyReport report, log->VerifyAll());
    EXPECT_TRUE(report.ok) << report.problem;
  }
  ASSERT_OK(copy->Compact());
  EXPECT_THAT(testing::FilesContaining(dir_.Sub("ecopy"), "Get my own flat"),
              ::testing::IsEmpty());

  // A log without a key store cannot take an erasure.
  EXPECT_THAT(
      target_->Import(Request(exported)),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("key store")));
  // An erased event must name its type.
  std::vector<v1::Event> untyped = {exported[0]};
  untyped[0].mutable_envelope()->clear_event_type();
  std::unique_ptr<EventLog> other = OpenEncryptedLog("eother");
  EXPECT_THAT(
      other->Import(Request(untyped)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("event_type")));
}

}  // namespace
}  // namespace caseledger::engine
