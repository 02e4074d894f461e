#ifndef CASELEDGER_ENGINE_INTERNAL_STORED_EVENT_CODEC_H_
#define CASELEDGER_ENGINE_INTERNAL_STORED_EVENT_CODEC_H_

// Decoding of the values of the `events` column family
// (engine/STORAGE_FORMAT.md). Pure function; thread-safe. Exposed for the
// engine and its fuzz target (tests/fuzz/stored_event_fuzzer.cc).

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "caseledger/v1/events.pb.h"

namespace caseledger::engine::internal {

// Decodes and checks the stored value of the event at global `position`
// (hash(32) ‖ StoredEvent bytes): the hash must match the bytes, the bytes
// must parse with that position and a plain payload. Returns the event with
// `hash` set, or DATA_LOSS saying which check failed (never echoing
// content). Any input is safe.
absl::StatusOr<v1::Event> DecodeStored(uint64_t position,
                                       absl::string_view value);

}  // namespace caseledger::engine::internal

#endif  // CASELEDGER_ENGINE_INTERNAL_STORED_EVENT_CODEC_H_
