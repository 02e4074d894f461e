// libFuzzer target: an AppendEventsRequest from arbitrary bytes (as the
// server receives it, binary protobuf) goes through the same conversion as
// CaseWriterService::AppendEvents and engine validation; a request that
// validates is appended to a real event log (RocksDB in a temp directory,
// sync off) and read back. Nothing may crash; a valid request must be
// stored and read back with the same payloads; an invalid one must be
// INVALID_ARGUMENT naming a field, and must store nothing.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "caseledger/v1/ledger_service.pb.h"
#include "engine/event_log.h"
#include "engine/validation.h"
#include "google/protobuf/util/message_differencer.h"

namespace {

using caseledger::engine::EventLog;

EventLog* Log() {
  static EventLog* log = [] {
    std::string dir = (std::filesystem::temp_directory_path() /
                       ("caseledger-fuzz-" + std::to_string(::getpid())))
                          .string();
    std::filesystem::remove_all(dir);
    caseledger::engine::EventLogOptions options;
    options.path = dir;
    options.sync = false;  // a fuzz run, not durability
    absl::StatusOr<std::unique_ptr<EventLog>> opened = EventLog::Open(options);
    if (!opened.ok()) std::abort();
    // Removed at exit; the log stays open for the whole run.
    static std::string* to_remove = new std::string(dir);
    std::atexit([] { std::filesystem::remove_all(*to_remove); });
    return opened->release();
  }();
  return log;
}

caseledger::engine::ExpectedVersion FromProto(
    const caseledger::v1::ExpectedVersion& expected) {
  using caseledger::engine::ExpectedVersion;
  switch (expected.kind_case()) {
    case caseledger::v1::ExpectedVersion::kNoStream:
      return ExpectedVersion::NoStream();
    case caseledger::v1::ExpectedVersion::kStreamExists:
      return ExpectedVersion::StreamExists();
    case caseledger::v1::ExpectedVersion::kExact:
      return ExpectedVersion::Exact(expected.exact());
    default:
      return ExpectedVersion::Any();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  caseledger::v1::AppendEventsRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  caseledger::engine::AppendRequest append;
  append.case_id = request.case_id();
  append.expected = FromProto(request.expected());
  append.events.assign(request.events().begin(), request.events().end());

  const absl::Status valid = caseledger::engine::ValidateAppendRequest(
      append, caseledger::engine::ValidationLimits());
  const uint64_t before = Log()->LastPosition();
  absl::StatusOr<caseledger::engine::AppendResult> result =
      Log()->Append(append);
  if (!valid.ok()) {
    if (valid.code() != absl::StatusCode::kInvalidArgument ||
        valid.message().empty() || result.ok() ||
        Log()->LastPosition() != before) {
      __builtin_trap();
    }
    return 0;
  }
  if (!result.ok()) {
    // Valid but refused by the log's state (expected version, event id
    // reused): never a storage error.
    const absl::StatusCode code = result.status().code();
    if (code != absl::StatusCode::kAborted &&
        code != absl::StatusCode::kAlreadyExists) {
      __builtin_trap();
    }
    return 0;
  }
  for (size_t i = 0; i < append.events.size(); ++i) {
    absl::StatusOr<caseledger::v1::Event> stored =
        Log()->ReadEvent(result->first_position + i);
    if (!stored.ok() || !google::protobuf::util::MessageDifferencer::Equals(
                            stored->payload(), append.events[i].payload())) {
      __builtin_trap();
    }
  }
  return 0;
}
