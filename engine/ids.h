#ifndef CASELEDGER_ENGINE_IDS_H_
#define CASELEDGER_ENGINE_IDS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace caseledger::engine {

// A random (version 4) UUID in lower-case RFC 4122 text form, for clients
// that need a fresh event id. Thread-safe.
std::string NewEventId();

// True if `id` is a UUID in RFC 4122 text form (8-4-4-4-12 hex digits,
// lower case).
bool IsValidEventId(absl::string_view id);

// True if `id` is a valid case (stream) id: 1..128 characters from
// [A-Za-z0-9._:-], starting with a letter or digit.
bool IsValidCaseId(absl::string_view id);

}  // namespace caseledger::engine

#endif  // CASELEDGER_ENGINE_IDS_H_
