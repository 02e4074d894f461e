#include "engine/internal/rocksdb_status.h"

#include "absl/strings/str_cat.h"

namespace caseledger::engine::internal {

absl::Status FromRocksDb(const rocksdb::Status& status,
                         absl::string_view context) {
  if (status.ok()) return absl::OkStatus();
  switch (status.code()) {
    case rocksdb::Status::kNotFound:
      return absl::NotFoundError(absl::StrCat(context, ": not found"));
    case rocksdb::Status::kCorruption:
      return absl::DataLossError(absl::StrCat(
          context, ": stored data is corrupt (", status.ToString(), ")"));
    case rocksdb::Status::kIOError:
      if (status.IsNoSpace()) {
        return absl::ResourceExhaustedError(
            absl::StrCat(context, ": storage is full"));
      }
      return absl::UnavailableError(
          absl::StrCat(context, ": storage I/O error"));
    case rocksdb::Status::kInvalidArgument:
      return absl::InvalidArgumentError(absl::StrCat(
          context, ": invalid storage argument (", status.ToString(), ")"));
    case rocksdb::Status::kNotSupported:
      return absl::FailedPreconditionError(
          absl::StrCat(context, ": not supported by this storage"));
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kTryAgain:
    case rocksdb::Status::kShutdownInProgress:
      return absl::UnavailableError(
          absl::StrCat(context, ": storage temporarily unavailable"));
    default:
      return absl::InternalError(
          absl::StrCat(context, ": storage error (", status.ToString(), ")"));
  }
}

}  // namespace caseledger::engine::internal
