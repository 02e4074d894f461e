// projection_crash_writer: the child process of projection_crash_test.
//
// Usage: projection_crash_writer LOG_DIR PROJECTION_DIR CHUNK_EVENTS
//
// Opens the EventLog in LOG_DIR (which must exist; nothing is appended to
// it) and the CaseProjection in PROJECTION_DIR with
// chunk_events = CHUNK_EVENTS, starts the projection's background thread and
// follows its progress until it has applied the whole log, then closes both
// and exits 0. The parent SIGKILLs it somewhere along the way.
//
// Output protocol on stdout (fd 1), one line per record, each written by a
// single write(2) of at most PIPE_BUF bytes, so lines never tear:
//   READY <position> <log_last_position>
//     once, after both stores are open and before Start(): where the
//     projection resumes, and where the log ends.
//   POS <position>
//     each time this thread sees Position() advance. The background thread
//     keeps applying chunks while this is written, so several chunks may lie
//     between two lines, and the kill lands in the middle of the catch-up.
//     A reported position has been committed to the projection store.
//   DONE <position>
//     once Position() has reached the log's last position.
//   ERR <message>
//     an unexpected outcome (open failure, projection error, no progress);
//     the process then exits with status 3 at once.
// If stdout can no longer be written (the reader is gone) it exits with
// status 4.

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/event_log.h"
#include "engine/options.h"
#include "projections/case_projection.h"
#include "tests/testing/child_output.h"

namespace caseledger::testing {
namespace {

// Longest wait for the projection to advance by one chunk before the child
// gives up (only reached if the projection is stuck).
constexpr absl::Duration kProgressTimeout = absl::Seconds(60);

using ::caseledger::testing::WriteStdout;

[[noreturn]] void Fail(const std::string& message) {
  ::caseledger::testing::FailChild("projection_crash_writer", message);
}

void Emit(const std::string& line) {
  if (!WriteStdout(line)) std::_Exit(4);
}

int Main(int argc, char** argv) {
  size_t chunk_events = 0;
  if (argc != 4 || !absl::SimpleAtoi(argv[3], &chunk_events) ||
      chunk_events == 0) {
    std::fprintf(stderr,
                 "usage: projection_crash_writer LOG_DIR PROJECTION_DIR "
                 "CHUNK_EVENTS\n");
    return 2;
  }

  engine::EventLogOptions log_options;
  log_options.path = argv[1];
  log_options.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<engine::EventLog>> opened_log =
      engine::EventLog::Open(log_options);
  if (!opened_log.ok()) {
    Fail(absl::StrCat("open log ", log_options.path, ": ",
                      opened_log.status().ToString()));
  }
  std::unique_ptr<engine::EventLog> log = *std::move(opened_log);
  const uint64_t last = log->LastPosition();

  projections::CaseProjectionOptions options;
  options.dir = argv[2];
  options.chunk_events = chunk_events;
  absl::StatusOr<std::unique_ptr<projections::CaseProjection>> opened =
      projections::CaseProjection::Open(options, log.get());
  if (!opened.ok()) {
    Fail(absl::StrCat("open projection ", options.dir, ": ",
                      opened.status().ToString()));
  }
  std::unique_ptr<projections::CaseProjection> projection = *std::move(opened);

  uint64_t position = projection->Position();
  Emit(absl::StrCat("READY ", position, " ", last, "\n"));
  if (position > last) {
    Fail(absl::StrCat("projection at ", position, " is past the log's end ",
                      last));
  }

  if (position < last) {
    projection->Start();
    while (position < last) {
      projection->WaitForPosition(position + 1, absl::Now() + kProgressTimeout);
      const uint64_t now_at = projection->Position();
      const std::vector<projections::ProjectionStatus> status =
          projection->Status();
      if (!status.empty() && !status[0].last_error.empty()) {
        Fail(absl::StrCat("projection error at ", now_at, ": ",
                          status[0].last_error));
      }
      if (now_at <= position) {
        Fail(absl::StrCat("no progress past ", position, " in ",
                          absl::FormatDuration(kProgressTimeout)));
      }
      position = now_at;
      Emit(absl::StrCat("POS ", position, "\n"));
    }
  }
  if (position != last) {
    Fail(absl::StrCat("projection at ", position, ", log ends at ", last));
  }
  Emit(absl::StrCat("DONE ", position, "\n"));
  projection.reset();
  log.reset();
  return 0;
}

}  // namespace
}  // namespace caseledger::testing

int main(int argc, char** argv) {
  return caseledger::testing::Main(argc, argv);
}
