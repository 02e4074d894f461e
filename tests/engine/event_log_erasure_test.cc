// EventLog with payload encryption: per-case data keys, erasure
// (crypto-shredding), the erasure ledger across restore, tamper detection.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "caseledger/v1/stored_event.pb.h"
#include "engine/event_log.h"
#include "engine/key_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/testing/event_builders.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/raw_log.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace caseledger::engine {
namespace {

using ::caseledger::testing::FilesContaining;
using ::caseledger::testing::MakeGoalSetEvent;
using ::caseledger::testing::MakeNoteEvent;
using ::caseledger::testing::StatusIs;
using ::caseledger::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kMarker[] = "QUOKKA-7731-PRIVATE";
constexpr char kOtherMarker[] = "WOMBAT-4410-KEPT";

v1::Event NoteWith(const std::string& text) {
  v1::Event event = MakeNoteEvent();
  event.mutable_payload()->mutable_note_recorded()->set_text(text);
  return event;
}

class EventLogErasureTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  EventLogOptions Options() {
    EventLogOptions options;
    options.path = dir_.Sub("log");
    options.key_store_path = dir_.Sub("keys");
    options.master_key = master_key_;
    options.clock = &clock_;
    return options;
  }

  void Reopen() {
    log_.reset();
    ASSERT_OK_AND_ASSIGN(log_, EventLog::Open(Options()));
  }

  AppendResult AppendTo(const std::string& case_id,
                        std::vector<v1::Event> events) {
    AppendRequest request;
    request.case_id = case_id;
    request.events = std::move(events);
    absl::StatusOr<AppendResult> result = log_->Append(request);
    EXPECT_OK(result.status());
    return result.ok() ? *result : AppendResult();
  }

  std::vector<v1::Event> History(const std::string& case_id) {
    ReadCaseRequest request;
    request.case_id = case_id;
    absl::StatusOr<ReadPage> page = log_->ReadCase(request);
    EXPECT_OK(page.status());
    return page.ok() ? page->events : std::vector<v1::Event>();
  }

  EraseRequest Erasure(const std::string& case_id) {
    EraseRequest request;
    request.case_id = case_id;
    request.reason = "client request 2026-118";
    request.legal_basis = "GDPR art. 17(1)(a)";
    request.actor.set_user_id("dpo-maria");
    request.actor.set_role("admin");
    return request;
  }

  // The case's wrapped data key record, read from the key store's files.
  std::string WrappedKeyOnDisk(const std::string& case_id) {
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::OpenForReadOnly(rocksdb::Options(),
                                                     dir_.Sub("keys"), &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string value;
    EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), "k/" + case_id, &value).ok());
    return value;
  }

  TempDir dir_;
  testing::FakeClock clock_{absl::FromUnixSeconds(1800000000)};
  std::string master_key_ = std::string(32, '\x5a');
  std::unique_ptr<EventLog> log_;
};

TEST_F(EventLogErasureTest, PayloadsAreEncryptedOnDiskAndReadBack) {
  AppendTo("case-a", {NoteWith(kMarker), MakeGoalSetEvent("g1", kMarker)});
  ASSERT_OK(log_->Compact());
  EXPECT_THAT(FilesContaining(dir_.path(), kMarker), IsEmpty());

  ASSERT_OK_AND_ASSIGN(v1::Event first, log_->ReadEvent(1));
  EXPECT_EQ(first.payload().note_recorded().text(), kMarker);
  EXPECT_FALSE(first.payload_erased());
  EXPECT_TRUE(log_->encrypted());
  log_.reset();
  ASSERT_OK_AND_ASSIGN(v1::StoredEvent stored,
                       testing::ReadStoredEvent(dir_.Sub("log"), 2));
  EXPECT_EQ(stored.payload_encoding(), v1::PAYLOAD_ENCODING_AES256_GCM);
  EXPECT_EQ(stored.key_id().size(), 8u);
  Reopen();
  ASSERT_OK_AND_ASSIGN(v1::Event second, log_->ReadEvent(2));
  EXPECT_EQ(second.payload().goal_set().statement(), kMarker);
}

TEST_F(EventLogErasureTest, EraseShredsTheCaseAndKeepsTheChain) {
  AppendTo("case-a", {NoteWith(kMarker), MakeGoalSetEvent("g1", kMarker)});
  AppendTo("case-b", {NoteWith(kOtherMarker)});
  AppendTo("case-a", {NoteWith(kMarker)});
  ASSERT_OK(log_->Compact());
  log_.reset();
  const std::string wrapped = WrappedKeyOnDisk("case-a");
  ASSERT_FALSE(wrapped.empty());
  EXPECT_THAT(FilesContaining(dir_.Sub("keys"), wrapped),
              ::testing::Not(IsEmpty()));
  Reopen();

  clock_.Set(absl::FromUnixSeconds(1800000300));
  ASSERT_OK_AND_ASSIGN(EraseResult erased, log_->Erase(Erasure("case-a")));
  EXPECT_FALSE(erased.already_erased);
  EXPECT_EQ(erased.erasure_position, 5u);
  ASSERT_OK(log_->Compact());

  // Neither the payloads nor the key's bytes are anywhere on disk.
  EXPECT_THAT(FilesContaining(dir_.path(), kMarker), IsEmpty());
  EXPECT_THAT(FilesContaining(dir_.Sub("keys"), wrapped), IsEmpty());
  EXPECT_THAT(FilesContaining(dir_.Sub("keys"), wrapped.substr(10, 40)),
              IsEmpty());

  ASSERT_OK_AND_ASSIGN(VerifyReport report, log_->VerifyAll());
  EXPECT_TRUE(report.ok) << report.problem;
  ASSERT_OK_AND_ASSIGN(VerifyReport case_report, log_->VerifyCase("case-a"));
  EXPECT_TRUE(case_report.ok) << case_report.problem;

  std::vector<v1::Event> history = History("case-a");
  ASSERT_EQ(history.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(history[i].payload_erased()) << i;
    EXPECT_FALSE(history[i].has_payload()) << i;
    EXPECT_EQ(history[i].envelope().stream_version(), i + 1u);
    EXPECT_EQ(history[i].hash().size(), 32u);
  }
  const v1::Event& record = history[3];
  EXPECT_FALSE(record.payload_erased());
  EXPECT_EQ(record.envelope().event_type(), "CaseErased");
  EXPECT_EQ(record.envelope().actor().user_id(), "dpo-maria");
  EXPECT_EQ(record.payload().case_erased().reason(), "client request 2026-118");
  EXPECT_EQ(record.payload().case_erased().legal_basis(), "GDPR art. 17(1)(a)");
  EXPECT_FALSE(record.payload().case_erased().reapplied_after_restore());
  ASSERT_TRUE(log_->GetErasure("case-a").has_value());
  EXPECT_EQ(log_->GetErasure("case-a")->erased_by(), "dpo-maria");

  // The other case is untouched.
  std::vector<v1::Event> other = History("case-b");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].payload().note_recorded().text(), kOtherMarker);
  EXPECT_FALSE(log_->GetErasure("case-b").has_value());

  // Nothing more lands in the erased case; a second erasure changes nothing.
  AppendRequest more;
  more.case_id = "case-a";
  more.events = {MakeNoteEvent()};
  EXPECT_THAT(
      log_->Append(more),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("erased")));
  ASSERT_OK_AND_ASSIGN(EraseResult again, log_->Erase(Erasure("case-a")));
  EXPECT_TRUE(again.already_erased);
  EXPECT_EQ(again.erasure_position, 5u);
  EXPECT_EQ(log_->LastPosition(), 5u);

  // All of it holds after a restart.
  Reopen();
  EXPECT_EQ(log_->LastPosition(), 5u);
  EXPECT_TRUE(History("case-a")[0].payload_erased());
  EXPECT_EQ(History("case-b")[0].payload().note_recorded().text(),
            kOtherMarker);
}

TEST_F(EventLogErasureTest, RestoredBackupFromBeforeTheErasureIsErasedAtOpen) {
  AppendTo("case-a", {NoteWith(kMarker), NoteWith(kMarker)});
  AppendTo("case-b", {NoteWith(kOtherMarker)});
  ASSERT_OK_AND_ASSIGN(uint64_t covered, log_->Backup(dir_.Sub("backup")));
  EXPECT_EQ(covered, 3u);
  ASSERT_OK(log_->Erase(Erasure("case-a")).status());
  log_.reset();

  // Restore: the backup replaces the log; the key store stays.
  std::filesystem::remove_all(dir_.Sub("log"));
  std::filesystem::rename(dir_.Sub("backup"), dir_.Sub("log"));
  Reopen();

  std::vector<v1::Event> history = History("case-a");
  ASSERT_EQ(history.size(), 3u);
  EXPECT_TRUE(history[0].payload_erased());
  EXPECT_TRUE(history[1].payload_erased());
  EXPECT_EQ(history[2].envelope().event_type(), "CaseErased");
  EXPECT_TRUE(history[2].payload().case_erased().reapplied_after_restore());
  EXPECT_EQ(history[2].payload().case_erased().reason(),
            "client request 2026-118");
  EXPECT_EQ(History("case-b")[0].payload().note_recorded().text(),
            kOtherMarker);
  ASSERT_OK_AND_ASSIGN(VerifyReport report, log_->VerifyAll());
  EXPECT_TRUE(report.ok) << report.problem;

  // Re-applied once: another restart appends nothing.
  const uint64_t last = log_->LastPosition();
  Reopen();
  EXPECT_EQ(log_->LastPosition(), last);
}

TEST_F(EventLogErasureTest, TamperedCiphertextIsDataLoss) {
  AppendTo("case-a", {NoteWith(kMarker), NoteWith(kMarker)});
  log_.reset();
  // Flip one ciphertext byte and store the event under a matching hash.
  ASSERT_OK(testing::RewriteStoredEvent(
      dir_.Sub("log"), 1, [](v1::StoredEvent& stored) {
        std::string payload = stored.payload();
        payload[payload.size() / 2] ^= 0x01;
        stored.set_payload(payload);
      }));
  Reopen();
  EXPECT_THAT(log_->ReadEvent(1), StatusIs(absl::StatusCode::kDataLoss,
                                           HasSubstr("fails authentication")));
  EXPECT_OK(log_->ReadEvent(2).status());
}

TEST_F(EventLogErasureTest, CiphertextMovedToAnotherEventIsDataLoss) {
  AppendTo("case-a", {NoteWith(kMarker), NoteWith("second")});
  AppendTo("case-b", {NoteWith(kOtherMarker)});
  log_.reset();
  ASSERT_OK_AND_ASSIGN(v1::StoredEvent second,
                       testing::ReadStoredEvent(dir_.Sub("log"), 2));
  ASSERT_OK_AND_ASSIGN(v1::StoredEvent other_case,
                       testing::ReadStoredEvent(dir_.Sub("log"), 3));
  // Same case, same key: only the associated data tells the events apart.
  ASSERT_OK(testing::RewriteStoredEvent(
      dir_.Sub("log"), 1,
      [&](v1::StoredEvent& stored) { stored.set_payload(second.payload()); }));
  // Another case: other key and other associated data.
  ASSERT_OK(testing::RewriteStoredEvent(
      dir_.Sub("log"), 2, [&](v1::StoredEvent& stored) {
        stored.set_payload(other_case.payload());
        stored.set_key_id(other_case.key_id());
      }));
  Reopen();
  EXPECT_THAT(log_->ReadEvent(1), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(log_->ReadEvent(2), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_OK(log_->ReadEvent(3).status());
}

TEST_F(EventLogErasureTest, MasterKeyRotationRewrapsWithoutTouchingEvents) {
  AppendTo("case-a", {NoteWith(kMarker)});
  AppendTo("case-b", {NoteWith(kOtherMarker)});
  ASSERT_OK_AND_ASSIGN(v1::Event before, log_->ReadEvent(1));
  log_.reset();
  const std::string old_wrapped = WrappedKeyOnDisk("case-a");
  const std::string new_master(32, '\x33');
  {
    KeyStoreOptions options;
    options.path = dir_.Sub("keys");
    options.master_key = master_key_;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<KeyStore> keys,
                         KeyStore::Open(options));
    ASSERT_OK(keys->RotateMasterKey(new_master));
  }
  EXPECT_THAT(FilesContaining(dir_.Sub("keys"), old_wrapped), IsEmpty());
  // The old master key no longer opens the store.
  EXPECT_THAT(
      EventLog::Open(Options()),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("master key")));
  master_key_ = new_master;
  Reopen();
  ASSERT_OK_AND_ASSIGN(v1::Event after, log_->ReadEvent(1));
  EXPECT_EQ(after.hash(), before.hash());
  EXPECT_EQ(after.payload().note_recorded().text(), kMarker);
  ASSERT_OK_AND_ASSIGN(VerifyReport report, log_->VerifyAll());
  EXPECT_TRUE(report.ok);
  AppendTo("case-a", {NoteWith("after rotation")});
}

TEST_F(EventLogErasureTest, PlainEventsOfAnOldLedgerStillRead) {
  log_.reset();
  EventLogOptions plain = Options();
  plain.key_store_path.clear();
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> old, EventLog::Open(plain));
    EXPECT_FALSE(old->encrypted());
    AppendRequest request;
    request.case_id = "case-old";
    request.events = {NoteWith("plain text")};
    ASSERT_OK(old->Append(request).status());
    EXPECT_THAT(old->Erase(Erasure("case-old")),
                StatusIs(absl::StatusCode::kFailedPrecondition));
  }
  ASSERT_OK_AND_ASSIGN(v1::StoredEvent stored,
                       testing::ReadStoredEvent(dir_.Sub("log"), 1));
  EXPECT_EQ(stored.payload_encoding(), v1::PAYLOAD_ENCODING_PLAIN);
  // The scan used above does find plain text.
  EXPECT_THAT(FilesContaining(dir_.Sub("log"), "plain text"),
              ::testing::Not(IsEmpty()));
  Reopen();
  ASSERT_OK_AND_ASSIGN(v1::Event old_event, log_->ReadEvent(1));
  EXPECT_EQ(old_event.payload().note_recorded().text(), "plain text");
  AppendTo("case-old", {NoteWith("now encrypted")});
  ASSERT_OK_AND_ASSIGN(VerifyReport report, log_->VerifyAll());
  EXPECT_TRUE(report.ok) << report.problem;
  log_.reset();
  ASSERT_OK_AND_ASSIGN(v1::StoredEvent newer,
                       testing::ReadStoredEvent(dir_.Sub("log"), 2));
  EXPECT_EQ(newer.payload_encoding(), v1::PAYLOAD_ENCODING_AES256_GCM);
}

TEST_F(EventLogErasureTest, ExactRetryIsStillReplayed) {
  std::vector<v1::Event> events = {NoteWith(kMarker)};
  AppendRequest request;
  request.case_id = "case-a";
  request.events = events;
  ASSERT_OK_AND_ASSIGN(AppendResult first, log_->Append(request));
  ASSERT_OK_AND_ASSIGN(AppendResult retry, log_->Append(request));
  EXPECT_TRUE(retry.replayed);
  EXPECT_EQ(retry.first_position, first.first_position);
  request.events[0].mutable_payload()->mutable_note_recorded()->set_text("x");
  EXPECT_THAT(log_->Append(request),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(EventLogErasureTest, BadErasureRequestsAreRefused) {
  AppendTo("case-a", {NoteWith(kMarker)});
  EraseRequest request = Erasure("case-a");
  request.reason.clear();
  EXPECT_THAT(log_->Erase(request), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("reason: required")));
  request = Erasure("case-a");
  request.legal_basis.clear();
  EXPECT_THAT(log_->Erase(request), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("legal_basis")));
  request = Erasure("case-a");
  request.actor.clear_user_id();
  EXPECT_THAT(log_->Erase(request), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("actor.user_id")));
  EXPECT_THAT(log_->Erase(Erasure("case-none")),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(log_->GetErasure("case-a").has_value());

  // Clients cannot write an erasure record themselves.
  v1::EventPayload payload;
  payload.mutable_case_erased()->set_reason("forged");
  AppendRequest forged;
  forged.case_id = "case-a";
  forged.events = {testing::MakeEvent(payload)};
  EXPECT_THAT(log_->Append(forged), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("case_erased")));
}

TEST_F(EventLogErasureTest, ImportedEventsAreEncryptedUnderThisLedgersKeys) {
  AppendTo("case-a", {NoteWith(kMarker), NoteWith(kMarker)});
  ImportRequest import;
  for (uint64_t p = 1; p <= 2; ++p) {
    ASSERT_OK_AND_ASSIGN(v1::Event event, log_->ReadEvent(p));
    event.clear_hash();
    event.mutable_envelope()->clear_prev_hash();
    import.events.push_back(std::move(event));
  }
  log_.reset();
  TempDir other;
  EventLogOptions options = Options();
  options.path = other.Sub("log");
  options.key_store_path = other.Sub("keys");
  options.master_key = std::string(32, '\x17');
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> target,
                         EventLog::Open(options));
    ASSERT_OK_AND_ASSIGN(ImportResult result, target->Import(import));
    EXPECT_EQ(result.imported, 2u);
    ASSERT_OK_AND_ASSIGN(v1::Event read, target->ReadEvent(2));
    EXPECT_EQ(read.payload().note_recorded().text(), kMarker);
    ASSERT_OK(target->Compact());
  }
  EXPECT_THAT(FilesContaining(other.path(), kMarker), IsEmpty());
  ASSERT_OK_AND_ASSIGN(v1::StoredEvent stored,
                       testing::ReadStoredEvent(options.path, 1));
  EXPECT_EQ(stored.payload_encoding(), v1::PAYLOAD_ENCODING_AES256_GCM);
}

TEST_F(EventLogErasureTest, KeyStoreInsideTheLogDirectoryIsRefused) {
  log_.reset();
  EventLogOptions options = Options();
  options.key_store_path = dir_.Sub("log/keys");
  EXPECT_THAT(EventLog::Open(options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("key_store_path")));
}

}  // namespace
}  // namespace caseledger::engine
