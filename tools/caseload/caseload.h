#ifndef CASELEDGER_TOOLS_CASELOAD_CASELOAD_H_
#define CASELEDGER_TOOLS_CASELOAD_CASELOAD_H_

// A deterministic generator of realistic caseloads, for benchmarks, demos and
// tests: the appends a caseworking organisation would make, case by case.
//
// Three archetypes follow the practice texts (DOMAIN.md, seeds/):
//  - housing-first: a client experiencing homelessness; strengths-based
//    recovery (Strengths Model, Resiliency Model), outreach, natural and
//    community resources, a Housing First flat.
//  - return-to-work: burnout; the case manager mediates impartially between
//    client and employer; graded hours 50% -> 80% -> 100%; stress
//    management; sometimes a relapse.
//  - brain-injury-rtw: acquired brain injury; work structuring and workplace
//    configuration agreed with the employer; graded hours; recurrences.
// Every case has consents, a strengths assessment, goals in the client's own
// words with GAS scales and ratings, plan steps, BRS/GSE/MSPSS at intake and
// exit (raw item responses), resources of all three kinds, support persons,
// contacts and outreach; some cases are transferred, reopened, or carry
// corrections (EventCorrected / EventEnteredInError of an earlier event of the
// same case). Each case manager also has a stream "caseworker:<id>" with
// RFCM training cycles and supervision. All names are fictional.
//
// Determinism: the content of every stream, event ids included, is a pure
// function of the options (it uses its own SplitMix64 generator, not
// absl::BitGen, whose output may change between Abseil versions). It is also
// prefix-stable: the first n cases of a caseload of N >= n cases are the
// caseload of n cases, so CasesForEvents() can size a caseload.
//
// Every append passes engine::ValidateAppendRequest with default limits
// (1..5 events each, ExpectedVersion::Exact of the stream's version).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "engine/event_log.h"

namespace caseledger::caseload {

enum class Archetype {
  kHousingFirst,             // program "housing-first"
  kBurnoutReturnToWork,      // program "return-to-work"
  kBrainInjuryReturnToWork,  // program "brain-injury-rtw"
};

// The CaseOpened.program of an archetype.
absl::string_view ProgramOf(Archetype archetype);

struct CaseloadOptions {
  // Seed of all content and event ids.
  // Default: 1
  uint64_t seed = 1;

  // Number of client cases (caseworker streams come in addition).
  // Default: 20
  int cases = 20;

  // The first day a case can open (its UTC calendar day is used).
  // Default: 2025-01-06
  absl::Time start =
      absl::FromCivil(absl::CivilDay(2025, 1, 6), absl::UTCTimeZone());

  // Cases open on a day drawn uniformly from [start, start + this).
  // Default: 365
  int open_window_days = 365;

  // Case ids are "<case_id_prefix>-<case index, at least 6 digits>". Event
  // ids depend on the stream id, so caseloads with other prefixes (or seeds)
  // can share one log.
  // Default: "case"
  std::string case_id_prefix = "case";

  // Intake rotation: new cases go round-robin to this many case managers;
  // when each has cases_per_case_manager cases, a fresh rotation of case
  // managers starts (so the roster grows with the caseload).
  // Default: 8
  int rotation_case_managers = 8;
  // Default: 25
  int cases_per_case_manager = 25;
  // Case managers per team (team names follow the manager index).
  // Default: 4
  int case_managers_per_team = 4;

  // Relative weights of the archetypes (need not sum to 1).
  // Defaults: 0.40, 0.35, 0.25
  double housing_first_weight = 0.40;
  double burnout_weight = 0.35;
  double brain_injury_weight = 0.25;

  // Per case: probability that it is reopened after closing, that it carries
  // an EventCorrected, and that it carries an EventEnteredInError.
  // Defaults: 0.12, 0.15, 0.08
  double reopen_probability = 0.12;
  double correction_probability = 0.15;
  double entered_in_error_probability = 0.08;

  // LoadCaseload(): streams appended concurrently (each stream's appends stay
  // in order on one thread). Does not affect content.
  // Default: 4
  int load_threads = 4;
};

// INVALID_ARGUMENT naming the field if `options` is unusable.
absl::Status ValidateOptions(const CaseloadOptions& options);

enum class StreamKind { kCase, kCaseworker };

// Everything appended to one stream, in order.
struct StreamScript {
  StreamKind kind = StreamKind::kCase;
  std::string stream_id;
  // kCase: the case index; kCaseworker: -1.
  int case_index = -1;
  // kCase: the case manager at intake; kCaseworker: the stream's owner.
  int case_manager_index = -1;
  // kCase only.
  Archetype archetype = Archetype::kHousingFirst;
  bool reopened = false;  // kCase: has a CaseReopened
  // The appends, each with ExpectedVersion::Exact(version before it).
  std::vector<engine::AppendRequest> appends;

  uint64_t EventCount() const;
};

// Produces a caseload stream by stream. Streams come in a fixed order: each
// case manager's caseworker stream just before that manager's first case,
// cases in index order. Holds no generated content: memory stays bounded
// whatever the caseload size.
//
// Thread-safe for Stream() and stream_count(); Next() is for one thread.
class CaseloadGenerator {
 public:
  // REQUIRES: ValidateOptions(options).ok()
  explicit CaseloadGenerator(CaseloadOptions options);

  const CaseloadOptions& options() const { return options_; }

  // Case streams plus caseworker streams.
  size_t stream_count() const { return stream_count_; }

  // The `index`-th stream (0-based). The same index always gives the same
  // script. REQUIRES: index < stream_count()
  StreamScript Stream(size_t index) const;

  // Sequential iteration: the next stream into `*out`; false at the end.
  bool Next(StreamScript* out);

 private:
  CaseloadOptions options_;
  size_t stream_count_ = 0;
  size_t next_ = 0;
};

// The stream id of case `case_index`, e.g. "case-000042".
std::string CaseIdOf(const CaseloadOptions& options, int case_index);
// The id of case manager `index`, e.g. "cm-0007".
std::string CaseManagerIdOf(int index);
// "caseworker:" + CaseManagerIdOf(index).
std::string CaseworkerStreamIdOf(int index);
// Case managers (and caseworker streams) in a caseload of options.cases.
int CaseManagerCount(const CaseloadOptions& options);

// The smallest number of cases whose caseload (with `options` otherwise)
// holds at least `min_events` events, caseworker streams included. Generates
// the streams to count them (on options.load_threads threads).
// INVALID_ARGUMENT for bad options; OUT_OF_RANGE if more than 10^7 cases
// would be needed.
absl::StatusOr<int> CasesForEvents(const CaseloadOptions& options,
                                   uint64_t min_events);

// Appends the whole caseload to `log`, generating stream by stream on
// options.load_threads threads (content is deterministic; the interleaving
// of streams in the global log is not). `progress`, if set, is called now
// and then, and once at the end, with the number of events appended so far;
// calls are serialised, never concurrent, and must be quick.
// Returns INVALID_ARGUMENT for bad options, or the first failed append's
// status with the stream id and append number prepended (then some streams
// may be partly appended). Loading the same caseload again is an idempotent
// retry (the engine replays appends already stored and writes nothing), so
// an interrupted load is resumed by loading again; `progress` then counts
// replayed events too. A different caseload with the same case ids fails
// with ABORTED or ALREADY_EXISTS.
absl::Status LoadCaseload(engine::EventLog& log, const CaseloadOptions& options,
                          std::function<void(uint64_t events)> progress);

}  // namespace caseledger::caseload

#endif  // CASELEDGER_TOOLS_CASELOAD_CASELOAD_H_
