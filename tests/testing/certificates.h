#ifndef CASELEDGER_TESTS_TESTING_CERTIFICATES_H_
#define CASELEDGER_TESTS_TESTING_CERTIFICATES_H_

// Test certificates made with OpenSSL's C API (no files, no openssl
// command): a CA, and server or client certificates it signs, valid (or
// expired) as asked. P-256 keys, SHA-256 signatures.

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace caseledger::testing {

struct Pem {
  std::string certificate;
  std::string private_key;
};

class TestCa {
 public:
  // A self-signed CA named `name`, valid from an hour ago for a day.
  explicit TestCa(const std::string& name);
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const std::string& certificate() const { return pem_.certificate; }

  // A server certificate for "localhost" and 127.0.0.1.
  Pem Server() const;
  // A client certificate with subject CN `common_name`, valid in
  // [not_before, not_after) (relative to now).
  Pem Client(const std::string& common_name,
             absl::Duration not_before = -absl::Hours(1),
             absl::Duration not_after = absl::Hours(24)) const;

 private:
  struct Key;
  Pem Issue(const std::string& common_name, bool server,
            absl::Duration not_before, absl::Duration not_after) const;
  std::unique_ptr<Key> key_;
  Pem pem_;
};

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_CERTIFICATES_H_
