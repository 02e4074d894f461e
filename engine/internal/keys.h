#ifndef CASELEDGER_ENGINE_INTERNAL_KEYS_H_
#define CASELEDGER_ENGINE_INTERNAL_KEYS_H_

// Key and value encodings of the log's column families
// (engine/STORAGE_FORMAT.md). Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace caseledger::engine::internal {

inline constexpr char kEventsCf[] = "events";
inline constexpr char kCaseIndexCf[] = "case_index";
inline constexpr char kCaseHeadsCf[] = "case_heads";
inline constexpr char kEventIdsCf[] = "event_ids";
inline constexpr char kTermIndexCf[] = "term_index";
inline constexpr char kFormatKey[] = "format";
inline constexpr char kFormatValue[] = "caseledger-log-1";

// 8-byte big-endian, so byte order equals numeric order.
std::string EncodeU64(uint64_t value);
// REQUIRES: bytes.size() >= 8. Reads the first 8 bytes.
uint64_t DecodeU64(absl::string_view bytes);

// events: global position -> hash(32) + StoredEvent bytes.
inline std::string EventKey(uint64_t position) { return EncodeU64(position); }

// case_index: case_id 0x00 version -> global position.
std::string CaseIndexKey(absl::string_view case_id, uint64_t version);
// The prefix shared by all index keys of one case.
std::string CaseIndexPrefix(absl::string_view case_id);

// term_index: u32be(term size) term u64be(global position) -> empty.
// The length prefix keeps one term's keys apart from every other term's
// whatever bytes the terms hold.
std::string TermIndexPrefix(absl::string_view term);
std::string TermIndexKey(absl::string_view term, uint64_t position);

// case_heads: case_id -> version(8) last_position(8) last_hash(32).
struct HeadValue {
  uint64_t version = 0;
  uint64_t last_position = 0;
  std::string last_hash;
};
std::string EncodeHead(const HeadValue& head);
std::optional<HeadValue> DecodeHead(absl::string_view value);

// event_ids: event_id -> global position(8) stream version(8)
// content digest(32).
struct EventIdValue {
  uint64_t position = 0;
  uint64_t version = 0;
  std::string digest;
};
std::string EncodeEventId(const EventIdValue& value);
std::optional<EventIdValue> DecodeEventId(absl::string_view value);

}  // namespace caseledger::engine::internal

#endif  // CASELEDGER_ENGINE_INTERNAL_KEYS_H_
