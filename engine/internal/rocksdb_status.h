#ifndef CASELEDGER_ENGINE_INTERNAL_ROCKSDB_STATUS_H_
#define CASELEDGER_ENGINE_INTERNAL_ROCKSDB_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rocksdb/status.h"

namespace caseledger::engine::internal {

// The one conversion of rocksdb::Status into absl::Status:
//   OK -> OK; NotFound -> NOT_FOUND; Corruption -> DATA_LOSS;
//   IOError with NoSpace -> RESOURCE_EXHAUSTED; other IOError -> UNAVAILABLE;
//   InvalidArgument -> INVALID_ARGUMENT; NotSupported -> FAILED_PRECONDITION;
//   Busy/TimedOut/TryAgain -> UNAVAILABLE; ShutdownInProgress -> UNAVAILABLE;
//   anything else -> INTERNAL.
// The message is "<context>: storage <kind>"; RocksDB's own text (which may
// name files) is kept only for DATA_LOSS and INTERNAL, where an operator needs
// it, and never holds record content.
absl::Status FromRocksDb(const rocksdb::Status& status,
                         absl::string_view context);

}  // namespace caseledger::engine::internal

#endif  // CASELEDGER_ENGINE_INTERNAL_ROCKSDB_STATUS_H_
