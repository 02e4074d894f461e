#ifndef CASELEDGER_TESTS_TESTING_STATUS_MATCHERS_H_
#define CASELEDGER_TESTS_TESTING_STATUS_MATCHERS_H_

// GoogleTest helpers for absl::Status / absl::StatusOr (Abseil 20220623
// ships none).

#include <ostream>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace caseledger::testing {

inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = ::caseledger::testing::GetStatus(arg);
  if (!status.ok()) *result_listener << "status: " << status;
  return status.ok();
}

MATCHER_P(StatusIs, code, "has status code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = ::caseledger::testing::GetStatus(arg);
  *result_listener << "status: " << status;
  return status.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = ::caseledger::testing::GetStatus(arg);
  *result_listener << "status: " << status;
  return status.code() == code &&
         ::testing::ExplainMatchResult(
             message_matcher, std::string(status.message()), result_listener);
}

}  // namespace caseledger::testing

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::caseledger::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::caseledger::testing::IsOk())

// Evaluates `rexpr` (a StatusOr), asserts it is OK and moves the value into
// `lhs`.
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr)                                    \
  ASSERT_OK_AND_ASSIGN_IMPL_(CASELEDGER_TEST_CONCAT_(_sor_, __LINE__), lhs, \
                             rexpr)
#define CASELEDGER_TEST_CONCAT_INNER_(a, b) a##b
#define CASELEDGER_TEST_CONCAT_(a, b) CASELEDGER_TEST_CONCAT_INNER_(a, b)
#define ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  ASSERT_OK(statusor.status());                          \
  lhs = std::move(statusor).value()

#endif  // CASELEDGER_TESTS_TESTING_STATUS_MATCHERS_H_
