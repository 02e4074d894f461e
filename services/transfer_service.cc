#include "services/transfer_service.h"

#include <utility>

#include "engine/internal/status_macros.h"

namespace caseledger::services {

grpc::ServerUnaryReactor* TransferService::ImportEvents(
    grpc::CallbackServerContext* context,
    const v1::ImportEventsRequest* request,
    v1::ImportEventsResponse* response) {
  const ServiceDeps deps = deps_;
  return RunBlocking(deps_, context, [deps, request, response]() {
    engine::ImportRequest import;
    import.events.assign(request->events().begin(), request->events().end());
    ASSIGN_OR_RETURN(engine::ImportResult result, deps.log->Import(import));
    response->set_imported(result.imported);
    response->set_already_present(result.already_present);
    response->set_positions_kept(result.positions_kept);
    response->set_commit_position(result.last_position);
    return absl::OkStatus();
  });
}

}  // namespace caseledger::services
