#include "tests/testing/projection_dump.h"

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "caseledger/v1/metrics.pb.h"
#include "caseledger/v1/projections.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace caseledger::testing {
namespace {

// An empty message of the type stored under `key` (layout:
// projections/README.md), or nullptr for an unknown key.
std::unique_ptr<google::protobuf::Message> NewMessageFor(
    absl::string_view key) {
  if (absl::StartsWith(key, "c/")) return std::make_unique<v1::CaseState>();
  if (absl::StartsWith(key, "f/")) return std::make_unique<v1::CaseFacts>();
  if (absl::StartsWith(key, "t/")) return std::make_unique<v1::TimelineEntry>();
  if (absl::StartsWith(key, "w/")) {
    return std::make_unique<v1::CaseworkerFacts>();
  }
  if (key == "m/checkpoint") {
    return std::make_unique<v1::ProjectionCheckpoint>();
  }
  return nullptr;
}

// The value of `key` decoded for a failure message, or its escaped bytes if
// it does not decode.
std::string DescribeValue(absl::string_view key, const std::string& value) {
  std::unique_ptr<google::protobuf::Message> message = NewMessageFor(key);
  if (message != nullptr && message->ParseFromString(value)) {
    return message->ShortDebugString();
  }
  return absl::StrCat("bytes \"", absl::CEscape(value), "\"");
}

// How the values of `key` differ: field by field when both decode (the
// killed-and-resumed value first, "a -> b"), else both in full.
std::string DescribeDifference(absl::string_view key,
                               const std::string& resumed,
                               const std::string& clean) {
  std::unique_ptr<google::protobuf::Message> a = NewMessageFor(key);
  std::unique_ptr<google::protobuf::Message> b = NewMessageFor(key);
  if (a != nullptr && a->ParseFromString(resumed) &&
      b->ParseFromString(clean)) {
    std::string report;
    google::protobuf::util::MessageDifferencer differencer;
    differencer.ReportDifferencesToString(&report);
    if (!differencer.Compare(*a, *b)) {
      return absl::StrCat("fields (killed-and-resumed -> clean build):\n",
                          report);
    }
  }
  return absl::StrCat("  killed-and-resumed: ", DescribeValue(key, resumed),
                      "\n  clean build:        ", DescribeValue(key, clean));
}

// Compares two dumps key by key. Reports the first kMaxListed differences
// (field by field) and counts all of them.
}  // namespace

void ExpectSameDump(const ProjectionDump& resumed,
                    const ProjectionDump& clean) {
  constexpr int kMaxListed = 5;
  int differences = 0;
  const auto report = [&](const std::string& what) {
    if (++differences <= kMaxListed) ADD_FAILURE() << what;
  };
  size_t i = 0;
  size_t j = 0;
  while (i < resumed.size() || j < clean.size()) {
    if (j == clean.size() ||
        (i < resumed.size() && resumed[i].first < clean[j].first)) {
      report(absl::StrCat("key \"", absl::CEscape(resumed[i].first),
                          "\" only in the killed-and-resumed projection: ",
                          DescribeValue(resumed[i].first, resumed[i].second)));
      ++i;
    } else if (i == resumed.size() || clean[j].first < resumed[i].first) {
      report(absl::StrCat("key \"", absl::CEscape(clean[j].first),
                          "\" only in the clean build: ",
                          DescribeValue(clean[j].first, clean[j].second)));
      ++j;
    } else {
      if (resumed[i].second != clean[j].second) {
        report(absl::StrCat(
            "value of key \"", absl::CEscape(resumed[i].first), "\" differs; ",
            DescribeDifference(resumed[i].first, resumed[i].second,
                               clean[j].second)));
      }
      ++i;
      ++j;
    }
  }
  EXPECT_EQ(differences, 0)
      << "differing keys between the killed-and-resumed projection ("
      << resumed.size() << " keys) and the clean build (" << clean.size()
      << " keys); the first " << kMaxListed << " are listed above";
}

}  // namespace caseledger::testing
