#include "tests/testing/access.h"

#include "engine/sha256.h"
#include "google/protobuf/text_format.h"
#include "services/client_auth.h"

namespace caseledger::testing {

std::string TokenHash(const std::string& token) {
  return engine::ToHex(engine::Sha256(token));
}

v1::AccessPolicy SuperuserPolicy(const std::string& token) {
  v1::AccessPolicy policy;
  v1::Principal* p = policy.add_principals();
  p->set_id("test-superuser");
  p->set_organization("test");
  for (v1::Role role : {v1::ROLE_SUPERVISOR, v1::ROLE_AUDITOR, v1::ROLE_ADMIN,
                        v1::ROLE_SERVICE}) {
    p->add_roles(role);
  }
  p->add_teams("*");
  p->add_programs("*");
  p->add_event_types("*");
  p->add_may_write_as("*");  // fixtures write events of named staff
  for (int l = v1::SensitivityLabel_MIN + 1; l <= v1::SensitivityLabel_MAX;
       ++l) {
    p->add_allowed_labels(static_cast<v1::SensitivityLabel>(l));
  }
  p->set_token_sha256_hex(TokenHash(token));
  return policy;
}

std::string SuperuserPolicyText(const std::string& token) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(SuperuserPolicy(token), &text);
  return text;
}

std::shared_ptr<grpc::Channel> TokenChannel(const std::string& target,
                                            const std::string& token) {
  return services::CreateAuthChannel(target, grpc::InsecureChannelCredentials(),
                                     token);
}

}  // namespace caseledger::testing
