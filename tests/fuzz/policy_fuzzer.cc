// libFuzzer target: caseledgerd's access policy file (protobuf text format
// of caseledger.v1.AccessPolicy), parsed by services::ParsePolicy as
// caseledgerd parses --policy, from arbitrary text. Must not crash. A
// rejected file is INVALID_ARGUMENT. An accepted one holds what ParsePolicy
// promises (ids non-empty and unique, a role each, no UNSPECIFIED role,
// well-formed token hashes), prints and parses back to the same policy, and
// every principal's decisions over every action keep Decide's contract:
// the same answer twice (Decide is pure); denied means no granting role and
// a reason; allowed means a role the principal holds and no reason.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "caseledger/v1/access_policy.pb.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/policy.h"

namespace {

using caseledger::services::AccessQuery;
using caseledger::services::Action;
using caseledger::services::CaseFacts;
using caseledger::services::Decide;
using caseledger::services::Decision;
using caseledger::services::ParsePolicy;
namespace v1 = caseledger::v1;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

bool WellFormedHash(const std::string& h) {
  return h.empty() ||
         (h.size() == 64 && std::all_of(h.begin(), h.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
          }));
}

void CheckDecision(const v1::AccessPolicy& policy, const v1::Principal& p,
                   const AccessQuery& query) {
  const Decision first = Decide(policy, p, query);
  const Decision again = Decide(policy, p, query);
  Check(first.decision == again.decision && first.role == again.role &&
        first.reason == again.reason && first.deidentify == again.deidentify);
  if (first.allowed()) {
    Check(first.reason.empty());
    Check(std::find(p.roles().begin(), p.roles().end(), first.role) !=
          p.roles().end());
  } else {
    Check(first.role == v1::ROLE_UNSPECIFIED);
    Check(!first.reason.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<v1::AccessPolicy> parsed = ParsePolicy(text);
  if (!parsed.ok()) {
    Check(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  const v1::AccessPolicy& policy = *parsed;
  std::set<std::string> ids;
  for (const v1::Principal& p : policy.principals()) {
    Check(!p.id().empty() && ids.insert(p.id()).second);
    Check(!p.roles().empty());
    for (int r : p.roles()) Check(r != v1::ROLE_UNSPECIFIED);
    Check(WellFormedHash(p.token_sha256_hex()));
  }

  std::string printed;
  Check(google::protobuf::TextFormat::PrintToString(policy, &printed));
  absl::StatusOr<v1::AccessPolicy> reparsed = ParsePolicy(printed);
  Check(reparsed.ok() &&
        google::protobuf::util::MessageDifferencer::Equals(policy, *reparsed));

  // Decisions: a case managed by the first principal, in its first team and
  // program, for every action, at call level and for one labelled event.
  CaseFacts facts;
  facts.exists = true;
  if (policy.principals_size() > 0) {
    const v1::Principal& first = policy.principals(0);
    facts.case_manager_id = first.id();
    if (first.teams_size() > 0) facts.team = first.teams(0);
    if (first.programs_size() > 0) facts.program = first.programs(0);
  }
  const int kPrincipals = std::min(policy.principals_size(), 8);
  for (int i = 0; i < kPrincipals; ++i) {
    const v1::Principal& p = policy.principals(i);
    for (Action action :
         {Action::kAppend, Action::kReadPlan, Action::kReadTimeline,
          Action::kReadHistory, Action::kReadCaseMetrics, Action::kReadMetrics,
          Action::kSubscribe, Action::kVerify, Action::kOperate,
          Action::kReadAccessLog}) {
      AccessQuery query;
      query.action = action;
      query.case_facts = &facts;
      query.today.set_year(2026);
      query.today.set_month(12);
      query.today.set_day(7);
      CheckDecision(policy, p, query);
      query.event_type = "GoalSet";
      query.labels = {v1::SENSITIVITY_LABEL_HEALTH};
      query.purpose = "break-glass: fuzz";
      CheckDecision(policy, p, query);
      if (action == Action::kAppend) {
        query.event_type.clear();
        query.labels.clear();
        query.actor = "someone-else";
        CheckDecision(policy, p, query);
      }
    }
  }
  return 0;
}
