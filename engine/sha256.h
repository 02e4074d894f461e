#ifndef CASELEDGER_ENGINE_SHA256_H_
#define CASELEDGER_ENGINE_SHA256_H_

#include <string>

#include "absl/strings/string_view.h"

namespace caseledger::engine {

inline constexpr size_t kSha256Bytes = 32;

// SHA-256 of `data` (OpenSSL), as 32 raw bytes. Thread-safe.
std::string Sha256(absl::string_view data);

// Lower-case hex of `bytes`.
std::string ToHex(absl::string_view bytes);

}  // namespace caseledger::engine

#endif  // CASELEDGER_ENGINE_SHA256_H_
