// --mode=caseresume (tools/bench/modes.h).

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/event_log.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/modes.h"

namespace caseledger::bench {
namespace {

constexpr char kLongCase[] = "case-long";
constexpr char kOtherCase[] = "case-other";

absl::Status Fill(engine::EventLog& log, int events) {
  const ::caseledger::v1::EventPayload payload = MakeNotePayload(400);
  for (int i = 0; i < events; ++i) {
    for (const char* case_id : {kLongCase, kOtherCase}) {
      engine::AppendRequest request;
      request.case_id = case_id;
      request.expected = engine::ExpectedVersion::Any();
      request.events.push_back(MakeEvent(payload, 0));
      absl::StatusOr<engine::AppendResult> result = log.Append(request);
      if (!result.ok()) return result.status();
    }
  }
  return absl::OkStatus();
}

// Median wall time (us) of `reads` ReadAll calls for the long case from
// `from`, each returning `page` events.
absl::StatusOr<double> MedianReadUs(const engine::EventLog& log, uint64_t from,
                                    int page, int reads) {
  engine::ReadAllRequest request;
  request.case_id = kLongCase;
  request.from_position = from;
  request.max_count = page;
  std::vector<double> us;
  us.reserve(reads);
  for (int i = 0; i < reads; ++i) {
    const absl::Time start = absl::Now();
    absl::StatusOr<engine::ReadPage> result = log.ReadAll(request);
    const absl::Duration took = absl::Now() - start;
    if (!result.ok()) return result.status();
    if (result->events.empty()) {
      return absl::InternalError("caseresume: a read returned no event");
    }
    us.push_back(absl::ToDoubleMicroseconds(took));
  }
  return Median(std::move(us));
}

}  // namespace

absl::StatusOr<std::string> RunCaseResumeMode(const CaseResumeConfig& config,
                                              const std::string& dir,
                                              std::FILE* human) {
  engine::EventLogOptions options;
  options.path = dir + "/caseresume";
  options.sync = false;  // setup only
  options.create_if_missing = true;
  absl::StatusOr<std::unique_ptr<engine::EventLog>> opened =
      engine::EventLog::Open(options);
  if (!opened.ok()) return opened.status();
  engine::EventLog& log = **opened;
  const absl::Time fill_start = absl::Now();
  if (absl::Status s = Fill(log, config.case_events); !s.ok()) return s;
  const uint64_t last = log.LastPosition();
  std::fprintf(human,
               "caseresume: %s\n  load average:   %s (1/5/15 min, at start)\n"
               "  log:            one case of %d events interleaved with "
               "another of %d (positions 1..%llu), loaded in %.1f s with sync "
               "OFF (setup, not measured)\n"
               "  reads:          ReadAll filtered by the long case, %d "
               "events each, %d reads per start per run, %d runs; median wall "
               "time per read\n",
               MachineSummary().c_str(), LoadAverage().c_str(),
               config.case_events, config.case_events,
               static_cast<unsigned long long>(last),
               absl::ToDoubleSeconds(absl::Now() - fill_start), config.page,
               config.reads, config.runs);

  struct Start {
    std::string name;
    uint64_t from;
    std::vector<double> medians;
  };
  // The long case holds the odd positions.
  std::vector<Start> starts = {
      {"first event", 1, {}},
      {"middle", last / 2 + 1, {}},
      {"near the end",
       last > 4ull * config.page ? last - 2ull * config.page : 1,
       {}},
  };
  for (int run = 0; run < config.runs; ++run) {
    for (Start& start : starts) {
      absl::StatusOr<double> us =
          MedianReadUs(log, start.from, config.page, config.reads);
      if (!us.ok()) return us.status();
      start.medians.push_back(*us);
    }
  }
  const double base = Median(starts.front().medians);
  std::fprintf(human, "%-14s %10s %12s %14s  %s\n", "start", "position",
               "median us", "vs first", "median us per run");
  std::vector<std::string> json;
  for (const Start& start : starts) {
    const double median = Median(start.medians);
    std::vector<std::string> per_run;
    for (double m : start.medians) per_run.push_back(absl::StrCat(m));
    std::fprintf(human, "%-14s %10llu %12.1f %14.2f  %s\n", start.name.c_str(),
                 static_cast<unsigned long long>(start.from), median,
                 base > 0 ? median / base : 0.0,
                 absl::StrJoin(per_run, " ").c_str());
    json.push_back(absl::StrCat(
        "{\"start\":", JsonString(start.name), ",\"from_position\":",
        start.from, ",\"median_us\":", JsonNumber(median),
        ",\"vs_first\":", JsonNumber(base > 0 ? median / base : 0.0), "}"));
  }
  return absl::StrCat("{\"case_events\":", config.case_events,
                      ",\"page\":", config.page, ",\"reads\":", config.reads,
                      ",\"runs\":", config.runs, ",\"starts\":[",
                      absl::StrJoin(json, ","), "]}");
}

}  // namespace caseledger::bench
