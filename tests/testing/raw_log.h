#ifndef CASELEDGER_TESTS_TESTING_RAW_LOG_H_
#define CASELEDGER_TESTS_TESTING_RAW_LOG_H_

// Writes straight into a closed log's RocksDB, bypassing validation, to
// create situations the API refuses (e.g. an event of a type from a newer
// schema). Follows engine/STORAGE_FORMAT.md exactly, so the result verifies.

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "caseledger/v1/stored_event.pb.h"

namespace caseledger::testing {

// Appends to `case_id` one correctly chained event whose payload holds only a
// field this schema does not know (so it parses as an empty EventPayload),
// with event type `event_type`.
// REQUIRES: no EventLog has `db_path` open.
absl::Status AppendUnknownTypeEvent(const std::string& db_path,
                                    const std::string& case_id,
                                    const std::string& event_type);

// Deletes the case_index entry of (case_id, version), as a damaged index
// would look. REQUIRES: no EventLog has `db_path` open.
absl::Status RemoveCaseIndexEntry(const std::string& db_path,
                                  const std::string& case_id, uint64_t version);

// The StoredEvent at `position`, as stored. REQUIRES: no EventLog has
// `db_path` open.
absl::StatusOr<v1::StoredEvent> ReadStoredEvent(const std::string& db_path,
                                                uint64_t position);

// Replaces the StoredEvent at `position` with `mutate`'s change of it and
// stores the new bytes under their own correct SHA-256 (as an attacker who
// rewrites the hash would; the chain link from the next event breaks).
// REQUIRES: no EventLog has `db_path` open.
absl::Status RewriteStoredEvent(
    const std::string& db_path, uint64_t position,
    const std::function<void(v1::StoredEvent&)>& mutate);

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_RAW_LOG_H_
