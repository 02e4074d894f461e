#ifndef CASELEDGER_ENGINE_INTERNAL_AEAD_H_
#define CASELEDGER_ENGINE_INTERNAL_AEAD_H_

// AES-256-GCM (OpenSSL EVP) with a random 96-bit nonce per message, and
// random bytes. Thread-safe: each thread keeps its own cipher contexts and a
// buffer of random nonce bytes (refilled from RAND_bytes every 256 nonces,
// and in a forked child before its first nonce), so no call takes a lock of
// ours.

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace caseledger::engine::internal {

inline constexpr size_t kAeadKeyBytes = 32;
inline constexpr size_t kAeadNonceBytes = 12;
inline constexpr size_t kAeadTagBytes = 16;

// Cryptographically random bytes (OpenSSL RAND_bytes). INTERNAL if the
// generator fails.
absl::StatusOr<std::string> RandomBytes(size_t n);

// Encrypts `plaintext` under `key` (32 bytes) with a fresh random nonce,
// authenticating `aad` too. Returns nonce || ciphertext || tag.
// INVALID_ARGUMENT for a key of the wrong size; INTERNAL if OpenSSL fails.
absl::StatusOr<std::string> Seal(absl::string_view key,
                                 absl::string_view plaintext,
                                 absl::string_view aad);

// Reverses Seal. DATA_LOSS if `sealed` is malformed or fails authentication
// (wrong key, altered bytes or other associated data). The message never
// contains the data.
absl::StatusOr<std::string> Open(absl::string_view key,
                                 absl::string_view sealed,
                                 absl::string_view aad);

}  // namespace caseledger::engine::internal

#endif  // CASELEDGER_ENGINE_INTERNAL_AEAD_H_
