// caseledgerd: the caseledger gRPC server.
//
//   caseledgerd [--data_dir=./data] [--listen=127.0.0.1:50051]
//               [--config=FILE] [--max_receive_bytes=...] ...
//
//   caseledgerd --data_dir=D --master_key_file=OLD --rotate_master_key_to=NEW
//     rewraps every data key under NEW and exits (server stopped); then
//     start with --master_key_file=NEW.
//
// SIGTERM or SIGINT: graceful shutdown (stop accepting, end subscriptions
// with UNAVAILABLE, finish in-flight appends durably), then exit 0.

#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "caseledger/v1/server_config.pb.h"
#include "engine/key_store.h"
#include "google/protobuf/text_format.h"
#include "services/log.h"
#include "services/master_key.h"
#include "services/policy.h"
#include "services/server.h"

ABSL_FLAG(std::string, config, "",
          "Optional configuration file (protobuf text format, "
          "caseledger.v1.ServerConfig); flags given on the command line "
          "override it.");
ABSL_FLAG(std::string, data_dir, "data", "Data directory.");
ABSL_FLAG(std::string, master_key_file, "",
          "File with the key store's master key (64 hex digits, mode 0600). "
          "Default: <data_dir>/master.key, generated on first start.");
ABSL_FLAG(std::string, rotate_master_key_to, "",
          "Offline: rewrap every data key under the master key in this file, "
          "then exit. Start again with --master_key_file set to it.");
ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "Address to serve on.");
ABSL_FLAG(int32_t, max_receive_bytes, 4 << 20, "Largest request, bytes.");
ABSL_FLAG(int32_t, max_concurrent_streams, 100,
          "Concurrent calls per connection.");
ABSL_FLAG(int32_t, max_metadata_bytes, 16 << 10,
          "Largest sum of a request's metadata (headers), bytes.");
ABSL_FLAG(int64_t, grpc_memory_bytes, int64_t{256} << 20,
          "Memory gRPC may hold for all connections (resource quota), "
          "bytes.");
ABSL_FLAG(int32_t, max_connection_idle_seconds, 600,
          "Close connections without calls after this many seconds.");
ABSL_FLAG(int32_t, max_connection_age_seconds, 7200,
          "Close any connection after this many seconds (calls get 60 s to "
          "finish; clients reconnect, subscriptions resume).");
ABSL_FLAG(int32_t, keepalive_seconds, 60,
          "Ping idle connections this often; drop them if a ping is not "
          "answered within 20 s.");
ABSL_FLAG(int32_t, workers, 4, "Storage worker threads.");
ABSL_FLAG(bool, sync, true,
          "fsync each append before acknowledging (--nosync: tests only).");
ABSL_FLAG(int32_t, max_events_per_append, 100, "Events per append.");
ABSL_FLAG(int32_t, max_event_bytes, 64 * 1024, "Bytes per event.");
ABSL_FLAG(int32_t, max_subscriptions, 64, "Concurrent subscriptions.");
ABSL_FLAG(std::string, backup_dir, "backups",
          "Where relative backup paths go (relative to --data_dir).");
ABSL_FLAG(int32_t, max_wait_seconds, 30,
          "Longest read-your-writes wait, seconds.");
ABSL_FLAG(std::string, policy, "",
          "Access policy file (caseledger.v1.AccessPolicy, text format); "
          "without one every call is denied.");
ABSL_FLAG(std::string, tls_cert, "", "Server certificate chain (PEM).");
ABSL_FLAG(std::string, tls_key, "", "Server private key (PEM).");
ABSL_FLAG(std::string, tls_client_ca, "",
          "CA certificates for client certificates (mutual TLS).");
ABSL_FLAG(bool, plaintext_loopback, false,
          "Serve without TLS; only on a loopback address.");
ABSL_FLAG(std::string, pseudonym_key_file, "",
          "Key for analysts' pseudonyms (HMAC-SHA256, >= 32 bytes).");

namespace caseledger::services {
namespace {

// Flag names given on the command line (Abseil 20220623 keeps this private).
absl::flat_hash_set<std::string>& GivenFlags() {
  static auto* given = new absl::flat_hash_set<std::string>();
  return *given;
}

void RecordGivenFlags(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) {
      continue;
    }
    arg = arg.substr(0, arg.find('='));
    GivenFlags().insert(std::string(arg));
    if (absl::ConsumePrefix(&arg, "no")) GivenFlags().insert(std::string(arg));
  }
}

bool OnCommandLine(absl::string_view name) {
  return GivenFlags().contains(name);
}

// Flags win when given on the command line; else the file; else the
// flag's default.
template <typename T, typename F>
T Pick(absl::string_view name, const absl::Flag<F>& flag, bool file_has,
       T file_value) {
  if (!OnCommandLine(name) && file_has) return file_value;
  return static_cast<T>(absl::GetFlag(flag));
}

bool ReadWholeFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  *out = text.str();
  return static_cast<bool>(in);
}

// --rotate_master_key_to: rewraps the key store's data keys, exits.
int RotateMasterKey(const ServerOptions& options, const std::string& target) {
  const std::string current =
      options.master_key_file.empty()
          ? (std::filesystem::path(options.data_dir) / "master.key").string()
          : options.master_key_file;
  absl::StatusOr<std::string> old_key = ReadMasterKeyFile(current);
  absl::StatusOr<std::string> new_key = ReadMasterKeyFile(target);
  absl::Status status = !old_key.ok() ? old_key.status() : new_key.status();
  if (status.ok()) {
    engine::KeyStoreOptions key_options;
    key_options.path =
        (std::filesystem::path(options.data_dir) / "keys").string();
    key_options.master_key = *old_key;
    key_options.create_if_missing = false;
    absl::StatusOr<std::unique_ptr<engine::KeyStore>> keys =
        engine::KeyStore::Open(key_options);
    status = keys.ok() ? (*keys)->RotateMasterKey(*new_key) : keys.status();
  }
  if (!status.ok()) {
    Log(LogLevel::kError, "master key rotation failed",
        {{"code", absl::StatusCodeToString(status.code())},
         {"error", std::string(status.message())}});
    return 1;
  }
  Log(LogLevel::kInfo,
      "master key rotated: every data key is wrapped by the new key; start "
      "with --master_key_file set to it and destroy the old one",
      {{"master_key_file", target}});
  return 0;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "caseledger gRPC server. Example: caseledgerd --data_dir=./data "
      "--listen=127.0.0.1:50051");
  // Debian's Abseil checks every lock acquisition for deadlock cycles (a
  // debugging aid) unless told not to; the server's tests keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  RecordGivenFlags(argc, argv);
  absl::ParseCommandLine(argc, argv);

  v1::ServerConfig config;
  if (const std::string path = absl::GetFlag(FLAGS_config); !path.empty()) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    if (!in ||
        !google::protobuf::TextFormat::ParseFromString(text.str(), &config)) {
      Log(LogLevel::kError, "cannot read the configuration file",
          {{"config", path}});
      return 2;
    }
  }
  for (const auto& [name, value] :
       {std::pair<const char*, int64_t>{"max_receive_bytes",
                                        absl::GetFlag(FLAGS_max_receive_bytes)},
        {"max_concurrent_streams", absl::GetFlag(FLAGS_max_concurrent_streams)},
        {"workers", absl::GetFlag(FLAGS_workers)},
        {"max_events_per_append", absl::GetFlag(FLAGS_max_events_per_append)},
        {"max_event_bytes", absl::GetFlag(FLAGS_max_event_bytes)},
        {"max_subscriptions", absl::GetFlag(FLAGS_max_subscriptions)},
        {"max_wait_seconds", absl::GetFlag(FLAGS_max_wait_seconds)},
        {"max_metadata_bytes", absl::GetFlag(FLAGS_max_metadata_bytes)},
        {"grpc_memory_bytes", absl::GetFlag(FLAGS_grpc_memory_bytes)},
        {"max_connection_idle_seconds",
         absl::GetFlag(FLAGS_max_connection_idle_seconds)},
        {"max_connection_age_seconds",
         absl::GetFlag(FLAGS_max_connection_age_seconds)},
        {"keepalive_seconds", absl::GetFlag(FLAGS_keepalive_seconds)}}) {
    if (value <= 0) {
      Log(LogLevel::kError, "limits must be positive", {{"flag", name}});
      return 2;
    }
  }
  ServerOptions options;
  options.data_dir = Pick("data_dir", FLAGS_data_dir, config.has_data_dir(),
                          config.data_dir());
  options.listen =
      Pick("listen", FLAGS_listen, config.has_listen(), config.listen());
  options.max_receive_bytes =
      Pick("max_receive_bytes", FLAGS_max_receive_bytes,
           config.has_max_receive_bytes(),
           static_cast<int>(config.max_receive_bytes()));
  options.max_concurrent_streams =
      Pick("max_concurrent_streams", FLAGS_max_concurrent_streams,
           config.has_max_concurrent_streams(),
           static_cast<int>(config.max_concurrent_streams()));
  options.max_metadata_bytes =
      Pick("max_metadata_bytes", FLAGS_max_metadata_bytes,
           config.has_max_metadata_bytes(),
           static_cast<int>(config.max_metadata_bytes()));
  options.grpc_memory_bytes =
      Pick("grpc_memory_bytes", FLAGS_grpc_memory_bytes,
           config.has_grpc_memory_bytes(),
           static_cast<int64_t>(config.grpc_memory_bytes()));
  options.max_connection_idle = absl::Seconds(
      Pick("max_connection_idle_seconds", FLAGS_max_connection_idle_seconds,
           config.has_max_connection_idle_seconds(),
           static_cast<int>(config.max_connection_idle_seconds())));
  options.max_connection_age = absl::Seconds(
      Pick("max_connection_age_seconds", FLAGS_max_connection_age_seconds,
           config.has_max_connection_age_seconds(),
           static_cast<int>(config.max_connection_age_seconds())));
  options.keepalive_time =
      absl::Seconds(Pick("keepalive_seconds", FLAGS_keepalive_seconds,
                         config.has_keepalive_seconds(),
                         static_cast<int>(config.keepalive_seconds())));
  options.workers = Pick("workers", FLAGS_workers, config.has_workers(),
                         static_cast<int>(config.workers()));
  options.log.sync = Pick("sync", FLAGS_sync, config.has_sync(), config.sync());
  options.log.max_events_per_append =
      Pick("max_events_per_append", FLAGS_max_events_per_append,
           config.has_max_events_per_append(),
           static_cast<size_t>(config.max_events_per_append()));
  options.log.max_event_bytes = Pick(
      "max_event_bytes", FLAGS_max_event_bytes, config.has_max_event_bytes(),
      static_cast<size_t>(config.max_event_bytes()));
  options.limits.max_subscriptions =
      Pick("max_subscriptions", FLAGS_max_subscriptions,
           config.has_max_subscriptions(),
           static_cast<int>(config.max_subscriptions()));
  options.limits.backup_dir =
      Pick("backup_dir", FLAGS_backup_dir, config.has_backup_dir(),
           config.backup_dir());
  options.limits.max_wait = absl::Seconds(Pick(
      "max_wait_seconds", FLAGS_max_wait_seconds, config.has_max_wait_seconds(),
      static_cast<int>(config.max_wait_seconds())));
  if (options.max_receive_bytes <= 0 || options.workers <= 0 ||
      options.max_concurrent_streams <= 0 ||
      options.log.max_events_per_append == 0 ||
      options.log.max_event_bytes == 0 ||
      options.limits.max_subscriptions <= 0 ||
      options.limits.max_wait <= absl::ZeroDuration() ||
      options.max_metadata_bytes <= 0 || options.grpc_memory_bytes <= 0 ||
      options.max_connection_idle <= absl::ZeroDuration() ||
      options.max_connection_age <= absl::ZeroDuration() ||
      options.keepalive_time <= absl::ZeroDuration()) {
    Log(LogLevel::kError, "limits must be positive");
    return 2;
  }
  options.tls.cert_file =
      Pick("tls_cert", FLAGS_tls_cert, config.has_tls_cert_file(),
           config.tls_cert_file());
  options.tls.key_file = Pick("tls_key", FLAGS_tls_key,
                              config.has_tls_key_file(), config.tls_key_file());
  options.tls.client_ca_file =
      Pick("tls_client_ca", FLAGS_tls_client_ca,
           config.has_tls_client_ca_file(), config.tls_client_ca_file());
  options.plaintext_loopback =
      Pick("plaintext_loopback", FLAGS_plaintext_loopback,
           config.has_plaintext_loopback(), config.plaintext_loopback());
  const std::string policy_file = Pick(
      "policy", FLAGS_policy, config.has_policy_file(), config.policy_file());
  if (!policy_file.empty()) {
    std::string text;
    if (!ReadWholeFile(policy_file, &text)) {
      Log(LogLevel::kError, "cannot read the policy file",
          {{"policy", policy_file}});
      return 2;
    }
    absl::StatusOr<v1::AccessPolicy> policy = ParsePolicy(text);
    if (!policy.ok()) {
      Log(LogLevel::kError, "bad policy file",
          {{"policy", policy_file},
           {"error", std::string(policy.status().message())}});
      return 2;
    }
    options.access.policy = *std::move(policy);
  } else {
    Log(LogLevel::kWarning,
        "no access policy (--policy): every call will be denied");
  }
  const std::string key_file =
      Pick("pseudonym_key_file", FLAGS_pseudonym_key_file,
           config.has_pseudonym_key_file(), config.pseudonym_key_file());
  if (!key_file.empty()) {
    if (!ReadWholeFile(key_file, &options.access.pseudonym_key) ||
        options.access.pseudonym_key.size() < 32) {
      Log(LogLevel::kError,
          "cannot read the pseudonym key file (at least 32 bytes)",
          {{"pseudonym_key_file", key_file}});
      return 2;
    }
  } else {
    Log(LogLevel::kWarning,
        "no pseudonym key file: analysts' pseudonyms change at every start");
  }

  options.master_key_file =
      Pick("master_key_file", FLAGS_master_key_file,
           config.has_master_key_file(), config.master_key_file());
  if (const std::string target = absl::GetFlag(FLAGS_rotate_master_key_to);
      !target.empty()) {
    return RotateMasterKey(options, target);
  }
  if (!options.log.sync) {
    Log(LogLevel::kWarning,
        "sync is off: acknowledged appends can be lost on power loss; use "
        "only for tests and benchmarks");
  }

  // Signals are taken by sigwait on this thread; block them everywhere else
  // (threads inherit the mask, so do it before any thread starts).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<LedgerServer>> server =
      LedgerServer::Start(options);
  if (!server.ok()) {
    Log(LogLevel::kError, "cannot start",
        {{"code", absl::StatusCodeToString(server.status().code())},
         {"error", std::string(server.status().message())}});
    return 1;
  }
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  Log(LogLevel::kInfo, "signal received",
      {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*server)->Shutdown();
  return 0;
}

}  // namespace
}  // namespace caseledger::services

int main(int argc, char** argv) {
  return caseledger::services::Main(argc, argv);
}
