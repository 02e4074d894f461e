// libFuzzer target: caseledgerd's configuration file (protobuf text format
// of caseledger.v1.ServerConfig), parsed as caseledgerd parses it, from
// arbitrary text. Must not crash; what parses must print and parse back to
// the same message.

#include <cstddef>
#include <cstdint>
#include <string>

#include "caseledger/v1/server_config.pb.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  caseledger::v1::ServerConfig config;
  if (!google::protobuf::TextFormat::ParseFromString(text, &config)) return 0;
  std::string printed;
  if (!google::protobuf::TextFormat::PrintToString(config, &printed)) {
    __builtin_trap();
  }
  caseledger::v1::ServerConfig again;
  if (!google::protobuf::TextFormat::ParseFromString(printed, &again) ||
      !google::protobuf::util::MessageDifferencer::Equals(config, again)) {
    __builtin_trap();
  }
  return 0;
}
