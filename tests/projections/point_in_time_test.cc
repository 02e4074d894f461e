#include "projections/point_in_time.h"

#include <memory>

#include "gtest/gtest.h"
#include "projections/dates.h"
#include "tests/testing/event_builders.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace caseledger::projections {
namespace {

using ::caseledger::testing::MakeEvent;
using ::caseledger::testing::StatusIs;
using ::caseledger::testing::TempDir;

absl::Time Day(int y, int m, int d) {
  return absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone());
}

class PointInTimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine::EventLogOptions options;
    options.path = dir_.Sub("log");
    options.clock = &clock_;
    ASSERT_OK_AND_ASSIGN(log_, engine::EventLog::Open(options));
  }

  // Appends `payload`, occurred on `occurred`, recorded on `recorded`.
  engine::AppendResult At(absl::Time recorded, absl::Time occurred,
                          const v1::EventPayload& payload) {
    clock_.Set(recorded);
    engine::AppendRequest request;
    request.case_id = "c1";
    request.events.push_back(MakeEvent(payload, occurred));
    absl::StatusOr<engine::AppendResult> r = log_->Append(request);
    EXPECT_OK(r.status());
    return r.ok() ? *r : engine::AppendResult();
  }

  TempDir dir_;
  ::caseledger::testing::FakeClock clock_;
  std::unique_ptr<engine::EventLog> log_;
};

TEST_F(PointInTimeTest, BothAxes) {
  v1::EventPayload opened;
  opened.mutable_case_opened()->set_program("housing-first");
  opened.mutable_case_opened()->set_case_manager_id("cm");
  At(Day(2026, 1, 10), Day(2026, 1, 10), opened);
  v1::EventPayload goal;
  goal.mutable_goal_set()->set_goal_id("g1");
  goal.mutable_goal_set()->set_statement("Get my own flat");
  *goal.mutable_goal_set()->mutable_target_date() = MakeDate(2027, 3, 1);
  const engine::AppendResult set = At(Day(2026, 1, 10), Day(2026, 1, 10), goal);
  v1::EventPayload revised;
  revised.mutable_goal_revised()->set_goal_id("g1");
  *revised.mutable_goal_revised()->mutable_target_date() = MakeDate(2027, 5, 1);
  At(Day(2026, 3, 1), Day(2026, 3, 1), revised);
  // Recorded in April about a contact on 15 February (backdated).
  v1::EventPayload contact;
  contact.mutable_contact_recorded()->set_location(v1::CONTACT_LOCATION_HOME);
  At(Day(2026, 4, 2), Day(2026, 2, 15), contact);

  // As the record stood after the goal was set: the original target.
  ASSERT_OK_AND_ASSIGN(v1::CasePlan then,
                       PlanAsRecordedAtPosition(
                           *log_, "c1", set.commit_position, ScoringConfig()));
  EXPECT_EQ(FormatDate(then.goals(0).target_date()), "2027-03-01");
  EXPECT_EQ(then.version(), 2u);
  // As recorded on 1 April: revised, but no contact known yet.
  ASSERT_OK_AND_ASSIGN(
      v1::CasePlan april,
      PlanAsRecordedAtTime(*log_, "c1", Day(2026, 4, 1), ScoringConfig()));
  EXPECT_EQ(FormatDate(april.goals(0).target_date()), "2027-05-01");
  EXPECT_FALSE(april.has_last_contact_at());
  // As things were on 20 February: the backdated contact counts, the
  // revision of 1 March does not.
  ASSERT_OK_AND_ASSIGN(
      v1::CasePlan feb,
      PlanAsOccurredAt(*log_, "c1", Day(2026, 2, 20), ScoringConfig()));
  EXPECT_EQ(FormatDate(feb.goals(0).target_date()), "2027-03-01");
  EXPECT_TRUE(feb.has_last_contact_at());
  // Before the case existed.
  EXPECT_THAT(PlanAsOccurredAt(*log_, "c1", Day(2025, 1, 1), ScoringConfig()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(PlanAsRecordedAtPosition(*log_, "nobody", 10, ScoringConfig()),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(PointInTimeTest, LaterCorrectionsCountAsThingsWereButNotAsRecorded) {
  v1::EventPayload goal;
  goal.mutable_goal_set()->set_goal_id("g1");
  goal.mutable_goal_set()->set_statement("Get a jbo");
  At(Day(2026, 1, 10), Day(2026, 1, 10), goal);
  engine::ReadCaseRequest read;
  read.case_id = "c1";
  ASSERT_OK_AND_ASSIGN(engine::ReadPage page, log_->ReadCase(read));
  v1::EventPayload fix;
  fix.mutable_event_corrected()->set_target_event_id(
      page.events[0].envelope().event_id());
  fix.mutable_event_corrected()
      ->mutable_corrected()
      ->mutable_goal_set()
      ->set_goal_id("g1");
  fix.mutable_event_corrected()
      ->mutable_corrected()
      ->mutable_goal_set()
      ->set_statement("Get a job");
  At(Day(2026, 2, 1), Day(2026, 2, 1), fix);

  ASSERT_OK_AND_ASSIGN(
      v1::CasePlan recorded,
      PlanAsRecordedAtTime(*log_, "c1", Day(2026, 1, 20), ScoringConfig()));
  EXPECT_EQ(recorded.goals(0).statement(), "Get a jbo");
  ASSERT_OK_AND_ASSIGN(
      v1::CasePlan occurred,
      PlanAsOccurredAt(*log_, "c1", Day(2026, 1, 20), ScoringConfig()));
  EXPECT_EQ(occurred.goals(0).statement(), "Get a job");
}

}  // namespace
}  // namespace caseledger::projections
