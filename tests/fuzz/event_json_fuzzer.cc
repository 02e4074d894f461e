// libFuzzer target: event JSON as `casectl append` reads it (protobuf JSON
// of caseledger.v1.Event or of an AppendEventsRequest), from arbitrary text.
// Parsing must not crash; whatever parses is validated as the server would
// (engine::ValidateAppendRequest), which must not crash either and must
// answer OK or INVALID_ARGUMENT.

#include <cstddef>
#include <cstdint>
#include <string>

#include "caseledger/v1/ledger_service.pb.h"
#include "engine/event_log.h"
#include "engine/validation.h"
#include "google/protobuf/util/json_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  google::protobuf::util::JsonParseOptions options;
  caseledger::v1::AppendEventsRequest request;
  if (!google::protobuf::util::JsonStringToMessage(text, &request, options)
           .ok()) {
    request.Clear();
    if (!google::protobuf::util::JsonStringToMessage(text, request.add_events(),
                                                     options)
             .ok()) {
      return 0;
    }
  }
  caseledger::engine::AppendRequest append;
  append.case_id =
      request.case_id().empty() ? "case-000001" : request.case_id();
  append.events.assign(request.events().begin(), request.events().end());
  const absl::Status valid = caseledger::engine::ValidateAppendRequest(
      append, caseledger::engine::ValidationLimits());
  if (!valid.ok() && valid.code() != absl::StatusCode::kInvalidArgument) {
    __builtin_trap();
  }
  return 0;
}
