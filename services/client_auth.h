#ifndef CASELEDGER_SERVICES_CLIENT_AUTH_H_
#define CASELEDGER_SERVICES_CLIENT_AUTH_H_

// Client side of caseledgerd's authentication, for casectl, the benchmark
// and the tests: a channel that sends a bearer token (and a purpose) with
// every call. A call whose context already carries "authorization" (or
// "x-purpose") keeps its own.

#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"

namespace caseledger::services {

// `token` empty: no authorization metadata; `purpose` empty: none.
std::shared_ptr<grpc::Channel> CreateAuthChannel(
    const std::string& target,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const std::string& token, const std::string& purpose = "",
    const grpc::ChannelArguments& args = grpc::ChannelArguments());

}  // namespace caseledger::services

#endif  // CASELEDGER_SERVICES_CLIENT_AUTH_H_
