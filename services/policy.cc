#include "services/policy.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "projections/dates.h"

namespace caseledger::services {
namespace {

constexpr absl::string_view kBreakGlassPrefix = "break-glass:";

template <typename List, typename T>
bool Contains(const List& list, const T& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// A scope list grants `value` if it holds it or "*".
template <typename List>
bool Covers(const List& list, const std::string& value) {
  return Contains(list, std::string("*")) ||
         (!value.empty() && Contains(list, value));
}

bool InTeams(const v1::Principal& principal, const CaseFacts& facts) {
  return Covers(principal.teams(), facts.team);
}

bool IsCaseContent(Action action) {
  switch (action) {
    case Action::kAppend:
    case Action::kReadPlan:
    case Action::kReadTimeline:
    case Action::kReadHistory:
    case Action::kReadCaseMetrics:
      return true;
    default:
      return false;
  }
}

// A consent in force on `today` that covers `label` for `purpose`.
bool ConsentCovers(const CaseFacts& facts, v1::SensitivityLabel label,
                   const std::string& purpose, const v1::Date& today) {
  if (purpose.empty()) return false;
  for (const v1::ConsentInForce& c : facts.consents) {
    if (projections::IsSet(c.expires_on()) &&
        projections::Compare(c.expires_on(), today) < 0) {
      continue;
    }
    if (Contains(c.data_categories(), label) &&
        Contains(c.purposes(), purpose)) {
      return true;
    }
  }
  return false;
}

Decision Deny(std::string reason) {
  Decision d;
  d.decision = v1::ACCESS_DECISION_DENIED;
  d.reason = std::move(reason);
  return d;
}

Decision Allow(v1::Role role, bool break_glass) {
  Decision d;
  d.decision = break_glass ? v1::ACCESS_DECISION_BREAK_GLASS
                           : v1::ACCESS_DECISION_ALLOWED;
  d.role = role;
  d.deidentify = role == v1::ROLE_ANALYST;
  return d;
}

// Labels of an event-level query: each must be allowed to the principal,
// and consent-required ones need consent (unless exempt or break-glass).
// Returns the deny reason, or "" if the labels pass; sets *needed_break_glass
// when only break-glass lets them pass.
std::string CheckLabels(const v1::AccessPolicy& policy,
                        const v1::Principal& principal,
                        const AccessQuery& query, bool consent_exempt,
                        bool* needed_break_glass) {
  for (int label : query.labels) {
    const auto l = static_cast<v1::SensitivityLabel>(label);
    if (!Contains(principal.allowed_labels(), label)) return "label";
    if (consent_exempt || !Contains(policy.consent_required_labels(), label)) {
      continue;
    }
    const bool consented =
        query.case_facts != nullptr &&
        ConsentCovers(*query.case_facts, l, query.purpose, query.today);
    if (consented) continue;
    if (principal.may_break_glass() && IsBreakGlass(query.purpose)) {
      *needed_break_glass = true;
      continue;
    }
    return "consent";
  }
  return "";
}

// One role's decision.
Decision DecideForRole(const v1::AccessPolicy& policy,
                       const v1::Principal& principal, v1::Role role,
                       const AccessQuery& query) {
  const Action a = query.action;
  const bool event_level = !query.event_type.empty();
  bool break_glass = false;
  switch (role) {
    case v1::ROLE_CASEWORKER:
    case v1::ROLE_SUPERVISOR: {
      if (a == Action::kReadMetrics && !event_level) {
        return Allow(role, false);
      }
      if (!IsCaseContent(a)) return Deny("role");
      if (query.case_facts == nullptr) return Deny("scope");
      const CaseFacts& facts = *query.case_facts;
      const bool assigned = role == v1::ROLE_CASEWORKER &&
                            !facts.case_manager_id.empty() &&
                            facts.case_manager_id == principal.id();
      if (!assigned && !InTeams(principal, facts)) {
        // Break-glass reads only; writes always need scope.
        if (a == Action::kAppend || !principal.may_break_glass() ||
            !IsBreakGlass(query.purpose)) {
          return Deny("scope");
        }
        break_glass = true;
      }
      if (a == Action::kAppend && !query.actor.empty() &&
          query.actor != principal.id() &&
          !Covers(principal.may_write_as(), query.actor)) {
        return Deny("actor");
      }
      if (event_level) {
        std::string r = CheckLabels(policy, principal, query,
                                    /*consent_exempt=*/false, &break_glass);
        if (!r.empty()) return Deny(r);
      }
      return Allow(role, break_glass);
    }
    case v1::ROLE_AUDITOR: {
      if (a != Action::kReadPlan && a != Action::kReadTimeline &&
          a != Action::kReadHistory && a != Action::kVerify &&
          a != Action::kReadAccessLog) {
        return Deny("role");
      }
      if (event_level) {
        bool unused = false;
        std::string r = CheckLabels(policy, principal, query,
                                    /*consent_exempt=*/true, &unused);
        if (!r.empty()) return Deny(r);
      }
      return Allow(role, false);
    }
    case v1::ROLE_ANALYST:
      if (event_level ||
          (a != Action::kReadMetrics && a != Action::kReadCaseMetrics)) {
        return Deny("role");
      }
      return Allow(role, false);
    case v1::ROLE_SERVICE: {
      if (a != Action::kSubscribe && a != Action::kReadHistory) {
        return Deny("role");
      }
      if (query.case_facts != nullptr &&
          !Covers(principal.programs(), query.case_facts->program)) {
        return Deny("program");
      }
      if (a == Action::kReadHistory && query.case_facts == nullptr) {
        return Deny("program");
      }
      if (event_level) {
        if (query.case_facts == nullptr) return Deny("program");
        if (!Covers(principal.event_types(), query.event_type)) {
          return Deny("event type");
        }
        bool unused = false;
        std::string r = CheckLabels(policy, principal, query,
                                    /*consent_exempt=*/false, &unused);
        if (!r.empty()) return Deny(r);
        if (unused) return Deny("consent");  // services never break glass
      }
      return Allow(role, false);
    }
    case v1::ROLE_ADMIN:
      if (a == Action::kOperate || (a == Action::kVerify && !event_level)) {
        return Allow(role, false);
      }
      return Deny("role");
    default:
      return Deny("role");
  }
}

}  // namespace

absl::string_view ActionName(Action action) {
  switch (action) {
    case Action::kAppend:
      return "append";
    case Action::kReadPlan:
      return "plan";
    case Action::kReadTimeline:
      return "timeline";
    case Action::kReadHistory:
      return "history";
    case Action::kReadCaseMetrics:
      return "case_metrics";
    case Action::kReadMetrics:
      return "metrics";
    case Action::kSubscribe:
      return "subscription";
    case Action::kVerify:
      return "verify";
    case Action::kOperate:
      return "operations";
    case Action::kReadAccessLog:
      return "access_log";
  }
  return "unknown";
}

bool IsBreakGlass(absl::string_view purpose) {
  return absl::StartsWith(purpose, kBreakGlassPrefix) &&
         !absl::StripAsciiWhitespace(purpose.substr(kBreakGlassPrefix.size()))
              .empty();
}

Decision Decide(const v1::AccessPolicy& policy, const v1::Principal& principal,
                const AccessQuery& query) {
  Decision first_denial = Deny("role");
  bool have_denial = false;
  Decision break_glass;
  bool have_break_glass = false;
  for (int r : principal.roles()) {
    Decision d =
        DecideForRole(policy, principal, static_cast<v1::Role>(r), query);
    if (d.decision == v1::ACCESS_DECISION_ALLOWED) return d;
    if (d.decision == v1::ACCESS_DECISION_BREAK_GLASS && !have_break_glass) {
      break_glass = d;
      have_break_glass = true;
    } else if (!d.allowed() && !have_denial) {
      // A role that grants the action but not this case says more than
      // one that does not grant the action at all.
      first_denial = d;
      have_denial = d.reason != "role";
    }
  }
  if (have_break_glass) return break_glass;
  return first_denial;
}

absl::StatusOr<v1::AccessPolicy> ParsePolicy(absl::string_view text) {
  v1::AccessPolicy policy;
  if (!google::protobuf::TextFormat::ParseFromString(std::string(text),
                                                     &policy)) {
    return absl::InvalidArgumentError(
        "policy: not a caseledger.v1.AccessPolicy in protobuf text format");
  }
  absl::flat_hash_set<std::string> ids;
  for (int i = 0; i < policy.principals_size(); ++i) {
    const v1::Principal& p = policy.principals(i);
    const std::string f = absl::StrCat("principals[", i, "]");
    if (p.id().empty()) return absl::InvalidArgumentError(f + ".id: required");
    if (!ids.insert(p.id()).second) {
      return absl::InvalidArgumentError(f + ".id: repeated");
    }
    if (p.roles().empty()) {
      return absl::InvalidArgumentError(f + ".roles: at least one required");
    }
    for (int r : p.roles()) {
      if (r == v1::ROLE_UNSPECIFIED) {
        return absl::InvalidArgumentError(f + ".roles: ROLE_UNSPECIFIED");
      }
    }
    for (int l : p.allowed_labels()) {
      if (l == v1::SENSITIVITY_LABEL_UNSPECIFIED) {
        return absl::InvalidArgumentError(f + ".allowed_labels: UNSPECIFIED");
      }
    }
    const std::string& h = p.token_sha256_hex();
    if (!h.empty() &&
        (h.size() != 64 || !std::all_of(h.begin(), h.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         }))) {
      return absl::InvalidArgumentError(
          f + ".token_sha256_hex: 64 lower-case hex digits");
    }
    for (const std::string& actor : p.may_write_as()) {
      if (actor.empty()) {
        return absl::InvalidArgumentError(f + ".may_write_as: empty entry");
      }
    }
    if (h.empty() && p.certificate_identity().empty()) {
      return absl::InvalidArgumentError(
          f + ": needs token_sha256_hex or certificate_identity");
    }
  }
  return policy;
}

}  // namespace caseledger::services
