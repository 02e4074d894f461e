#ifndef CASELEDGER_SERVICES_TRANSFER_SERVICE_H_
#define CASELEDGER_SERVICES_TRANSFER_SERVICE_H_

// The Transfer service (proto/caseledger/v1/transfer.proto): imports events
// exported from another ledger through EventLog::Import, and verifies the
// whole log with streamed progress. Thin adapters: the work runs on the
// shared Executor (waiting for fsyncs there), never on a gRPC thread.
// Thread-safe.
//
// Import is an operator action; until access control lands it is open to
// every client that can reach the (loopback-only) server, like the rest.

#include "caseledger/v1/transfer.grpc.pb.h"
#include "services/ledger_services.h"

namespace caseledger::services {

class TransferService final : public v1::Transfer::CallbackService {
 public:
  explicit TransferService(ServiceDeps deps) : deps_(deps) {}
  grpc::ServerUnaryReactor* ImportEvents(
      grpc::CallbackServerContext* context,
      const v1::ImportEventsRequest* request,
      v1::ImportEventsResponse* response) override;
  grpc::ServerWriteReactor<v1::VerifyLogProgress>* VerifyLog(
      grpc::CallbackServerContext* context,
      const v1::VerifyLogRequest* request) override;

 private:
  ServiceDeps deps_;
};

}  // namespace caseledger::services

#endif  // CASELEDGER_SERVICES_TRANSFER_SERVICE_H_
