#include "engine/ids.h"

#include <string>

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"

namespace caseledger::engine {
namespace {

TEST(IdsTest, NewEventIdsAreValidVersion4AndDistinct) {
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewEventId();
    ASSERT_TRUE(IsValidEventId(id)) << id;
    EXPECT_EQ(id[14], '4') << id;  // version nibble
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' ||
                id[19] == 'b')
        << id;  // RFC 4122 variant
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(IdsTest, EventIdFormat) {
  EXPECT_TRUE(IsValidEventId("123e4567-e89b-42d3-a456-426614174000"));
  EXPECT_FALSE(IsValidEventId("123E4567-E89B-42D3-A456-426614174000"));
  EXPECT_FALSE(IsValidEventId("123e4567e89b42d3a456426614174000"));
  EXPECT_FALSE(IsValidEventId("123e4567-e89b-42d3-a456-42661417400"));
  EXPECT_FALSE(IsValidEventId("123e4567-e89b-42d3-a456-42661417400g"));
  EXPECT_FALSE(IsValidEventId(""));
}

TEST(IdsTest, CaseIdFormat) {
  EXPECT_TRUE(IsValidCaseId("case-2026-0001"));
  EXPECT_TRUE(IsValidCaseId("caseworker:cm-anna"));
  EXPECT_TRUE(IsValidCaseId("A.b_c"));
  EXPECT_TRUE(IsValidCaseId(std::string(128, 'a')));
  EXPECT_FALSE(IsValidCaseId(std::string(129, 'a')));
  EXPECT_FALSE(IsValidCaseId(""));
  EXPECT_FALSE(IsValidCaseId("-leading-dash"));
  EXPECT_FALSE(IsValidCaseId("has space"));
  EXPECT_FALSE(IsValidCaseId(std::string("nul\0byte", 8)));
  EXPECT_FALSE(IsValidCaseId("slash/inside"));
}

}  // namespace
}  // namespace caseledger::engine
