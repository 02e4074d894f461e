#include "tools/caseload/caseload.h"

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "caseledger/v1/events.pb.h"
#include "engine/event_log.h"
#include "engine/ids.h"
#include "engine/options.h"
#include "engine/validation.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace caseledger::caseload {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::Contains;
using ::testing::Ge;
using ::testing::IsSupersetOf;

CaseloadOptions Options(int cases, uint64_t seed = 1) {
  CaseloadOptions options;
  options.cases = cases;
  options.seed = seed;
  return options;
}

std::vector<StreamScript> Generate(const CaseloadOptions& options) {
  CaseloadGenerator generator(options);
  std::vector<StreamScript> streams;
  StreamScript script;
  while (generator.Next(&script)) streams.push_back(std::move(script));
  return streams;
}

// Appends `b` equal `a`: same case, same expected version, equal events.
bool SameAppend(const engine::AppendRequest& a,
                const engine::AppendRequest& b) {
  if (a.case_id != b.case_id || a.expected.kind() != b.expected.kind() ||
      a.expected.version() != b.expected.version() ||
      a.events.size() != b.events.size()) {
    return false;
  }
  for (size_t i = 0; i < a.events.size(); ++i) {
    if (!MessageDifferencer::Equals(a.events[i], b.events[i])) return false;
  }
  return true;
}

bool SameStreams(const std::vector<StreamScript>& a,
                 const std::vector<StreamScript>& b) {
  if (a.size() != b.size()) return false;
  for (size_t s = 0; s < a.size(); ++s) {
    if (a[s].stream_id != b[s].stream_id ||
        a[s].appends.size() != b[s].appends.size()) {
      return false;
    }
    for (size_t i = 0; i < a[s].appends.size(); ++i) {
      if (!SameAppend(a[s].appends[i], b[s].appends[i])) return false;
    }
  }
  return true;
}

uint64_t TotalEvents(const std::vector<StreamScript>& streams) {
  uint64_t n = 0;
  for (const StreamScript& s : streams) n += s.EventCount();
  return n;
}

class CaseloadTest : public ::testing::Test {};

TEST_F(CaseloadTest, SameSeedGivesIdenticalRequests) {
  const std::vector<StreamScript> a = Generate(Options(30));
  const std::vector<StreamScript> b = Generate(Options(30));
  ASSERT_FALSE(a.empty());
  EXPECT_TRUE(SameStreams(a, b));
}

TEST_F(CaseloadTest, DifferentSeedGivesDifferentContentAndIds) {
  const std::vector<StreamScript> a = Generate(Options(30, 1));
  const std::vector<StreamScript> b = Generate(Options(30, 2));
  EXPECT_FALSE(SameStreams(a, b));
  absl::flat_hash_set<std::string> ids;
  for (const StreamScript& s : a) {
    for (const auto& append : s.appends) {
      for (const v1::Event& e : append.events) {
        ids.insert(e.envelope().event_id());
      }
    }
  }
  for (const StreamScript& s : b) {
    for (const auto& append : s.appends) {
      for (const v1::Event& e : append.events) {
        EXPECT_FALSE(ids.contains(e.envelope().event_id()));
      }
    }
  }
}

TEST_F(CaseloadTest, StreamsArePureFunctionsOfTheirIndex) {
  const CaseloadOptions options = Options(40);
  const std::vector<StreamScript> sequential = Generate(options);
  const CaseloadGenerator generator(options);
  ASSERT_EQ(generator.stream_count(), sequential.size());
  for (size_t s = sequential.size(); s-- > 0;) {
    EXPECT_TRUE(SameStreams({generator.Stream(s)}, {sequential[s]})) << s;
  }
}

TEST_F(CaseloadTest, SmallerCaseloadIsAPrefix) {
  const std::vector<StreamScript> small = Generate(Options(11));
  std::vector<StreamScript> large = Generate(Options(250));
  ASSERT_GT(large.size(), small.size());
  large.resize(small.size());
  EXPECT_TRUE(SameStreams(small, large));
  int cases = 0;
  for (const StreamScript& s : small) cases += s.kind == StreamKind::kCase;
  EXPECT_EQ(cases, 11);
}

TEST_F(CaseloadTest, EveryRequestPassesValidation) {
  const std::vector<StreamScript> streams = Generate(Options(300, 7));
  absl::flat_hash_set<std::string> ids;
  for (const StreamScript& s : streams) {
    uint64_t version = 0;
    ASSERT_FALSE(s.appends.empty()) << s.stream_id;
    for (const engine::AppendRequest& append : s.appends) {
      ASSERT_OK(
          engine::ValidateAppendRequest(append, engine::ValidationLimits()))
          << s.stream_id << " at version " << version;
      EXPECT_EQ(append.case_id, s.stream_id);
      EXPECT_EQ(append.expected.kind(), engine::ExpectedVersion::Kind::kExact);
      EXPECT_EQ(append.expected.version(), version);
      EXPECT_GE(append.events.size(), 1u);
      EXPECT_LE(append.events.size(), 5u);
      version += append.events.size();
      for (const v1::Event& e : append.events) {
        EXPECT_TRUE(engine::IsValidEventId(e.envelope().event_id()));
        EXPECT_TRUE(ids.insert(e.envelope().event_id()).second)
            << "duplicate event id " << e.envelope().event_id();
      }
    }
  }
}

TEST_F(CaseloadTest, CorrectionsTargetEarlierEventsOfTheSameCase) {
  int corrected = 0, entered_in_error = 0;
  for (const StreamScript& s : Generate(Options(200, 3))) {
    absl::flat_hash_map<std::string, v1::EventPayload::KindCase> earlier;
    for (const engine::AppendRequest& append : s.appends) {
      for (const v1::Event& e : append.events) {
        const v1::EventPayload& p = e.payload();
        if (p.has_event_corrected()) {
          ++corrected;
          auto target = earlier.find(p.event_corrected().target_event_id());
          ASSERT_NE(target, earlier.end()) << s.stream_id;
          EXPECT_EQ(target->second, p.event_corrected().corrected().kind_case())
              << s.stream_id;
          EXPECT_EQ(e.envelope().causation_id(), target->first);
        }
        if (p.has_event_entered_in_error()) {
          ++entered_in_error;
          EXPECT_TRUE(
              earlier.contains(p.event_entered_in_error().target_event_id()))
              << s.stream_id;
        }
        earlier[e.envelope().event_id()] = p.kind_case();
      }
    }
  }
  EXPECT_GT(corrected, 0);
  EXPECT_GT(entered_in_error, 0);
}

TEST_F(CaseloadTest, CoversArchetypesProgramsAndVocabulary) {
  const std::vector<StreamScript> streams = Generate(Options(30));
  std::set<std::string> programs, types, teams, managers, caseworker_types;
  std::set<int> resource_kinds, schedule_percents, return_percents;
  std::set<std::pair<int, int>> measures;  // instrument, time point
  std::set<Archetype> archetypes;
  bool reopened = false, recurrence_in_brain_injury = false;
  bool workplace_configuration = false, graded_hours = false;
  for (const StreamScript& s : streams) {
    if (s.kind == StreamKind::kCaseworker) {
      EXPECT_EQ(s.stream_id.rfind("caseworker:", 0), 0u);
      for (const auto& append : s.appends) {
        for (const v1::Event& e : append.events) {
          caseworker_types.insert(engine::EventTypeOf(e.payload()));
        }
      }
      continue;
    }
    archetypes.insert(s.archetype);
    reopened |= s.reopened;
    for (const auto& append : s.appends) {
      for (const v1::Event& e : append.events) {
        const v1::EventPayload& p = e.payload();
        types.insert(engine::EventTypeOf(p));
        if (p.has_case_opened()) {
          programs.insert(p.case_opened().program());
          teams.insert(p.case_opened().team());
          managers.insert(p.case_opened().case_manager_id());
          EXPECT_EQ(p.case_opened().program(), ProgramOf(s.archetype));
          EXPECT_FALSE(p.case_opened().client_name().empty());
        }
        if (p.has_resource_connected()) {
          resource_kinds.insert(p.resource_connected().kind());
        }
        if (p.has_measure_administered()) {
          measures.insert({p.measure_administered().instrument(),
                           p.measure_administered().time_point()});
          EXPECT_GT(p.measure_administered().responses_size(), 0);
        }
        if (p.has_work_schedule_changed() &&
            s.archetype == Archetype::kBurnoutReturnToWork) {
          schedule_percents.insert(p.work_schedule_changed().percent());
        }
        if (p.has_return_to_work_started() &&
            s.archetype == Archetype::kBurnoutReturnToWork) {
          return_percents.insert(p.return_to_work_started().percent());
        }
        if (p.has_absence_recurred() &&
            s.archetype == Archetype::kBrainInjuryReturnToWork) {
          recurrence_in_brain_injury = true;
        }
        if (p.has_employer_discussion_mediated()) {
          for (const auto& a : p.employer_discussion_mediated().agreements()) {
            workplace_configuration |=
                a.kind() == v1::AGREEMENT_KIND_WORKPLACE_CONFIGURATION;
            graded_hours |= a.kind() == v1::AGREEMENT_KIND_GRADED_HOURS;
          }
        }
      }
    }
  }
  EXPECT_EQ(archetypes.size(), 3u);
  EXPECT_EQ(programs, (std::set<std::string>{"housing-first", "return-to-work",
                                             "brain-injury-rtw"}));
  EXPECT_THAT(types, IsSupersetOf<std::string>({
                         "CaseOpened",
                         "CaseClosed",
                         "CaseReopened",
                         "ConsentGiven",
                         "DisclosureMade",
                         "StrengthsAssessmentRecorded",
                         "GoalSet",
                         "GoalStatusChanged",
                         "PlanStepAdded",
                         "PlanStepCompleted",
                         "PlanReviewed",
                         "GasScaleDefined",
                         "GasRated",
                         "ResourceConnected",
                         "ReferralMade",
                         "SupportPersonAdded",
                         "ProtectiveFactorIdentified",
                         "CopingStrategyAgreed",
                         "ContactRecorded",
                         "OutreachAttempted",
                         "NoteRecorded",
                         "AbsenceStarted",
                         "WorkCapacityCertified",
                         "EmployerDiscussionMediated",
                         "ReturnToWorkStarted",
                         "WorkScheduleChanged",
                         "AbsenceRecurred",
                         "EmploymentStatusRecorded",
                         "MeasureAdministered",
                         "LifeStatusRecorded",
                         "EventCorrected",
                         "EventEnteredInError",
                     }));
  EXPECT_THAT(caseworker_types, Contains("TrainingCycleCompleted"));
  EXPECT_THAT(caseworker_types, Contains("SupervisionHeld"));
  EXPECT_EQ(resource_kinds, (std::set<int>{v1::RESOURCE_KIND_NATURAL,
                                           v1::RESOURCE_KIND_COMMUNITY,
                                           v1::RESOURCE_KIND_FORMAL}));
  for (int instrument :
       {v1::INSTRUMENT_BRS, v1::INSTRUMENT_GSE, v1::INSTRUMENT_MSPSS}) {
    EXPECT_TRUE(measures.count({instrument, v1::TIME_POINT_BASELINE}));
    EXPECT_TRUE(measures.count({instrument, v1::TIME_POINT_FOLLOW_UP}));
  }
  EXPECT_THAT(return_percents, Contains(50));
  EXPECT_THAT(schedule_percents, IsSupersetOf({80, 100}));
  EXPECT_TRUE(reopened);
  EXPECT_TRUE(recurrence_in_brain_injury);
  EXPECT_TRUE(workplace_configuration);
  EXPECT_TRUE(graded_hours);
  EXPECT_THAT(teams.size(), Ge(2u));
  EXPECT_THAT(managers.size(), Ge(4u));
  EXPECT_EQ(static_cast<int>(managers.size()), CaseManagerCount(Options(30)));
}

TEST_F(CaseloadTest, LoadsIntoARealEventLogThatVerifies) {
  testing::TempDir dir;
  engine::EventLogOptions log_options;
  log_options.path = dir.Sub("log");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<engine::EventLog> log,
                       engine::EventLog::Open(log_options));
  const CaseloadOptions options = Options(30);
  const std::vector<StreamScript> streams = Generate(options);
  const uint64_t expected_events = TotalEvents(streams);

  std::vector<uint64_t> reported;
  ASSERT_OK(LoadCaseload(*log, options,
                         [&](uint64_t events) { reported.push_back(events); }));
  ASSERT_FALSE(reported.empty());
  EXPECT_EQ(reported.back(), expected_events);
  for (size_t i = 1; i < reported.size(); ++i) {
    EXPECT_GT(reported[i], reported[i - 1]);
  }
  EXPECT_EQ(log->LastPosition(), expected_events);

  ASSERT_OK_AND_ASSIGN(engine::VerifyReport report, log->VerifyAll());
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.events_checked, expected_events);
  EXPECT_EQ(report.cases_checked, streams.size());

  // Each stream holds exactly its script's events, in order.
  for (const StreamScript& s : streams) {
    std::vector<std::string> want;
    for (const auto& append : s.appends) {
      for (const v1::Event& e : append.events) {
        want.push_back(e.envelope().event_id());
      }
    }
    std::vector<std::string> got;
    engine::ReadCaseRequest read;
    read.case_id = s.stream_id;
    for (;;) {
      ASSERT_OK_AND_ASSIGN(engine::ReadPage page, log->ReadCase(read));
      for (const v1::Event& e : page.events) {
        got.push_back(e.envelope().event_id());
      }
      if (page.end) break;
      read.from_version = page.next;
    }
    EXPECT_EQ(got, want) << s.stream_id;
  }

  // The same caseload again is an idempotent retry: nothing new is written.
  EXPECT_OK(LoadCaseload(*log, options, nullptr));
  EXPECT_EQ(log->LastPosition(), expected_events);

  // Another seed under the same case ids collides with the stored streams.
  EXPECT_THAT(LoadCaseload(*log, Options(30, 2), nullptr),
              testing::StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(log->LastPosition(), expected_events);
}

TEST_F(CaseloadTest, CasesForEventsFindsTheSmallestCaseload) {
  const CaseloadOptions options = Options(0, 5);
  ASSERT_OK_AND_ASSIGN(int cases, CasesForEvents(options, 5000));
  ASSERT_GT(cases, 1);
  CaseloadOptions exact = options;
  exact.cases = cases;
  EXPECT_GE(TotalEvents(Generate(exact)), 5000u);
  exact.cases = cases - 1;
  EXPECT_LT(TotalEvents(Generate(exact)), 5000u);
  ASSERT_OK_AND_ASSIGN(int none, CasesForEvents(options, 0));
  EXPECT_EQ(none, 0);
}

TEST_F(CaseloadTest, RejectsBadOptions) {
  CaseloadOptions options;
  options.cases = -1;
  EXPECT_THAT(ValidateOptions(options),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
  options = CaseloadOptions();
  options.case_id_prefix = "bad prefix";
  EXPECT_THAT(ValidateOptions(options),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
  options = CaseloadOptions();
  options.load_threads = 0;
  testing::TempDir dir;
  engine::EventLogOptions log_options;
  log_options.path = dir.Sub("log");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<engine::EventLog> log,
                       engine::EventLog::Open(log_options));
  EXPECT_THAT(LoadCaseload(*log, options, nullptr),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(log->LastPosition(), 0u);
}

}  // namespace
}  // namespace caseledger::caseload
