// The access log store: records are indexed by principal in the same atomic
// write as the record, so "what did principal P read" returns exactly P's
// records, in order, without reading anyone else's, also after a restart;
// the hash chains verify as before.

#include "services/access_log.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "engine/ids.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace caseledger::services {
namespace {

using ::caseledger::testing::TempDir;
using ::testing::ElementsAre;

class AccessLogTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    log_.reset();
    engine::EventLogOptions options;
    options.path = dir_.Sub("access_log");
    options.sync = false;
    ASSERT_OK_AND_ASSIGN(log_, AccessLog::Open(options));
  }

  // One record: `principal` read `case_id` (empty: about no case); the
  // purpose tells the records apart.
  void Record(const std::string& principal, const std::string& case_id,
              const std::string& purpose) {
    v1::Actor actor;
    actor.set_user_id(principal);
    actor.set_role("ROLE_CASEWORKER");
    v1::AccessRecorded record;
    record.set_method("/caseledger.v1.Queries/GetPlan");
    record.set_output("plan");
    record.set_case_id(case_id);
    record.set_purpose(purpose);
    record.set_principal(principal);
    record.set_decision(v1::ACCESS_DECISION_ALLOWED);
    ASSERT_OK(log_->Record(actor, record));
  }

  // Purposes of every record matching `query`, page by page.
  std::vector<std::string> Purposes(AccessLogQuery query) {
    std::vector<std::string> out;
    for (int pages = 0; pages < 100; ++pages) {
      absl::StatusOr<AccessLogPage> page = log_->Query(query);
      EXPECT_OK(page.status());
      if (!page.ok()) break;
      for (const v1::Event& e : page->records) {
        out.push_back(e.payload().access_recorded().purpose());
      }
      if (page->next_after == 0) break;
      query.after = page->next_after;
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<AccessLog> log_;
};

TEST_F(AccessLogTest, QueryByPrincipalReturnsExactlyTheirRecordsInOrder) {
  Record("cm-anna", "case-1", "a1");
  Record("cm-bob", "case-1", "b1");
  Record("cm-anna", "case-2", "a2");
  Record("cm-anna-2", "case-2", "x1");  // an id that extends another
  Record("cm-anna", "", "a3");          // about no single case
  Record("(unauthenticated)", "", "u1");
  const absl::Time between = absl::Now();
  Record("cm-bob", "case-2", "b2");
  Record("cm-anna", "case-1", "a4");

  AccessLogQuery anna;
  anna.principal = "cm-anna";
  EXPECT_THAT(Purposes(anna), ElementsAre("a1", "a2", "a3", "a4"));
  anna.max_count = 1;  // one per page: the same, in order
  EXPECT_THAT(Purposes(anna), ElementsAre("a1", "a2", "a3", "a4"));
  anna.max_count = 100;
  AccessLogQuery bob;
  bob.principal = "cm-bob";
  EXPECT_THAT(Purposes(bob), ElementsAre("b1", "b2"));
  // With a time window: [since, until).
  anna.since = between;
  EXPECT_THAT(Purposes(anna), ElementsAre("a4"));
  anna.since.reset();
  anna.until = between;
  EXPECT_THAT(Purposes(anna), ElementsAre("a1", "a2", "a3"));
  anna.until.reset();
  // With a case: that case's records of the principal.
  anna.case_id = "case-1";
  EXPECT_THAT(Purposes(anna), ElementsAre("a1", "a4"));
  anna.case_id.clear();
  AccessLogQuery nobody;
  nobody.principal = "cm-nobody";
  EXPECT_TRUE(Purposes(nobody).empty());

  // After a restart: the index is on disk with the records.
  Reopen();
  EXPECT_THAT(Purposes(anna), ElementsAre("a1", "a2", "a3", "a4"));
  Record("cm-anna", "case-3", "a5");
  EXPECT_THAT(Purposes(anna), ElementsAre("a1", "a2", "a3", "a4", "a5"));
  // Every record is still in the chain and the chains verify unchanged.
  AccessLogQuery all;
  all.max_count = 1000;
  EXPECT_EQ(Purposes(all).size(), 9u);
  ASSERT_OK_AND_ASSIGN(engine::VerifyReport report, log_->log()->VerifyAll());
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.events_checked, 9u);
}

TEST_F(AccessLogTest, AnAccessLogFromBeforeTheIndexIsStillQueriedWhole) {
  log_.reset();
  {
    // Records as an earlier version wrote them: no index terms.
    engine::EventLogOptions options;
    options.path = dir_.Sub("access_log");
    options.sync = false;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<engine::EventLog> old,
                         engine::EventLog::Open(options));
    for (const auto& [who, purpose] :
         std::vector<std::pair<std::string, std::string>>{
             {"cm-anna", "old-a1"},
             {"cm-bob", "old-b1"},
             {"cm-anna", "old-a2"}}) {
      engine::AppendRequest append;
      append.case_id = "case-1";
      v1::Event& e = append.events.emplace_back();
      e.mutable_envelope()->set_event_id(engine::NewEventId());
      e.mutable_envelope()->mutable_occurred_at()->set_seconds(
          absl::ToUnixSeconds(absl::Now()));
      e.mutable_envelope()->mutable_actor()->set_user_id(who);
      e.mutable_envelope()->mutable_actor()->set_role("ROLE_CASEWORKER");
      e.mutable_payload()->mutable_access_recorded()->set_purpose(purpose);
      e.mutable_payload()->mutable_access_recorded()->set_case_id("case-1");
      e.mutable_payload()->mutable_access_recorded()->set_method(
          "/caseledger.v1.Queries/GetPlan");
      e.mutable_payload()->mutable_access_recorded()->set_decision(
          v1::ACCESS_DECISION_ALLOWED);
      ASSERT_OK(old->Append(append));
    }
  }
  Reopen();
  AccessLogQuery anna;
  anna.principal = "cm-anna";
  EXPECT_THAT(Purposes(anna), ElementsAre("old-a1", "old-a2"));
  Record("cm-anna", "case-2", "a1");
  Record("cm-bob", "case-2", "b1");
  Record("cm-anna", "case-2", "a2");
  EXPECT_THAT(Purposes(anna), ElementsAre("old-a1", "old-a2", "a1", "a2"));
  anna.max_count = 1;
  EXPECT_THAT(Purposes(anna), ElementsAre("old-a1", "old-a2", "a1", "a2"));
  // The boundary is found again at every open.
  Reopen();
  anna.max_count = 100;
  EXPECT_THAT(Purposes(anna), ElementsAre("old-a1", "old-a2", "a1", "a2"));
  AccessLogQuery bob;
  bob.principal = "cm-bob";
  EXPECT_THAT(Purposes(bob), ElementsAre("old-b1", "b1"));
}

}  // namespace
}  // namespace caseledger::services
