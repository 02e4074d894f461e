// libFuzzer target: decoding a stored event (the `events` column family
// value, engine/STORAGE_FORMAT.md) from arbitrary bytes must never crash,
// and must return an event only if the hash matches the bytes.
//
// The input is used twice: as a whole stored value (hash ‖ bytes; almost
// always rejected at the hash check), and as the StoredEvent bytes with a
// correct hash in front, so that the protobuf decoding and the position and
// payload checks behind the hash are reached too.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "engine/internal/stored_event_codec.h"
#include "engine/sha256.h"

namespace {

void Check(uint64_t position, absl::string_view value) {
  absl::StatusOr<caseledger::v1::Event> event =
      caseledger::engine::internal::DecodeStored(position, value);
  if (!event.ok()) {
    if (event.status().code() != absl::StatusCode::kDataLoss) __builtin_trap();
    return;
  }
  // Served only if the hash is the one over the stored bytes.
  if (event->hash() != value.substr(0, caseledger::engine::kSha256Bytes) ||
      caseledger::engine::Sha256(
          value.substr(caseledger::engine::kSha256Bytes)) != event->hash() ||
      event->envelope().global_position() != position) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  // The position the value claims to be at: from the first byte, so that
  // both matching and mismatching positions are tried.
  const uint64_t position = size == 0 ? 1 : 1 + (data[0] % 4);
  Check(position, input);
  const std::string hashed =
      caseledger::engine::Sha256(input) + std::string(input);
  Check(position, hashed);
  return 0;
}
