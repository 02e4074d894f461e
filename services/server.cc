#include "services/server.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/internal/status_macros.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "services/allocator.h"
#include "services/log.h"
#include "services/master_key.h"

namespace caseledger::services {

namespace {

// The services of the standard health service, by full name.
constexpr char kOperationsService[] = "caseledger.v1.Operations";
constexpr const char* kServices[] = {
    "caseledger.v1.CaseWriter",    "caseledger.v1.Audit",
    "caseledger.v1.Queries",       "caseledger.v1.Analytics",
    "caseledger.v1.Subscriptions", kOperationsService,
    "caseledger.v1.Transfer",      "caseledger.v1.AccessLogService",
    "caseledger.v1.Erasure"};
// Those that cannot work while the event log refuses writes.
constexpr const char* kWritingServices[] = {"caseledger.v1.CaseWriter",
                                            "caseledger.v1.Transfer",
                                            "caseledger.v1.Erasure"};

int Milliseconds(absl::Duration d) {
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(d), INT32_MAX));
}

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     absl::string_view field) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": cannot read the file"));
  }
  return text.str();
}

// TLS (mutual when a client CA is configured) or, on loopback when the
// options say so, plaintext with a warning.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const ServerOptions& options) {
  if (options.tls.cert_file.empty()) {
    if (!options.plaintext_loopback) {
      return absl::FailedPreconditionError(
          "tls: cert_file and key_file are required (plaintext_loopback "
          "serves without TLS on a loopback address only)");
    }
    if (!IsLoopbackAddress(options.listen)) {
      return absl::FailedPreconditionError(
          "plaintext_loopback: listen is not a loopback address");
    }
    Log(LogLevel::kWarning,
        "serving WITHOUT TLS on loopback (plaintext_loopback): bearer tokens "
        "travel in the clear on this host");
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions ssl;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  ASSIGN_OR_RETURN(pair.private_key,
                   ReadFile(options.tls.key_file, "tls.key_file"));
  ASSIGN_OR_RETURN(pair.cert_chain,
                   ReadFile(options.tls.cert_file, "tls.cert_file"));
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!options.tls.client_ca_file.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadFile(options.tls.client_ca_file,
                                                  "tls.client_ca_file"));
    ssl.client_certificate_request =
        GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  } else {
    ssl.client_certificate_request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
  }
  return grpc::SslServerCredentials(ssl);
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

bool IsLoopbackAddress(absl::string_view listen) {
  const size_t colon = listen.rfind(':');
  absl::string_view host =
      colon == absl::string_view::npos ? listen : listen.substr(0, colon);
  if (absl::ConsumePrefix(&host, "[")) absl::ConsumeSuffix(&host, "]");
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8, dotted quad.
  if (!absl::StartsWith(host, "127.")) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

absl::StatusOr<std::unique_ptr<LedgerServer>> LedgerServer::Start(
    const ServerOptions& options) {
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                   Credentials(options));
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
  log_options.key_store_path =
      (std::filesystem::path(options.data_dir) / "keys").string();
  std::string key_file = options.master_key_file;
  if (key_file.empty()) {
    key_file =
        (std::filesystem::path(options.data_dir) / "master.key").string();
    if (!std::filesystem::exists(key_file, ec)) {
      RETURN_IF_ERROR(CreateMasterKeyFile(key_file));
      Log(LogLevel::kWarning,
          "GENERATED A MASTER KEY INSIDE THE DATA DIRECTORY: erasure does not "
          "hold against a copy of this directory while the key is there; move "
          "it out and start with --master_key_file",
          {{"master_key_file", key_file}});
    }
  }
  ASSIGN_OR_RETURN(log_options.master_key, ReadMasterKeyFile(key_file));
  {
    const std::filesystem::path data =
        std::filesystem::weakly_canonical(options.data_dir, ec);
    const std::filesystem::path key =
        std::filesystem::weakly_canonical(key_file, ec);
    const std::string prefix = data.string() + "/";
    if (key.string().compare(0, prefix.size(), prefix) == 0) {
      Log(LogLevel::kWarning,
          "the master key file lies inside the data directory: a copy of the "
          "directory can still read erased cases' backups; keep the key "
          "elsewhere",
          {{"master_key_file", key_file}});
    }
  }
  ASSIGN_OR_RETURN(server->log_, engine::EventLog::Open(log_options));
  // The access log: its own event log, apart from the case events.
  engine::EventLogOptions access_log_options = options.log;
  access_log_options.path =
      (std::filesystem::path(options.data_dir) / "access_log").string();
  ASSIGN_OR_RETURN(server->access_log_, AccessLog::Open(access_log_options));
  server->access_ = std::make_unique<AccessControl>(options.access,
                                                    server->access_log_.get());

  projections::CaseProjectionOptions projection_options = options.projection;
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
  deps.access = server->access_.get();
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
  server->erasure_ = std::make_unique<ErasureService>(deps);
  server->subscriptions_ = std::make_unique<SubscriptionsService>(deps);
  server->transfer_ = std::make_unique<TransferService>(deps);
  server->access_log_service_ = std::make_unique<AccessLogServiceImpl>(deps);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, credentials, &server->port_);
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
  builder.RegisterService(server->access_log_service_.get());
  builder.RegisterService(server->erasure_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("listen: cannot bind ", options.listen));
  }
  grpc::HealthCheckServiceInterface* health =
      server->server_->GetHealthCheckService();
  if (health != nullptr) {
    health->SetServingStatus(true);
    for (const char* name : kServices) health->SetServingStatus(name, true);
    // A storage failure turns the health service to NOT_SERVING (at once if
    // it happened while starting): the event log's for the services that
    // write, the access log's for every service that reads case content
    // (those reads fail closed). Operations stays SERVING for the operator.
    server->log_->SetHealthListener([health](const absl::Status& error) {
      Log(LogLevel::kError, "event log refuses writes; health NOT_SERVING",
          {{"code", absl::StatusCodeToString(error.code())}});
      health->SetServingStatus("", false);
      for (const char* name : kWritingServices) {
        health->SetServingStatus(name, false);
      }
    });
    server->access_log_->log()->SetHealthListener(
        [health](const absl::Status& error) {
          Log(LogLevel::kError,
              "access log refuses writes; reads fail closed; health "
              "NOT_SERVING",
              {{"code", absl::StatusCodeToString(error.code())}});
          health->SetServingStatus("", false);
          for (const char* name : kServices) {
            if (absl::string_view(name) != kOperationsService) {
              health->SetServingStatus(name, false);
            }
          }
        });
  }
  Log(LogLevel::kInfo, "caseledgerd serving",
      {{"listen", options.listen},
       {"port", absl::StrCat(server->port_)},
       {"log_position", absl::StrCat(server->log_->LastPosition())},
       {"sync", options.log.sync ? "true" : "false"},
       {"tls", options.tls.cert_file.empty()
                   ? "off"
                   : (options.tls.client_ca_file.empty() ? "on" : "mutual")},
       {"principals", absl::StrCat(options.access.policy.principals_size())},
       {"payload_encryption", "aes-256-gcm"},
       {"allocator", AllocatorName()}});
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
    // The logs outlive server_'s health service only until below.
    log_->SetHealthListener(nullptr);
    access_log_->log()->SetHealthListener(nullptr);
    hub_->Shutdown();
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
    // Every call is over; wait for the subscriptions' own release of their
    // slots before hub_ is destroyed below.
    hub_->AwaitAllReleased();
    Log(LogLevel::kInfo, "calls drained");
  }
  // Also reached when Start failed half way: release what was built.
  executor_.reset();  // finishes queued storage work
  projection_.reset();
  hub_.reset();
  access_.reset();
  access_log_.reset();
  if (log_ == nullptr) return;
  const uint64_t position = log_->LastPosition();
  log_.reset();  // completes queued appends durably
  Log(LogLevel::kInfo, "stopped", {{"log_position", absl::StrCat(position)}});
}

LedgerServer::~LedgerServer() { Shutdown(); }

}  // namespace caseledger::services
