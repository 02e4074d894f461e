#ifndef CASELEDGER_SERVICES_LEDGER_SERVICES_H_
#define CASELEDGER_SERVICES_LEDGER_SERVICES_H_

// Thin gRPC adapters (callback API) over the engine and the projections:
// each handler first passes the one authorization step
// (AccessControl::Authorize, access_control.h), then converts the request,
// calls the engine or a projection, records the read in the access log
// before returning case content, and converts the result; status
// conversion is in status_conversion.h.
//
// Threading: appends go to the engine's AppendAsync (the engine's own thread
// syncs the WAL); every other handler runs its storage work on the shared
// Executor, so gRPC's threads never block on I/O or on a wait.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "caseledger/v1/access_log_service.grpc.pb.h"
#include "caseledger/v1/erasure.grpc.pb.h"
#include "caseledger/v1/ledger_service.grpc.pb.h"
#include "engine/event_log.h"
#include "projections/case_projection.h"
#include "services/access_control.h"
#include "services/executor.h"

namespace caseledger::services {

struct ServiceLimits {
  // Longest a read-your-writes wait may take, whatever the call's deadline.
  absl::Duration max_wait = absl::Seconds(30);
  // Most concurrent subscriptions; more get RESOURCE_EXHAUSTED.
  // Default: 64
  int max_subscriptions = 64;
  // Directory that relative backup paths are resolved in.
  std::string backup_dir = "backups";
};

class SubscriptionHub;

// What the services share. Not owned; outlive the services.
struct ServiceDeps {
  engine::EventLog* log = nullptr;
  projections::CaseProjection* projection = nullptr;
  Executor* executor = nullptr;
  SubscriptionHub* hub = nullptr;
  // Authorization and the access log; every handler goes through it.
  const AccessControl* access = nullptr;
  ServiceLimits limits;
};

// Runs `work` on `deps.executor` and finishes the call with its status
// (RESOURCE_EXHAUSTED if the executor's queue is full; CANCELLED if the call
// was cancelled while queued). For handlers whose work blocks.
grpc::ServerUnaryReactor* RunBlocking(const ServiceDeps& deps,
                                      grpc::CallbackServerContext* context,
                                      std::function<absl::Status()> work);

class CaseWriterService final : public v1::CaseWriter::CallbackService {
 public:
  explicit CaseWriterService(ServiceDeps deps) : deps_(deps) {}
  grpc::ServerUnaryReactor* AppendEvents(
      grpc::CallbackServerContext* context,
      const v1::AppendEventsRequest* request,
      v1::AppendEventsResponse* response) override;

 private:
  ServiceDeps deps_;
};

class AuditService final : public v1::Audit::CallbackService {
 public:
  explicit AuditService(ServiceDeps deps) : deps_(deps) {}
  grpc::ServerUnaryReactor* ReadCaseHistory(
      grpc::CallbackServerContext* context,
      const v1::ReadCaseHistoryRequest* request,
      v1::ReadCaseHistoryResponse* response) override;
  grpc::ServerUnaryReactor* Verify(grpc::CallbackServerContext* context,
                                   const v1::VerifyRequest* request,
                                   v1::VerifyResponse* response) override;

 private:
  ServiceDeps deps_;
};

class QueriesService final : public v1::Queries::CallbackService {
 public:
  explicit QueriesService(ServiceDeps deps) : deps_(deps) {}
  grpc::ServerUnaryReactor* GetPlan(grpc::CallbackServerContext* context,
                                    const v1::GetPlanRequest* request,
                                    v1::GetPlanResponse* response) override;
  grpc::ServerUnaryReactor* GetTimeline(
      grpc::CallbackServerContext* context,
      const v1::GetTimelineRequest* request,
      v1::GetTimelineResponse* response) override;

 private:
  ServiceDeps deps_;
};

class AnalyticsService final : public v1::Analytics::CallbackService {
 public:
  explicit AnalyticsService(ServiceDeps deps) : deps_(deps) {}
  grpc::ServerUnaryReactor* GetCaseMetrics(
      grpc::CallbackServerContext* context,
      const v1::GetCaseMetricsRequest* request,
      v1::GetCaseMetricsResponse* response) override;
  grpc::ServerUnaryReactor* GetMetrics(
      grpc::CallbackServerContext* context,
      const v1::GetMetricsRequest* request,
      v1::GetMetricsResponse* response) override;

 private:
  ServiceDeps deps_;
};

class OperationsService final : public v1::Operations::CallbackService {
 public:
  explicit OperationsService(ServiceDeps deps) : deps_(deps) {}
  grpc::ServerUnaryReactor* GetProjectionStatus(
      grpc::CallbackServerContext* context,
      const v1::GetProjectionStatusRequest* request,
      v1::GetProjectionStatusResponse* response) override;
  grpc::ServerUnaryReactor* RebuildProjections(
      grpc::CallbackServerContext* context,
      const v1::RebuildProjectionsRequest* request,
      v1::RebuildProjectionsResponse* response) override;
  grpc::ServerUnaryReactor* Backup(grpc::CallbackServerContext* context,
                                   const v1::BackupRequest* request,
                                   v1::BackupResponse* response) override;

 private:
  ServiceDeps deps_;
};

// Live subscriptions: wakes waiting subscriptions on every commit, counts
// them against the limit, and closes them all at shutdown. Thread-safe.
// Crypto-shredding of a case (README, "Erasure"). An administrative action:
// gate it to administrators (the full method name is
// "/caseledger.v1.Erasure/EraseCase"). Thread-safe.
class ErasureService final : public v1::Erasure::CallbackService {
 public:
  explicit ErasureService(ServiceDeps deps) : deps_(deps) {}
  // Erases the case in the log (EventLog::Erase), then waits until the
  // projections have applied the erasure record (so they hold nothing of the
  // case when the call returns). NOT_FOUND for a case without events,
  // INVALID_ARGUMENT naming the field for a bad request; the erasure stands
  // even if the wait then runs out (DEADLINE_EXCEEDED).
  grpc::ServerUnaryReactor* EraseCase(grpc::CallbackServerContext* context,
                                      const v1::EraseCaseRequest* request,
                                      v1::EraseCaseResponse* response) override;

 private:
  ServiceDeps deps_;
};

class SubscriptionHub {
 public:
  // Registers a commit listener on `log` (removed in the destructor).
  SubscriptionHub(engine::EventLog* log, int max_subscriptions);
  ~SubscriptionHub();

  // Reserves a subscription slot; false when at the limit or shutting down.
  bool Acquire();
  // Gives the slot back; must be the subscription's last use of the hub.
  void Release();
  // Blocks until every acquired slot is released. After it returns, no
  // subscription uses the hub any more, so it may be destroyed: the order
  // is this mutex's, not an assumption about when gRPC runs OnDone.
  void AwaitAllReleased();

  // Calls `wake` (once, from the commit path; it must only schedule work)
  // after the log passes `position`, or at Shutdown. Returns an id for
  // Cancel, or 0 if `position` is already passed (then `wake` is not kept).
  uint64_t WaitBeyond(uint64_t position, std::function<void()> wake);
  // True if the waiter was removed before being woken.
  bool Cancel(uint64_t id);

  // Wakes every waiter and makes new Acquire()s fail.
  void Shutdown();
  bool shutting_down() const;

 private:
  void OnCommit(uint64_t position);

  engine::EventLog* const log_;
  const int max_subscriptions_;
  uint64_t listener_id_ = 0;
  mutable absl::Mutex mu_;
  int active_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint64_t, std::function<void()>> waiters_ ABSL_GUARDED_BY(mu_);
};

class SubscriptionsService final : public v1::Subscriptions::CallbackService {
 public:
  explicit SubscriptionsService(ServiceDeps deps) : deps_(deps) {}
  grpc::ServerWriteReactor<v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context,
      const v1::SubscribeRequest* request) override;

 private:
  ServiceDeps deps_;
};

// Auditors' queries of the access log and its verification.
class AccessLogServiceImpl final
    : public v1::AccessLogService::CallbackService {
 public:
  explicit AccessLogServiceImpl(ServiceDeps deps) : deps_(deps) {}
  grpc::ServerUnaryReactor* QueryAccessLog(
      grpc::CallbackServerContext* context,
      const v1::QueryAccessLogRequest* request,
      v1::QueryAccessLogResponse* response) override;
  grpc::ServerUnaryReactor* VerifyAccessLog(
      grpc::CallbackServerContext* context,
      const v1::VerifyAccessLogRequest* request,
      v1::VerifyAccessLogResponse* response) override;

 private:
  ServiceDeps deps_;
};

}  // namespace caseledger::services

#endif  // CASELEDGER_SERVICES_LEDGER_SERVICES_H_
