#ifndef CASELEDGER_TOOLS_CASECTL_PROGRESS_H_
#define CASELEDGER_TOOLS_CASECTL_PROGRESS_H_

// Progress of casectl's long work (export, import, rebuild, verify, demo),
// always on stderr so that it never mixes with --json output on stdout.
//  - kBar: one line redrawn in place ("\r"): a bar, count, rate and ETA;
//    at most ten redraws a second (or every `interval`, if shorter).
//  - kLines: plain lines ("export: 12000/50000 events (24%), 8100/s, ETA
//    5s"), one every `interval` (default 2 s), for logs and pipes.
//  - kNone: nothing.
// Every mode but kNone ends with one summary line (Finish).
// Not thread-safe: one thread calls Update/Finish.

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace caseledger::casectl {

class Progress {
 public:
  enum class Mode { kBar, kLines, kNone };

  // kBar if stderr is a terminal, else kLines.
  static Mode AutoMode();
  // Parses --progress=auto|bar|lines|none; false if unknown.
  static bool ParseMode(const std::string& text, Mode* mode);

  // `total` 0: unknown (no percentage or ETA). `unit`: "events", "cases".
  Progress(std::string label, uint64_t total, std::string unit, Mode mode,
           std::FILE* out = stderr, absl::Duration interval = absl::Seconds(2));

  // Reports `done` units so far; draws if it is time to.
  void Update(uint64_t done);
  // The final line: "<label>: <done> <unit> in <t> (<rate>/s)<note>".
  void Finish(uint64_t done, const std::string& note = "");
  // For work whose count is unknown while it runs (the server does it):
  // "<label>: <what>, <elapsed>", at the same cadence as Update.
  void Waiting(const std::string& what);
  // Removes a drawn bar (before printing an error).
  void Clear();

  void set_total(uint64_t total) { total_ = total; }

  // "1.2s", "3m04s", "1h02m".
  static std::string FormatDuration(absl::Duration d);

 private:
  std::string Line(uint64_t done, double seconds, bool bar) const;
  // True (and notes the time) if a line is due.
  bool Due();
  void Draw(const std::string& line);

  std::string label_;
  uint64_t total_;
  std::string unit_;
  Mode mode_;
  std::FILE* out_;
  absl::Duration interval_;
  absl::Time start_;
  absl::Time last_draw_;
  bool drawn_ = false;
};

}  // namespace caseledger::casectl

#endif  // CASELEDGER_TOOLS_CASECTL_PROGRESS_H_
