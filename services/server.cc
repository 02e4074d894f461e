#include "services/server.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "engine/internal/status_macros.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "services/log.h"

namespace caseledger::services {

namespace {

int Milliseconds(absl::Duration d) {
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(d), INT32_MAX));
}

}  // namespace

void ApplyConnectionLimits(const ServerOptions& options,
                           grpc::ServerBuilder* builder) {
  builder->AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE,
                              options.max_metadata_bytes);
  grpc::ResourceQuota quota("caseledgerd");
  quota.Resize(static_cast<size_t>(options.grpc_memory_bytes));
  builder->SetResourceQuota(quota);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                              Milliseconds(options.max_connection_idle));
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                              Milliseconds(options.max_connection_age));
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                              Milliseconds(options.max_connection_age_grace));
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                              Milliseconds(options.keepalive_time));
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                              Milliseconds(options.keepalive_timeout));
  builder->AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      Milliseconds(options.min_client_ping_interval));
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
}

absl::StatusOr<std::unique_ptr<LedgerServer>> LedgerServer::Start(
    const ServerOptions& options) {
  std::unique_ptr<LedgerServer> server(new LedgerServer());
  std::error_code ec;
  const bool created =
      std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        "data_dir: cannot create the directory");
  }
  // Case records: a new data directory is readable by its owner only.
  if (created) {
    std::filesystem::permissions(options.data_dir,
                                 std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  engine::EventLogOptions log_options = options.log;
  log_options.path = (std::filesystem::path(options.data_dir) / "log").string();
  ASSIGN_OR_RETURN(server->log_, engine::EventLog::Open(log_options));

  projections::CaseProjectionOptions projection_options;
  projection_options.dir =
      (std::filesystem::path(options.data_dir) / "projections").string();
  ASSIGN_OR_RETURN(server->projection_,
                   projections::CaseProjection::Open(projection_options,
                                                     server->log_.get()));
  server->projection_->Start();

  server->executor_ = std::make_unique<Executor>(std::max(1, options.workers),
                                                 /*max_queued=*/10000);
  server->hub_ = std::make_unique<SubscriptionHub>(
      server->log_.get(), options.limits.max_subscriptions);
  ServiceDeps deps;
  deps.log = server->log_.get();
  deps.projection = server->projection_.get();
  deps.executor = server->executor_.get();
  deps.hub = server->hub_.get();
  deps.limits = options.limits;
  if (std::filesystem::path(deps.limits.backup_dir).is_relative()) {
    deps.limits.backup_dir =
        (std::filesystem::path(options.data_dir) / deps.limits.backup_dir)
            .string();
  }
  server->writer_ = std::make_unique<CaseWriterService>(deps);
  server->audit_ = std::make_unique<AuditService>(deps);
  server->queries_ = std::make_unique<QueriesService>(deps);
  server->analytics_ = std::make_unique<AnalyticsService>(deps);
  server->operations_ = std::make_unique<OperationsService>(deps);
  server->subscriptions_ = std::make_unique<SubscriptionsService>(deps);
  server->transfer_ = std::make_unique<TransferService>(deps);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(),
                           &server->port_);
  // One server per address: without this gRPC sets SO_REUSEPORT and a
  // second server on a taken port would silently share its connections.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_receive_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_concurrent_streams);
  ApplyConnectionLimits(options, &builder);
  builder.RegisterService(server->writer_.get());
  builder.RegisterService(server->audit_.get());
  builder.RegisterService(server->queries_.get());
  builder.RegisterService(server->analytics_.get());
  builder.RegisterService(server->operations_.get());
  builder.RegisterService(server->subscriptions_.get());
  builder.RegisterService(server->transfer_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("listen: cannot bind ", options.listen));
  }
  grpc::HealthCheckServiceInterface* health =
      server->server_->GetHealthCheckService();
  if (health != nullptr) {
    health->SetServingStatus(true);
    for (const char* name :
         {"caseledger.v1.CaseWriter", "caseledger.v1.Audit",
          "caseledger.v1.Queries", "caseledger.v1.Analytics",
          "caseledger.v1.Subscriptions", "caseledger.v1.Operations",
          "caseledger.v1.Transfer"}) {
      health->SetServingStatus(name, true);
    }
  }
  Log(LogLevel::kInfo, "caseledgerd serving",
      {{"listen", options.listen},
       {"port", absl::StrCat(server->port_)},
       {"log_position", absl::StrCat(server->log_->LastPosition())},
       {"sync", options.log.sync ? "true" : "false"}});
  return server;
}

void LedgerServer::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  if (server_ != nullptr) {
    Log(LogLevel::kInfo, "shutting down",
        {{"grace_seconds", absl::StrCat(absl::ToInt64Seconds(grace))}});
    if (grpc::HealthCheckServiceInterface* health =
            server_->GetHealthCheckService()) {
      health->SetServingStatus(false);
    }
    hub_->Shutdown();
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
    Log(LogLevel::kInfo, "calls drained");
  }
  // Also reached when Start failed half way: release what was built.
  executor_.reset();  // finishes queued storage work
  projection_.reset();
  hub_.reset();
  if (log_ == nullptr) return;
  const uint64_t position = log_->LastPosition();
  log_.reset();  // completes queued appends durably
  Log(LogLevel::kInfo, "stopped", {{"log_position", absl::StrCat(position)}});
}

LedgerServer::~LedgerServer() { Shutdown(); }

}  // namespace caseledger::services
