#ifndef CASELEDGER_ENGINE_INTERNAL_STATUS_MACROS_H_
#define CASELEDGER_ENGINE_INTERNAL_STATUS_MACROS_H_

// Abseil 20220623 has no RETURN_IF_ERROR / ASSIGN_OR_RETURN; these are ours.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CASELEDGER_CONCAT_INNER_(a, b) a##b
#define CASELEDGER_CONCAT_(a, b) CASELEDGER_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the enclosing function if it is not OK.
#define RETURN_IF_ERROR(expr)               \
  do {                                      \
    const ::absl::Status _status_ = (expr); \
    if (!_status_.ok()) return _status_;    \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs` (a declaration or an lvalue).
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  ASSIGN_OR_RETURN_IMPL_(CASELEDGER_CONCAT_(_statusor_, __LINE__), lhs, rexpr)

#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                           \
  if (!statusor.ok()) return statusor.status();      \
  lhs = std::move(statusor).value()

#endif  // CASELEDGER_ENGINE_INTERNAL_STATUS_MACROS_H_
