#ifndef CASELEDGER_SERVICES_ACCESS_CONTROL_H_
#define CASELEDGER_SERVICES_ACCESS_CONTROL_H_

// The server's one authorization step: establishes the caller's identity
// for each call (never cached: every call is judged on its own metadata and
// its connection's verified client certificate), asks Decide() (policy.h),
// and writes the access log before any data is returned.
//
// Identity, in order: a bearer token in the call's "authorization: Bearer
// <token>" metadata (compared by SHA-256 in constant time against every
// principal; an unknown token is UNAUTHENTICATED, never a fallback to the
// certificate); else the verified client certificate's identity (subject
// CN or a subject alternative name) under mutual TLS; else
// UNAUTHENTICATED. An expired principal is UNAUTHENTICATED.
//
// Thread-safe; the policy is fixed for the server's life.

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "caseledger/v1/access_policy.pb.h"
#include "grpcpp/grpcpp.h"
#include "services/access_log.h"
#include "services/policy.h"

namespace caseledger::services {

struct AccessOptions {
  v1::AccessPolicy policy;
  // Key for the analysts' pseudonyms (HMAC-SHA256). Empty: a random key for
  // this process (pseudonyms then change at every restart).
  std::string pseudonym_key;
};

// Who is calling, for one call.
struct CallIdentity {
  // nullptr when not authenticated. Points into the AccessControl's policy.
  const v1::Principal* principal = nullptr;
  // Presented identity for the log (certificate identity; never a token).
  std::string presented;
  std::string peer;
  std::string purpose;
  // Why authentication failed, when it did.
  std::string failure;
};

// A call that passed authorization.
struct Grant {
  CallIdentity identity;
  Decision decision;
  std::string method;
  std::string case_id;
  Action action = Action::kReadPlan;
};

class AccessControl {
 public:
  // `access_log` is not owned and must outlive this.
  AccessControl(AccessOptions options, AccessLog* access_log);

  // Identifies the caller of `context` (see the file comment).
  CallIdentity Identify(const grpc::ServerContextBase& context) const;

  // Authenticates and decides a call-level `action` (on `case_id`, whose
  // facts are `facts`; nullptr for calls about no single case). Denied:
  // writes the access log and returns UNAUTHENTICATED or PERMISSION_DENIED
  // (the message names neither the case nor its content). A failed log
  // write on a denial still denies.
  absl::StatusOr<Grant> Authorize(const grpc::ServerContextBase& context,
                                  absl::string_view method, Action action,
                                  const std::string& case_id,
                                  const CaseFacts* facts) const;

  // The same decision as Authorize, without any I/O: the grant when the
  // call is allowed, nullopt when it would be denied (nothing is recorded;
  // the caller must then call Authorize, off gRPC's threads, which records
  // the denial). Lets a handler take a fast path on its reaction.
  std::optional<Grant> AllowedWithoutRecording(
      const grpc::ServerContextBase& context, absl::string_view method,
      Action action, const std::string& case_id, const CaseFacts* facts) const;

  // For an append covered by `grant`: may its events name `actor`
  // (Actor.user_id) as who acted? The principal itself always; anyone else
  // only under principal.may_write_as. Denied: writes the access log (a
  // DENIED record, reason "actor") and returns PERMISSION_DENIED (the
  // message names neither the actor nor the case).
  absl::Status AuthorizeActor(const Grant& grant, const CaseFacts* facts,
                              const std::string& actor) const;
  // The decision AuthorizeActor makes, without any I/O (nothing recorded).
  Decision DecideActor(const Grant& grant, const CaseFacts* facts,
                       const std::string& actor) const;

  // Event-level decision for one event of an output covered by `grant`.
  Decision DecideEvent(const Grant& grant, const CaseFacts* facts,
                       const std::string& event_type,
                       const std::vector<v1::SensitivityLabel>& labels) const;

  // Records a read that is about to be returned (case content, events
  // `first`..`last`, `withheld` events left out). If this fails the caller
  // must fail the read (fail closed): returns UNAVAILABLE then.
  absl::Status RecordRead(const Grant& grant, uint64_t first, uint64_t last,
                          uint32_t withheld) const;

  // Keyed pseudonym of an identifier for de-identified outputs: "p-" and 32
  // hex digits of HMAC-SHA256(key, id). Not reversible without the key.
  std::string Pseudonym(absl::string_view id) const;

  AccessLog* access_log() const { return access_log_; }

 private:
  // Identifies the caller and decides `action`; no I/O.
  Grant Evaluate(const grpc::ServerContextBase& context,
                 absl::string_view method, Action action,
                 const std::string& case_id, const CaseFacts* facts) const;
  absl::Status Record(const CallIdentity& identity, const Decision& decision,
                      absl::string_view method, Action action,
                      const std::string& case_id, uint64_t first, uint64_t last,
                      uint32_t withheld) const;

  const AccessOptions options_;
  AccessLog* const access_log_;
};

}  // namespace caseledger::services

#endif  // CASELEDGER_SERVICES_ACCESS_CONTROL_H_
