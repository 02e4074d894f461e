#ifndef CASELEDGER_SERVICES_MASTER_KEY_H_
#define CASELEDGER_SERVICES_MASTER_KEY_H_

// The master key file of the key store (README, "Erasure"): 32 bytes as 64
// hex digits (a trailing newline allowed) or 32 raw bytes, in a file that
// only its owner may read. The key is never logged; error messages name the
// problem, never the content. Thread-safe (no state).

#include <string>

#include "absl/status/statusor.h"

namespace caseledger::services {

// Reads the master key from `path`. FAILED_PRECONDITION if the file is
// missing, unreadable, readable or writable by group or others, or does not
// hold a key.
absl::StatusOr<std::string> ReadMasterKeyFile(const std::string& path);

// Writes a fresh random master key to `path` (mode 0600, as hex).
// FAILED_PRECONDITION if the file exists or cannot be written.
absl::Status CreateMasterKeyFile(const std::string& path);

}  // namespace caseledger::services

#endif  // CASELEDGER_SERVICES_MASTER_KEY_H_
