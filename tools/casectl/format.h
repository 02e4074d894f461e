#ifndef CASELEDGER_TOOLS_CASECTL_FORMAT_H_
#define CASELEDGER_TOOLS_CASECTL_FORMAT_H_

// Human-readable renderings of API responses for casectl: a plan grouped by
// goal, a timeline one line per event, metrics as an aligned table. Pure
// functions; thread-safe.

#include <string>

#include "caseledger/v1/access_log_service.pb.h"
#include "caseledger/v1/ledger_service.pb.h"

namespace caseledger::casectl {

std::string FormatPlan(const v1::CasePlan& plan);
std::string FormatTimeline(const v1::GetTimelineResponse& timeline);
std::string FormatHistory(const v1::ReadCaseHistoryResponse& history);
std::string FormatMetrics(const v1::MetricsReport& report);
std::string FormatVerify(const v1::VerifyResponse& verify);
std::string FormatStatus(const v1::GetProjectionStatusResponse& status);

// Left-aligned table; `rows[0]` is the header.
std::string Table(const std::vector<std::vector<std::string>>& rows);

// One line per access record: time, decision, principal (role), output,
// case and range, withheld count, purpose, peer.
std::string FormatAccessLog(const v1::QueryAccessLogResponse& response);

}  // namespace caseledger::casectl

#endif  // CASELEDGER_TOOLS_CASECTL_FORMAT_H_
