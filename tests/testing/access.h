#ifndef CASELEDGER_TESTS_TESTING_ACCESS_H_
#define CASELEDGER_TESTS_TESTING_ACCESS_H_

// How tests act as a principal: a policy with one principal that holds
// every role over every team, program and event type with every label
// (the tests of other units exercise the server, not the policy), its
// bearer token, and server options serving plaintext on loopback with it.

#include <memory>
#include <string>

#include "caseledger/v1/access_policy.pb.h"
#include "grpcpp/grpcpp.h"

namespace caseledger::testing {

// A fixed test token (tests only; never a real secret).
inline constexpr char kTestToken[] =
    "test-token-5f0c1e9a7b3d4c2e8f6a1b0c9d8e7f6a5b4c3d2e";

// Lower-case hex SHA-256 of `token`.
std::string TokenHash(const std::string& token);

// One principal "test-superuser" with every role, "*" teams, programs and
// event types, every sensitivity label, and may_write_as "*" (fixtures
// append events that name other staff), authenticated by `token`.
v1::AccessPolicy SuperuserPolicy(const std::string& token = kTestToken);

// The same policy in text format (for a --policy file).
std::string SuperuserPolicyText(const std::string& token = kTestToken);

// A plaintext loopback channel that sends `token` with every call.
std::shared_ptr<grpc::Channel> TokenChannel(
    const std::string& target, const std::string& token = kTestToken);

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_ACCESS_H_
