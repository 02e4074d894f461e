// Decide(): the one policy function, table-driven over role x scope x
// action x sensitivity (and consent, break-glass, service filters).

#include "services/policy.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/dates.h"

namespace caseledger::services {
namespace {

using v1::ACCESS_DECISION_ALLOWED;
using v1::ACCESS_DECISION_BREAK_GLASS;
using v1::ACCESS_DECISION_DENIED;

constexpr v1::SensitivityLabel kPart2 =
    v1::SENSITIVITY_LABEL_SUBSTANCE_USE_PART2;
constexpr v1::SensitivityLabel kNotes = v1::SENSITIVITY_LABEL_COUNSELLING_NOTES;
constexpr v1::SensitivityLabel kHealth = v1::SENSITIVITY_LABEL_HEALTH;

v1::Principal Make(const std::string& id, v1::Role role,
                   std::vector<std::string> teams = {},
                   std::vector<v1::SensitivityLabel> labels = {}) {
  v1::Principal p;
  p.set_id(id);
  p.add_roles(role);
  for (const std::string& t : teams) p.add_teams(t);
  for (v1::SensitivityLabel l : labels) p.add_allowed_labels(l);
  p.set_token_sha256_hex(std::string(64, 'a'));
  return p;
}

// Scope of the case the query is about, relative to the principal.
enum class Scope { kAssigned, kTeam, kOther, kNoCase };

CaseFacts FactsFor(Scope scope) {
  CaseFacts f;
  f.exists = true;
  f.program = "housing-first";
  switch (scope) {
    case Scope::kAssigned:
      f.case_manager_id = "cm-anna";
      f.team = "east";
      break;
    case Scope::kTeam:
      f.case_manager_id = "cm-bob";
      f.team = "north";
      break;
    case Scope::kOther:
      f.case_manager_id = "cm-carl";
      f.team = "south";
      break;
    case Scope::kNoCase:
      break;
  }
  return f;
}

struct Row {
  const char* name;
  v1::Role role;
  Scope scope;
  Action action;
  // Event-level when set.
  std::string event_type;
  std::vector<v1::SensitivityLabel> labels;
  std::string purpose;
  v1::AccessDecision want;
  std::string reason;  // when denied
};

class PolicyTest : public ::testing::Test {
 protected:
  PolicyTest() {
    policy_.add_consent_required_labels(kPart2);
    policy_.add_consent_required_labels(kNotes);
  }

  Decision Run(const v1::Principal& principal, const Row& row,
               const CaseFacts* facts) const {
    AccessQuery q;
    q.action = row.action;
    q.case_facts = facts;
    q.event_type = row.event_type;
    q.labels = row.labels;
    q.purpose = row.purpose;
    q.today = projections::MakeDate(2026, 12, 6);
    return Decide(policy_, principal, q);
  }

  v1::AccessPolicy policy_;
};

// The principal for each role: anna is case manager of the kAssigned case
// and in team "north" (the kTeam case); labels: HEALTH and PART2.
v1::Principal PrincipalFor(v1::Role role) {
  v1::Principal p = Make("cm-anna", role, {"north"}, {kHealth, kPart2});
  if (role == v1::ROLE_SERVICE) {
    p.add_programs("housing-first");
    p.add_event_types("GoalSet");
  }
  return p;
}

TEST_F(PolicyTest, Matrix) {
  using A = Action;
  using S = Scope;
  const v1::Role cw = v1::ROLE_CASEWORKER, sup = v1::ROLE_SUPERVISOR,
                 aud = v1::ROLE_AUDITOR, ana = v1::ROLE_ANALYST,
                 svc = v1::ROLE_SERVICE, adm = v1::ROLE_ADMIN;
  const auto ok = ACCESS_DECISION_ALLOWED;
  const auto no = ACCESS_DECISION_DENIED;
  const std::vector<Row> rows = {
      // caseworker: own cases and team cases, content actions
      {"cw append assigned", cw, S::kAssigned, A::kAppend, "", {}, "", ok, ""},
      {"cw plan assigned", cw, S::kAssigned, A::kReadPlan, "", {}, "", ok, ""},
      {"cw timeline team", cw, S::kTeam, A::kReadTimeline, "", {}, "", ok, ""},
      {"cw history team", cw, S::kTeam, A::kReadHistory, "", {}, "", ok, ""},
      {"cw case metrics team",
       cw,
       S::kTeam,
       A::kReadCaseMetrics,
       "",
       {},
       "",
       ok,
       ""},
      {"cw plan other", cw, S::kOther, A::kReadPlan, "", {}, "", no, "scope"},
      {"cw append other", cw, S::kOther, A::kAppend, "", {}, "", no, "scope"},
      {"cw metrics", cw, S::kNoCase, A::kReadMetrics, "", {}, "", ok, ""},
      {"cw verify", cw, S::kNoCase, A::kVerify, "", {}, "", no, "role"},
      {"cw operate", cw, S::kNoCase, A::kOperate, "", {}, "", no, "role"},
      {"cw access log",
       cw,
       S::kNoCase,
       A::kReadAccessLog,
       "",
       {},
       "",
       no,
       "role"},
      {"cw subscribe", cw, S::kNoCase, A::kSubscribe, "", {}, "", no, "role"},
      // supervisor: team only (not by case manager)
      {"sup plan team", sup, S::kTeam, A::kReadPlan, "", {}, "", ok, ""},
      {"sup append team", sup, S::kTeam, A::kAppend, "", {}, "", ok, ""},
      {"sup plan assigned-not-team",
       sup,
       S::kAssigned,
       A::kReadPlan,
       "",
       {},
       "",
       no,
       "scope"},
      {"sup history other",
       sup,
       S::kOther,
       A::kReadHistory,
       "",
       {},
       "",
       no,
       "scope"},
      // auditor: reads every case, writes nothing
      {"aud history other",
       aud,
       S::kOther,
       A::kReadHistory,
       "",
       {},
       "",
       ok,
       ""},
      {"aud timeline other",
       aud,
       S::kOther,
       A::kReadTimeline,
       "",
       {},
       "",
       ok,
       ""},
      {"aud verify", aud, S::kNoCase, A::kVerify, "", {}, "", ok, ""},
      {"aud access log",
       aud,
       S::kNoCase,
       A::kReadAccessLog,
       "",
       {},
       "",
       ok,
       ""},
      {"aud append", aud, S::kOther, A::kAppend, "", {}, "", no, "role"},
      {"aud operate", aud, S::kNoCase, A::kOperate, "", {}, "", no, "role"},
      {"aud metrics", aud, S::kNoCase, A::kReadMetrics, "", {}, "", no, "role"},
      // analyst: aggregated and de-identified only
      {"ana metrics", ana, S::kNoCase, A::kReadMetrics, "", {}, "", ok, ""},
      {"ana case metrics",
       ana,
       S::kOther,
       A::kReadCaseMetrics,
       "",
       {},
       "",
       ok,
       ""},
      {"ana plan", ana, S::kAssigned, A::kReadPlan, "", {}, "", no, "role"},
      {"ana timeline",
       ana,
       S::kAssigned,
       A::kReadTimeline,
       "",
       {},
       "",
       no,
       "role"},
      {"ana history",
       ana,
       S::kAssigned,
       A::kReadHistory,
       "",
       {},
       "",
       no,
       "role"},
      {"ana subscribe", ana, S::kNoCase, A::kSubscribe, "", {}, "", no, "role"},
      {"ana append", ana, S::kAssigned, A::kAppend, "", {}, "", no, "role"},
      // service: subscribe/history within programs and event types
      {"svc subscribe", svc, S::kNoCase, A::kSubscribe, "", {}, "", ok, ""},
      {"svc history in program",
       svc,
       S::kOther,
       A::kReadHistory,
       "",
       {},
       "",
       ok,
       ""},
      {"svc event allowed type",
       svc,
       S::kOther,
       A::kSubscribe,
       "GoalSet",
       {},
       "",
       ok,
       ""},
      {"svc event other type",
       svc,
       S::kOther,
       A::kSubscribe,
       "NoteRecorded",
       {},
       "",
       no,
       "event type"},
      {"svc plan", svc, S::kOther, A::kReadPlan, "", {}, "", no, "role"},
      {"svc append", svc, S::kOther, A::kAppend, "", {}, "", no, "role"},
      // admin: operations, no content
      {"adm operate", adm, S::kNoCase, A::kOperate, "", {}, "", ok, ""},
      {"adm verify", adm, S::kNoCase, A::kVerify, "", {}, "", ok, ""},
      {"adm plan", adm, S::kAssigned, A::kReadPlan, "", {}, "", no, "role"},
      {"adm history",
       adm,
       S::kAssigned,
       A::kReadHistory,
       "",
       {},
       "",
       no,
       "role"},
      {"adm access log",
       adm,
       S::kNoCase,
       A::kReadAccessLog,
       "",
       {},
       "",
       no,
       "role"},
      // sensitivity: unlabelled and allowed labels pass; others withheld
      {"cw event no label",
       cw,
       S::kAssigned,
       A::kReadTimeline,
       "NoteRecorded",
       {},
       "",
       ok,
       ""},
      {"cw event health",
       cw,
       S::kAssigned,
       A::kReadTimeline,
       "NoteRecorded",
       {kHealth},
       "",
       ok,
       ""},
      {"cw event notes not allowed",
       cw,
       S::kAssigned,
       A::kReadTimeline,
       "NoteRecorded",
       {kNotes},
       "treatment",
       no,
       "label"},
      {"cw event part2 no consent",
       cw,
       S::kAssigned,
       A::kReadHistory,
       "NoteRecorded",
       {kPart2},
       "",
       no,
       "consent"},
      {"aud event part2 exempt from consent",
       aud,
       S::kOther,
       A::kReadHistory,
       "NoteRecorded",
       {kPart2},
       "",
       ok,
       ""},
      {"aud event notes not allowed",
       aud,
       S::kOther,
       A::kReadHistory,
       "NoteRecorded",
       {kNotes},
       "",
       no,
       "label"},
      {"svc event part2 no consent",
       svc,
       S::kOther,
       A::kSubscribe,
       "GoalSet",
       {kPart2},
       "",
       no,
       "consent"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const CaseFacts facts = FactsFor(row.scope);
    const Decision d = Run(PrincipalFor(row.role), row,
                           row.scope == Scope::kNoCase ? nullptr : &facts);
    EXPECT_EQ(d.decision, row.want) << row.name;
    if (row.want == ACCESS_DECISION_DENIED) {
      EXPECT_EQ(d.reason, row.reason) << row.name;
      EXPECT_EQ(d.role, v1::ROLE_UNSPECIFIED) << row.name;
    } else {
      EXPECT_EQ(d.role, row.role) << row.name;
      EXPECT_EQ(d.deidentify, row.role == v1::ROLE_ANALYST) << row.name;
    }
  }
}

TEST_F(PolicyTest, ConsentInForceForThePurposeDisclosesPart2) {
  v1::Principal anna = PrincipalFor(v1::ROLE_CASEWORKER);
  CaseFacts facts = FactsFor(Scope::kAssigned);
  v1::ConsentInForce consent;
  consent.set_consent_id("c1");
  consent.add_purposes("treatment");
  consent.add_data_categories(kPart2);
  *consent.mutable_expires_on() = projections::MakeDate(2027, 1, 1);
  facts.consents.push_back(consent);
  Row row{"",
          v1::ROLE_CASEWORKER,
          Scope::kAssigned,
          Action::kReadTimeline,
          "NoteRecorded",
          {kPart2},
          "treatment",
          ACCESS_DECISION_ALLOWED,
          ""};
  EXPECT_EQ(Run(anna, row, &facts).decision, ACCESS_DECISION_ALLOWED);
  // Another purpose, no purpose, or an expired consent: withheld.
  row.purpose = "employer-contact";
  EXPECT_EQ(Run(anna, row, &facts).reason, "consent");
  row.purpose = "";
  EXPECT_EQ(Run(anna, row, &facts).reason, "consent");
  row.purpose = "treatment";
  *facts.consents[0].mutable_expires_on() = projections::MakeDate(2026, 12, 5);
  EXPECT_EQ(Run(anna, row, &facts).reason, "consent");
  // A consent for another category does not cover Part 2.
  facts.consents[0].clear_expires_on();
  facts.consents[0].set_data_categories(0, kHealth);
  EXPECT_EQ(Run(anna, row, &facts).reason, "consent");
}

TEST_F(PolicyTest, BreakGlassPassesScopeAndConsentButNotLabelsOrWrites) {
  v1::Principal anna = PrincipalFor(v1::ROLE_CASEWORKER);
  const CaseFacts other = FactsFor(Scope::kOther);
  Row row{"",
          v1::ROLE_CASEWORKER,
          Scope::kOther,
          Action::kReadHistory,
          "",
          {},
          "break-glass: client in crisis",
          ACCESS_DECISION_DENIED,
          ""};
  // Not allowed to break glass: denied.
  EXPECT_EQ(Run(anna, row, &other).reason, "scope");
  anna.set_may_break_glass(true);
  EXPECT_EQ(Run(anna, row, &other).decision, ACCESS_DECISION_BREAK_GLASS);
  // A purpose without a reason is no break-glass.
  row.purpose = "break-glass:";
  EXPECT_EQ(Run(anna, row, &other).reason, "scope");
  row.purpose = "break-glass: crisis";
  // Consent-required label without consent: break-glass.
  row.event_type = "NoteRecorded";
  row.labels = {kPart2};
  EXPECT_EQ(Run(anna, row, &other).decision, ACCESS_DECISION_BREAK_GLASS);
  // A label the principal may never see stays withheld.
  row.labels = {kNotes};
  EXPECT_EQ(Run(anna, row, &other).reason, "label");
  // Writes outside scope are never break-glass.
  row.event_type.clear();
  row.labels.clear();
  row.action = Action::kAppend;
  EXPECT_EQ(Run(anna, row, &other).reason, "scope");
}

TEST_F(PolicyTest, AppendsNameThePrincipalAsActorUnlessGranted) {
  v1::Principal anna = PrincipalFor(v1::ROLE_CASEWORKER);
  const CaseFacts assigned = FactsFor(Scope::kAssigned);
  AccessQuery q;
  q.action = Action::kAppend;
  q.case_facts = &assigned;
  q.today = projections::MakeDate(2026, 12, 6);
  // Call level (no actor) and her own id: allowed.
  EXPECT_EQ(Decide(policy_, anna, q).decision, ACCESS_DECISION_ALLOWED);
  q.actor = "cm-anna";
  EXPECT_EQ(Decide(policy_, anna, q).decision, ACCESS_DECISION_ALLOWED);
  // Someone else: denied, whatever her scope.
  q.actor = "cm-bob";
  Decision d = Decide(policy_, anna, q);
  EXPECT_EQ(d.decision, ACCESS_DECISION_DENIED);
  EXPECT_EQ(d.reason, "actor");
  // Break-glass does not let her write as another.
  q.purpose = "break-glass: crisis";
  anna.set_may_break_glass(true);
  EXPECT_EQ(Decide(policy_, anna, q).reason, "actor");
  // Only an explicit grant does: a named actor, or "*".
  anna.add_may_write_as("cm-carl");
  EXPECT_EQ(Decide(policy_, anna, q).reason, "actor");
  anna.add_may_write_as("cm-bob");
  EXPECT_EQ(Decide(policy_, anna, q).decision, ACCESS_DECISION_ALLOWED);
  v1::Principal sup = PrincipalFor(v1::ROLE_SUPERVISOR);
  const CaseFacts team = FactsFor(Scope::kTeam);
  q.case_facts = &team;
  q.purpose.clear();
  EXPECT_EQ(Decide(policy_, sup, q).reason, "actor");
  sup.add_may_write_as("*");
  EXPECT_EQ(Decide(policy_, sup, q).decision, ACCESS_DECISION_ALLOWED);
  // The grant does not widen scope: still only cases she may write.
  const CaseFacts other = FactsFor(Scope::kOther);
  q.case_facts = &other;
  EXPECT_EQ(Decide(policy_, sup, q).reason, "scope");
  // Roles that may not append stay denied for the role.
  v1::Principal aud = PrincipalFor(v1::ROLE_AUDITOR);
  aud.add_may_write_as("*");
  EXPECT_EQ(Decide(policy_, aud, q).reason, "role");
}

TEST_F(PolicyTest, SeveralRolesOneSuffices) {
  v1::Principal p = Make("ops", v1::ROLE_ADMIN);
  p.add_roles(v1::ROLE_AUDITOR);
  const CaseFacts other = FactsFor(Scope::kOther);
  Row row{"",
          v1::ROLE_ADMIN,
          Scope::kOther,
          Action::kReadHistory,
          "",
          {},
          "",
          ACCESS_DECISION_ALLOWED,
          ""};
  Decision d = Run(p, row, &other);
  EXPECT_EQ(d.decision, ACCESS_DECISION_ALLOWED);
  EXPECT_EQ(d.role, v1::ROLE_AUDITOR);
  row.action = Action::kAppend;
  EXPECT_EQ(Run(p, row, &other).decision, ACCESS_DECISION_DENIED);
}

TEST_F(PolicyTest, UnknownCaseAndNoRolesAreDenied) {
  v1::Principal anna = PrincipalFor(v1::ROLE_CASEWORKER);
  CaseFacts unknown;  // exists == false: no team, no case manager
  Row row{"",
          v1::ROLE_CASEWORKER,
          Scope::kNoCase,
          Action::kReadPlan,
          "",
          {},
          "",
          ACCESS_DECISION_DENIED,
          ""};
  EXPECT_EQ(Run(anna, row, &unknown).reason, "scope");
  v1::Principal none;
  none.set_id("nobody");
  EXPECT_EQ(Run(none, row, &unknown).decision, ACCESS_DECISION_DENIED);
  // "*" covers every team, even a case not yet known.
  anna.add_teams("*");
  EXPECT_EQ(Run(anna, row, &unknown).decision, ACCESS_DECISION_ALLOWED);
}

TEST_F(PolicyTest, ParsePolicyChecksPrincipals) {
  EXPECT_TRUE(
      ParsePolicy(R"pb(
        principals {
          id: "cm-anna"
          roles: ROLE_CASEWORKER
          teams: "east"
          token_sha256_hex: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        }
        consent_required_labels: SENSITIVITY_LABEL_SUBSTANCE_USE_PART2
      )pb")
          .ok());
  for (const char* bad : {
           "principals { roles: ROLE_ADMIN certificate_identity: \"x\" }",
           "principals { id: \"a\" certificate_identity: \"x\" }",
           "principals { id: \"a\" roles: ROLE_ADMIN }",
           "principals { id: \"a\" roles: ROLE_ADMIN token_sha256_hex: "
           "\"ABC\" }",
           "principals { id: \"a\" roles: ROLE_ADMIN certificate_identity: "
           "\"x\" } principals { id: \"a\" roles: ROLE_ADMIN "
           "certificate_identity: \"y\" }",
           "principals { id: \"a\" roles: ROLE_CASEWORKER "
           "certificate_identity: \"x\" may_write_as: \"\" }",
           "not a policy",
       }) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(ParsePolicy(bad).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace caseledger::services
