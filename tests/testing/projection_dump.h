#ifndef CASELEDGER_TESTS_TESTING_PROJECTION_DUMP_H_
#define CASELEDGER_TESTS_TESTING_PROJECTION_DUMP_H_

// Comparing two projection stores key by key (CaseProjection::Dump()), with
// failure messages that decode the differing values field by field.

#include <string>
#include <utility>
#include <vector>

namespace caseledger::testing {

using ProjectionDump = std::vector<std::pair<std::string, std::string>>;

// Adds a GoogleTest failure for each key present in only one dump or whose
// values differ (the first few listed in detail), and one counting them all.
// `resumed` is the store under test, `clean` a clean build from the same log.
void ExpectSameDump(const ProjectionDump& resumed, const ProjectionDump& clean);

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_PROJECTION_DUMP_H_
