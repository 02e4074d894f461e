#include "services/status_conversion.h"

#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/event_log.h"
#include "services/log.h"

namespace caseledger::services {

grpc::Status ToGrpcStatus(const absl::Status& status,
                          grpc::ServerContextBase* context) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  switch (status.code()) {
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown: {
      static std::atomic<uint64_t> incidents{0};
      const uint64_t incident = ++incidents;
      Log(LogLevel::kError, "request failed",
          {{"code", absl::StatusCodeToString(status.code())},
           {"incident", absl::StrCat(incident)},
           {"detail", std::string(status.message())}});
      const char* what = status.code() == absl::StatusCode::kDataLoss
                             ? "stored data failed its integrity checks"
                             : "internal error";
      return grpc::Status(code, absl::StrCat(what, " (incident ", incident,
                                             "; see the server log)"));
    }
    case absl::StatusCode::kAborted:
      if (context != nullptr) {
        if (std::optional<uint64_t> v = engine::CurrentVersionOf(status)) {
          context->AddTrailingMetadata("current-version", absl::StrCat(*v));
        }
      }
      return grpc::Status(code, std::string(status.message()));
    default:
      return grpc::Status(code, std::string(status.message()));
  }
}

}  // namespace caseledger::services
