#include "services/ledger_services.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/ids.h"
#include "engine/internal/status_macros.h"
#include "projections/dates.h"
#include "projections/plan_elements.h"
#include "projections/point_in_time.h"
#include "services/log.h"
#include "services/status_conversion.h"

namespace caseledger::services {
namespace {

constexpr uint32_t kDefaultPage = 100;
constexpr uint32_t kMaxPage = 1000;
constexpr uint32_t kDefaultBatch = 500;
// Reads stop at this many bytes, so messages stay well under the 4 MiB a
// default client accepts.
constexpr size_t kMaxMessageBytes = 1 << 20;

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

absl::Status CheckTimestamp(const google::protobuf::Timestamp& ts,
                            absl::string_view field) {
  if (ts.seconds() < -62135596800 || ts.seconds() > 253402300799 ||
      ts.nanos() < 0 || ts.nanos() > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": out of range"));
  }
  return absl::OkStatus();
}

uint32_t PageSize(uint32_t requested) {
  return requested == 0 ? kDefaultPage : std::min(requested, kMaxPage);
}

absl::StatusOr<uint64_t> ParseToken(const std::string& token,
                                    absl::string_view field) {
  if (token.empty()) return 0;
  uint64_t value = 0;
  if (!absl::SimpleAtoi(token, &value) || value == 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": malformed"));
  }
  return value;
}

// The earlier of the call's deadline and now + max_wait.
absl::Time WaitDeadline(const grpc::CallbackServerContext* context,
                        const ServiceLimits& limits) {
  const absl::Time capped = absl::Now() + limits.max_wait;
  const auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return capped;
  return std::min(capped, absl::FromChrono(deadline));
}

// Read-your-writes: waits until the projections have applied `position`.
absl::Status AwaitProjection(const ServiceDeps& deps,
                             const grpc::CallbackServerContext* context,
                             uint64_t position) {
  if (position == 0) return absl::OkStatus();
  if (position > deps.log->LastPosition()) {
    return absl::InvalidArgumentError(
        "min_position: beyond the end of the log");
  }
  const absl::Time deadline = WaitDeadline(context, deps.limits);
  // Wait in short slices so that a cancelled call (client cancel, deadline,
  // server shutdown) frees its worker promptly.
  while (!deps.projection->WaitForPosition(
      position, std::min(deadline, absl::Now() + absl::Milliseconds(100)))) {
    if (context->IsCancelled()) return absl::CancelledError("cancelled");
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "projections have not reached position ", position, " yet"));
    }
  }
  return absl::OkStatus();
}

// NOT_FOUND for an erased case: its read models are gone and its plan, even
// as of an earlier time, is no longer readable.
absl::Status NotErased(const ServiceDeps& deps, const std::string& case_id) {
  if (deps.log->GetErasure(case_id).has_value()) {
    return absl::NotFoundError(absl::StrCat("case ", case_id, " was erased"));
  }
  return absl::OkStatus();
}

engine::ExpectedVersion FromProto(const v1::ExpectedVersion& expected) {
  switch (expected.kind_case()) {
    case v1::ExpectedVersion::kNoStream:
      return engine::ExpectedVersion::NoStream();
    case v1::ExpectedVersion::kStreamExists:
      return engine::ExpectedVersion::StreamExists();
    case v1::ExpectedVersion::kExact:
      return engine::ExpectedVersion::Exact(expected.exact());
    default:
      return engine::ExpectedVersion::Any();
  }
}

v1::Date Today() { return projections::DateFromTime(absl::Now()); }

absl::StatusOr<projections::MetricsQuery> ToQuery(
    const v1::GetMetricsRequest& request) {
  projections::MetricsQuery query;
  switch (request.group_by()) {
    case v1::METRICS_GROUP_BY_UNSPECIFIED:
    case v1::METRICS_GROUP_BY_NONE:
      query.group_by = projections::GroupBy::kNone;
      break;
    case v1::METRICS_GROUP_BY_PROGRAM:
      query.group_by = projections::GroupBy::kProgram;
      break;
    case v1::METRICS_GROUP_BY_CASE_MANAGER:
      query.group_by = projections::GroupBy::kCaseManager;
      break;
    case v1::METRICS_GROUP_BY_TEAM:
      query.group_by = projections::GroupBy::kTeam;
      break;
    case v1::METRICS_GROUP_BY_COHORT:
      query.group_by = projections::GroupBy::kCohort;
      break;
    case v1::METRICS_GROUP_BY_PERIOD:
      query.group_by = projections::GroupBy::kPeriod;
      break;
    case v1::METRICS_GROUP_BY_TRAINING_CYCLE:
      query.group_by = projections::GroupBy::kTrainingCycle;
      break;
    default:
      return absl::InvalidArgumentError("group_by: unknown value");
  }
  const v1::MetricsFilters& f = request.filters();
  if (f.has_program()) query.program = f.program();
  if (f.has_case_manager_id()) query.case_manager_id = f.case_manager_id();
  if (f.has_team()) query.team = f.team();
  if (f.has_cohort()) query.cohort = f.cohort();
  if (f.has_opened_from()) query.opened_from = f.opened_from();
  if (f.has_opened_to()) query.opened_to = f.opened_to();
  if (f.has_training_cycle()) query.training_cycle = f.training_cycle();
  query.as_of = projections::IsSet(request.as_of()) ? request.as_of() : Today();
  return query;
}

// Full method names, as recorded in the access log.
constexpr char kAppendMethod[] = "/caseledger.v1.CaseWriter/AppendEvents";
constexpr char kHistoryMethod[] = "/caseledger.v1.Audit/ReadCaseHistory";
constexpr char kVerifyMethod[] = "/caseledger.v1.Audit/Verify";
constexpr char kPlanMethod[] = "/caseledger.v1.Queries/GetPlan";
constexpr char kTimelineMethod[] = "/caseledger.v1.Queries/GetTimeline";
constexpr char kCaseMetricsMethod[] = "/caseledger.v1.Analytics/GetCaseMetrics";
constexpr char kMetricsMethod[] = "/caseledger.v1.Analytics/GetMetrics";
constexpr char kSubscribeMethod[] = "/caseledger.v1.Subscriptions/Subscribe";
constexpr char kStatusMethod[] =
    "/caseledger.v1.Operations/GetProjectionStatus";
constexpr char kRebuildMethod[] =
    "/caseledger.v1.Operations/RebuildProjections";
constexpr char kBackupMethod[] = "/caseledger.v1.Operations/Backup";
constexpr char kEraseMethod[] = "/caseledger.v1.Erasure/EraseCase";
constexpr char kQueryAccessLogMethod[] =
    "/caseledger.v1.AccessLogService/QueryAccessLog";
constexpr char kVerifyAccessLogMethod[] =
    "/caseledger.v1.AccessLogService/VerifyAccessLog";

CaseFacts FactsFromPlan(const v1::CasePlan& plan) {
  CaseFacts facts;
  facts.exists = true;
  facts.case_manager_id = plan.case_manager_id();
  facts.team = plan.team();
  facts.program = plan.program();
  facts.consents.assign(plan.consents().begin(), plan.consents().end());
  return facts;
}

// The facts of an existing case from the projection's current plan (no
// facts if the projection has no plan for it).
absl::StatusOr<CaseFacts> FactsFromProjection(const ServiceDeps& deps,
                                              const std::string& case_id) {
  absl::StatusOr<v1::CasePlan> plan = deps.projection->GetPlan(case_id);
  if (absl::IsNotFound(plan.status())) return CaseFacts{};
  RETURN_IF_ERROR(plan.status());
  return FactsFromPlan(*plan);
}

// What the policy needs about a case, from the projection's current plan.
// Assignments, transfers and consents are events of the case itself, so
// this first waits (within the call's limits) until the projections have
// applied the case's last event committed when the call started: one just
// written is seen, and a call about a case nobody is writing to does not
// wait for the rest of the log. An unknown or malformed case has no facts
// (exists == false): the policy then denies scoped roles, and the handler
// reports NOT_FOUND or INVALID_ARGUMENT only to callers allowed to ask.
absl::StatusOr<CaseFacts> FactsOf(const ServiceDeps& deps,
                                  const grpc::CallbackServerContext* context,
                                  const std::string& case_id) {
  if (!engine::IsValidCaseId(case_id)) return CaseFacts{};
  ASSIGN_OR_RETURN(engine::CaseHead head, deps.log->GetCaseHead(case_id));
  if (head.version == 0) return CaseFacts{};
  RETURN_IF_ERROR(AwaitProjection(deps, context, head.last_position));
  return FactsFromProjection(deps, case_id);
}

// The one authorization step of a call about one case.
absl::StatusOr<Grant> AuthorizeCase(const ServiceDeps& deps,
                                    const grpc::CallbackServerContext* context,
                                    absl::string_view method, Action action,
                                    const std::string& case_id,
                                    CaseFacts* facts) {
  ASSIGN_OR_RETURN(*facts, FactsOf(deps, context, case_id));
  return deps.access->Authorize(*context, method, action, case_id, facts);
}

// The one authorization step of a call about no single case.
absl::StatusOr<Grant> AuthorizeCall(const ServiceDeps& deps,
                                    const grpc::CallbackServerContext* context,
                                    absl::string_view method, Action action) {
  return deps.access->Authorize(*context, method, action, "", nullptr);
}

std::vector<v1::SensitivityLabel> LabelsOf(
    const google::protobuf::RepeatedField<int>& labels) {
  std::vector<v1::SensitivityLabel> out;
  for (int l : labels) out.push_back(static_cast<v1::SensitivityLabel>(l));
  return out;
}

// Dates in de-identified outputs are coarsened to the month (day 0).
void CoarsenToMonth(v1::Date* date) {
  if (projections::IsSet(*date)) date->set_day(0);
}

// Only the server writes access records, into its own log.
absl::Status RefuseAccessRecords(const v1::AppendEventsRequest& request) {
  for (int i = 0; i < request.events_size(); ++i) {
    const v1::EventPayload& p = request.events(i).payload();
    if (p.has_access_recorded() ||
        (p.has_event_corrected() &&
         p.event_corrected().corrected().has_access_recorded())) {
      return absl::InvalidArgumentError(
          absl::StrCat("events[", i,
                       "].payload: AccessRecorded is written by the server "
                       "only"));
    }
  }
  return absl::OkStatus();
}

// The role name an actor record carries ("caseworker" for
// ROLE_CASEWORKER).
std::string ActorRole(v1::Role role) {
  std::string name = v1::Role_Name(role);
  if (absl::StartsWith(name, "ROLE_")) name = name.substr(5);
  return absl::AsciiStrToLower(name);
}

// Binds each appended event's actor to the authenticated principal of
// `grant`: an event without an actor is filled with the principal (id,
// granting role, organisation). Returns the other actors the events name,
// distinct and sorted (so the same request is judged the same way); each
// needs the principal's may_write_as grant.
std::vector<std::string> FillActors(const Grant& grant,
                                    std::vector<v1::Event>* events) {
  const v1::Principal& principal = *grant.identity.principal;
  absl::flat_hash_set<std::string> others;
  for (v1::Event& e : *events) {
    v1::Actor* actor = e.mutable_envelope()->mutable_actor();
    if (actor->user_id().empty()) {
      actor->set_user_id(principal.id());
      if (actor->role().empty()) {
        actor->set_role(ActorRole(grant.decision.role));
      }
      if (actor->organization().empty()) {
        actor->set_organization(principal.organization());
      }
    } else if (actor->user_id() != principal.id()) {
      others.insert(actor->user_id());
    }
  }
  std::vector<std::string> sorted(others.begin(), others.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

// PERMISSION_DENIED, recorded once in the access log, at the first of
// `others` the principal may not write as.
absl::Status AuthorizeActors(const ServiceDeps& deps, const Grant& grant,
                             const CaseFacts* facts,
                             const std::vector<std::string>& others) {
  for (const std::string& other : others) {
    RETURN_IF_ERROR(deps.access->AuthorizeActor(grant, facts, other));
  }
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* RunBlocking(const ServiceDeps& deps,
                                      grpc::CallbackServerContext* context,
                                      std::function<absl::Status()> work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const bool queued = deps.executor->Submit([reactor, context, work] {
    // A call cancelled (or past its deadline) while queued is not worked on.
    if (context->IsCancelled()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
      return;
    }
    reactor->Finish(ToGrpcStatus(work(), context));
  });
  if (!queued) {
    reactor->Finish(ToGrpcStatus(
        absl::ResourceExhaustedError("server busy; retry later"), context));
  }
  return reactor;
}

// ---------------------------------------------------------------------------
// Writing

namespace {

// FactsOf without its wait: the facts of the case an append is about, read
// now; or nullopt when the projections have not yet applied the case's last
// event (the caller must then use FactsOf, off gRPC's threads). Two point reads
// (the case head and the plan), served from the memtables or the block cache.
std::optional<absl::StatusOr<CaseFacts>> FactsWithoutWaiting(
    const ServiceDeps& deps, const std::string& case_id) {
  if (!engine::IsValidCaseId(case_id)) return CaseFacts{};
  absl::StatusOr<engine::CaseHead> head = deps.log->GetCaseHead(case_id);
  if (!head.ok()) return head.status();
  if (head->version == 0) return CaseFacts{};
  if (deps.projection->Position() < head->last_position) return std::nullopt;
  return FactsFromProjection(deps, case_id);
}

// A case not yet opened is scoped by the CaseOpened that opens it.
void ScopeNewCase(const v1::AppendEventsRequest& request, CaseFacts* facts) {
  if (facts->exists || request.events().empty() ||
      !request.events(0).payload().has_case_opened()) {
    return;
  }
  const v1::CaseOpened& opened = request.events(0).payload().case_opened();
  facts->case_manager_id = opened.case_manager_id();
  facts->team = opened.team();
  facts->program = opened.program();
}

// Hands an authorized append to the engine, whose thread finishes the call
// once the WAL is synced. Never waits.
// `events` are the request's, their actors bound (FillActors).
void StartAppend(const ServiceDeps& deps, grpc::ServerUnaryReactor* reactor,
                 grpc::CallbackServerContext* context,
                 const v1::AppendEventsRequest* request,
                 v1::AppendEventsResponse* response,
                 std::vector<v1::Event> events) {
  engine::AppendRequest append;
  append.case_id = request->case_id();
  append.expected = FromProto(request->expected());
  append.events = std::move(events);
  // The callback only fills the response and finishes the call.
  deps.log->AppendAsync(
      std::move(append),
      [reactor, context, response](absl::StatusOr<engine::AppendResult> r) {
        if (r.ok()) {
          response->set_first_version(r->first_version);
          response->set_last_version(r->last_version);
          response->set_first_position(r->first_position);
          response->set_last_position(r->last_position);
          response->set_commit_position(r->commit_position);
          response->set_replayed(r->replayed);
        }
        reactor->Finish(ToGrpcStatus(r.status(), context));
      });
}

// The fast path of an append, on gRPC's thread: true if the call was
// authorized and handed to the engine without waiting and without I/O
// beyond two point reads (the case head and the plan, from the memtables or
// the block cache). False (nothing done) when the projections have not yet
// applied the case's last event, or the call would be denied (a denial is
// recorded in the access log, a synced write, so it is left to the
// executor).
bool TryAppendWithoutWaiting(const ServiceDeps& deps,
                             grpc::ServerUnaryReactor* reactor,
                             grpc::CallbackServerContext* context,
                             const v1::AppendEventsRequest* request,
                             v1::AppendEventsResponse* response) {
  std::optional<absl::StatusOr<CaseFacts>> facts =
      FactsWithoutWaiting(deps, request->case_id());
  if (!facts.has_value() || !facts->ok()) return false;
  ScopeNewCase(*request, &**facts);
  const std::optional<Grant> grant = deps.access->AllowedWithoutRecording(
      *context, kAppendMethod, Action::kAppend, request->case_id(), &**facts);
  if (!grant.has_value() || !RefuseAccessRecords(*request).ok()) {
    return false;
  }
  std::vector<v1::Event> events(request->events().begin(),
                                request->events().end());
  for (const std::string& other : FillActors(*grant, &events)) {
    // Another actor not granted: the executor path records the denial.
    if (!deps.access->DecideActor(*grant, &**facts, other).allowed()) {
      return false;
    }
  }
  StartAppend(deps, reactor, context, request, response, std::move(events));
  return true;
}

}  // namespace

grpc::ServerUnaryReactor* CaseWriterService::AppendEvents(
    grpc::CallbackServerContext* context,
    const v1::AppendEventsRequest* request,
    v1::AppendEventsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Most appends take the fast path on gRPC's thread, which saves a
  // hand-off to the executor (two context switches per call).
  if (TryAppendWithoutWaiting(deps_, reactor, context, request, response)) {
    return reactor;
  }
  // Otherwise authorization waits for the projections (read-your-writes on
  // the case's own events) and records denials, on the executor.
  ServiceDeps deps = deps_;
  const bool queued = deps_.executor->Submit([deps, reactor, context, request,
                                              response] {
    if (context->IsCancelled()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
      return;
    }
    absl::StatusOr<CaseFacts> facts =
        FactsOf(deps, context, request->case_id());
    if (facts.ok()) ScopeNewCase(*request, &*facts);
    absl::StatusOr<Grant> grant =
        facts.ok()
            ? deps.access->Authorize(*context, kAppendMethod, Action::kAppend,
                                     request->case_id(), &*facts)
            : absl::StatusOr<Grant>(facts.status());
    absl::Status refused =
        grant.ok() ? RefuseAccessRecords(*request) : grant.status();
    if (!refused.ok()) {
      reactor->Finish(ToGrpcStatus(refused, context));
      return;
    }
    std::vector<v1::Event> events(request->events().begin(),
                                  request->events().end());
    absl::Status actors =
        AuthorizeActors(deps, *grant, &*facts, FillActors(*grant, &events));
    if (!actors.ok()) {
      reactor->Finish(ToGrpcStatus(actors, context));
      return;
    }
    StartAppend(deps, reactor, context, request, response, std::move(events));
  });
  if (!queued) {
    reactor->Finish(ToGrpcStatus(
        absl::ResourceExhaustedError("server busy; retry later"), context));
  }
  return reactor;
}

// ---------------------------------------------------------------------------
// Audit

grpc::ServerUnaryReactor* AuditService::ReadCaseHistory(
    grpc::CallbackServerContext* context,
    const v1::ReadCaseHistoryRequest* request,
    v1::ReadCaseHistoryResponse* response) {
  ServiceDeps deps = deps_;
  return RunBlocking(deps_, context, [deps, context, request, response]() {
    CaseFacts facts;
    ASSIGN_OR_RETURN(Grant grant, AuthorizeCase(deps, context, kHistoryMethod,
                                                Action::kReadHistory,
                                                request->case_id(), &facts));
    ASSIGN_OR_RETURN(uint64_t from,
                     ParseToken(request->page_token(), "page_token"));
    engine::ReadCaseRequest read;
    read.case_id = request->case_id();
    read.from_version = from;
    read.direction = request->backward() ? engine::Direction::kBackward
                                         : engine::Direction::kForward;
    read.max_count = PageSize(request->page_size());
    read.max_bytes = kMaxMessageBytes;
    ASSIGN_OR_RETURN(engine::ReadPage page, deps.log->ReadCase(read));
    ASSIGN_OR_RETURN(engine::CaseHead head,
                     deps.log->GetCaseHead(request->case_id()));
    // Every event's own hash was checked by the read. Check each link to the
    // previous event of the case too (one extra read at the page's edge).
    absl::flat_hash_map<uint64_t, std::string> hashes;
    for (const v1::Event& e : page.events) {
      hashes[e.envelope().stream_version()] = e.hash();
    }
    for (v1::Event& e : page.events) {
      const uint64_t v = e.envelope().stream_version();
      std::string previous;
      if (v == 1) {
        previous = std::string(32, '\0');
      } else if (auto it = hashes.find(v - 1); it != hashes.end()) {
        previous = it->second;
      } else {
        engine::ReadCaseRequest one;
        one.case_id = request->case_id();
        one.from_version = v - 1;
        one.max_count = 1;
        ASSIGN_OR_RETURN(engine::ReadPage prev, deps.log->ReadCase(one));
        if (!prev.events.empty()) previous = prev.events[0].hash();
      }
      v1::HistoryEvent* out = response->add_events();
      out->set_chain_status(e.envelope().prev_hash() == previous
                                ? v1::CHAIN_STATUS_VERIFIED
                                : v1::CHAIN_STATUS_BROKEN);
      const Decision seen =
          deps.access->DecideEvent(grant, &facts, e.envelope().event_type(),
                                   LabelsOf(e.envelope().sensitivity()));
      if (!seen.allowed()) {
        // Withheld: keep where it sits in the chain, nothing of its content.
        e.clear_payload();
        e.mutable_envelope()->clear_actor();
        e.mutable_envelope()->clear_source();
        e.mutable_envelope()->clear_correlation_id();
        e.mutable_envelope()->clear_causation_id();
        out->set_withheld(true);
        response->set_withheld(response->withheld() + 1);
      } else if (seen.decision == v1::ACCESS_DECISION_BREAK_GLASS) {
        grant.decision.decision = v1::ACCESS_DECISION_BREAK_GLASS;
      }
      *out->mutable_event() = std::move(e);
    }
    if (!page.end) response->set_next_page_token(absl::StrCat(page.next));
    response->set_case_version(head.version);
    const auto& events = response->events();
    RETURN_IF_ERROR(deps.access->RecordRead(
        grant,
        events.empty() ? 0
                       : events.begin()->event().envelope().stream_version(),
        events.empty() ? 0
                       : events.rbegin()->event().envelope().stream_version(),
        response->withheld()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AuditService::Verify(
    grpc::CallbackServerContext* context, const v1::VerifyRequest* request,
    v1::VerifyResponse* response) {
  ServiceDeps deps = deps_;
  return RunBlocking(deps_, context, [deps, context, request, response]() {
    RETURN_IF_ERROR(
        AuthorizeCall(deps, context, kVerifyMethod, Action::kVerify).status());
    const uint64_t log_position = deps.log->LastPosition();
    absl::StatusOr<engine::VerifyReport> report =
        request->case_id().empty() ? deps.log->VerifyAll([context](uint64_t) {
          return !context->IsCancelled();  // deadline, cancel, shutdown
        })
                                   : deps.log->VerifyCase(request->case_id());
    RETURN_IF_ERROR(report.status());
    response->set_ok(report->ok);
    response->set_events_checked(report->events_checked);
    response->set_cases_checked(report->cases_checked);
    response->set_first_broken_position(report->first_broken_position);
    response->set_problem(report->problem);
    response->set_log_position(log_position);
    if (!report->ok) {
      Log(LogLevel::kError, "verification found a broken chain",
          {{"position", absl::StrCat(report->first_broken_position)},
           {"problem", report->problem}});
    }
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------
// Queries

namespace {
// The plan the request asks for (current or point in time), unauthorized.
absl::Status ReadPlanInto(const ServiceDeps& deps,
                          grpc::CallbackServerContext* context,
                          const v1::GetPlanRequest* request,
                          v1::GetPlanResponse* response);
// Leaves out of the response's plan every element folded from events whose
// labels the caller of `grant` may not see (one Decide() per labelled
// element, like the timeline's per event), with a marker each (kind and
// labels) and the count. A break-glass pass marks the grant BREAK_GLASS.
void WithholdPlanElements(const ServiceDeps& deps, Grant* grant,
                          const CaseFacts& facts,
                          v1::GetPlanResponse* response) {
  v1::CasePlan* plan = response->mutable_plan();
  std::vector<projections::PlanElement> hidden;
  for (const v1::PlanElementLabels& entry : plan->element_labels()) {
    const Decision seen = deps.access->DecideEvent(
        *grant, &facts,
        absl::StrCat("plan:", projections::PlanElementKindName(entry.kind())),
        LabelsOf(entry.labels()));
    if (seen.allowed()) {
      if (seen.decision == v1::ACCESS_DECISION_BREAK_GLASS) {
        grant->decision.decision = v1::ACCESS_DECISION_BREAK_GLASS;
      }
      continue;
    }
    hidden.emplace_back(entry.kind(), entry.element_id());
    v1::PlanElementLabels* marker = response->add_withheld_elements();
    marker->set_kind(entry.kind());
    *marker->mutable_labels() = entry.labels();
  }
  for (const projections::PlanElement& element : hidden) {
    projections::RemovePlanElement(plan, element);
  }
  response->set_withheld(static_cast<uint32_t>(hidden.size()));
}
}  // namespace

grpc::ServerUnaryReactor* QueriesService::GetPlan(
    grpc::CallbackServerContext* context, const v1::GetPlanRequest* request,
    v1::GetPlanResponse* response) {
  ServiceDeps deps = deps_;
  return RunBlocking(deps_, context, [deps, context, request, response]() {
    CaseFacts facts;
    ASSIGN_OR_RETURN(Grant grant, AuthorizeCase(deps, context, kPlanMethod,
                                                Action::kReadPlan,
                                                request->case_id(), &facts));
    RETURN_IF_ERROR(NotErased(deps, request->case_id()));
    RETURN_IF_ERROR(ReadPlanInto(deps, context, request, response));
    WithholdPlanElements(deps, &grant, facts, response);
    return deps.access->RecordRead(grant, 1, response->plan().version(),
                                   response->withheld());
  });
}

namespace {
absl::Status ReadPlanInto(const ServiceDeps& deps,
                          grpc::CallbackServerContext* context,
                          const v1::GetPlanRequest* request,
                          v1::GetPlanResponse* response) {
  {
    const projections::ScoringConfig& scoring =
        projections::MetricsConfig().scoring;
    switch (request->as_of_case()) {
      case v1::GetPlanRequest::kRecordedPosition: {
        ASSIGN_OR_RETURN(*response->mutable_plan(),
                         projections::PlanAsRecordedAtPosition(
                             *deps.log, request->case_id(),
                             request->recorded_position(), scoring));
        return absl::OkStatus();
      }
      case v1::GetPlanRequest::kRecordedAt: {
        RETURN_IF_ERROR(CheckTimestamp(request->recorded_at(), "recorded_at"));
        ASSIGN_OR_RETURN(*response->mutable_plan(),
                         projections::PlanAsRecordedAtTime(
                             *deps.log, request->case_id(),
                             ToTime(request->recorded_at()), scoring));
        return absl::OkStatus();
      }
      case v1::GetPlanRequest::kOccurredAt: {
        RETURN_IF_ERROR(CheckTimestamp(request->occurred_at(), "occurred_at"));
        ASSIGN_OR_RETURN(*response->mutable_plan(),
                         projections::PlanAsOccurredAt(
                             *deps.log, request->case_id(),
                             ToTime(request->occurred_at()), scoring));
        return absl::OkStatus();
      }
      case v1::GetPlanRequest::AS_OF_NOT_SET:
        break;
    }
    RETURN_IF_ERROR(AwaitProjection(deps, context, request->min_position()));
    response->set_projection_position(deps.projection->Position());
    ASSIGN_OR_RETURN(*response->mutable_plan(),
                     deps.projection->GetPlan(request->case_id()));
    return absl::OkStatus();
  }
}
}  // namespace

grpc::ServerUnaryReactor* QueriesService::GetTimeline(
    grpc::CallbackServerContext* context, const v1::GetTimelineRequest* request,
    v1::GetTimelineResponse* response) {
  ServiceDeps deps = deps_;
  return RunBlocking(deps_, context, [deps, context, request, response]() {
    CaseFacts facts;
    ASSIGN_OR_RETURN(Grant grant, AuthorizeCase(deps, context, kTimelineMethod,
                                                Action::kReadTimeline,
                                                request->case_id(), &facts));
    RETURN_IF_ERROR(NotErased(deps, request->case_id()));
    projections::TimelineQuery query;
    query.case_id = request->case_id();
    query.event_types.insert(request->event_types().begin(),
                             request->event_types().end());
    if (request->has_since()) {
      RETURN_IF_ERROR(CheckTimestamp(request->since(), "since"));
      query.since = ToTime(request->since());
    }
    if (request->has_until()) {
      RETURN_IF_ERROR(CheckTimestamp(request->until(), "until"));
      query.until = ToTime(request->until());
    }
    ASSIGN_OR_RETURN(query.from_version,
                     ParseToken(request->page_token(), "page_token"));
    query.page_size = PageSize(request->page_size());
    RETURN_IF_ERROR(AwaitProjection(deps, context, request->min_position()));
    ASSIGN_OR_RETURN(projections::TimelinePage page,
                     deps.projection->GetTimeline(query));
    for (v1::TimelineEntry& entry : page.entries) {
      const Decision seen = deps.access->DecideEvent(
          grant, &facts, entry.event_type(), LabelsOf(entry.sensitivity()));
      if (!seen.allowed()) {
        response->set_withheld(response->withheld() + 1);
        continue;
      }
      if (seen.decision == v1::ACCESS_DECISION_BREAK_GLASS) {
        grant.decision.decision = v1::ACCESS_DECISION_BREAK_GLASS;
      }
      *response->add_entries() = std::move(entry);
    }
    if (page.next_version != 0) {
      response->set_next_page_token(absl::StrCat(page.next_version));
    }
    response->set_projection_position(page.position);
    const auto& entries = response->entries();
    RETURN_IF_ERROR(deps.access->RecordRead(
        grant, entries.empty() ? 0 : entries.begin()->stream_version(),
        entries.empty() ? 0 : entries.rbegin()->stream_version(),
        response->withheld()));
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------
// Analytics

grpc::ServerUnaryReactor* AnalyticsService::GetCaseMetrics(
    grpc::CallbackServerContext* context,
    const v1::GetCaseMetricsRequest* request,
    v1::GetCaseMetricsResponse* response) {
  ServiceDeps deps = deps_;
  return RunBlocking(deps_, context, [deps, context, request, response]() {
    CaseFacts facts;
    ASSIGN_OR_RETURN(
        Grant grant,
        AuthorizeCase(deps, context, kCaseMetricsMethod,
                      Action::kReadCaseMetrics, request->case_id(), &facts));
    if (projections::IsSet(request->as_of()) &&
        !projections::IsValidDate(request->as_of())) {
      return absl::InvalidArgumentError("as_of: not a calendar date");
    }
    RETURN_IF_ERROR(NotErased(deps, request->case_id()));
    RETURN_IF_ERROR(AwaitProjection(deps, context, request->min_position()));
    const v1::Date as_of =
        projections::IsSet(request->as_of()) ? request->as_of() : Today();
    ASSIGN_OR_RETURN(
        *response->mutable_metrics(),
        deps.projection->GetCaseMetrics(request->case_id(), as_of));
    if (grant.decision.deidentify) {
      // A case-level row for analysts: keyed pseudonym, month only.
      v1::CaseMetrics* m = response->mutable_metrics();
      m->set_case_id(deps.access->Pseudonym(m->case_id()));
      CoarsenToMonth(m->mutable_as_of());
    }
    return deps.access->RecordRead(grant, 0, 0, 0);
  });
}

grpc::ServerUnaryReactor* AnalyticsService::GetMetrics(
    grpc::CallbackServerContext* context, const v1::GetMetricsRequest* request,
    v1::GetMetricsResponse* response) {
  ServiceDeps deps = deps_;
  return RunBlocking(deps_, context, [deps, context, request, response]() {
    ASSIGN_OR_RETURN(Grant grant, AuthorizeCall(deps, context, kMetricsMethod,
                                                Action::kReadMetrics));
    ASSIGN_OR_RETURN(projections::MetricsQuery query, ToQuery(*request));
    RETURN_IF_ERROR(AwaitProjection(deps, context, request->min_position()));
    ASSIGN_OR_RETURN(*response->mutable_report(),
                     deps.projection->GetMetrics(query));
    if (grant.decision.deidentify) {
      // Staff identifiers become pseudonyms; dates are months. Groups under
      // the minimum size are already suppressed by the projection.
      v1::MetricsReport* r = response->mutable_report();
      if (r->group_by() == v1::METRICS_GROUP_BY_CASE_MANAGER) {
        for (v1::MetricGroup& g : *r->mutable_groups()) {
          g.set_key(deps.access->Pseudonym(g.key()));
        }
      }
      if (r->filters().has_case_manager_id()) {
        r->mutable_filters()->set_case_manager_id(
            deps.access->Pseudonym(r->filters().case_manager_id()));
      }
      CoarsenToMonth(r->mutable_filters()->mutable_opened_from());
      CoarsenToMonth(r->mutable_filters()->mutable_opened_to());
      CoarsenToMonth(r->mutable_as_of());
    }
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------
// Operations

grpc::ServerUnaryReactor* OperationsService::GetProjectionStatus(
    grpc::CallbackServerContext* context,
    const v1::GetProjectionStatusRequest* request,
    v1::GetProjectionStatusResponse* response) {
  ServiceDeps deps = deps_;
  // On the executor: a denial is written to the access log (an fsync).
  return RunBlocking(deps_, context, [deps, context, response]() {
    RETURN_IF_ERROR(
        AuthorizeCall(deps, context, kStatusMethod, Action::kOperate).status());
    for (const projections::ProjectionStatus& s : deps.projection->Status()) {
      v1::ProjectionStatusInfo* info = response->add_projections();
      info->set_name(s.name);
      info->set_version(s.version);
      info->set_position(s.position);
      info->set_log_position(s.log_position);
      info->set_lag(s.lag);
      info->set_events_applied(s.events_applied);
      info->set_skipped_unknown(s.skipped_unknown);
      info->set_rebuilding(s.rebuilding);
      info->set_rebuild_position(s.rebuild_position);
      info->set_last_error(s.last_error);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OperationsService::RebuildProjections(
    grpc::CallbackServerContext* context,
    const v1::RebuildProjectionsRequest* request,
    v1::RebuildProjectionsResponse* response) {
  ServiceDeps deps = deps_;
  return RunBlocking(deps_, context, [deps, context]() {
    RETURN_IF_ERROR(
        AuthorizeCall(deps, context, kRebuildMethod, Action::kOperate)
            .status());
    RETURN_IF_ERROR(deps.projection->StartRebuild());
    Log(LogLevel::kInfo, "projection rebuild started");
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OperationsService::Backup(
    grpc::CallbackServerContext* context, const v1::BackupRequest* request,
    v1::BackupResponse* response) {
  ServiceDeps deps = deps_;
  return RunBlocking(deps_, context, [deps, context, request, response]() {
    RETURN_IF_ERROR(
        AuthorizeCall(deps, context, kBackupMethod, Action::kOperate).status());
    // A plain name under the backup directory: no paths, so a caller cannot
    // write the log anywhere else on the server.
    const std::string& name = request->directory();
    const bool plain =
        !name.empty() && name.size() <= 128 && name != "." && name != ".." &&
        std::all_of(name.begin(), name.end(), [](char c) {
          return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                 c == '.' || c == '_' || c == '-';
        });
    if (!plain) {
      return absl::InvalidArgumentError(
          "directory: a plain name of [A-Za-z0-9._-] (it is created under "
          "the server's backup directory)");
    }
    const std::filesystem::path target =
        std::filesystem::path(deps.limits.backup_dir) / name;
    std::error_code ec;
    std::filesystem::create_directories(deps.limits.backup_dir, ec);
    std::filesystem::permissions(deps.limits.backup_dir,
                                 std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
    ASSIGN_OR_RETURN(uint64_t position, deps.log->Backup(target.string()));
    response->set_directory(target.string());
    response->set_position(position);
    Log(LogLevel::kInfo, "backup written",
        {{"position", absl::StrCat(position)}});
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------
// Erasure

grpc::ServerUnaryReactor* ErasureService::EraseCase(
    grpc::CallbackServerContext* context, const v1::EraseCaseRequest* request,
    v1::EraseCaseResponse* response) {
  ServiceDeps deps = deps_;
  return RunBlocking(deps_, context, [deps, context, request, response]() {
    // An operator (admin) action. It is written to the access log (who,
    // which case) before it is carried out; if that fails, nothing is erased.
    ASSIGN_OR_RETURN(Grant grant, deps.access->Authorize(
                                      *context, kEraseMethod, Action::kOperate,
                                      request->case_id(), nullptr));
    RETURN_IF_ERROR(deps.access->RecordRead(grant, 0, 0, 0));
    engine::EraseRequest erase;
    erase.case_id = request->case_id();
    erase.reason = request->reason();
    erase.legal_basis = request->legal_basis();
    erase.actor = request->actor();
    // Unnamed, the erasure is recorded as the authenticated principal's.
    if (erase.actor.user_id().empty() && grant.identity.principal != nullptr) {
      erase.actor.set_user_id(grant.identity.principal->id());
    }
    ASSIGN_OR_RETURN(engine::EraseResult result, deps.log->Erase(erase));
    response->set_erasure_position(result.erasure_position);
    response->set_already_erased(result.already_erased);
    const int64_t nanos = absl::ToUnixNanos(result.erased_at);
    response->mutable_erased_at()->set_seconds(nanos / 1000000000);
    response->mutable_erased_at()->set_nanos(
        static_cast<int32_t>(nanos % 1000000000));
    // Reason and legal basis are free text: not logged.
    Log(LogLevel::kInfo, "case erased",
        {{"case_id", erase.case_id},
         {"erased_by", erase.actor.user_id()},
         {"position", absl::StrCat(result.erasure_position)},
         {"already_erased", result.already_erased ? "true" : "false"}});
    return AwaitProjection(deps, context, result.erasure_position);
  });
}

// ---------------------------------------------------------------------------
// Subscriptions

SubscriptionHub::SubscriptionHub(engine::EventLog* log, int max_subscriptions)
    : log_(log), max_subscriptions_(max_subscriptions) {
  listener_id_ = log_->AddCommitListener(
      [this](uint64_t position) { OnCommit(position); });
}

SubscriptionHub::~SubscriptionHub() {
  log_->RemoveCommitListener(listener_id_);
}

bool SubscriptionHub::Acquire() {
  absl::MutexLock lock(&mu_);
  if (shutting_down_ || active_ >= max_subscriptions_) return false;
  ++active_;
  return true;
}

void SubscriptionHub::Release() {
  absl::MutexLock lock(&mu_);
  --active_;
}

void SubscriptionHub::AwaitAllReleased() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* active) { return *active == 0; }, &active_));
}

uint64_t SubscriptionHub::WaitBeyond(uint64_t position,
                                     std::function<void()> wake) {
  absl::MutexLock lock(&mu_);
  // Checked under mu_: a commit after this check calls OnCommit, which
  // needs mu_, so it cannot slip between the check and the registration.
  if (shutting_down_ || log_->LastPosition() > position) return 0;
  const uint64_t id = next_id_++;
  waiters_.emplace(id, std::move(wake));
  return id;
}

bool SubscriptionHub::Cancel(uint64_t id) {
  absl::MutexLock lock(&mu_);
  return waiters_.erase(id) > 0;
}

void SubscriptionHub::OnCommit(uint64_t position) {
  std::map<uint64_t, std::function<void()>> woken;
  {
    absl::MutexLock lock(&mu_);
    woken.swap(waiters_);
  }
  for (auto& [id, wake] : woken) wake();
}

void SubscriptionHub::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
  }
  OnCommit(0);
}

bool SubscriptionHub::shutting_down() const {
  absl::MutexLock lock(&mu_);
  return shutting_down_;
}

namespace {

// Leaves out of `events` what the caller of `grant` may not see (by each
// event's case facts, type and labels); returns how many were left out.
// Waits until the projections cover the events, so a case opened in the
// same batch has its program.
absl::StatusOr<uint32_t> FilterForCaller(
    const ServiceDeps& deps, const grpc::CallbackServerContext* context,
    const Grant& grant, std::vector<v1::Event>* events) {
  if (events->empty()) return 0;
  RETURN_IF_ERROR(AwaitProjection(deps, context,
                                  events->back().envelope().global_position()));
  absl::flat_hash_map<std::string, CaseFacts> facts;
  std::vector<v1::Event> kept;
  uint32_t withheld = 0;
  for (v1::Event& e : *events) {
    const std::string& case_id = e.envelope().case_id();
    auto it = facts.find(case_id);
    if (it == facts.end()) {
      absl::StatusOr<v1::CasePlan> plan = deps.projection->GetPlan(case_id);
      if (!plan.ok() && !absl::IsNotFound(plan.status())) {
        return plan.status();
      }
      it =
          facts.emplace(case_id, plan.ok() ? FactsFromPlan(*plan) : CaseFacts{})
              .first;
    }
    const Decision seen =
        deps.access->DecideEvent(grant, &it->second, e.envelope().event_type(),
                                 LabelsOf(e.envelope().sensitivity()));
    if (seen.allowed()) {
      kept.push_back(std::move(e));
    } else {
      ++withheld;
    }
  }
  *events = std::move(kept);
  return withheld;
}

// One subscription: reads the log from storage in batches and writes them,
// one message in flight at a time (so a slow reader slows the reads, and
// nothing is buffered beyond one batch); at the end of the log it waits for
// the next commit. The position to read next is the only state, so the
// switch from catch-up to live has no gap and no duplicate.
//
// Finish() is always called after mu_ is released: once it is called, gRPC
// may run OnDone (which deletes this) on another thread at any moment.
class SubscribeReactor final
    : public grpc::ServerWriteReactor<v1::SubscribeResponse> {
 public:
  SubscribeReactor(ServiceDeps deps, grpc::CallbackServerContext* context,
                   const v1::SubscribeRequest& request)
      : deps_(deps), context_(context) {
    read_.from_position = request.has_from_now()
                              ? deps_.log->LastPosition() + 1
                              : std::max<uint64_t>(request.from_position(), 1);
    read_.max_count = request.max_batch() == 0
                          ? kDefaultBatch
                          : std::min(request.max_batch(), kMaxPage);
    read_.event_types.insert(request.event_types().begin(),
                             request.event_types().end());
    read_.case_id = request.case_id();
    read_.max_bytes = kMaxMessageBytes;  // read no more than one message holds
    std::optional<grpc::Status> done;
    {
      absl::MutexLock lock(&mu_);
      done = ScheduleLocked();
    }
    if (done) Finish(*done);
  }

  void OnWriteDone(bool ok) override {
    std::optional<grpc::Status> done;
    {
      absl::MutexLock lock(&mu_);
      busy_ = false;
      done = ok ? ScheduleLocked()
                : FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED,
                                            "the client stopped reading"));
    }
    if (done) Finish(*done);
  }

  void OnCancel() override {
    std::optional<grpc::Status> done;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      if (waiter_ != 0 && deps_.hub->Cancel(waiter_)) {
        waiter_ = 0;
        busy_ = false;
      }
      if (!busy_) {
        done = FinishLocked(
            grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
      }
    }
    if (done) Finish(*done);
  }

  void OnDone() override {
    // Release last: once every slot is released the hub may be destroyed
    // (LedgerServer::Shutdown), and this reactor's teardown may still use it.
    SubscriptionHub* const hub = deps_.hub;
    delete this;
    hub->Release();
  }

 private:
  // Queues one read-and-write step, or returns the status to finish with.
  // REQUIRES: mu_ held, !busy_.
  std::optional<grpc::Status> ScheduleLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return std::nullopt;
    if (cancelled_) {
      return FinishLocked(
          grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    }
    if (deps_.hub->shutting_down()) {
      return FinishLocked(grpc::Status(
          grpc::StatusCode::UNAVAILABLE,
          "server shutting down; resume from the last resume_from"));
    }
    busy_ = true;
    if (!deps_.executor->Submit([this] { Step(); })) {
      busy_ = false;
      return FinishLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                       "server busy; resume later"));
    }
    return std::nullopt;
  }

  // Marks the stream finished; the caller calls Finish(status) after
  // releasing mu_. Returns nullopt if already finished.
  std::optional<grpc::Status> FinishLocked(grpc::Status status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return std::nullopt;
    finished_ = true;
    return status;
  }

  // On the executor: one read from storage, then a write or a wait. The
  // first step authorizes the call.
  void Step() {
    if (!grant_.has_value()) {
      CaseFacts facts;
      absl::StatusOr<Grant> grant =
          read_.case_id.empty()
              ? AuthorizeCall(deps_, context_, kSubscribeMethod,
                              Action::kSubscribe)
              : AuthorizeCase(deps_, context_, kSubscribeMethod,
                              Action::kSubscribe, read_.case_id, &facts);
      if (!grant.ok()) {
        std::optional<grpc::Status> done;
        {
          absl::MutexLock lock(&mu_);
          busy_ = false;
          done = FinishLocked(ToGrpcStatus(grant.status(), context_));
        }
        if (done) Finish(*done);
        return;
      }
      grant_ = std::move(*grant);
    }
    absl::StatusOr<engine::ReadPage> page = deps_.log->ReadAll(read_);
    // Decided on the events read, before filtering: a page whose events
    // are all withheld still moves the subscription on.
    const bool nothing_read = page.ok() && page->events.empty();
    if (page.ok() && !nothing_read) {
      const uint64_t first = page->events.front().envelope().global_position();
      const uint64_t last = page->events.back().envelope().global_position();
      absl::StatusOr<uint32_t> withheld =
          FilterForCaller(deps_, context_, *grant_, &page->events);
      absl::Status recorded = withheld.status();
      if (recorded.ok()) {
        withheld_ = *withheld;
        recorded = deps_.access->RecordRead(*grant_, first, last, withheld_);
      }
      if (!recorded.ok()) page = recorded;
    }
    std::optional<grpc::Status> done;
    bool write = false;
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_ || !page.ok()) {
        busy_ = false;
        done = FinishLocked(
            cancelled_ ? grpc::Status(grpc::StatusCode::CANCELLED, "cancelled")
                       : ToGrpcStatus(page.status()));
      } else if (nothing_read && page->end && announced_caught_up_) {
        // Follow live: wait for the next commit beyond what we have read.
        const uint64_t waiter =
            deps_.hub->WaitBeyond(page->next - 1, [this] { Woken(); });
        if (waiter == 0) {
          // Already moved on (or shutting down): step again.
          busy_ = false;
          done = ScheduleLocked();
        } else {
          waiter_ = waiter;  // still busy_: the waiter schedules the next step
        }
      } else {
        Fill(*page);
        write = true;
      }
    }
    if (done) Finish(*done);
    // Not under mu_: OnWriteDone may run at once on another thread.
    if (write) StartWrite(&response_);
  }

  // Moves the page into response_ (the read already stopped at
  // kMaxMessageBytes) and advances the read position past it.
  void Fill(engine::ReadPage& page) {
    response_.Clear();
    for (v1::Event& event : page.events) {
      *response_.add_events() = std::move(event);
    }
    response_.set_resume_from(page.next);
    response_.set_caught_up(page.end);
    response_.set_withheld(withheld_);
    withheld_ = 0;
    if (page.end) announced_caught_up_ = true;
    read_.from_position = page.next;
  }

  void Woken() {
    std::optional<grpc::Status> done;
    {
      absl::MutexLock lock(&mu_);
      waiter_ = 0;
      busy_ = false;
      done = ScheduleLocked();
    }
    if (done) Finish(*done);
  }

  const ServiceDeps deps_;
  // Valid until OnDone.
  grpc::CallbackServerContext* const context_;
  // Touched by one step at a time (steps never overlap: busy_).
  std::optional<Grant> grant_;
  uint32_t withheld_ = 0;
  engine::ReadAllRequest read_;
  v1::SubscribeResponse response_;
  bool announced_caught_up_ = false;
  absl::Mutex mu_;
  bool busy_ ABSL_GUARDED_BY(mu_) = false;  // a step, write or wait pending
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t waiter_ ABSL_GUARDED_BY(mu_) = 0;
};

// Finishes at once (limit reached or bad request).
class RejectedReactor final
    : public grpc::ServerWriteReactor<v1::SubscribeResponse> {
 public:
  explicit RejectedReactor(grpc::Status status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<v1::SubscribeResponse>*
SubscriptionsService::Subscribe(grpc::CallbackServerContext* context,
                                const v1::SubscribeRequest* request) {
  if (!request->case_id().empty() &&
      !engine::IsValidCaseId(request->case_id())) {
    return new RejectedReactor(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "case_id: malformed"));
  }
  if (!deps_.hub->Acquire()) {
    return new RejectedReactor(
        deps_.hub->shutting_down()
            ? grpc::Status(grpc::StatusCode::UNAVAILABLE,
                           "server shutting down")
            : grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                           "too many subscriptions; retry later"));
  }
  return new SubscribeReactor(deps_, context, *request);
}

// ---------------------------------------------------------------------------
// Access log

grpc::ServerUnaryReactor* AccessLogServiceImpl::QueryAccessLog(
    grpc::CallbackServerContext* context,
    const v1::QueryAccessLogRequest* request,
    v1::QueryAccessLogResponse* response) {
  ServiceDeps deps = deps_;
  return RunBlocking(deps_, context, [deps, context, request, response]() {
    ASSIGN_OR_RETURN(Grant grant,
                     AuthorizeCall(deps, context, kQueryAccessLogMethod,
                                   Action::kReadAccessLog));
    AccessLogQuery query;
    query.case_id = request->case_id();
    query.principal = request->principal();
    if (request->has_since()) {
      RETURN_IF_ERROR(CheckTimestamp(request->since(), "since"));
      query.since = ToTime(request->since());
    }
    if (request->has_until()) {
      RETURN_IF_ERROR(CheckTimestamp(request->until(), "until"));
      query.until = ToTime(request->until());
    }
    ASSIGN_OR_RETURN(query.after,
                     ParseToken(request->page_token(), "page_token"));
    query.max_count = PageSize(request->page_size());
    ASSIGN_OR_RETURN(AccessLogPage page,
                     deps.access->access_log()->Query(query));
    // The auditor's query is itself recorded before the answer is returned
    // (after it was read, so it is not part of its own answer).
    grant.case_id = request->case_id();
    RETURN_IF_ERROR(deps.access->RecordRead(grant, 0, 0, 0));
    for (v1::Event& record : page.records) {
      *response->add_records() = std::move(record);
    }
    if (page.next_after != 0) {
      response->set_next_page_token(absl::StrCat(page.next_after));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AccessLogServiceImpl::VerifyAccessLog(
    grpc::CallbackServerContext* context,
    const v1::VerifyAccessLogRequest* request,
    v1::VerifyAccessLogResponse* response) {
  ServiceDeps deps = deps_;
  return RunBlocking(deps_, context, [deps, context, response]() {
    RETURN_IF_ERROR(AuthorizeCall(deps, context, kVerifyAccessLogMethod,
                                  Action::kReadAccessLog)
                        .status());
    engine::EventLog* log = deps.access->access_log()->log();
    const uint64_t position = log->LastPosition();
    ASSIGN_OR_RETURN(engine::VerifyReport report,
                     log->VerifyAll([context](uint64_t) {
                       return !context->IsCancelled();
                     }));
    response->set_ok(report.ok);
    response->set_records_checked(report.events_checked);
    response->set_first_broken_position(report.first_broken_position);
    response->set_problem(report.problem);
    response->set_log_position(position);
    if (!report.ok) {
      Log(LogLevel::kError, "access log verification found a broken chain",
          {{"position", absl::StrCat(report.first_broken_position)}});
    }
    return absl::OkStatus();
  });
}

}  // namespace caseledger::services
