// Writes the seed corpora of the fuzz targets (tests/fuzz/*_fuzzer.cc) from
// the demo caseload (tools/caseload, seed 1), into OUT_DIR/<target>/:
//   stored_event     values of the events column family of a loaded log
//   append_request   AppendEventsRequest binaries, as the server receives
//   event_json       the same requests as protobuf JSON (casectl append)
//   server_config    a configuration file with every field set
//   policy           an access policy file shaped like tools/run.sh's demo
//                    policy (every role, scopes, labels, consent)
// Usage: caseledger_fuzz_seeds OUT_DIR

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "caseledger/v1/access_policy.pb.h"
#include "caseledger/v1/ledger_service.pb.h"
#include "caseledger/v1/server_config.pb.h"
#include "engine/event_log.h"
#include "engine/internal/keys.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "rocksdb/db.h"
#include "tools/caseload/caseload.h"

namespace {

namespace fs = std::filesystem;
constexpr int kMaxSeeds = 64;

void Write(const fs::path& dir, int n, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / ("seed-" + std::to_string(n)), std::ios::binary);
  out << bytes;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "caseledger_fuzz_seeds: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return Fail("usage: caseledger_fuzz_seeds OUT_DIR");
  const fs::path out = argv[1];
  caseledger::caseload::CaseloadOptions options;
  options.seed = 1;
  options.cases = 4;

  // Requests, binary and JSON.
  caseledger::caseload::CaseloadGenerator generator(options);
  caseledger::caseload::StreamScript script;
  int n = 0;
  while (n < kMaxSeeds && generator.Next(&script)) {
    for (const caseledger::engine::AppendRequest& append : script.appends) {
      if (n >= kMaxSeeds) break;
      caseledger::v1::AppendEventsRequest request;
      request.set_case_id(append.case_id);
      request.mutable_expected()->set_exact(append.expected.version());
      for (const auto& e : append.events) *request.add_events() = e;
      Write(out / "append_request", n, request.SerializeAsString());
      std::string json;
      if (!google::protobuf::util::MessageToJsonString(request, &json).ok()) {
        return Fail("cannot print JSON");
      }
      Write(out / "event_json", n, json);
      ++n;
    }
  }

  // Stored values: load the caseload into a log and copy raw values out.
  const fs::path db = out / "tmp-log";
  fs::remove_all(db);
  {
    caseledger::engine::EventLogOptions log_options;
    log_options.path = db.string();
    log_options.sync = false;
    auto log = caseledger::engine::EventLog::Open(log_options);
    if (!log.ok()) return Fail(std::string(log.status().message()));
    const absl::Status loaded =
        caseledger::caseload::LoadCaseload(**log, options, nullptr);
    if (!loaded.ok()) return Fail(std::string(loaded.message()));
  }
  {
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
        {caseledger::engine::internal::kEventsCf,
         rocksdb::ColumnFamilyOptions()}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status s = rocksdb::DB::OpenForReadOnly(
        rocksdb::DBOptions(), db.string(), families, &handles, &raw);
    if (!s.ok()) return Fail(s.ToString());
    std::unique_ptr<rocksdb::Iterator> it(
        raw->NewIterator(rocksdb::ReadOptions(), handles[1]));
    int stored = 0;
    for (it->SeekToFirst(); it->Valid() && stored < kMaxSeeds; it->Next()) {
      Write(out / "stored_event", stored++, it->value().ToString());
    }
    it.reset();  // before the DB it reads
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  fs::remove_all(db);

  caseledger::v1::ServerConfig config;
  config.set_data_dir("data");
  config.set_listen("127.0.0.1:50051");
  config.set_max_receive_bytes(4 << 20);
  config.set_max_concurrent_streams(100);
  config.set_workers(4);
  config.set_sync(true);
  config.set_max_events_per_append(100);
  config.set_max_event_bytes(65536);
  config.set_max_subscriptions(64);
  config.set_backup_dir("backups");
  config.set_max_wait_seconds(30);
  std::string text;
  google::protobuf::TextFormat::PrintToString(config, &text);
  Write(out / "server_config", 0, text);

  // The demo policy's shape (tools/run.sh), with made-up token hashes.
  caseledger::v1::AccessPolicy policy;
  policy.add_consent_required_labels(
      caseledger::v1::SENSITIVITY_LABEL_SUBSTANCE_USE_PART2);
  policy.add_consent_required_labels(
      caseledger::v1::SENSITIVITY_LABEL_COUNSELLING_NOTES);
  caseledger::v1::Principal* admin = policy.add_principals();
  admin->set_id("demo-admin");
  admin->add_roles(caseledger::v1::ROLE_SUPERVISOR);
  admin->add_roles(caseledger::v1::ROLE_SERVICE);
  admin->add_roles(caseledger::v1::ROLE_ADMIN);
  admin->set_organization("demo");
  admin->add_teams("*");
  admin->add_programs("*");
  admin->add_event_types("*");
  admin->add_may_write_as("*");
  admin->add_allowed_labels(caseledger::v1::SENSITIVITY_LABEL_HEALTH);
  admin->add_allowed_labels(caseledger::v1::SENSITIVITY_LABEL_TRAUMA);
  admin->set_token_sha256_hex(std::string(64, 'a'));
  caseledger::v1::Principal* cm = policy.add_principals();
  cm->set_id("cm-0001");
  cm->add_roles(caseledger::v1::ROLE_CASEWORKER);
  cm->set_organization("demo");
  cm->add_teams("north");
  cm->add_programs("return-to-work");
  cm->add_allowed_labels(caseledger::v1::SENSITIVITY_LABEL_HEALTH);
  cm->set_may_break_glass(true);
  cm->set_token_sha256_hex(std::string(64, 'b'));
  caseledger::v1::Principal* analyst = policy.add_principals();
  analyst->set_id("demo-analyst");
  analyst->add_roles(caseledger::v1::ROLE_ANALYST);
  analyst->set_organization("demo");
  analyst->set_certificate_identity("analyst.example.test");
  caseledger::v1::Principal* auditor = policy.add_principals();
  auditor->set_id("demo-auditor");
  auditor->add_roles(caseledger::v1::ROLE_AUDITOR);
  auditor->mutable_expires_at()->set_seconds(1893456000);
  std::string policy_text;
  google::protobuf::TextFormat::PrintToString(policy, &policy_text);
  Write(out / "policy", 0, policy_text);
  return 0;
}
