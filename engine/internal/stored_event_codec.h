#ifndef CASELEDGER_ENGINE_INTERNAL_STORED_EVENT_CODEC_H_
#define CASELEDGER_ENGINE_INTERNAL_STORED_EVENT_CODEC_H_

// Decoding of the values of the `events` column family
// (engine/STORAGE_FORMAT.md). Pure function; thread-safe. Exposed for the
// engine and its fuzz target (tests/fuzz/stored_event_fuzzer.cc).

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "caseledger/v1/events.pb.h"
#include "caseledger/v1/stored_event.pb.h"

namespace caseledger::engine::internal {

// Decodes and checks the stored value of the event at global `position`
// (hash(32) ‖ StoredEvent bytes): the hash must match the bytes, the bytes
// must parse with that position and a plain payload. Returns the event with
// `hash` set, or DATA_LOSS saying which check failed (never echoing
// content). Any input is safe.
absl::StatusOr<v1::Event> DecodeStored(uint64_t position,
                                       absl::string_view value);

// The checks of DecodeStored without the payload: the hash must match the
// bytes and the bytes must parse as a StoredEvent with that position. Fills
// `stored` (its payload still encoded, e.g. encrypted) and returns the hash,
// or DATA_LOSS. Any input is safe.
absl::StatusOr<std::string> DecodeChecked(uint64_t position,
                                          absl::string_view value,
                                          v1::StoredEvent& stored);

}  // namespace caseledger::engine::internal

#endif  // CASELEDGER_ENGINE_INTERNAL_STORED_EVENT_CODEC_H_
