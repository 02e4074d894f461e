#include "engine/internal/keys.h"

#include "engine/sha256.h"

namespace caseledger::engine::internal {

std::string EncodeU64(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xFF);
    value >>= 8;
  }
  return out;
}

uint64_t DecodeU64(absl::string_view bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return value;
}

std::string CaseIndexPrefix(absl::string_view case_id) {
  std::string key(case_id);
  key.push_back('\0');
  return key;
}

std::string CaseIndexKey(absl::string_view case_id, uint64_t version) {
  return CaseIndexPrefix(case_id) + EncodeU64(version);
}

std::string TermIndexPrefix(absl::string_view term) {
  std::string key(4, '\0');
  const uint32_t size = static_cast<uint32_t>(term.size());
  for (int i = 3; i >= 0; --i) {
    key[3 - i] = static_cast<char>((size >> (8 * i)) & 0xFF);
  }
  key.append(term.data(), term.size());
  return key;
}

std::string TermIndexKey(absl::string_view term, uint64_t position) {
  return TermIndexPrefix(term) + EncodeU64(position);
}

std::string EncodeHead(const HeadValue& head) {
  return EncodeU64(head.version) + EncodeU64(head.last_position) +
         head.last_hash;
}

std::optional<HeadValue> DecodeHead(absl::string_view value) {
  if (value.size() != 16 + kSha256Bytes) return std::nullopt;
  HeadValue head;
  head.version = DecodeU64(value.substr(0, 8));
  head.last_position = DecodeU64(value.substr(8, 8));
  head.last_hash = std::string(value.substr(16));
  return head;
}

std::string EncodeEventId(const EventIdValue& value) {
  return EncodeU64(value.position) + EncodeU64(value.version) + value.digest;
}

std::optional<EventIdValue> DecodeEventId(absl::string_view value) {
  if (value.size() != 16 + kSha256Bytes) return std::nullopt;
  EventIdValue out;
  out.position = DecodeU64(value.substr(0, 8));
  out.version = DecodeU64(value.substr(8, 8));
  out.digest = std::string(value.substr(16));
  return out;
}

}  // namespace caseledger::engine::internal
