#include "services/transfer_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "engine/internal/status_macros.h"
#include "services/log.h"
#include "services/status_conversion.h"

namespace caseledger::services {
namespace {

constexpr char kImportMethod[] = "/caseledger.v1.Transfer/ImportEvents";
constexpr char kVerifyLogMethod[] = "/caseledger.v1.Transfer/VerifyLog";

// VerifyLog: the whole-log check on the executor, with a progress message
// about every 10000 events (one in flight at most; others are skipped) and
// the result in the last message.
class VerifyLogReactor final
    : public grpc::ServerWriteReactor<v1::VerifyLogProgress> {
 public:
  VerifyLogReactor(ServiceDeps deps, grpc::CallbackServerContext* context)
      : deps_(deps), context_(context) {
    if (!deps_.executor->Submit([this] { Run(); })) {
      Finish(ToGrpcStatus(
          absl::ResourceExhaustedError("server busy; retry later")));
    }
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) stopped_ = true;
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
  }
  void OnDone() override { delete this; }

 private:
  // On the executor.
  void Run() {
    // Same grant as Audit.Verify (auditor, admin); a denial is recorded.
    absl::StatusOr<Grant> grant = deps_.access->Authorize(
        *context_, kVerifyLogMethod, Action::kVerify, "", nullptr);
    if (!grant.ok()) {
      Finish(ToGrpcStatus(grant.status(), context_));
      return;
    }
    const uint64_t total = deps_.log->LastPosition();
    const auto progress = [this, total](uint64_t checked) {
      {
        absl::MutexLock lock(&mu_);
        if (stopped_) return false;
        if (writing_) return true;  // the client is behind: skip this one
        writing_ = true;
      }
      progress_.set_events_checked(checked);
      progress_.set_log_position(total);
      StartWrite(&progress_);
      return true;
    };
    absl::StatusOr<engine::VerifyReport> report =
        deps_.log->VerifyAll(progress);
    bool stopped;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](bool* writing) { return !*writing; }, &writing_));
      stopped = stopped_;
    }
    if (stopped) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
      return;
    }
    if (!report.ok()) {
      Finish(ToGrpcStatus(report.status()));
      return;
    }
    if (!report->ok) {
      Log(LogLevel::kError, "verification found a broken chain",
          {{"position", absl::StrCat(report->first_broken_position)},
           {"problem", report->problem}});
    }
    last_.set_events_checked(report->events_checked);
    last_.set_log_position(total);
    v1::VerifyResponse* result = last_.mutable_result();
    result->set_ok(report->ok);
    result->set_events_checked(report->events_checked);
    result->set_cases_checked(report->cases_checked);
    result->set_first_broken_position(report->first_broken_position);
    result->set_problem(report->problem);
    result->set_log_position(total);
    StartWriteAndFinish(&last_, grpc::WriteOptions(), grpc::Status::OK);
  }

  const ServiceDeps deps_;
  grpc::CallbackServerContext* const context_;  // valid until OnDone
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  v1::VerifyLogProgress progress_;  // touched only while no write is in flight
  v1::VerifyLogProgress last_;
};

}  // namespace

grpc::ServerUnaryReactor* TransferService::ImportEvents(
    grpc::CallbackServerContext* context,
    const v1::ImportEventsRequest* request,
    v1::ImportEventsResponse* response) {
  const ServiceDeps deps = deps_;
  return RunBlocking(deps_, context, [deps, context, request, response]() {
    // Restoring a ledger is an operator action (admin role).
    RETURN_IF_ERROR(
        deps.access
            ->Authorize(*context, kImportMethod, Action::kOperate, "", nullptr)
            .status());
    for (int i = 0; i < request->events_size(); ++i) {
      const v1::EventPayload& p = request->events(i).payload();
      if (p.has_access_recorded() ||
          (p.has_event_corrected() &&
           p.event_corrected().corrected().has_access_recorded())) {
        return absl::InvalidArgumentError(
            absl::StrCat("events[", i,
                         "].payload: AccessRecorded is written by the "
                         "server only"));
      }
    }
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

grpc::ServerWriteReactor<v1::VerifyLogProgress>* TransferService::VerifyLog(
    grpc::CallbackServerContext* context,
    const v1::VerifyLogRequest* /*request*/) {
  return new VerifyLogReactor(deps_, context);
}

}  // namespace caseledger::services
