#ifndef CASELEDGER_SERVICES_LOG_H_
#define CASELEDGER_SERVICES_LOG_H_

// Structured logging to stderr, one line per record in logfmt:
//   ts=2026-11-25T14:00:00.123Z level=info msg="server started" addr=...
// Never pass record content (payloads, names, notes) or secrets as fields.
// Thread-safe.

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace caseledger::services {

enum class LogLevel { kInfo, kWarning, kError };

using LogField = std::pair<absl::string_view, std::string>;

void Log(LogLevel level, absl::string_view message,
         std::initializer_list<LogField> fields = {});

}  // namespace caseledger::services

#endif  // CASELEDGER_SERVICES_LOG_H_
