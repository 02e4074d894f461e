// Kill test: acknowledged appends survive SIGKILL of the writing process.
//
// Each cycle spawns tests/engine/crash_writer on one data directory, reads
// the ACK lines it prints after every successful Append, and after a random
// number K of them kills it with SIGKILL. It then drains the lines still in
// the pipe (those events were acknowledged too), reopens the log in this
// process and checks, for the acknowledgements of this and all earlier
// cycles:
//  - every acknowledged event is stored at the reported case, stream version
//    and global position, under the same event id;
//  - LastPosition() covers every acknowledged position, and the global log
//    holds exactly positions 1..LastPosition();
//  - every case holds exactly versions 1..head, its prev_hash links chain,
//    and its head matches its last event;
//  - VerifyAll() (and VerifyCase() per case) report the chains intact;
//  - no event id is stored twice.
// Later cycles reopen and append to what earlier cycles left behind, so
// recovery from a recovered log is covered as well.
//
// No timing is involved: the kill moment is defined by the number of
// acknowledgements read. K comes from a seeded RNG; the seed is printed and
// can be fixed with the environment variable CASELEDGER_CRASH_SEED. (Thread
// scheduling in the child still varies between runs with the same seed.)

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "caseledger/v1/events.pb.h"
#include "engine/event_log.h"
#include "engine/options.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/child_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

#ifndef CRASH_WRITER_PATH
#error "CRASH_WRITER_PATH must name the crash_writer binary"
#endif

extern char** environ;

namespace caseledger::engine {
namespace {

// Kill cycles per run, all on the same data directory.
constexpr int kCycles = 20;
// Writer threads in the child and cases each of them owns.
constexpr int kWriterThreads = 8;
constexpr int kCasesPerThread = 3;
// K, the acknowledgements read before the kill, is uniform in
// [1, kMaxAcksBeforeKill].
constexpr uint64_t kMaxAcksBeforeKill = 400;
// One cycle in this many (on average) kills the child as soon as it is
// spawned, without reading anything: usually while it opens and recovers the
// log left by the previous kill.
constexpr uint64_t kKillAtSpawnOneIn = 8;

// One acknowledged event, as the child reported it.
struct Ack {
  std::string event_id;
  std::string case_id;
  uint64_t version = 0;
  uint64_t position = 0;
};

// Parses "ACK <event_id> <case_id> <version> <position>".
std::optional<Ack> ParseAck(absl::string_view line) {
  const std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
  Ack ack;
  if (fields.size() != 5 || fields[0] != "ACK" ||
      !absl::SimpleAtoi(fields[3], &ack.version) ||
      !absl::SimpleAtoi(fields[4], &ack.position)) {
    return std::nullopt;
  }
  ack.event_id = std::string(fields[1]);
  ack.case_id = std::string(fields[2]);
  return ack;
}

uint64_t ChooseSeed() {
  const char* fixed = std::getenv("CASELEDGER_CRASH_SEED");
  uint64_t seed = 0;
  if (fixed != nullptr && absl::SimpleAtoi(fixed, &seed)) return seed;
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) | device();
}

class CrashRecoveryTest : public ::testing::Test {
 protected:
  std::string DataDir() const { return temp_dir_.Sub("log"); }

  // Runs one kill cycle: spawns the child, kills it after `kill_after` acks
  // (0: right after spawning), drains the pipe, and adds every
  // acknowledgement to acks_. Sets *acks_read to the number of ACK lines.
  void RunCycle(uint64_t kill_after, uint64_t child_seed, uint64_t* acks_read) {
    *acks_read = 0;
    ::caseledger::testing::ChildProcess child;
    ASSERT_NO_FATAL_FAILURE(
        child.Spawn(CRASH_WRITER_PATH,
                    {DataDir(), absl::StrCat(kWriterThreads),
                     absl::StrCat(kCasesPerThread), absl::StrCat(child_seed)}));

    std::vector<std::string> lines;
    std::string fragment;
    bool eof = false;
    while (*acks_read < kill_after) {
      std::optional<std::string> line = child.ReadLine(&fragment);
      if (!line.has_value()) {
        eof = true;
        break;
      }
      if (absl::StartsWith(*line, "ACK ")) ++*acks_read;
      lines.push_back(*std::move(line));
    }
    const int status = child.KillAndWait();
    // Lines written before the kill are still in the pipe: acknowledged too.
    while (!eof) {
      std::optional<std::string> line = child.ReadLine(&fragment);
      if (!line.has_value()) break;
      if (absl::StartsWith(*line, "ACK ")) ++*acks_read;
      lines.push_back(*std::move(line));
    }

    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "crash_writer was not killed but "
        << ::caseledger::testing::DescribeWaitStatus(status) << " after "
        << *acks_read << " acks (wanted to kill after " << kill_after << ")";
    EXPECT_EQ(fragment, "") << "crash_writer left a torn line";

    for (const std::string& line : lines) {
      if (absl::StartsWith(line, "READY ")) {
        uint64_t ready_position = 0;
        ASSERT_TRUE(absl::SimpleAtoi(line.substr(6), &ready_position)) << line;
        EXPECT_GE(ready_position, max_acked_position_)
            << "the child reopened the log without earlier acked events";
        continue;
      }
      ASSERT_FALSE(absl::StartsWith(line, "ERR ")) << "crash_writer: " << line;
      std::optional<Ack> ack = ParseAck(line);
      ASSERT_TRUE(ack.has_value()) << "unparsable line: " << line;
      EXPECT_TRUE(acks_.emplace(ack->event_id, *ack).second)
          << "event id acknowledged twice: " << ack->event_id;
      max_acked_position_ = std::max(max_acked_position_, ack->position);
    }
  }

  // Reopens the log and checks it against acks_ (see the file comment).
  void CheckLog() {
    EventLogOptions options;
    options.path = DataDir();
    options.create_if_missing = true;  // a kill at spawn may leave nothing
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log,
                         EventLog::Open(options));

    const uint64_t last = log->LastPosition();
    EXPECT_GE(last, max_acked_position_);

    // The global log: positions 1..last, each event id once.
    absl::flat_hash_map<std::string, uint64_t> position_of_id;
    std::map<std::string, uint64_t> events_per_case;
    uint64_t expected_position = 1;
    ReadAllRequest all;
    all.from_position = 1;
    while (true) {
      ASSERT_OK_AND_ASSIGN(ReadPage page, log->ReadAll(all));
      for (const v1::Event& event : page.events) {
        const v1::EventEnvelope& envelope = event.envelope();
        ASSERT_EQ(envelope.global_position(), expected_position)
            << "gap or disorder in the global log";
        ++expected_position;
        EXPECT_TRUE(
            position_of_id
                .emplace(envelope.event_id(), envelope.global_position())
                .second)
            << "event id " << envelope.event_id() << " stored twice";
        ++events_per_case[envelope.case_id()];
      }
      if (page.end) break;
      ASSERT_FALSE(page.events.empty()) << "empty ReadAll page before the end";
      ASSERT_GT(page.next, all.from_position);
      all.from_position = page.next;
    }
    EXPECT_EQ(expected_position - 1, last)
        << "ReadAll did not end at LastPosition()";

    // Every case: versions 1..head, prev_hash chained, head consistent.
    for (const auto& [case_id, count] : events_per_case) {
      ASSERT_OK_AND_ASSIGN(const CaseHead head, log->GetCaseHead(case_id));
      EXPECT_EQ(head.version, count) << "case " << case_id;
      uint64_t expected_version = 1;
      std::string prev_hash(32, '\0');
      uint64_t last_position = 0;
      ReadCaseRequest read;
      read.case_id = case_id;
      read.from_version = 1;
      while (true) {
        ASSERT_OK_AND_ASSIGN(ReadPage page, log->ReadCase(read));
        for (const v1::Event& event : page.events) {
          const v1::EventEnvelope& envelope = event.envelope();
          ASSERT_EQ(envelope.case_id(), case_id);
          ASSERT_EQ(envelope.stream_version(), expected_version)
              << "gap or disorder in case " << case_id;
          ++expected_version;
          EXPECT_EQ(envelope.prev_hash(), prev_hash)
              << "broken link in case " << case_id << " at version "
              << envelope.stream_version();
          EXPECT_EQ(event.hash().size(), 32u);
          prev_hash = event.hash();
          EXPECT_GT(envelope.global_position(), last_position)
              << "case " << case_id << " goes back in the global log";
          last_position = envelope.global_position();
          const auto it = position_of_id.find(envelope.event_id());
          EXPECT_TRUE(it != position_of_id.end() &&
                      it->second == envelope.global_position())
              << "ReadCase and ReadAll disagree on " << envelope.event_id();
        }
        if (page.end) break;
        ASSERT_FALSE(page.events.empty())
            << "empty ReadCase page before the end";
        read.from_version = page.next;
      }
      EXPECT_EQ(expected_version - 1, head.version) << "case " << case_id;
      EXPECT_EQ(head.last_position, last_position) << "case " << case_id;
      EXPECT_EQ(head.last_hash, prev_hash) << "case " << case_id;

      ASSERT_OK_AND_ASSIGN(const VerifyReport report, log->VerifyCase(case_id));
      EXPECT_TRUE(report.ok) << "case " << case_id << ": " << report.problem
                             << " at position " << report.first_broken_position;
    }

    // Every acknowledged event, where the child was told it is. Lists the
    // first kMaxListed mismatches and counts all of them.
    constexpr int kMaxListed = 10;
    int mismatches = 0;
    for (const auto& [event_id, ack] : acks_) {
      const absl::StatusOr<v1::Event> event = log->ReadEvent(ack.position);
      std::string problem;
      if (!event.ok()) {
        problem = event.status().ToString();
      } else if (event->envelope().event_id() != ack.event_id ||
                 event->envelope().case_id() != ack.case_id ||
                 event->envelope().stream_version() != ack.version ||
                 event->envelope().global_position() != ack.position) {
        problem = absl::StrCat("found ", event->envelope().event_id(), " ",
                               event->envelope().case_id(), " v",
                               event->envelope().stream_version(), " @",
                               event->envelope().global_position());
      }
      if (problem.empty()) continue;
      if (++mismatches <= kMaxListed) {
        ADD_FAILURE() << "acknowledged event " << ack.event_id << " "
                      << ack.case_id << " v" << ack.version << " @"
                      << ack.position << " is not stored as acked: " << problem;
      }
    }
    EXPECT_EQ(mismatches, 0) << "of " << acks_.size() << " acked events";

    ASSERT_OK_AND_ASSIGN(const VerifyReport report, log->VerifyAll());
    EXPECT_TRUE(report.ok) << report.problem << " at position "
                           << report.first_broken_position;
    EXPECT_EQ(report.events_checked, last);
    EXPECT_EQ(report.cases_checked, events_per_case.size());
    events_in_log_ = last;
  }

  ::caseledger::testing::TempDir temp_dir_;
  // Every acknowledgement so far, by event id.
  absl::flat_hash_map<std::string, Ack> acks_;
  uint64_t max_acked_position_ = 0;
  uint64_t events_in_log_ = 0;
};

TEST_F(CrashRecoveryTest, AcknowledgedEventsSurviveSigkill) {
  const uint64_t seed = ChooseSeed();
  std::cout << "crash_recovery_test seed: " << seed
            << " (rerun with CASELEDGER_CRASH_SEED=" << seed << ")"
            << std::endl;
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);

  const absl::Time start = absl::Now();
  int cycles_done = 0;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    const bool kill_at_spawn = rng() % kKillAtSpawnOneIn == 0;
    const uint64_t kill_after =
        kill_at_spawn ? 0 : 1 + rng() % kMaxAcksBeforeKill;
    const uint64_t child_seed = rng();
    SCOPED_TRACE(absl::StrCat("seed ", seed, ", cycle ", cycle, ", kill after ",
                              kill_after, " acks"));

    uint64_t acks_read = 0;
    ASSERT_NO_FATAL_FAILURE(RunCycle(kill_after, child_seed, &acks_read));
    ASSERT_NO_FATAL_FAILURE(CheckLog());
    std::cout << "cycle " << cycle << ": killed after " << kill_after
              << " acks, read " << acks_read << ", log holds " << events_in_log_
              << " events, " << acks_.size() << " acks checked" << std::endl;
    ++cycles_done;
    if (HasFailure()) break;
  }
  std::cout << "crash_recovery_test: " << cycles_done << " cycles, "
            << acks_.size() << " acknowledged events checked, "
            << absl::ToDoubleSeconds(absl::Now() - start) << " s" << std::endl;
}

}  // namespace
}  // namespace caseledger::engine
