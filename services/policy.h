#ifndef CASELEDGER_SERVICES_POLICY_H_
#define CASELEDGER_SERVICES_POLICY_H_

// The access policy: one pure function, Decide(), makes every authorization
// decision of the server (who may do which action on which case, and which
// labelled events they may see), from the policy file
// (caseledger.v1.AccessPolicy, proto/caseledger/v1/access_policy.proto) and
// facts about the case from the projection's current plan. Default deny:
// anything not granted below is DENIED.
//
// Role grants (a principal may hold several roles; one granting suffices):
//   caseworker  append, plan, timeline, history, case metrics for cases whose
//               case manager is the principal or whose team is one of
//               principal.teams; aggregated metrics
//   supervisor  the same for cases whose team is one of principal.teams
//   auditor     plan, timeline, history of every case; verify; access log
//   analyst     aggregated metrics and de-identified case metrics only
//   service     subscribe and history, only events whose type is in
//               principal.event_types and whose case's program is in
//               principal.programs
//   admin       operations and verify; no case content
// Appends name the principal as the events' actor; another actor only if
// principal.may_write_as covers it ("*": anyone), else denied ("actor").
// Labelled events: every label must be in principal.allowed_labels; a label
// in policy.consent_required_labels also needs a consent in force for the
// call's purpose (auditors are exempt from the consent requirement, not
// from allowed_labels). Break-glass (principal.may_break_glass and a
// purpose "break-glass:<reason>") lets caseworkers and supervisors past
// case scope and consent, never past allowed_labels; it is recorded as
// BREAK_GLASS.
//
// Everything here is pure and thread-safe.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "caseledger/v1/access_policy.pb.h"
#include "caseledger/v1/projections.pb.h"

namespace caseledger::services {

enum class Action {
  kAppend,
  kReadPlan,
  kReadTimeline,
  kReadHistory,
  kReadCaseMetrics,  // one case's outcome metrics
  kReadMetrics,      // aggregated outcome metrics
  kSubscribe,
  kVerify,
  kOperate,  // status, rebuild, backup, import: operator actions
  kReadAccessLog,
};

absl::string_view ActionName(Action action);

// What a decision needs to know about the case, from the projection's
// current plan (or, for the append that opens a case, from its CaseOpened).
struct CaseFacts {
  bool exists = false;
  std::string case_manager_id;
  std::string team;
  std::string program;
  std::vector<v1::ConsentInForce> consents;
};

struct AccessQuery {
  Action action = Action::kReadPlan;
  // The case the call is about; nullptr for calls about no single case
  // (aggregated metrics, subscriptions across cases, operations).
  const CaseFacts* case_facts = nullptr;
  // Event-level decision (one event of a history, timeline or
  // subscription): its type and labels; or one element of a plan: type
  // "plan:<kind>" ("plan:goal") and the labels of the events folded into
  // it. Empty type: a call-level decision.
  std::string event_type;
  std::vector<v1::SensitivityLabel> labels;
  // kAppend only: an actor id (Actor.user_id) the appended events name.
  // Empty: the call-level decision. Set and different from the principal's
  // id: allowed only if principal.may_write_as covers it (reason "actor").
  std::string actor;
  // The purpose the client sent ("x-purpose").
  std::string purpose;
  // For consent expiry.
  v1::Date today;
};

struct Decision {
  v1::AccessDecision decision = v1::ACCESS_DECISION_DENIED;
  // The role that granted it (ROLE_UNSPECIFIED when denied).
  v1::Role role = v1::ROLE_UNSPECIFIED;
  // Why it was denied: "role", "scope", "event type", "program", "label",
  // "consent", "actor"; empty when allowed. Never record content.
  std::string reason;
  // The output must be de-identified (analysts).
  bool deidentify = false;

  bool allowed() const {
    return decision == v1::ACCESS_DECISION_ALLOWED ||
           decision == v1::ACCESS_DECISION_BREAK_GLASS;
  }
};

// The one policy function. Pure: the same arguments give the same decision.
Decision Decide(const v1::AccessPolicy& policy, const v1::Principal& principal,
                const AccessQuery& query);

// True if `purpose` asks for break-glass access ("break-glass:" and a
// reason).
bool IsBreakGlass(absl::string_view purpose);

// Parses and checks a policy file's text: INVALID_ARGUMENT naming the
// principal's index and field (ids unique and non-empty, a role each, token
// hashes 64 lower-case hex digits, no UNSPECIFIED role or label).
absl::StatusOr<v1::AccessPolicy> ParsePolicy(absl::string_view text);

}  // namespace caseledger::services

#endif  // CASELEDGER_SERVICES_POLICY_H_
