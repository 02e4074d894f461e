#include "tools/casectl/format.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "projections/dates.h"
#include "projections/timeline.h"

namespace caseledger::casectl {
namespace {

using projections::FormatDate;

std::string Time(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  return absl::FormatTime(
      "%Y-%m-%d %H:%M",
      absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos()),
      absl::UTCTimeZone());
}

std::string DateOr(const v1::Date& d, const std::string& none = "-") {
  const std::string s = FormatDate(d);
  return s.empty() ? none : s;
}

std::string Rate(const v1::Rate& r) {
  if (!r.has_value())
    return absl::StrCat("-  (", r.numerator(), "/", r.denominator(), ")");
  return absl::StrFormat("%.2f (%d/%d)", r.value(), r.numerator(),
                         r.denominator());
}

std::string Score(const v1::ScoreSummary& s) {
  if (!s.has_mean()) return "-";
  return absl::StrFormat("%.2f (n=%d)", s.mean(), s.n());
}

std::string Median(const v1::TimeToEventSummary& t) {
  if (t.cases() == 0) return "-";
  return absl::StrCat(t.median_reached()
                          ? absl::StrFormat("%.0f d", t.median_days())
                          : std::string("not reached"),
                      " (", t.observed(), " obs, ", t.censored(), " cens)");
}

std::string Responsible(v1::ResponsibleParty p, const std::string& name) {
  std::string who;
  switch (p) {
    case v1::RESPONSIBLE_PARTY_CLIENT:
      who = "client";
      break;
    case v1::RESPONSIBLE_PARTY_CASE_MANAGER:
      who = "case manager";
      break;
    case v1::RESPONSIBLE_PARTY_NATURAL_SUPPORTER:
      who = "natural supporter";
      break;
    case v1::RESPONSIBLE_PARTY_OTHER:
      who = "other";
      break;
    default:
      who = "-";
  }
  return name.empty() ? who : absl::StrCat(who, " (", name, ")");
}

std::string StepStatus(v1::StepStatus s) {
  switch (s) {
    case v1::STEP_STATUS_COMPLETED:
      return "done";
    case v1::STEP_STATUS_DROPPED:
      return "dropped";
    default:
      return "open";
  }
}

}  // namespace

std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i]);
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string FormatPlan(const v1::CasePlan& plan) {
  std::string out = absl::StrCat(
      "Case ", plan.case_id(), "  ",
      plan.status() == v1::CASE_STATUS_CLOSED ? "CLOSED" : "OPEN", "  program ",
      plan.program(), "  case manager ", plan.case_manager_id(), "  team ",
      plan.team(), "\n", "Opened ", DateOr(plan.opened_on()),
      plan.status() == v1::CASE_STATUS_CLOSED
          ? absl::StrCat("  closed ", DateOr(plan.closed_on()))
          : "",
      "  plan revision ", plan.plan_revision(), "  last contact ",
      Time(plan.last_contact_at()), "  (version ", plan.version(),
      ", position ", plan.position(), ")\n");
  if (!plan.priorities().empty()) {
    absl::StrAppend(&out, "\nPriorities:\n");
    for (const auto& p : plan.priorities()) {
      absl::StrAppend(&out, "  ", p.rank(), ". ", p.domain(), ": ", p.text(),
                      "\n");
    }
  }
  for (const v1::PlanGoal& goal : plan.goals()) {
    absl::StrAppend(&out, "\nGoal '", goal.statement(), "'  [",
                    projections::LifecycleName(goal.lifecycle_status()), ", ",
                    projections::AchievementName(goal.achievement_status()),
                    "]  target ", DateOr(goal.target_date()),
                    goal.life_domain().empty()
                        ? ""
                        : absl::StrCat("  (", goal.life_domain(), ")"),
                    "\n");
    if (!goal.why_important().empty()) {
      absl::StrAppend(&out, "  why: ", goal.why_important(), "\n");
    }
    if (goal.has_gas()) {
      std::vector<std::string> ratings;
      for (const auto& r : goal.gas().latest_ratings()) {
        ratings.push_back(absl::StrCat(
            r.time_point() == v1::TIME_POINT_BASELINE    ? "baseline "
            : r.time_point() == v1::TIME_POINT_FOLLOW_UP ? "follow-up "
                                                         : "interim ",
            r.level() > 0 ? "+" : "", r.level()));
      }
      absl::StrAppend(
          &out, "  GAS weight ", goal.gas().weight(), ": ",
          ratings.empty() ? "not rated" : absl::StrJoin(ratings, ", "), "\n");
    }
    for (const v1::PlanStep& step : goal.steps()) {
      absl::StrAppend(&out, "  - [", StepStatus(step.status()), "] ",
                      step.description(), "  (",
                      Responsible(step.responsible(), step.responsible_name()),
                      "; due ", DateOr(step.target_date()),
                      step.status() == v1::STEP_STATUS_COMPLETED
                          ? absl::StrCat("; done ", DateOr(step.completed_on()))
                          : "",
                      ")\n");
    }
  }
  if (!plan.resources().empty()) {
    absl::StrAppend(&out, "\nResources:\n");
    for (const auto& r : plan.resources()) {
      absl::StrAppend(&out, "  ", projections::ResourceKindName(r.kind()), ": ",
                      r.name(), r.active() ? "" : " (ended)", "\n");
    }
  }
  if (!plan.support_network().empty()) {
    absl::StrAppend(&out, "\nSupport network:\n");
    for (const auto& p : plan.support_network()) {
      if (!p.active()) continue;
      absl::StrAppend(&out, "  ", p.name(), " (", p.relation(),
                      p.natural() ? ", natural" : ", paid", ")\n");
    }
  }
  if (!plan.employer_agreements().empty()) {
    absl::StrAppend(&out, "\nEmployer agreements:\n");
    for (const auto& a : plan.employer_agreements()) {
      absl::StrAppend(&out, "  ", a.agreement().description(), "  (owner ",
                      a.agreement().owner(), "; due ",
                      DateOr(a.agreement().due_on()), ")\n");
    }
  }
  if (plan.has_work() && !plan.work().employer().empty()) {
    absl::StrAppend(&out, "\nWork: ", plan.work().employer(), ", working ",
                    plan.work().working_percent(), "% of contracted ",
                    plan.work().contracted_percent(), "%\n");
  }
  if (!plan.consents().empty()) {
    absl::StrAppend(&out, "\nConsents in force:\n");
    for (const auto& c : plan.consents()) {
      absl::StrAppend(&out, "  ", absl::StrJoin(c.purposes(), ", "), " -> ",
                      absl::StrJoin(c.recipients(), ", "), "  until ",
                      DateOr(c.expires_on(), "no expiry"), "\n");
    }
  }
  if (!plan.measures().empty()) {
    absl::StrAppend(&out, "\nMeasures:\n");
    for (const auto& m : plan.measures()) {
      absl::StrAppend(
          &out, "  ", v1::Instrument_Name(m.instrument()).substr(11), " ",
          m.time_point() == v1::TIME_POINT_BASELINE ? "intake" : "exit", " ",
          DateOr(m.administered_on()), ": ",
          m.scorable() ? absl::StrFormat("%.2f", m.score()) : "not scorable",
          m.band().empty() ? "" : absl::StrCat(" (", m.band(), ")"), "\n");
    }
  }
  return out;
}

std::string FormatTimeline(const v1::GetTimelineResponse& timeline) {
  std::vector<std::vector<std::string>> rows = {
      {"VER", "OCCURRED", "RECORDED", "ACTOR", "SUMMARY"}};
  for (const v1::TimelineEntry& e : timeline.entries()) {
    std::string summary = e.summary();
    if (e.entered_in_error())
      summary += "  [entered in error]";
    else if (!e.corrected_by().empty())
      summary += "  [corrected]";
    rows.push_back({absl::StrCat(e.stream_version()), Time(e.occurred_at()),
                    Time(e.recorded_at()), e.actor().user_id(), summary});
  }
  std::string out = Table(rows);
  if (timeline.withheld() > 0) {
    absl::StrAppend(&out, "(", timeline.withheld(),
                    " event(s) withheld: sensitivity labels without the role "
                    "or consent)\n");
  }
  if (!timeline.next_page_token().empty()) {
    absl::StrAppend(&out, "(more: --page-token ", timeline.next_page_token(),
                    ")\n");
  }
  return out;
}

std::string FormatHistory(const v1::ReadCaseHistoryResponse& history) {
  std::vector<std::vector<std::string>> rows = {
      {"VER", "POS", "TYPE", "ACTOR", "OCCURRED", "RECORDED", "HASH", "CHAIN"}};
  for (const v1::HistoryEvent& h : history.events()) {
    const v1::EventEnvelope& env = h.event().envelope();
    std::string hash;
    for (unsigned char c : h.event().hash().substr(0, 6)) {
      absl::StrAppend(&hash, absl::Hex(c, absl::kZeroPad2));
    }
    rows.push_back(
        {absl::StrCat(env.stream_version()),
         absl::StrCat(env.global_position()),
         h.event().payload_erased()
             ? absl::StrCat(env.event_type(), " [erased]")
             : env.event_type(),
         absl::StrCat(env.actor().user_id(), "/", env.actor().role()),
         Time(env.occurred_at()), Time(env.recorded_at()), hash,
         h.chain_status() == v1::CHAIN_STATUS_VERIFIED ? "ok" : "BROKEN"});
    if (h.withheld()) rows.back()[3] = "[withheld]";
  }
  std::string out = Table(rows);
  if (history.withheld() > 0) {
    absl::StrAppend(&out, "(", history.withheld(),
                    " event(s) withheld: content not shown)\n");
  }
  if (!history.next_page_token().empty()) {
    absl::StrAppend(&out, "(more: --page-token ", history.next_page_token(),
                    ")\n");
  }
  return out;
}

std::string FormatMetrics(const v1::MetricsReport& report) {
  std::vector<std::vector<std::string>> rows = {
      {"GROUP", "CASES", "GAS T follow-up", "GAS change", "goal attainment",
       "steps on time", "community contacts", "natural resources", "BRS change",
       "time to RTW", "open-to-close"}};
  for (const v1::MetricGroup& g : report.groups()) {
    if (g.suppressed()) {
      rows.push_back({g.key(), "<min", "(suppressed)"});
      continue;
    }
    const v1::MetricFigures& f = g.figures();
    rows.push_back({g.key(), absl::StrCat(g.cases()),
                    Score(f.gas().follow_up_t()), Score(f.gas().change()),
                    Rate(f.goal_attainment()), Rate(f.step_on_time()),
                    Rate(f.community_contact_share()),
                    Rate(f.natural_resource_share()), Score(f.brs().change()),
                    Median(f.time_to_return()), Median(f.open_to_close())});
  }
  return absl::StrCat(Table(rows), "as of ", FormatDate(report.as_of()),
                      "; position ", report.position(), "; projection v",
                      report.projection_version(), "; groups under ",
                      report.min_group_size(), " cases suppressed\n");
}

std::string FormatVerify(const v1::VerifyResponse& verify) {
  if (verify.ok()) {
    return absl::StrCat("OK: ", verify.events_checked(), " events in ",
                        verify.cases_checked(),
                        " case(s) verified; hash chains intact\n");
  }
  return absl::StrCat("BROKEN at global position ",
                      verify.first_broken_position(), ": ", verify.problem(),
                      " (", verify.events_checked(),
                      " events verified before it)\n");
}

std::string FormatStatus(const v1::GetProjectionStatusResponse& status) {
  std::vector<std::vector<std::string>> rows = {
      {"PROJECTION", "VERSION", "POSITION", "LOG", "LAG", "SKIPPED",
       "REBUILDING", "ERROR"}};
  for (const auto& p : status.projections()) {
    rows.push_back({p.name(), absl::StrCat(p.version()),
                    absl::StrCat(p.position()), absl::StrCat(p.log_position()),
                    absl::StrCat(p.lag()), absl::StrCat(p.skipped_unknown()),
                    p.rebuilding()
                        ? absl::StrCat("yes (", p.rebuild_position(), ")")
                        : "no",
                    p.last_error().empty() ? "-" : p.last_error()});
  }
  return Table(rows);
}

std::string FormatAccessLog(const v1::QueryAccessLogResponse& response) {
  std::vector<std::vector<std::string>> rows = {
      {"POS", "TIME", "DECISION", "PRINCIPAL", "ROLE", "OUTPUT", "CASE",
       "RANGE", "WITHHELD", "PURPOSE", "PEER", "REASON"}};
  for (const v1::Event& e : response.records()) {
    const v1::AccessRecorded& r = e.payload().access_recorded();
    const std::string decision(absl::StripPrefix(
        v1::AccessDecision_Name(r.decision()), "ACCESS_DECISION_"));
    const std::string role(absl::StripPrefix(v1::Role_Name(r.role()), "ROLE_"));
    rows.push_back(
        {absl::StrCat(e.envelope().global_position()),
         Time(e.envelope().occurred_at()), decision,
         r.principal().empty() ? "-" : r.principal(),
         r.role() == v1::ROLE_UNSPECIFIED ? "-" : role, r.output(),
         r.case_id().empty() ? "-" : r.case_id(),
         r.last() == 0 ? "-" : absl::StrCat(r.first(), "..", r.last()),
         absl::StrCat(r.withheld()), r.purpose().empty() ? "-" : r.purpose(),
         r.peer(), r.reason().empty() ? "-" : r.reason()});
  }
  std::string out = Table(rows);
  if (!response.next_page_token().empty()) {
    absl::StrAppend(&out, "(more: --page-token ", response.next_page_token(),
                    ")\n");
  }
  return out;
}

}  // namespace caseledger::casectl
