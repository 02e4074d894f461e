#include "tools/bench/bench_util.h"

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "engine/ids.h"
#include "engine/sha256.h"

namespace caseledger::bench {

namespace fs = std::filesystem;
namespace v1 = ::caseledger::v1;

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

absl::Duration Percentile(const std::vector<absl::Duration>& sorted, double p) {
  if (sorted.empty()) return absl::ZeroDuration();
  size_t rank = static_cast<size_t>(std::ceil(p * sorted.size()));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t seconds = absl::ToUnixSeconds(t);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(seconds)) /
                                      absl::Nanoseconds(1)));
}

v1::EventPayload MakeNotePayload(size_t target_bytes) {
  static constexpr char kSentence[] =
      "Met the client at home; we reviewed the housing goal, agreed the next "
      "plan step with her sister, and booked a follow-up visit. ";
  v1::EventPayload payload;
  v1::NoteRecorded* note = payload.mutable_note_recorded();
  note->set_note_id(engine::NewEventId());
  size_t text_bytes = target_bytes;
  for (int i = 0; i < 4; ++i) {
    std::string text;
    while (text.size() < text_bytes) text += kSentence;
    text.resize(text_bytes);
    note->set_text(text);
    const size_t size = payload.ByteSizeLong();
    if (size == target_bytes) break;
    if (size > target_bytes) {
      const size_t over = size - target_bytes;
      text_bytes = over < text_bytes ? text_bytes - over : 0;
    } else {
      text_bytes += target_bytes - size;
    }
  }
  return payload;
}

v1::Event MakeEvent(const v1::EventPayload& payload, int writer) {
  v1::Event event;
  v1::EventEnvelope* envelope = event.mutable_envelope();
  envelope->set_event_id(engine::NewEventId());
  envelope->set_schema_version(1);
  SetTimestamp(absl::Now(), envelope->mutable_occurred_at());
  v1::Actor* actor = envelope->mutable_actor();
  actor->set_user_id(absl::StrCat("bench-cm-", writer));
  actor->set_role("caseworker");
  actor->set_organization("bench-org");
  envelope->set_source("caseledger_bench");
  *event.mutable_payload() = payload;
  return event;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<int>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  return out + "\"";
}

std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "null";
  return absl::StrFormat("%.6g", value);
}

uint64_t DirectoryBytes(const std::string& path) {
  uint64_t bytes = 0;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(path, ec)) {
    if (entry.is_regular_file(ec)) bytes += entry.file_size(ec);
  }
  return bytes;
}

std::string LoadAverage() {
  double load[3];
  if (::getloadavg(load, 3) != 3) return "?";
  return absl::StrFormat("%.2f %.2f %.2f", load[0], load[1], load[2]);
}

Latency Summarize(std::vector<absl::Duration> samples) {
  std::sort(samples.begin(), samples.end());
  Latency latency;
  latency.count = static_cast<int64_t>(samples.size());
  latency.p50 = Percentile(samples, 0.50);
  latency.p99 = Percentile(samples, 0.99);
  if (!samples.empty()) latency.max = samples.back();
  return latency;
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

Memory ProcessMemory(pid_t pid) {
  const std::string path =
      pid == 0 ? std::string("/proc/self/status")
               : absl::StrCat("/proc/", static_cast<int>(pid), "/status");
  std::ifstream in(path);
  Memory memory;
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view rest = line;
    uint64_t* field = nullptr;
    if (absl::ConsumePrefix(&rest, "VmRSS:")) {
      field = &memory.rss;
    } else if (absl::ConsumePrefix(&rest, "VmHWM:")) {
      field = &memory.peak;
    } else {
      continue;
    }
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, "kB");
    rest = absl::StripAsciiWhitespace(rest);
    uint64_t kib = 0;
    if (absl::SimpleAtoi(rest, &kib)) *field = kib * 1024;
  }
  return memory;
}

std::string MachineSummary() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  double gib = 0;
  while (std::getline(in, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, "MemTotal:")) continue;
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, "kB");
    uint64_t kib = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &kib)) {
      gib = kib / 1048576.0;
    }
  }
  return absl::StrFormat("nproc %u, MemTotal %.1f GiB",
                         std::thread::hardware_concurrency(), gib);
}

// The echo server ignores the token; sending it there too keeps the calls
// alike.
const std::string& BenchToken() {
  static const std::string* token =
      new std::string(engine::NewEventId() + engine::NewEventId());
  return *token;
}

v1::AccessPolicy BenchPolicy() {
  v1::AccessPolicy policy;
  v1::Principal* p = policy.add_principals();
  p->set_id("bench");
  p->add_roles(v1::ROLE_SUPERVISOR);  // appends and reads, every team
  p->add_roles(v1::ROLE_SERVICE);     // subscriptions, every program/type
  p->add_roles(v1::ROLE_ADMIN);
  p->add_teams("*");
  p->add_programs("*");
  p->add_event_types("*");
  // The generated caseload's events name its (fictional) staff as actors.
  p->add_may_write_as("*");
  // Every label, so that subscriptions and reads see every event (the
  // catch-up measurement checks that no position is skipped).
  for (int label = v1::SensitivityLabel_MIN; label <= v1::SensitivityLabel_MAX;
       ++label) {
    if (v1::SensitivityLabel_IsValid(label) &&
        label != v1::SENSITIVITY_LABEL_UNSPECIFIED) {
      p->add_allowed_labels(static_cast<v1::SensitivityLabel>(label));
    }
  }
  p->set_token_sha256_hex(engine::ToHex(engine::Sha256(BenchToken())));
  return policy;
}

}  // namespace caseledger::bench
