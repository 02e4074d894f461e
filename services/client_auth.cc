#include "services/client_auth.h"

#include <utility>
#include <vector>

#include "grpcpp/support/client_interceptor.h"

namespace caseledger::services {
namespace {

namespace gx = grpc::experimental;

class AuthInterceptor final : public gx::Interceptor {
 public:
  AuthInterceptor(const std::string* authorization, const std::string* purpose)
      : authorization_(authorization), purpose_(purpose) {}

  void Intercept(gx::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            gx::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      std::multimap<std::string, std::string>* md =
          methods->GetSendInitialMetadata();
      if (!authorization_->empty() && md->count("authorization") == 0) {
        md->emplace("authorization", *authorization_);
      }
      if (!purpose_->empty() && md->count("x-purpose") == 0) {
        md->emplace("x-purpose", *purpose_);
      }
    }
    methods->Proceed();
  }

 private:
  const std::string* const authorization_;  // owned by the factory
  const std::string* const purpose_;
};

class AuthInterceptorFactory final
    : public gx::ClientInterceptorFactoryInterface {
 public:
  AuthInterceptorFactory(std::string authorization, std::string purpose)
      : authorization_(std::move(authorization)),
        purpose_(std::move(purpose)) {}
  gx::Interceptor* CreateClientInterceptor(gx::ClientRpcInfo* info) override {
    return new AuthInterceptor(&authorization_, &purpose_);
  }

 private:
  const std::string authorization_;
  const std::string purpose_;
};

}  // namespace

std::shared_ptr<grpc::Channel> CreateAuthChannel(
    const std::string& target,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const std::string& token, const std::string& purpose,
    const grpc::ChannelArguments& args) {
  std::vector<std::unique_ptr<gx::ClientInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<AuthInterceptorFactory>(
      token.empty() ? "" : "Bearer " + token, purpose));
  return gx::CreateCustomChannelWithInterceptors(target, credentials, args,
                                                 std::move(factories));
}

}  // namespace caseledger::services
