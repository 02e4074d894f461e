#include "services/allocator.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace caseledger::services {
namespace {

// The build's CASELEDGER_MALLOC (tests/services/CMakeLists.txt).
constexpr char kExpected[] = CASELEDGER_EXPECTED_MALLOC;

TEST(AllocatorTest, TheConfiguredAllocatorServesThisProcess) {
  const std::string name = AllocatorName();
  if (std::string(kExpected) == "jemalloc") {
    // Linked, and reached through the process's symbol lookup: jemalloc's
    // malloc is the one every library of the process calls.
    EXPECT_TRUE(absl::StartsWith(name, "jemalloc 5.")) << name;
  } else {
    EXPECT_EQ(name, "system");
  }
}

}  // namespace
}  // namespace caseledger::services
