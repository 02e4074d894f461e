#ifndef CASELEDGER_SERVICES_STATUS_CONVERSION_H_
#define CASELEDGER_SERVICES_STATUS_CONVERSION_H_

// The one conversion of absl::Status (engine, projections) into grpc::Status.
//
// Codes map one to one (absl and gRPC share numbering):
//   INVALID_ARGUMENT   malformed request; the message starts with the field
//   ABORTED            wrong expected version; trailer "current-version"
//   ALREADY_EXISTS     event id reused with different content
//   NOT_FOUND          no such case
//   FAILED_PRECONDITION operation not possible in this state
//   RESOURCE_EXHAUSTED too many pending appends or streams, disk full
//   DEADLINE_EXCEEDED  read-your-writes wait or deadline ran out
//   UNAVAILABLE        storage error, shutting down (retry later)
//   DATA_LOSS          stored data failed its integrity checks
//   INTERNAL / UNKNOWN anything else
// For DATA_LOSS, INTERNAL and UNKNOWN the client sees a fixed message with an
// incident number; the full message goes to the server log only, so storage
// details never reach clients. Engine messages never hold record content.

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"

namespace caseledger::services {

// Converts `status`. When `context` is given and the status carries a
// version conflict, adds the "current-version" trailing metadata.
grpc::Status ToGrpcStatus(const absl::Status& status,
                          grpc::ServerContextBase* context = nullptr);

}  // namespace caseledger::services

#endif  // CASELEDGER_SERVICES_STATUS_CONVERSION_H_
