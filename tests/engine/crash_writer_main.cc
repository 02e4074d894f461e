// crash_writer: the child process of crash_recovery_test.
//
// Usage: crash_writer DATA_DIR THREADS CASES_PER_THREAD [SEED]
//
// Opens the EventLog in DATA_DIR (sync = true, the default) and appends from
// THREADS threads until it is killed, or until it has started kMaxAppends
// appends in total (so it can never run forever), then closes the log and
// exits 0.
//
// Output protocol on stdout (fd 1), one line per record, each line written by
// a single write(2) of at most PIPE_BUF bytes, so lines never interleave or
// tear:
//   READY <last_position>
//     once, after the log is open and every case head has been read.
//   ACK <event_id> <case_id> <stream_version> <global_position>
//     once per event, written only after the Append that stored it returned
//     OK; the lines of one append are written together, in event order.
//   ERR <message>
//     an unexpected outcome (open failure, append error, a result that
//     contradicts the API contract); the process then exits with status 3
//     at once, without closing the log.
// If stdout can no longer be written (the reader is gone) it exits with
// status 4, also without closing the log.
//
// Each thread owns CASES_PER_THREAD cases ("w<thread>-c<index>") and is their
// only writer, so it knows their exact versions: it appends to them with
// ExpectedVersion::Exact or ::Any and checks the versions it is given. All
// threads also append to the case "shared" with ExpectedVersion::Any.

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "caseledger/v1/events.pb.h"
#include "engine/event_log.h"
#include "engine/options.h"
#include "tests/testing/child_output.h"
#include "tests/testing/event_builders.h"

namespace caseledger::testing {
namespace {

using engine::AppendRequest;
using engine::AppendResult;
using engine::EventLog;
using engine::ExpectedVersion;

// Upper bound on the appends one run starts.
constexpr uint64_t kMaxAppends = 200000;
// Largest number of events in one append.
constexpr uint64_t kMaxEventsPerAppend = 3;
// One in this many appends goes to the shared case.
constexpr uint64_t kSharedCaseOneIn = 8;
constexpr char kSharedCase[] = "shared";

using ::caseledger::testing::WriteStdout;

[[noreturn]] void Fail(const std::string& message) {
  ::caseledger::testing::FailChild("crash_writer", message);
}

std::string OwnedCaseId(int thread, int index) {
  return absl::StrCat("w", thread, "-c", index);
}

// One writer thread: appends until kMaxAppends appends have been started by
// all threads together. `versions` holds the current versions of the
// thread's own cases and is updated after every append to them.
void WriterLoop(EventLog* log, int thread, uint64_t seed,
                std::vector<uint64_t> versions,
                std::atomic<uint64_t>* appends_started) {
  std::mt19937_64 rng(seed * 1000003 + static_cast<uint64_t>(thread));
  uint64_t serial = 0;
  while (appends_started->fetch_add(1) < kMaxAppends) {
    const bool shared = rng() % kSharedCaseOneIn == 0;
    const int index = static_cast<int>(rng() % versions.size());
    const uint64_t count = 1 + rng() % kMaxEventsPerAppend;

    AppendRequest request;
    request.case_id = shared ? kSharedCase : OwnedCaseId(thread, index);
    if (!shared && rng() % 2 == 0) {
      request.expected = ExpectedVersion::Exact(versions[index]);
    } else {
      request.expected = ExpectedVersion::Any();
    }
    for (uint64_t i = 0; i < count; ++i) {
      ++serial;
      if (rng() % 2 == 0) {
        request.events.push_back(MakeNoteEvent(16 + rng() % 1024));
      } else {
        request.events.push_back(MakeGoalSetEvent(
            absl::StrCat("g-", thread, "-", serial),
            absl::StrCat("goal ", serial, " of writer ", thread)));
      }
    }

    const absl::StatusOr<AppendResult> result = log->Append(request);
    if (!result.ok()) {
      Fail(absl::StrCat("append to ", request.case_id, " (expected ",
                        request.expected.ToString(),
                        ") failed: ", result.status().ToString()));
    }
    const AppendResult& r = *result;
    if (r.replayed || r.last_version - r.first_version + 1 != count ||
        r.last_position - r.first_position + 1 != count ||
        r.first_version == 0 || r.first_position == 0 ||
        r.commit_position != r.last_position) {
      Fail(absl::StrCat("append of ", count, " events to ", request.case_id,
                        " returned versions ", r.first_version, "..",
                        r.last_version, ", positions ", r.first_position, "..",
                        r.last_position, ", commit_position ",
                        r.commit_position, ", replayed ", r.replayed));
    }
    if (!shared) {
      if (r.first_version != versions[index] + 1) {
        Fail(absl::StrCat("case ", request.case_id, " has one writer at ",
                          "version ", versions[index],
                          " but the append got version ", r.first_version));
      }
      versions[index] = r.last_version;
    }

    std::string lines;
    for (uint64_t i = 0; i < count; ++i) {
      absl::StrAppend(&lines, "ACK ", request.events[i].envelope().event_id(),
                      " ", request.case_id, " ", r.first_version + i, " ",
                      r.first_position + i, "\n");
    }
    if (!WriteStdout(lines)) std::_Exit(4);
  }
}

int Main(int argc, char** argv) {
  int threads = 0;
  int cases_per_thread = 0;
  uint64_t seed = 1;
  if ((argc != 4 && argc != 5) || !absl::SimpleAtoi(argv[2], &threads) ||
      !absl::SimpleAtoi(argv[3], &cases_per_thread) || threads < 1 ||
      cases_per_thread < 1 ||
      (argc == 5 && !absl::SimpleAtoi(argv[4], &seed))) {
    std::fprintf(stderr,
                 "usage: crash_writer DATA_DIR THREADS CASES_PER_THREAD "
                 "[SEED]\n");
    return 2;
  }

  engine::EventLogOptions options;
  options.path = argv[1];
  absl::StatusOr<std::unique_ptr<EventLog>> opened = EventLog::Open(options);
  if (!opened.ok()) {
    Fail(absl::StrCat("open ", options.path, ": ", opened.status().ToString()));
  }
  std::unique_ptr<EventLog> log = *std::move(opened);

  std::vector<std::vector<uint64_t>> versions(threads);
  for (int t = 0; t < threads; ++t) {
    for (int c = 0; c < cases_per_thread; ++c) {
      const absl::StatusOr<engine::CaseHead> head =
          log->GetCaseHead(OwnedCaseId(t, c));
      if (!head.ok()) {
        Fail(absl::StrCat("head of ", OwnedCaseId(t, c), ": ",
                          head.status().ToString()));
      }
      versions[t].push_back(head->version);
    }
  }
  if (!WriteStdout(absl::StrCat("READY ", log->LastPosition(), "\n"))) {
    return 4;
  }

  std::atomic<uint64_t> appends_started{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back(WriterLoop, log.get(), t, seed, versions[t],
                         &appends_started);
  }
  for (std::thread& worker : workers) worker.join();
  log.reset();
  return 0;
}

}  // namespace
}  // namespace caseledger::testing

int main(int argc, char** argv) {
  return caseledger::testing::Main(argc, argv);
}
