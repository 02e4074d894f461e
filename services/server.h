#ifndef CASELEDGER_SERVICES_SERVER_H_
#define CASELEDGER_SERVICES_SERVER_H_

// caseledgerd's core: opens the log, the access log and the projections in
// a data directory, and serves the gRPC API (plus the standard health
// service and server reflection) on one address, over TLS (optionally
// mutual) or, on a loopback address when configured so, plaintext. Every
// call is authorized against the access policy (access_control.h).
// Thread-safe.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/options.h"
#include "grpcpp/server_builder.h"
#include "projections/case_projection.h"
#include "services/ledger_services.h"
#include "services/transfer_service.h"

namespace caseledger::services {

struct TlsOptions {
  // PEM certificate chain and private key of the server. Empty: no TLS.
  std::string cert_file;
  std::string key_file;
  // PEM CA certificates that client certificates must chain to: mutual TLS
  // (a client certificate is requested and verified when presented; bearer
  // tokens remain usable). Empty: no client certificates.
  std::string client_ca_file;
};

struct ServerOptions {
  // Data directory: the log in <data_dir>/log, projections in
  // <data_dir>/projections, relative backups in <data_dir>/backups unless
  // limits.backup_dir is absolute.
  std::string data_dir = "data";
  // host:port; port 0 picks a free port (see LedgerServer::port()).
  std::string listen = "127.0.0.1:50051";
  // Largest request accepted, in bytes (RESOURCE_EXHAUSTED beyond).
  int max_receive_bytes = 4 << 20;
  // Concurrent streams (calls) per connection (HTTP/2
  // SETTINGS_MAX_CONCURRENT_STREAMS); a client's further calls wait on its
  // side.
  int max_concurrent_streams = 100;
  // Connection hardening (see README "Security"; Debian's gRPC 1.51 predates
  // the HTTP/2 rapid-reset fixes, CVE-2023-44487).
  // Largest sum of a request's metadata (headers), in bytes; larger header
  // blocks are refused by the transport.
  int max_metadata_bytes = 16 << 10;
  // Memory gRPC may hold for all connections together (its resource
  // quota); under pressure it shrinks flow-control windows and refuses new
  // streams instead of growing.
  int64_t grpc_memory_bytes = int64_t{256} << 20;
  // A connection without calls for this long is closed (GOAWAY).
  absl::Duration max_connection_idle = absl::Minutes(10);
  // Any connection is closed after this long (GOAWAY), its calls given
  // max_connection_age_grace to finish; clients reconnect (subscriptions
  // resume from their resume_from).
  absl::Duration max_connection_age = absl::Hours(2);
  absl::Duration max_connection_age_grace = absl::Minutes(1);
  // The server pings an idle connection this often and drops it when the
  // ping is not answered within keepalive_timeout (dead peers free their
  // slots).
  absl::Duration keepalive_time = absl::Minutes(1);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  // Clients may ping at most this often without data; a client that pings
  // more often twice is disconnected (ping floods).
  absl::Duration min_client_ping_interval = absl::Seconds(10);
  // Executor threads for storage work.
  int workers = 4;
  // File holding the key store's master key (README, "Erasure"); never
  // logged. Empty: `<data_dir>/master.key`, created with a fresh key (mode
  // 0600) on first start, with a warning that it must be moved out of the
  // data directory for erasure to hold against a copy of the disk. A named
  // file must exist. Readable by group or others: refused.
  std::string master_key_file;
  // Engine options (sync, limits); `path`, `key_store_path` (<data_dir>/keys)
  // and `master_key` are set from data_dir and master_key_file.
  engine::EventLogOptions log;
  // Projection options (chunking, apply delay, cache); `dir` is set from
  // data_dir (<data_dir>/projections).
  projections::CaseProjectionOptions projection;
  ServiceLimits limits;
  // TLS; required unless plaintext_loopback.
  TlsOptions tls;
  // Serve without TLS; allowed only on a loopback address (127.0.0.0/8,
  // ::1, localhost), logged as a warning. Default: false.
  bool plaintext_loopback = false;
  // The access policy and pseudonym key. Default: no principals, so every
  // call is denied.
  AccessOptions access;
};

// Sets the connection hardening of `options` (metadata size, resource
// quota, connection idle/age, keepalive and ping limits) on `builder`.
void ApplyConnectionLimits(const ServerOptions& options,
                           grpc::ServerBuilder* builder);
// True if `listen` (host:port) names a loopback host.
bool IsLoopbackAddress(absl::string_view listen);

class LedgerServer {
 public:
  // Opens storage, starts the projections and the server. FAILED_PRECONDITION
  // if the address cannot be bound; storage errors as the engine reports.
  static absl::StatusOr<std::unique_ptr<LedgerServer>> Start(
      const ServerOptions& options);

  // Shuts down (see Shutdown) if not done yet.
  ~LedgerServer();

  // Graceful shutdown: stop accepting calls, end subscriptions with
  // UNAVAILABLE, wait up to `grace` for in-flight calls (appends finish
  // durably), then cancel what remains and close storage.
  void Shutdown(absl::Duration grace = absl::Seconds(10));

  int port() const { return port_; }
  engine::EventLog* log() { return log_.get(); }
  AccessLog* access_log() { return access_log_.get(); }
  projections::CaseProjection* projection() { return projection_.get(); }

 private:
  LedgerServer() = default;

  int port_ = 0;
  std::unique_ptr<engine::EventLog> log_;
  std::unique_ptr<AccessLog> access_log_;
  std::unique_ptr<AccessControl> access_;
  std::unique_ptr<projections::CaseProjection> projection_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<SubscriptionHub> hub_;
  std::unique_ptr<CaseWriterService> writer_;
  std::unique_ptr<AuditService> audit_;
  std::unique_ptr<QueriesService> queries_;
  std::unique_ptr<AnalyticsService> analytics_;
  std::unique_ptr<OperationsService> operations_;
  std::unique_ptr<ErasureService> erasure_;
  std::unique_ptr<SubscriptionsService> subscriptions_;
  std::unique_ptr<TransferService> transfer_;
  std::unique_ptr<AccessLogServiceImpl> access_log_service_;
  std::unique_ptr<grpc::Server> server_;
  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace caseledger::services

#endif  // CASELEDGER_SERVICES_SERVER_H_
