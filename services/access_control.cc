#include "services/access_control.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/sha256.h"
#include "projections/dates.h"
#include "services/log.h"

namespace caseledger::services {
namespace {

constexpr size_t kMaxPurpose = 256;

std::string Metadata(const grpc::ServerContextBase& context,
                     absl::string_view key) {
  const auto& md = context.client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

bool Expired(const v1::Principal& p) {
  return p.has_expires_at() &&
         absl::FromUnixSeconds(p.expires_at().seconds()) <= absl::Now();
}

std::string RandomKey() {
  std::string key(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()),
                 static_cast<int>(key.size())) != 1) {
    Log(LogLevel::kError, "cannot draw a random pseudonym key");
  }
  return key;
}

}  // namespace

AccessControl::AccessControl(AccessOptions options, AccessLog* access_log)
    : options_([&options] {
        if (options.pseudonym_key.empty()) {
          options.pseudonym_key = RandomKey();
        }
        return std::move(options);
      }()),
      access_log_(access_log) {}

CallIdentity AccessControl::Identify(
    const grpc::ServerContextBase& context) const {
  CallIdentity id;
  id.peer = context.peer();
  id.purpose = Metadata(context, "x-purpose").substr(0, kMaxPurpose);
  const std::string authorization = Metadata(context, "authorization");
  if (!authorization.empty()) {
    if (!absl::StartsWith(authorization, "Bearer ")) {
      id.failure = "malformed authorization";
      return id;
    }
    const std::string hash =
        engine::ToHex(engine::Sha256(authorization.substr(7)));
    // Constant time: every principal is compared, with no early exit.
    const v1::Principal* found = nullptr;
    for (const v1::Principal& p : options_.policy.principals()) {
      const std::string& want = p.token_sha256_hex();
      if (want.size() == hash.size() &&
          CRYPTO_memcmp(want.data(), hash.data(), hash.size()) == 0) {
        found = &p;
      }
    }
    if (found == nullptr) {
      id.failure = "unknown token";
      return id;
    }
    id.presented = found->id();
    if (Expired(*found)) {
      id.failure = "expired";
      return id;
    }
    id.principal = found;
    return id;
  }
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    id.failure = "no credentials";
    return id;
  }
  std::vector<std::string> names;
  for (const char* property :
       {GRPC_X509_CN_PROPERTY_NAME, GRPC_X509_SAN_PROPERTY_NAME}) {
    for (const grpc::string_ref& v : auth->FindPropertyValues(property)) {
      names.emplace_back(v.data(), v.size());
    }
  }
  for (const std::string& name : names) {
    for (const v1::Principal& p : options_.policy.principals()) {
      if (!p.certificate_identity().empty() &&
          p.certificate_identity() == name) {
        id.presented = name;
        if (Expired(p)) {
          id.failure = "expired";
          return id;
        }
        id.principal = &p;
        return id;
      }
    }
  }
  id.presented = names.empty() ? "" : names.front();
  id.failure = "unknown certificate";
  return id;
}

Grant AccessControl::Evaluate(const grpc::ServerContextBase& context,
                              absl::string_view method, Action action,
                              const std::string& case_id,
                              const CaseFacts* facts) const {
  Grant grant;
  grant.identity = Identify(context);
  grant.method = std::string(method);
  grant.case_id = case_id;
  grant.action = action;
  if (grant.identity.principal == nullptr) {
    grant.decision.decision = v1::ACCESS_DECISION_UNAUTHENTICATED;
    grant.decision.reason = grant.identity.failure;
    return grant;
  }
  AccessQuery query;
  query.action = action;
  query.case_facts = facts;
  query.purpose = grant.identity.purpose;
  query.today = projections::DateFromTime(absl::Now());
  grant.decision = Decide(options_.policy, *grant.identity.principal, query);
  return grant;
}

absl::StatusOr<Grant> AccessControl::Authorize(
    const grpc::ServerContextBase& context, absl::string_view method,
    Action action, const std::string& case_id, const CaseFacts* facts) const {
  Grant grant = Evaluate(context, method, action, case_id, facts);
  if (grant.decision.allowed()) return grant;
  (void)Record(grant.identity, grant.decision, method, action, case_id, 0, 0,
               0);
  if (grant.identity.principal == nullptr) {
    return absl::UnauthenticatedError(
        "no valid credentials (bearer token or client certificate)");
  }
  return absl::PermissionDeniedError(
      absl::StrCat("not allowed: ", ActionName(action)));
}

std::optional<Grant> AccessControl::AllowedWithoutRecording(
    const grpc::ServerContextBase& context, absl::string_view method,
    Action action, const std::string& case_id, const CaseFacts* facts) const {
  Grant grant = Evaluate(context, method, action, case_id, facts);
  if (!grant.decision.allowed()) return std::nullopt;
  return grant;
}

Decision AccessControl::DecideActor(const Grant& grant, const CaseFacts* facts,
                                    const std::string& actor) const {
  AccessQuery query;
  query.action = grant.action;
  query.case_facts = facts;
  query.actor = actor;
  query.purpose = grant.identity.purpose;
  query.today = projections::DateFromTime(absl::Now());
  return Decide(options_.policy, *grant.identity.principal, query);
}

absl::Status AccessControl::AuthorizeActor(const Grant& grant,
                                           const CaseFacts* facts,
                                           const std::string& actor) const {
  const Decision decision = DecideActor(grant, facts, actor);
  if (decision.allowed()) return absl::OkStatus();
  (void)Record(grant.identity, decision, grant.method, grant.action,
               grant.case_id, 0, 0, 0);
  return absl::PermissionDeniedError(
      "not allowed: append events whose actor is another principal");
}

Decision AccessControl::DecideEvent(
    const Grant& grant, const CaseFacts* facts, const std::string& event_type,
    const std::vector<v1::SensitivityLabel>& labels) const {
  AccessQuery query;
  query.action = grant.action;
  query.case_facts = facts;
  query.event_type = event_type.empty() ? "?" : event_type;
  query.labels = labels;
  query.purpose = grant.identity.purpose;
  query.today = projections::DateFromTime(absl::Now());
  return Decide(options_.policy, *grant.identity.principal, query);
}

absl::Status AccessControl::RecordRead(const Grant& grant, uint64_t first,
                                       uint64_t last, uint32_t withheld) const {
  absl::Status s = Record(grant.identity, grant.decision, grant.method,
                          grant.action, grant.case_id, first, last, withheld);
  if (!s.ok()) {
    return absl::UnavailableError(
        "the access log cannot be written; nothing is returned");
  }
  return absl::OkStatus();
}

absl::Status AccessControl::Record(const CallIdentity& identity,
                                   const Decision& decision,
                                   absl::string_view method, Action action,
                                   const std::string& case_id, uint64_t first,
                                   uint64_t last, uint32_t withheld) const {
  v1::Actor actor;
  v1::AccessRecorded record;
  if (identity.principal != nullptr) {
    actor.set_user_id(identity.principal->id());
    actor.set_organization(identity.principal->organization());
  }
  actor.set_role(v1::Role_Name(decision.role));
  record.set_method(std::string(method));
  record.set_output(std::string(ActionName(action)));
  record.set_case_id(case_id);
  record.set_first(first);
  record.set_last(last);
  record.set_withheld(withheld);
  record.set_peer(identity.peer);
  record.set_purpose(identity.purpose);
  record.set_decision(decision.decision);
  record.set_reason(decision.reason);
  record.set_principal(identity.presented);
  record.set_role(decision.role);
  absl::Status s = access_log_->Record(actor, record);
  if (!s.ok()) {
    Log(LogLevel::kError, "access log write failed",
        {{"code", absl::StatusCodeToString(s.code())}});
  }
  return s;
}

std::string AccessControl::Pseudonym(absl::string_view id) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), options_.pseudonym_key.data(),
       static_cast<int>(options_.pseudonym_key.size()),
       reinterpret_cast<const unsigned char*>(id.data()), id.size(), mac, &len);
  return absl::StrCat(
      "p-", engine::ToHex(absl::string_view(reinterpret_cast<char*>(mac),
                                            std::min<unsigned int>(len, 16))));
}

}  // namespace caseledger::services
