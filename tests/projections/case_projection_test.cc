#include "projections/case_projection.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/dates.h"
#include "tests/testing/event_builders.h"
#include "tests/testing/raw_log.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace caseledger::projections {
namespace {

using ::caseledger::testing::MakeEvent;
using ::caseledger::testing::MakeGoalSetEvent;
using ::caseledger::testing::MakeNoteEvent;
using ::caseledger::testing::StatusIs;
using ::caseledger::testing::TempDir;
using ::testing::HasSubstr;

v1::Event Opened(const std::string& program, const std::string& manager) {
  v1::EventPayload p;
  p.mutable_case_opened()->set_program(program);
  p.mutable_case_opened()->set_case_manager_id(manager);
  p.mutable_case_opened()->set_team("team-north");
  p.mutable_case_opened()->set_client_name("Client Name");
  return MakeEvent(
      p, absl::FromCivil(absl::CivilDay(2026, 1, 5), absl::UTCTimeZone()));
}

v1::Event Revised(const std::string& goal_id, int year, int month, int day) {
  v1::EventPayload p;
  p.mutable_goal_revised()->set_goal_id(goal_id);
  *p.mutable_goal_revised()->mutable_target_date() = MakeDate(year, month, day);
  return MakeEvent(p);
}

v1::Event EnteredInError(const std::string& target) {
  v1::EventPayload p;
  p.mutable_event_entered_in_error()->set_target_event_id(target);
  p.mutable_event_entered_in_error()->set_reason("wrong client");
  return MakeEvent(p);
}

v1::Event Corrected(const std::string& target, const v1::EventPayload& fixed) {
  v1::EventPayload p;
  p.mutable_event_corrected()->set_target_event_id(target);
  p.mutable_event_corrected()->set_reason("typo");
  *p.mutable_event_corrected()->mutable_corrected() = fixed;
  return MakeEvent(p);
}

class CaseProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenLog(); }

  void OpenLog() {
    engine::EventLogOptions options;
    options.path = dir_.Sub("log");
    ASSERT_OK_AND_ASSIGN(log_, engine::EventLog::Open(options));
  }

  // Reopens the log with a key store (payloads and read models encrypted).
  void OpenEncryptedLog() {
    log_.reset();
    engine::EventLogOptions options;
    options.path = dir_.Sub("log");
    options.key_store_path = dir_.Sub("keys");
    options.master_key = std::string(32, 'k');
    ASSERT_OK_AND_ASSIGN(log_, engine::EventLog::Open(options));
  }

  // Cases counted by the grouped metrics of a one-program caseload (0 if
  // the query fails or finds no group).
  static uint64_t CasesCounted(const CaseProjection& projection) {
    MetricsQuery query;
    query.group_by = GroupBy::kProgram;
    query.as_of = MakeDate(2026, 6, 1);
    absl::StatusOr<v1::MetricsReport> report = projection.GetMetrics(query);
    EXPECT_OK(report.status());
    if (!report.ok() || report->groups_size() != 1) return 0;
    return report->groups(0).cases();
  }

  static engine::EraseRequest EraseOf(const std::string& case_id) {
    engine::EraseRequest erase;
    erase.case_id = case_id;
    erase.reason = "client request";
    erase.legal_basis = "GDPR art. 17";
    erase.actor.set_user_id("dpo");
    return erase;
  }

  std::unique_ptr<CaseProjection> OpenProjection(const std::string& name,
                                                 size_t chunk = 1000) {
    CaseProjectionOptions options;
    options.dir = dir_.Sub(name);
    options.chunk_events = chunk;
    absl::StatusOr<std::unique_ptr<CaseProjection>> p =
        CaseProjection::Open(options, log_.get());
    EXPECT_OK(p.status());
    return p.ok() ? std::move(p).value() : nullptr;
  }

  engine::AppendResult Append(const std::string& case_id,
                              std::vector<v1::Event> events) {
    engine::AppendRequest request;
    request.case_id = case_id;
    request.events = std::move(events);
    absl::StatusOr<engine::AppendResult> r = log_->Append(request);
    EXPECT_OK(r.status());
    return r.ok() ? *r : engine::AppendResult();
  }

  // A few cases with goals, revisions, notes and a correction.
  void AppendCaseload(int cases, int rounds) {
    for (int r = 0; r < rounds; ++r) {
      for (int c = 0; c < cases; ++c) {
        const std::string case_id = "case-" + std::to_string(c);
        if (r == 0) {
          Append(case_id, {Opened(c % 2 ? "housing-first" : "return-to-work",
                                  "cm-" + std::to_string(c % 3))});
        }
        v1::Event goal = MakeGoalSetEvent("g" + std::to_string(r),
                                          "Goal number " + std::to_string(r));
        const std::string goal_event = goal.envelope().event_id();
        Append(case_id,
               {goal, MakeNoteEvent(),
                Revised("g" + std::to_string(r), 2027, 1 + r % 12, 1)});
        if ((r + c) % 3 == 0) Append(case_id, {EnteredInError(goal_event)});
      }
    }
  }

  TempDir dir_;
  std::unique_ptr<engine::EventLog> log_;
};

TEST_F(CaseProjectionTest, BuildsPlanAndTimelineFromTheLog) {
  v1::Event goal = MakeGoalSetEvent("g1", "Get my own flat");
  Append("c1",
         {Opened("housing-first", "cm-anna"), goal, Revised("g1", 2027, 5, 1)});
  auto projection = OpenProjection("p");
  ASSERT_OK(projection->CatchUp());
  EXPECT_EQ(projection->Position(), 3u);

  ASSERT_OK_AND_ASSIGN(v1::CasePlan plan, projection->GetPlan("c1"));
  EXPECT_EQ(plan.status(), v1::CASE_STATUS_OPEN);
  EXPECT_EQ(plan.program(), "housing-first");
  EXPECT_EQ(plan.case_manager_id(), "cm-anna");
  ASSERT_EQ(plan.goals_size(), 1);
  EXPECT_EQ(plan.goals(0).statement(), "Get my own flat");
  EXPECT_EQ(FormatDate(plan.goals(0).target_date()), "2027-05-01");
  EXPECT_EQ(plan.plan_revision(), 2u);
  EXPECT_EQ(plan.version(), 3u);

  TimelineQuery query;
  query.case_id = "c1";
  ASSERT_OK_AND_ASSIGN(TimelinePage page, projection->GetTimeline(query));
  ASSERT_EQ(page.entries.size(), 3u);
  EXPECT_EQ(page.entries[1].summary(),
            "Goal 'Get my own flat' set (Home/Daily Living)");
  EXPECT_EQ(page.entries[2].summary(),
            "Goal 'Get my own flat' revised: target date none -> 2027-05-01");
  EXPECT_EQ(page.entries[2].global_position(), 3u);
  EXPECT_EQ(page.entries[2].hash().size(), 32u);
  EXPECT_EQ(page.entries[0].actor().user_id(), "cm-anna");

  EXPECT_THAT(projection->GetPlan("nobody"),
              StatusIs(absl::StatusCode::kNotFound));
  query.case_id = "nobody";
  EXPECT_THAT(projection->GetTimeline(query),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CaseProjectionTest, TimelineFiltersAndPages) {
  Append("c1",
         {Opened("p", "cm"), MakeGoalSetEvent("g1", "one"), MakeNoteEvent(),
          MakeGoalSetEvent("g2", "two"), MakeNoteEvent()});
  auto projection = OpenProjection("p");
  ASSERT_OK(projection->CatchUp());
  TimelineQuery query;
  query.case_id = "c1";
  query.page_size = 2;
  std::vector<uint64_t> versions;
  for (;;) {
    ASSERT_OK_AND_ASSIGN(TimelinePage page, projection->GetTimeline(query));
    for (const auto& e : page.entries) versions.push_back(e.stream_version());
    if (page.next_version == 0) break;
    query.from_version = page.next_version;
  }
  EXPECT_THAT(versions, ::testing::ElementsAre(1, 2, 3, 4, 5));

  TimelineQuery goals;
  goals.case_id = "c1";
  goals.event_types = {"GoalSet"};
  ASSERT_OK_AND_ASSIGN(TimelinePage only, projection->GetTimeline(goals));
  ASSERT_EQ(only.entries.size(), 2u);
  EXPECT_EQ(only.entries[1].stream_version(), 4u);

  // Occurred window: the CaseOpened event is dated 2026-01-05, the others
  // 2026-01-01 (the builders' default).
  TimelineQuery window;
  window.case_id = "c1";
  window.since =
      absl::FromCivil(absl::CivilDay(2026, 1, 2), absl::UTCTimeZone());
  ASSERT_OK_AND_ASSIGN(TimelinePage opened, projection->GetTimeline(window));
  ASSERT_EQ(opened.entries.size(), 1u);
  EXPECT_EQ(opened.entries[0].event_type(), "CaseOpened");
}

TEST_F(CaseProjectionTest, CorrectionsAreHonouredAndShownInTheTimeline) {
  v1::Event wrong_goal = MakeGoalSetEvent("g1", "Wrong goal");
  v1::Event typo_goal = MakeGoalSetEvent("g2", "Get a jbo");
  Append("c1", {Opened("p", "cm"), wrong_goal, typo_goal});
  v1::EventPayload fixed;
  fixed.mutable_goal_set()->set_goal_id("g2");
  fixed.mutable_goal_set()->set_statement("Get a job");
  Append("c1", {EnteredInError(wrong_goal.envelope().event_id()),
                Corrected(typo_goal.envelope().event_id(), fixed)});
  auto projection = OpenProjection("p");
  ASSERT_OK(projection->CatchUp());
  ASSERT_OK_AND_ASSIGN(v1::CasePlan plan, projection->GetPlan("c1"));
  ASSERT_EQ(plan.goals_size(), 1);
  EXPECT_EQ(plan.goals(0).goal_id(), "g2");
  EXPECT_EQ(plan.goals(0).statement(), "Get a job");
  EXPECT_EQ(plan.version(), 5u);

  TimelineQuery query;
  query.case_id = "c1";
  ASSERT_OK_AND_ASSIGN(TimelinePage page, projection->GetTimeline(query));
  ASSERT_EQ(page.entries.size(), 5u);
  // The originals stay, marked; the corrections are entries of their own.
  EXPECT_TRUE(page.entries[1].entered_in_error());
  EXPECT_EQ(page.entries[1].corrected_by(), page.entries[3].event_id());
  EXPECT_FALSE(page.entries[2].entered_in_error());
  EXPECT_EQ(page.entries[2].corrected_by(), page.entries[4].event_id());
  EXPECT_THAT(page.entries[3].summary(),
              HasSubstr("Entered in error: GoalSet"));
  EXPECT_THAT(page.entries[4].summary(), HasSubstr("Corrected: GoalSet"));

  ASSERT_OK_AND_ASSIGN(v1::CaseFacts facts, projection->GetFacts("c1"));
  EXPECT_EQ(facts.goals_set(), 1u);
}

TEST_F(CaseProjectionTest, ResumesAfterItsCheckpointWithoutReapplying) {
  AppendCaseload(6, 2);
  {
    auto projection = OpenProjection("p", /*chunk=*/5);
    ASSERT_OK(projection->CatchUp());
  }
  AppendCaseload(6, 1);
  auto resumed = OpenProjection("p", /*chunk=*/5);
  const uint64_t before = resumed->Position();
  EXPECT_GT(before, 0u);
  EXPECT_LT(before, log_->LastPosition());
  ASSERT_OK(resumed->CatchUp());
  EXPECT_EQ(resumed->Position(), log_->LastPosition());
  std::vector<ProjectionStatus> status = resumed->Status();
  ASSERT_EQ(status.size(), 3u);
  EXPECT_EQ(status[0].events_applied, log_->LastPosition());
  EXPECT_EQ(status[0].lag, 0u);

  auto fresh = OpenProjection("q");
  ASSERT_OK(fresh->CatchUp());
  ASSERT_OK_AND_ASSIGN(auto a, resumed->Dump());
  ASSERT_OK_AND_ASSIGN(auto b, fresh->Dump());
  EXPECT_EQ(a, b);
}

TEST_F(CaseProjectionTest, RebuildIsByteForByteTheIncrementalState) {
  auto projection = OpenProjection("p", /*chunk=*/3);
  projection->Start();
  for (int round = 0; round < 3; ++round) {
    AppendCaseload(5, 1);
    ASSERT_TRUE(projection->WaitForPosition(log_->LastPosition(),
                                            absl::InfiniteFuture()));
  }
  ASSERT_OK_AND_ASSIGN(auto incremental, projection->Dump());
  ASSERT_OK(projection->StartRebuild());
  EXPECT_THAT(projection->StartRebuild(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // The old state keeps serving while the rebuild runs.
  EXPECT_OK(projection->GetPlan("case-1").status());
  projection->WaitForRebuild();
  ASSERT_OK_AND_ASSIGN(auto rebuilt, projection->Dump());
  ASSERT_EQ(incremental.size(), rebuilt.size());
  for (size_t i = 0; i < incremental.size(); ++i) {
    ASSERT_EQ(incremental[i].first, rebuilt[i].first);
    ASSERT_EQ(incremental[i].second, rebuilt[i].second)
        << "value differs at key " << incremental[i].first;
  }
  EXPECT_FALSE(projection->Status()[0].rebuilding);
  // It keeps following after the swap.
  AppendCaseload(2, 1);
  ASSERT_TRUE(projection->WaitForPosition(log_->LastPosition(),
                                          absl::InfiniteFuture()));
  // And the swap survives a restart (CURRENT names the new generation).
  projection.reset();
  auto reopened = OpenProjection("p");
  EXPECT_EQ(reopened->Position(), log_->LastPosition());
}

TEST_F(CaseProjectionTest, ReadYourWritesWaitsForTheCommitPosition) {
  auto projection = OpenProjection("p");
  projection->Start();
  engine::AppendResult r =
      Append("c1", {Opened("p", "cm"), MakeGoalSetEvent("g", "Walk daily")});
  ASSERT_TRUE(
      projection->WaitForPosition(r.commit_position, absl::InfiniteFuture()));
  ASSERT_OK_AND_ASSIGN(v1::CasePlan plan, projection->GetPlan("c1"));
  EXPECT_EQ(plan.goals(0).statement(), "Walk daily");
  // A position the log has not reached is not waited for past the deadline.
  EXPECT_FALSE(
      projection->WaitForPosition(r.commit_position + 100, absl::Now()));
}

TEST_F(CaseProjectionTest, UnknownEventTypesAreSkippedAndCounted) {
  Append("c1", {Opened("p", "cm")});
  log_.reset();
  ASSERT_OK(::caseledger::testing::AppendUnknownTypeEvent(
      dir_.Sub("log"), "c1", "SomethingFromTheFuture"));
  OpenLog();
  Append("c1", {MakeGoalSetEvent("g1", "After the unknown one")});
  ASSERT_OK_AND_ASSIGN(engine::VerifyReport report, log_->VerifyAll());
  ASSERT_TRUE(report.ok) << report.problem;
  auto projection = OpenProjection("p");
  ASSERT_OK(projection->CatchUp());
  EXPECT_EQ(projection->Position(), 3u);
  EXPECT_EQ(projection->Status()[0].skipped_unknown, 1u);
  EXPECT_EQ(projection->Status()[0].events_applied, 2u);
  ASSERT_OK_AND_ASSIGN(v1::CasePlan plan, projection->GetPlan("c1"));
  ASSERT_EQ(plan.goals_size(), 1);
  EXPECT_EQ(plan.goals(0).statement(), "After the unknown one");
}

TEST_F(CaseProjectionTest, StoreAheadOfARestoredLogIsRebuilt) {
  Append("c1", {Opened("p", "cm"), MakeGoalSetEvent("g1", "Before backup")});
  ASSERT_OK(log_->Backup(dir_.Sub("backup")).status());
  Append("c1", {MakeGoalSetEvent("g2", "After backup")});
  {
    auto projection = OpenProjection("p");
    ASSERT_OK(projection->CatchUp());
    EXPECT_EQ(projection->Position(), 3u);
  }
  // Restore: the log goes back to the backup (2 events), then moves on with
  // a different third event.
  log_.reset();
  engine::EventLogOptions options;
  options.path = dir_.Sub("backup");
  ASSERT_OK_AND_ASSIGN(log_, engine::EventLog::Open(options));
  Append("c1", {MakeGoalSetEvent("g3", "Written after the restore")});
  auto projection = OpenProjection("p");
  ASSERT_OK(projection->CatchUp());
  ASSERT_OK_AND_ASSIGN(v1::CasePlan plan, projection->GetPlan("c1"));
  ASSERT_EQ(plan.goals_size(), 2);
  EXPECT_EQ(plan.goals(0).statement(), "Before backup");
  EXPECT_EQ(plan.goals(1).statement(), "Written after the restore");
}

TEST_F(CaseProjectionTest, AFailedChunkIsRetriedNotSkipped) {
  v1::Event goal = MakeGoalSetEvent("g1", "Original statement");
  v1::EventPayload fixed;
  fixed.mutable_goal_set()->set_goal_id("g1");
  fixed.mutable_goal_set()->set_statement("Corrected statement");
  Append("c1", {goal});
  Append("c1", {Corrected(goal.envelope().event_id(), fixed), MakeNoteEvent()});
  // The correction refolds the case from the log; a damaged case index makes
  // that fail.
  log_.reset();
  ASSERT_OK(
      ::caseledger::testing::RemoveCaseIndexEntry(dir_.Sub("log"), "c1", 1));
  OpenLog();
  auto projection = OpenProjection("p");
  EXPECT_THAT(projection->CatchUp(), StatusIs(absl::StatusCode::kDataLoss));
  // A retry fails the same way: the failed chunk was not half-applied and
  // its events were not skipped.
  EXPECT_THAT(projection->CatchUp(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(projection->Position(), 0u);
}

TEST_F(CaseProjectionTest, MetricsAreStampedAndSmallGroupsSuppressed) {
  for (int c = 0; c < 7; ++c) {
    Append("m" + std::to_string(c),
           {Opened(c < 5 ? "big-program" : "small-program", "cm")});
  }
  auto projection = OpenProjection("p");
  ASSERT_OK(projection->CatchUp());
  MetricsQuery query;
  query.group_by = GroupBy::kProgram;
  query.as_of = MakeDate(2026, 6, 1);
  ASSERT_OK_AND_ASSIGN(v1::MetricsReport report, projection->GetMetrics(query));
  EXPECT_EQ(report.position(), 7u);
  EXPECT_EQ(report.projection_version(), CaseProjection::kVersion);
  ASSERT_EQ(report.groups_size(), 2);
  EXPECT_EQ(report.groups(0).key(), "big-program");
  EXPECT_FALSE(report.groups(0).suppressed());
  EXPECT_EQ(report.groups(1).key(), "small-program");
  EXPECT_TRUE(report.groups(1).suppressed());

  MetricsQuery bad;
  EXPECT_THAT(projection->GetMetrics(bad),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(CaseProjectionTest, ErasurePurgesTheCaseAndARebuildMatches) {
  ASSERT_NO_FATAL_FAILURE(OpenEncryptedLog());
  for (int c = 0; c < 6; ++c) {
    Append("m" + std::to_string(c),
           {Opened("big-program", "cm"),
            MakeGoalSetEvent("g1", "ZORILLA-33" + std::to_string(c))});
  }
  auto projection = OpenProjection("p", /*chunk=*/3);
  projection->Start();
  ASSERT_TRUE(projection->WaitForPosition(log_->LastPosition(),
                                          absl::InfiniteFuture()));
  EXPECT_EQ(CasesCounted(*projection), 6u);
  // The read models are sealed under each case's key: readable through the
  // projection, in no file of its store.
  ASSERT_OK_AND_ASSIGN(v1::CasePlan plan, projection->GetPlan("m0"));
  ASSERT_EQ(plan.goals_size(), 1);
  EXPECT_EQ(plan.goals(0).statement(), "ZORILLA-330");
  ASSERT_OK(projection->Compact());
  EXPECT_THAT(testing::FilesContaining(dir_.Sub("p"), "ZORILLA-33"),
              ::testing::IsEmpty());

  ASSERT_OK_AND_ASSIGN(engine::EraseResult erased, log_->Erase(EraseOf("m0")));
  ASSERT_TRUE(projection->WaitForPosition(erased.erasure_position,
                                          absl::InfiniteFuture()));

  EXPECT_THAT(projection->GetPlan("m0"), StatusIs(absl::StatusCode::kNotFound));
  TimelineQuery timeline;
  timeline.case_id = "m0";
  EXPECT_THAT(projection->GetTimeline(timeline),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(projection->GetFacts("m0"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(CasesCounted(*projection), 5u);
  EXPECT_OK(projection->GetPlan("m1").status());
  EXPECT_EQ(projection->Status()[0].skipped_unknown, 0u);

  ASSERT_OK_AND_ASSIGN(auto incremental, projection->Dump());
  for (const auto& [key, value] : incremental) {
    EXPECT_FALSE(absl::StrContains(key, "/m0")) << key;
  }
  // The purge compacted the store: the erased case's text left its files.
  EXPECT_THAT(testing::FilesContaining(dir_.Sub("p"), "ZORILLA-33"),
              ::testing::IsEmpty());
  ASSERT_OK_AND_ASSIGN(plan, projection->GetPlan("m1"));
  EXPECT_EQ(plan.goals(0).statement(), "ZORILLA-331");
  ASSERT_OK(projection->StartRebuild());
  projection->WaitForRebuild();
  ASSERT_OK_AND_ASSIGN(auto rebuilt, projection->Dump());
  ASSERT_EQ(incremental.size(), rebuilt.size());
  for (size_t i = 0; i < incremental.size(); ++i) {
    ASSERT_EQ(incremental[i].first, rebuilt[i].first);
    ASSERT_EQ(incremental[i].second, rebuilt[i].second)
        << "value differs at key " << incremental[i].first;
  }
}

TEST_F(CaseProjectionTest, AnErasedKeyLeavesTheValuesUnreadableAtOnce) {
  ASSERT_NO_FATAL_FAILURE(OpenEncryptedLog());
  for (int c = 0; c < 6; ++c) {
    Append("m" + std::to_string(c),
           {Opened("big-program", "cm"), MakeGoalSetEvent("g1", "Goal")});
  }
  auto projection = OpenProjection("p");
  ASSERT_OK(projection->CatchUp());
  TimelineQuery timeline;
  timeline.case_id = "m0";
  ASSERT_OK_AND_ASSIGN(TimelinePage page, projection->GetTimeline(timeline));
  EXPECT_EQ(page.entries.size(), 2u);

  // The key is destroyed; the projection has not applied the CaseErased
  // record yet, so the case's sealed values are still stored.
  ASSERT_OK(log_->Erase(EraseOf("m0")).status());
  ASSERT_LT(projection->Position(), log_->LastPosition());
  EXPECT_THAT(projection->GetPlan("m0"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("erased")));
  EXPECT_THAT(projection->GetTimeline(timeline),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("erased")));
  EXPECT_THAT(projection->GetFacts("m0"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("erased")));
  EXPECT_EQ(CasesCounted(*projection), 5u);
  EXPECT_OK(projection->GetPlan("m1").status());

  ASSERT_OK(projection->CatchUp());
  ASSERT_OK_AND_ASSIGN(auto dump, projection->Dump());
  for (const auto& [key, value] : dump) {
    EXPECT_FALSE(absl::StrContains(key, "/m0")) << key;
  }
}

TEST_F(CaseProjectionTest, APlainStoreIsRebuiltSealedWhenTheLogGetsKeys) {
  Append("c1", {Opened("housing-first", "cm-anna"),
                MakeGoalSetEvent("g1", "DUGONG-7120")});
  {
    auto projection = OpenProjection("p");
    ASSERT_OK(projection->CatchUp());
    ASSERT_OK(projection->Compact());
  }
  // Without a key store the read models are stored plain.
  EXPECT_THAT(testing::FilesContaining(dir_.Sub("p"), "DUGONG-7120"),
              ::testing::Not(::testing::IsEmpty()));

  log_.reset();
  ASSERT_NO_FATAL_FAILURE(OpenEncryptedLog());
  auto projection = OpenProjection("p");
  ASSERT_OK(projection->CatchUp());
  ASSERT_OK_AND_ASSIGN(v1::CasePlan plan, projection->GetPlan("c1"));
  EXPECT_EQ(plan.goals(0).statement(), "DUGONG-7120");
  ASSERT_OK(projection->Compact());
  // The plain generation was replaced and deleted.
  EXPECT_THAT(testing::FilesContaining(dir_.Sub("p"), "DUGONG-7120"),
              ::testing::IsEmpty());
}

}  // namespace
}  // namespace caseledger::projections
