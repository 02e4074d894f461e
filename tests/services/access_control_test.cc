// Access control through the real gRPC server over real TLS (certificates
// made in the test): the authorization matrix with the access log, per-call
// identity on one connection, bad certificates and tokens, withheld
// sensitive events, analysts' de-identified outputs over the demo caseload,
// fail-closed access logging, and the plaintext rules.

#include "services/access_control.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "caseledger/v1/access_log_service.grpc.pb.h"
#include "caseledger/v1/erasure.grpc.pb.h"
#include "caseledger/v1/ledger_service.grpc.pb.h"
#include "engine/ids.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/server.h"
#include "tests/testing/access.h"
#include "tests/testing/certificates.h"
#include "tests/testing/event_builders.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tools/caseload/caseload.h"

namespace caseledger::services {
namespace {

using ::caseledger::testing::MakeEvent;
using ::caseledger::testing::Pem;
using ::caseledger::testing::TempDir;
using ::caseledger::testing::TestCa;
using ::caseledger::testing::TokenHash;

constexpr char kPart2Text[] = "part-two-note-text-7c1d";
constexpr char kHealthText[] = "health-note-text-3f9a";

// Tokens (tests only).
const char kSupToken[] =
    "tok-supervisor-north-0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const char kAudToken[] = "tok-auditor-1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e";
const char kAnaToken[] = "tok-analyst-2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f";
const char kSvcToken[] = "tok-service-3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60";
const char kAdmToken[] = "tok-admin-4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607182";
const char kWriterToken[] = "tok-writer-5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071";
const char kExpiredToken[] =
    "tok-expired-60718293a4b5c6d7e8f90a1b2c3d4e5f607182";
const char kUnknownToken[] =
    "tok-unknown-718293a4b5c6d7e8f90a1b2c3d4e5f60718293";

void AddPrincipal(v1::AccessPolicy* policy, const std::string& id,
                  v1::Role role, const std::string& token,
                  const std::string& certificate = "") {
  v1::Principal* p = policy->add_principals();
  p->set_id(id);
  p->add_roles(role);
  p->set_organization("org-test");
  if (!token.empty()) p->set_token_sha256_hex(TokenHash(token));
  p->set_certificate_identity(certificate);
}

v1::AccessPolicy TestPolicy() {
  v1::AccessPolicy policy;
  policy.add_consent_required_labels(v1::SENSITIVITY_LABEL_SUBSTANCE_USE_PART2);
  // cm-anna: by client certificate; case manager of case-n1.
  AddPrincipal(&policy, "cm-anna", v1::ROLE_CASEWORKER, "", "cm-anna");
  policy.mutable_principals()->rbegin()->add_allowed_labels(
      v1::SENSITIVITY_LABEL_HEALTH);
  policy.mutable_principals()->rbegin()->add_allowed_labels(
      v1::SENSITIVITY_LABEL_SUBSTANCE_USE_PART2);
  AddPrincipal(&policy, "sup-north", v1::ROLE_SUPERVISOR, kSupToken);
  policy.mutable_principals()->rbegin()->add_teams("north");
  AddPrincipal(&policy, "auditor", v1::ROLE_AUDITOR, kAudToken);
  policy.mutable_principals()->rbegin()->add_allowed_labels(
      v1::SENSITIVITY_LABEL_HEALTH);
  policy.mutable_principals()->rbegin()->add_allowed_labels(
      v1::SENSITIVITY_LABEL_SUBSTANCE_USE_PART2);
  AddPrincipal(&policy, "analyst", v1::ROLE_ANALYST, kAnaToken);
  AddPrincipal(&policy, "svc", v1::ROLE_SERVICE, kSvcToken);
  policy.mutable_principals()->rbegin()->add_programs("housing-first");
  policy.mutable_principals()->rbegin()->add_event_types("GoalSet");
  AddPrincipal(&policy, "admin", v1::ROLE_ADMIN, kAdmToken);
  // Writes the fixtures: every team and label.
  *policy.add_principals() =
      testing::SuperuserPolicy(kWriterToken).principals(0);
  policy.mutable_principals()->rbegin()->set_id("writer");
  AddPrincipal(&policy, "expired", v1::ROLE_CASEWORKER, kExpiredToken);
  policy.mutable_principals()->rbegin()->mutable_expires_at()->set_seconds(
      absl::ToUnixSeconds(absl::Now() - absl::Hours(1)));
  policy.mutable_principals()->rbegin()->add_teams("north");
  return policy;
}

v1::Event Opened(const std::string& manager, const std::string& team,
                 const std::string& program) {
  v1::EventPayload payload;
  v1::CaseOpened* o = payload.mutable_case_opened();
  o->set_client_ref("client-ref-x");
  o->set_client_name("Client Name X");
  o->set_program(program);
  o->set_case_manager_id(manager);
  o->set_team(team);
  return MakeEvent(payload);
}

v1::Event Note(const std::string& text, v1::SensitivityLabel label) {
  v1::EventPayload payload;
  payload.mutable_note_recorded()->set_note_id(engine::NewEventId());
  payload.mutable_note_recorded()->set_text(text);
  v1::Event e = MakeEvent(payload);
  e.mutable_envelope()->add_sensitivity(label);
  return e;
}

// How a call authenticates.
struct Caller {
  std::string name;
  std::string token;         // bearer token, or empty
  bool certificate = false;  // cm-anna's client certificate
};

// Public helpers: the matrix's RPC table calls them.
class AccessControlTest : public ::testing::Test {
 public:
  void SetUp() override {
    server_pem_ = ca_.Server();
    anna_pem_ = ca_.Client("cm-anna");
    ServerOptions options;
    options.data_dir = dir_.Sub("data");
    options.listen = "127.0.0.1:0";
    options.log.sync = false;
    const std::string cert = dir_.Sub("server.pem");
    const std::string key = dir_.Sub("server.key");
    const std::string client_ca = dir_.Sub("ca.pem");
    Write(cert, server_pem_.certificate);
    Write(key, server_pem_.private_key);
    Write(client_ca, ca_.certificate());
    options.tls.cert_file = cert;
    options.tls.key_file = key;
    options.tls.client_ca_file = client_ca;
    options.access.policy = TestPolicy();
    options.access.pseudonym_key = std::string(32, 'k');
    Customize(options);
    ASSERT_OK_AND_ASSIGN(server_, LedgerServer::Start(options));
    plain_ = Channel(nullptr);
    anna_ = Channel(&anna_pem_);
    ASSERT_NO_FATAL_FAILURE(WriteFixtures());
  }

  virtual void Customize(ServerOptions& options) {}

  static void Write(const std::string& path, const std::string& text) {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }

  // A TLS channel with its own connection; with a client certificate when
  // `client` is set, trusting `trust` (default: the test CA).
  std::shared_ptr<grpc::Channel> Channel(const Pem* client,
                                         const std::string* trust = nullptr) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = trust != nullptr ? *trust : ca_.certificate();
    if (client != nullptr) {
      ssl.pem_cert_chain = client->certificate;
      ssl.pem_private_key = client->private_key;
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::SslCredentials(ssl),
        args);
  }

  // A context for `caller` whose purpose is `purpose`.
  static void Prepare(grpc::ClientContext* context, const Caller& caller,
                      const std::string& purpose) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    if (!caller.token.empty()) {
      context->AddMetadata("authorization", "Bearer " + caller.token);
    }
    if (!purpose.empty()) context->AddMetadata("x-purpose", purpose);
  }

  std::shared_ptr<grpc::Channel> ChannelFor(const Caller& caller) {
    return caller.certificate ? anna_ : plain_;
  }

  grpc::Status Append(const Caller& caller, const std::string& case_id,
                      std::vector<v1::Event> events,
                      const std::string& purpose = "") {
    auto stub = v1::CaseWriter::NewStub(ChannelFor(caller));
    grpc::ClientContext context;
    Prepare(&context, caller, purpose);
    v1::AppendEventsRequest request;
    request.set_case_id(case_id);
    for (v1::Event& e : events) *request.add_events() = std::move(e);
    v1::AppendEventsResponse response;
    grpc::Status s = stub->AppendEvents(&context, request, &response);
    if (s.ok()) last_commit_ = response.commit_position();
    return s;
  }

  void WriteFixtures() {
    const Caller writer{"writer", kWriterToken};
    ASSERT_TRUE(
        Append(writer, "case-n1",
               {Opened("cm-anna", "north", "housing-first"),
                testing::MakeGoalSetEvent("g1", "Own flat"),
                Note(kPart2Text, v1::SENSITIVITY_LABEL_SUBSTANCE_USE_PART2),
                Note(kHealthText, v1::SENSITIVITY_LABEL_HEALTH)})
            .ok());
    ASSERT_TRUE(Append(writer, "case-s1",
                       {Opened("cm-bob", "south", "return-to-work"),
                        testing::MakeGoalSetEvent("g1", "Back to work")})
                    .ok());
  }

  // Access records (in-process read of the access log) whose purpose is
  // `purpose`.
  std::vector<v1::Event> RecordsWithPurpose(const std::string& purpose) {
    std::vector<v1::Event> out;
    AccessLogQuery query;
    query.max_count = 1000;
    absl::StatusOr<AccessLogPage> page = server_->access_log()->Query(query);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) return out;
    for (const v1::Event& e : page->records) {
      if (e.payload().access_recorded().purpose() == purpose) {
        out.push_back(e);
      }
    }
    return out;
  }

  TempDir dir_;
  TestCa ca_{"caseledger test CA"};
  Pem server_pem_;
  Pem anna_pem_;
  std::unique_ptr<LedgerServer> server_;
  std::shared_ptr<grpc::Channel> plain_;  // TLS, no client certificate
  std::shared_ptr<grpc::Channel> anna_;   // mutual TLS as cm-anna
  uint64_t last_commit_ = 0;
};

// One call of the matrix: runs the RPC as `caller` with `purpose`; returns
// its status and whether it reads case content (so is logged when allowed).
struct Rpc {
  const char* name;
  bool content;
  std::function<grpc::Status(AccessControlTest*, const Caller&,
                             const std::string&)>
      run;
};

template <typename Stub, typename Request, typename Response>
grpc::Status Unary(std::shared_ptr<grpc::Channel> channel, const Caller& caller,
                   const std::string& purpose, const Request& request,
                   grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                const Request&, Response*)) {
  auto stub = std::make_unique<Stub>(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  if (!caller.token.empty()) {
    context.AddMetadata("authorization", "Bearer " + caller.token);
  }
  context.AddMetadata("x-purpose", purpose);
  Response response;
  return (stub.get()->*method)(&context, request, &response);
}

std::vector<Rpc> Rpcs() {
  using T = AccessControlTest;
  auto plan = [](const std::string& id) {
    v1::GetPlanRequest r;
    r.set_case_id(id);
    return r;
  };
  auto history = [](const std::string& id) {
    v1::ReadCaseHistoryRequest r;
    r.set_case_id(id);
    return r;
  };
  std::vector<Rpc> rpcs;
  for (const std::string id : {"case-n1", "case-s1"}) {
    const bool n1 = id == "case-n1";
    rpcs.push_back({n1 ? "plan n1" : "plan s1", true,
                    [plan, id](T* t, const Caller& c, const std::string& p) {
                      return Unary<v1::Queries::Stub>(
                          t->ChannelFor(c), c, p, plan(id),
                          &v1::Queries::Stub::GetPlan);
                    }});
    rpcs.push_back({n1 ? "history n1" : "history s1", true,
                    [history, id](T* t, const Caller& c, const std::string& p) {
                      return Unary<v1::Audit::Stub>(
                          t->ChannelFor(c), c, p, history(id),
                          &v1::Audit::Stub::ReadCaseHistory);
                    }});
    rpcs.push_back({n1 ? "append n1" : "append s1", false,
                    [id](T* t, const Caller& c, const std::string& p) {
                      // No actor: the server names the caller.
                      v1::Event note = testing::MakeNoteEvent();
                      note.mutable_envelope()->clear_actor();
                      return t->Append(c, id, {note}, p);
                    }});
  }
  rpcs.push_back(
      {"timeline n1", true, [](T* t, const Caller& c, const std::string& p) {
         v1::GetTimelineRequest r;
         r.set_case_id("case-n1");
         return Unary<v1::Queries::Stub>(t->ChannelFor(c), c, p, r,
                                         &v1::Queries::Stub::GetTimeline);
       }});
  rpcs.push_back({"case metrics n1", true,
                  [](T* t, const Caller& c, const std::string& p) {
                    v1::GetCaseMetricsRequest r;
                    r.set_case_id("case-n1");
                    return Unary<v1::Analytics::Stub>(
                        t->ChannelFor(c), c, p, r,
                        &v1::Analytics::Stub::GetCaseMetrics);
                  }});
  rpcs.push_back(
      {"metrics", false, [](T* t, const Caller& c, const std::string& p) {
         v1::GetMetricsRequest r;
         r.set_group_by(v1::METRICS_GROUP_BY_PROGRAM);
         return Unary<v1::Analytics::Stub>(t->ChannelFor(c), c, p, r,
                                           &v1::Analytics::Stub::GetMetrics);
       }});
  rpcs.push_back(
      {"verify", false, [](T* t, const Caller& c, const std::string& p) {
         return Unary<v1::Audit::Stub>(t->ChannelFor(c), c, p,
                                       v1::VerifyRequest(),
                                       &v1::Audit::Stub::Verify);
       }});
  rpcs.push_back(
      {"status", false, [](T* t, const Caller& c, const std::string& p) {
         return Unary<v1::Operations::Stub>(
             t->ChannelFor(c), c, p, v1::GetProjectionStatusRequest(),
             &v1::Operations::Stub::GetProjectionStatus);
       }});
  rpcs.push_back(
      {"access log", true, [](T* t, const Caller& c, const std::string& p) {
         return Unary<v1::AccessLogService::Stub>(
             t->ChannelFor(c), c, p, v1::QueryAccessLogRequest(),
             &v1::AccessLogService::Stub::QueryAccessLog);
       }});
  rpcs.push_back(
      {"subscribe", true, [](T* t, const Caller& c, const std::string& p) {
         auto stub = v1::Subscriptions::NewStub(t->ChannelFor(c));
         grpc::ClientContext context;
         T::Prepare(&context, c, p);
         v1::SubscribeRequest r;
         r.set_from_position(1);
         auto reader = stub->Subscribe(&context, r);
         v1::SubscribeResponse m;
         // The first message covers the whole (small) log; then stop.
         if (reader->Read(&m)) {
           EXPECT_TRUE(m.caught_up());
           context.TryCancel();
           while (reader->Read(&m)) {
           }
           reader->Finish();
           return grpc::Status::OK;
         }
         return reader->Finish();
       }});
  // Last: allowed (to admin only), it erases case-e1 for good.
  rpcs.push_back(
      {"erase e1", true, [](T* t, const Caller& c, const std::string& p) {
         v1::EraseCaseRequest r;
         r.set_case_id("case-e1");
         r.set_reason("client request");
         r.set_legal_basis("GDPR art. 17");
         return Unary<v1::Erasure::Stub>(t->ChannelFor(c), c, p, r,
                                         &v1::Erasure::Stub::EraseCase);
       }});
  return rpcs;
}

TEST_F(AccessControlTest, AuthorizationMatrixAndEachCallLoggedOnce) {
  const Caller anna{"cm-anna", "", true};
  const Caller sup{"sup-north", kSupToken};
  const Caller aud{"auditor", kAudToken};
  const Caller ana{"analyst", kAnaToken};
  const Caller svc{"svc", kSvcToken};
  const Caller adm{"admin", kAdmToken};
  const Caller none{"none", ""};
  const Caller unknown{"unknown token", kUnknownToken};
  const Caller expired{"expired", kExpiredToken};
  // Allowed RPCs per caller (everything else is denied).
  const std::map<std::string, std::set<std::string>> allowed = {
      {"cm-anna",
       {"plan n1", "history n1", "append n1", "timeline n1", "case metrics n1",
        "metrics"}},
      {"sup-north",
       {"plan n1", "history n1", "append n1", "timeline n1", "case metrics n1",
        "metrics"}},
      {"auditor",
       {"plan n1", "plan s1", "history n1", "history s1", "timeline n1",
        "verify", "access log"}},
      {"analyst", {"case metrics n1", "metrics"}},
      {"svc", {"history n1", "subscribe"}},
      {"admin", {"verify", "status", "erase e1"}},
  };
  ASSERT_TRUE(Append({"writer", kWriterToken}, "case-e1",
                     {Opened("cm-anna", "north", "housing-first")})
                  .ok());
  int n = 0;
  for (const Caller& caller :
       {anna, sup, aud, ana, svc, adm, none, unknown, expired}) {
    const bool authenticated = allowed.count(caller.name) > 0;
    for (const Rpc& rpc : Rpcs()) {
      const std::string purpose = absl::StrCat("matrix-", ++n);
      SCOPED_TRACE(absl::StrCat(caller.name, " ", rpc.name, " ", purpose));
      const grpc::Status status = rpc.run(this, caller, purpose);
      const bool allow =
          authenticated && allowed.at(caller.name).count(rpc.name) > 0;
      const std::vector<v1::Event> records = RecordsWithPurpose(purpose);
      if (allow) {
        EXPECT_TRUE(status.ok()) << status.error_message();
        EXPECT_EQ(records.size(), rpc.content ? 1u : 0u);
        for (const v1::Event& r : records) {
          EXPECT_EQ(r.payload().access_recorded().decision(),
                    v1::ACCESS_DECISION_ALLOWED);
          EXPECT_EQ(r.envelope().actor().user_id(), caller.name);
        }
        continue;
      }
      EXPECT_EQ(status.error_code(), authenticated
                                         ? grpc::StatusCode::PERMISSION_DENIED
                                         : grpc::StatusCode::UNAUTHENTICATED)
          << status.error_message();
      // Denials name neither the case nor its content.
      EXPECT_FALSE(absl::StrContains(status.error_message(), "case-"));
      ASSERT_EQ(records.size(), 1u);
      const v1::AccessRecorded& r = records[0].payload().access_recorded();
      EXPECT_EQ(r.decision(), authenticated
                                  ? v1::ACCESS_DECISION_DENIED
                                  : v1::ACCESS_DECISION_UNAUTHENTICATED);
      EXPECT_FALSE(r.reason().empty());
      EXPECT_TRUE(absl::StartsWith(r.peer(), "ipv4:127.0.0.1:")) << r.peer();
      if (authenticated) {
        EXPECT_EQ(records[0].envelope().actor().user_id(), caller.name);
      }
    }
  }
  // The admin's erasure, recorded as the admin's (the request named no one).
  std::optional<v1::ErasureLedgerEntry> erased =
      server_->log()->GetErasure("case-e1");
  ASSERT_TRUE(erased.has_value());
  EXPECT_EQ(erased->erased_by(), "admin");
}

v1::Event NoteBy(const std::string& actor) {
  v1::Event e = testing::MakeNoteEvent();
  e.mutable_envelope()->clear_actor();
  if (!actor.empty()) {
    e.mutable_envelope()->mutable_actor()->set_user_id(actor);
    e.mutable_envelope()->mutable_actor()->set_role("caseworker");
  }
  return e;
}

TEST_F(AccessControlTest, AppendedActorIsTheAuthenticatedPrincipal) {
  const Caller anna{"cm-anna", "", true};
  const Caller sup{"sup-north", kSupToken};
  const Caller writer{"writer", kWriterToken};
  auto version = [&] {
    absl::StatusOr<engine::CaseHead> head =
        server_->log()->GetCaseHead("case-n1");
    EXPECT_TRUE(head.ok()) << head.status();
    return head.ok() ? head->version : 0;
  };
  auto last_actor = [&] {
    engine::ReadCaseRequest read;
    read.case_id = "case-n1";
    read.direction = engine::Direction::kBackward;
    read.max_count = 1;
    absl::StatusOr<engine::ReadPage> page = server_->log()->ReadCase(read);
    EXPECT_TRUE(page.ok() && page->events.size() == 1u);
    return page.ok() && !page->events.empty()
               ? page->events[0].envelope().actor()
               : v1::Actor();
  };
  // Her own id: stored as sent.
  ASSERT_TRUE(Append(anna, "case-n1", {NoteBy("cm-anna")}, "own").ok());
  EXPECT_EQ(last_actor().user_id(), "cm-anna");
  // No actor: the server fills in the principal, its role and organisation.
  ASSERT_TRUE(Append(anna, "case-n1", {NoteBy("")}, "filled").ok());
  v1::Actor filled = last_actor();
  EXPECT_EQ(filled.user_id(), "cm-anna");
  EXPECT_EQ(filled.role(), "caseworker");
  EXPECT_EQ(filled.organization(), "org-test");
  ASSERT_TRUE(Append(sup, "case-n1", {NoteBy("")}, "filled-sup").ok());
  EXPECT_EQ(last_actor().user_id(), "sup-north");
  EXPECT_EQ(last_actor().role(), "supervisor");
  // Anyone else: PERMISSION_DENIED, nothing written (the whole request, even
  // with an event of her own in it), one DENIED record in the access log.
  const uint64_t before = version();
  for (const auto& [caller, purpose] :
       std::vector<std::pair<Caller, std::string>>{{anna, "forge-anna"},
                                                   {sup, "forge-sup"}}) {
    SCOPED_TRACE(purpose);
    const grpc::Status s =
        Append(caller, "case-n1",
               {NoteBy(caller.name), NoteBy("cm-bob"), NoteBy("")}, purpose);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << s.error_message();
    EXPECT_FALSE(absl::StrContains(s.error_message(), "cm-bob"));
    EXPECT_FALSE(absl::StrContains(s.error_message(), "case-"));
    const std::vector<v1::Event> records = RecordsWithPurpose(purpose);
    ASSERT_EQ(records.size(), 1u);
    const v1::AccessRecorded& r = records[0].payload().access_recorded();
    EXPECT_EQ(r.decision(), v1::ACCESS_DECISION_DENIED);
    EXPECT_EQ(r.reason(), "actor");
    EXPECT_EQ(r.output(), "append");
    EXPECT_EQ(r.case_id(), "case-n1");
    EXPECT_EQ(records[0].envelope().actor().user_id(), caller.name);
  }
  EXPECT_EQ(version(), before);
  // A principal granted may_write_as (the fixture writer: "*") may.
  ASSERT_TRUE(Append(writer, "case-n1", {NoteBy("cm-bob")}, "delegated").ok());
  EXPECT_EQ(last_actor().user_id(), "cm-bob");
  EXPECT_TRUE(RecordsWithPurpose("delegated").empty());  // writes: event log
}

TEST_F(AccessControlTest, IdentityIsPerCallOnOneConnection) {
  // One TLS connection without a client certificate; calls alternate.
  auto stub = v1::Queries::NewStub(plain_);
  v1::GetPlanRequest request;
  request.set_case_id("case-n1");
  struct Step {
    std::string token;
    grpc::StatusCode want;
    std::string principal;  // in the access record
  };
  const std::vector<Step> steps = {
      {kUnknownToken, grpc::StatusCode::UNAUTHENTICATED, ""},
      {kSupToken, grpc::StatusCode::OK, "sup-north"},
      {"", grpc::StatusCode::UNAUTHENTICATED, ""},
      {kAnaToken, grpc::StatusCode::PERMISSION_DENIED, "analyst"},
      {kAudToken, grpc::StatusCode::OK, "auditor"},
      {kExpiredToken, grpc::StatusCode::UNAUTHENTICATED, ""},
      {kSupToken, grpc::StatusCode::OK, "sup-north"},
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    SCOPED_TRACE(i);
    grpc::ClientContext context;
    Prepare(&context, Caller{"", steps[i].token}, absl::StrCat("same-", i));
    v1::GetPlanResponse response;
    const grpc::Status s = stub->GetPlan(&context, request, &response);
    EXPECT_EQ(s.error_code(), steps[i].want) << s.error_message();
    EXPECT_EQ(s.ok(), response.has_plan());
    const std::vector<v1::Event> records =
        RecordsWithPurpose(absl::StrCat("same-", i));
    ASSERT_EQ(records.size(), 1u);
    if (!steps[i].principal.empty()) {
      EXPECT_EQ(records[0].envelope().actor().user_id(), steps[i].principal);
    } else {
      EXPECT_EQ(records[0].payload().access_recorded().decision(),
                v1::ACCESS_DECISION_UNAUTHENTICATED);
    }
  }
  // Mutual TLS as cm-anna: a token on one call does not stick to the next.
  auto anna = v1::Queries::NewStub(anna_);
  for (const auto& [token, want] :
       std::vector<std::pair<std::string, grpc::StatusCode>>{
           {"", grpc::StatusCode::OK},
           {kAnaToken, grpc::StatusCode::PERMISSION_DENIED},
           {"", grpc::StatusCode::OK},
           {kUnknownToken, grpc::StatusCode::UNAUTHENTICATED},
           {"", grpc::StatusCode::OK}}) {
    grpc::ClientContext context;
    Prepare(&context, Caller{"", token}, "");
    v1::GetPlanResponse response;
    EXPECT_EQ(anna->GetPlan(&context, request, &response).error_code(), want);
  }
}

TEST_F(AccessControlTest, BadCertificatesAreRejected) {
  TestCa rogue("rogue CA");
  const Pem expired = ca_.Client("cm-anna", -absl::Hours(48), -absl::Hours(24));
  const Pem not_yet = ca_.Client("cm-anna", absl::Hours(24), absl::Hours(48));
  const Pem wrong_ca = rogue.Client("cm-anna");
  const Pem unknown = ca_.Client("cm-nobody");
  v1::GetPlanRequest request;
  request.set_case_id("case-n1");
  auto call = [&](std::shared_ptr<grpc::Channel> channel) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::GetPlanResponse response;
    return v1::Queries::NewStub(channel)->GetPlan(&context, request, &response);
  };
  // Expired, not yet valid or foreign certificates fail the handshake.
  for (const Pem* pem : {&expired, &not_yet, &wrong_ca}) {
    const grpc::Status s = call(Channel(pem));
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE)
        << s.error_message();
  }
  // A valid certificate of nobody in the policy: UNAUTHENTICATED.
  EXPECT_EQ(call(Channel(&unknown)).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // A client that does not trust the server's CA cannot connect.
  const std::string other_trust = rogue.certificate();
  EXPECT_EQ(call(Channel(&anna_pem_, &other_trust)).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // The real certificate still works.
  EXPECT_TRUE(call(anna_).ok());
}

TEST_F(AccessControlTest, SensitiveEventsAreWithheldWithAMarker) {
  // cm-anna may see HEALTH and Part 2, but Part 2 needs consent: withheld.
  auto queries = v1::Queries::NewStub(anna_);
  v1::GetTimelineRequest timeline;
  timeline.set_case_id("case-n1");
  {
    grpc::ClientContext context;
    Prepare(&context, Caller{}, "treatment-1");
    v1::GetTimelineResponse response;
    ASSERT_TRUE(queries->GetTimeline(&context, timeline, &response).ok());
    EXPECT_EQ(response.withheld(), 1u);
    EXPECT_EQ(response.entries_size(), 3);
    const std::vector<v1::Event> records = RecordsWithPurpose("treatment-1");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].payload().access_recorded().withheld(), 1u);
  }
  // With a consent for treatment covering Part 2, it is shown for that
  // purpose only.
  v1::EventPayload consent;
  consent.mutable_consent_given()->set_consent_id("c1");
  consent.mutable_consent_given()->add_purposes("treatment");
  consent.mutable_consent_given()->add_data_categories(
      v1::SENSITIVITY_LABEL_SUBSTANCE_USE_PART2);
  ASSERT_TRUE(
      Append(Caller{"", "", true}, "case-n1", {MakeEvent(consent)}).ok());
  for (const auto& [purpose, withheld] :
       std::vector<std::pair<std::string, uint32_t>>{{"treatment", 0},
                                                     {"research", 1}}) {
    grpc::ClientContext context;
    Prepare(&context, Caller{}, purpose);
    v1::GetTimelineResponse response;
    ASSERT_TRUE(queries->GetTimeline(&context, timeline, &response).ok());
    EXPECT_EQ(response.withheld(), withheld) << purpose;
  }
  // The service sees only GoalSet in its program: the rest is marked
  // withheld in the history, without content.
  auto audit = v1::Audit::NewStub(plain_);
  v1::ReadCaseHistoryRequest history;
  history.set_case_id("case-n1");
  grpc::ClientContext context;
  Prepare(&context, Caller{"", kSvcToken}, "svc-history");
  v1::ReadCaseHistoryResponse response;
  ASSERT_TRUE(audit->ReadCaseHistory(&context, history, &response).ok());
  ASSERT_EQ(response.events_size(), 5);
  EXPECT_EQ(response.withheld(), 4u);
  for (const v1::HistoryEvent& e : response.events()) {
    const bool goal = e.event().envelope().event_type() == "GoalSet";
    EXPECT_EQ(e.withheld(), !goal);
    EXPECT_EQ(e.event().has_payload(), goal);
    EXPECT_FALSE(e.event().hash().empty());
  }
  std::string text;
  google::protobuf::TextFormat::PrintToString(response, &text);
  EXPECT_FALSE(absl::StrContains(text, kPart2Text));
  EXPECT_FALSE(absl::StrContains(text, kHealthText));
  EXPECT_FALSE(absl::StrContains(text, "Client Name X"));
}

v1::Event Labelled(v1::Event e, v1::SensitivityLabel label) {
  e.mutable_envelope()->add_sensitivity(label);
  return e;
}

TEST_F(AccessControlTest, PlanWithholdsElementsOfLabelledEvents) {
  constexpr char kPart2Goal[] = "part-two-goal-words-91ab";
  constexpr char kNotesGoal[] = "counselling-goal-words-5e2f";
  const Caller writer{"writer", kWriterToken};
  v1::EventPayload resource;
  resource.mutable_resource_connected()->set_resource_id("r-health");
  resource.mutable_resource_connected()->set_name("health-resource-name-77c0");
  resource.mutable_resource_connected()->set_kind(v1::RESOURCE_KIND_FORMAL);
  const grpc::Status written_status =
      Append(writer, "case-n1",
             {Labelled(testing::MakeGoalSetEvent("g-part2", kPart2Goal),
                       v1::SENSITIVITY_LABEL_SUBSTANCE_USE_PART2),
              Labelled(testing::MakeGoalSetEvent("g-notes", kNotesGoal),
                       v1::SENSITIVITY_LABEL_COUNSELLING_NOTES),
              Labelled(MakeEvent(resource), v1::SENSITIVITY_LABEL_HEALTH)});
  ASSERT_TRUE(written_status.ok()) << written_status.error_message();
  const uint64_t written = last_commit_;
  struct Want {
    Caller caller;
    std::string purpose;
    std::set<std::string> goals;
    bool resource;
    std::multiset<v1::SensitivityLabel> withheld;
  };
  const Caller anna{"cm-anna", "", true};
  const Caller sup{"sup-north", kSupToken};
  const Caller aud{"auditor", kAudToken};
  std::vector<Want> wants = {
      // Auditor: HEALTH and Part 2 allowed (no consent needed), not notes.
      {aud,
       "plan-aud",
       {"g1", "g-part2"},
       true,
       {v1::SENSITIVITY_LABEL_COUNSELLING_NOTES}},
      // Anna: HEALTH; Part 2 allowed but without a consent in force.
      {anna,
       "plan-anna",
       {"g1"},
       true,
       {v1::SENSITIVITY_LABEL_SUBSTANCE_USE_PART2,
        v1::SENSITIVITY_LABEL_COUNSELLING_NOTES}},
      // The supervisor may see no label at all.
      {sup,
       "plan-sup",
       {"g1"},
       false,
       {v1::SENSITIVITY_LABEL_SUBSTANCE_USE_PART2,
        v1::SENSITIVITY_LABEL_COUNSELLING_NOTES, v1::SENSITIVITY_LABEL_HEALTH}},
  };
  for (bool as_of : {false, true}) {
    for (const Want& want : wants) {
      const std::string purpose =
          absl::StrCat(want.purpose, as_of ? "-as-of" : "");
      SCOPED_TRACE(purpose);
      auto stub = v1::Queries::NewStub(ChannelFor(want.caller));
      grpc::ClientContext context;
      Prepare(&context, want.caller, purpose);
      v1::GetPlanRequest request;
      request.set_case_id("case-n1");
      if (as_of) {
        request.set_recorded_position(written);
      } else {
        request.set_min_position(written);
      }
      v1::GetPlanResponse response;
      ASSERT_TRUE(stub->GetPlan(&context, request, &response).ok());
      std::set<std::string> goals;
      for (const v1::PlanGoal& g : response.plan().goals()) {
        goals.insert(g.goal_id());
      }
      EXPECT_EQ(goals, want.goals);
      EXPECT_EQ(response.plan().resources_size(), want.resource ? 1 : 0);
      EXPECT_EQ(response.withheld(), want.withheld.size());
      std::multiset<v1::SensitivityLabel> markers;
      for (const v1::PlanElementLabels& m : response.withheld_elements()) {
        EXPECT_TRUE(m.element_id().empty());  // no id, no content
        EXPECT_NE(m.kind(), v1::PLAN_ELEMENT_KIND_UNSPECIFIED);
        ASSERT_EQ(m.labels_size(), 1);
        markers.insert(m.labels(0));
      }
      EXPECT_EQ(markers, want.withheld);
      // Nothing of a withheld element in the answer, labels list included.
      std::string text;
      google::protobuf::TextFormat::PrintToString(response, &text);
      if (!want.goals.count("g-part2")) {
        EXPECT_FALSE(absl::StrContains(text, kPart2Goal));
        EXPECT_FALSE(absl::StrContains(text, "g-part2"));
      }
      EXPECT_FALSE(absl::StrContains(text, kNotesGoal));
      EXPECT_FALSE(absl::StrContains(text, "g-notes"));
      // The read is in the access log once, with the withheld count.
      const std::vector<v1::Event> records = RecordsWithPurpose(purpose);
      ASSERT_EQ(records.size(), 1u);
      EXPECT_EQ(records[0].payload().access_recorded().withheld(),
                want.withheld.size());
      EXPECT_EQ(records[0].payload().access_recorded().output(), "plan");
    }
  }
  // A consent for treatment covering Part 2 shows anna that goal, for that
  // purpose only.
  v1::EventPayload consent;
  consent.mutable_consent_given()->set_consent_id("c-plan");
  consent.mutable_consent_given()->add_purposes("treatment");
  consent.mutable_consent_given()->add_data_categories(
      v1::SENSITIVITY_LABEL_SUBSTANCE_USE_PART2);
  ASSERT_TRUE(Append(anna, "case-n1", {MakeEvent(consent)}).ok());
  for (const auto& [purpose, shown] : std::vector<std::pair<std::string, bool>>{
           {"treatment", true}, {"research", false}}) {
    grpc::ClientContext context;
    Prepare(&context, anna, purpose);
    v1::GetPlanRequest request;
    request.set_case_id("case-n1");
    request.set_min_position(last_commit_);
    v1::GetPlanResponse response;
    ASSERT_TRUE(v1::Queries::NewStub(anna_)
                    ->GetPlan(&context, request, &response)
                    .ok());
    bool found = false;
    for (const v1::PlanGoal& g : response.plan().goals()) {
      found |= g.goal_id() == "g-part2";
    }
    EXPECT_EQ(found, shown) << purpose;
    EXPECT_EQ(response.withheld(), shown ? 1u : 2u) << purpose;
  }
}

TEST_F(AccessControlTest, AuditorsQueryAndVerifyTheAccessLog) {
  // Reads by two principals, one denied.
  auto run = [&](const Caller& c, std::shared_ptr<grpc::Channel> channel,
                 const std::string& case_id) {
    grpc::ClientContext context;
    Prepare(&context, c, "q");
    v1::GetPlanRequest r;
    r.set_case_id(case_id);
    v1::GetPlanResponse response;
    return v1::Queries::NewStub(channel)->GetPlan(&context, r, &response);
  };
  ASSERT_TRUE(run(Caller{}, anna_, "case-n1").ok());
  ASSERT_FALSE(run(Caller{}, anna_, "case-s1").ok());
  ASSERT_TRUE(run(Caller{"", kSupToken}, plain_, "case-n1").ok());
  auto log = v1::AccessLogService::NewStub(plain_);
  auto query = [&](v1::QueryAccessLogRequest r) {
    grpc::ClientContext context;
    Prepare(&context, Caller{"", kAudToken}, "audit");
    v1::QueryAccessLogResponse response;
    EXPECT_TRUE(log->QueryAccessLog(&context, r, &response).ok());
    return response;
  };
  // Who accessed case-n1 (the fixture writes are not reads: not logged).
  v1::QueryAccessLogRequest by_case;
  by_case.set_case_id("case-n1");
  v1::QueryAccessLogResponse r = query(by_case);
  std::vector<std::string> who;
  for (const v1::Event& e : r.records()) {
    who.push_back(e.envelope().actor().user_id());
  }
  EXPECT_THAT(who, ::testing::ElementsAre("cm-anna", "sup-north"));
  // Between A and B: none before the test started.
  by_case.mutable_until()->set_seconds(
      absl::ToUnixSeconds(absl::Now() - absl::Hours(1)));
  EXPECT_EQ(query(by_case).records_size(), 0);
  // What did cm-anna read (and try to read)?
  v1::QueryAccessLogRequest by_principal;
  by_principal.set_principal("cm-anna");
  r = query(by_principal);
  ASSERT_EQ(r.records_size(), 2);
  EXPECT_EQ(r.records(0).payload().access_recorded().case_id(), "case-n1");
  EXPECT_EQ(r.records(0).payload().access_recorded().decision(),
            v1::ACCESS_DECISION_ALLOWED);
  EXPECT_EQ(r.records(1).payload().access_recorded().case_id(), "case-s1");
  EXPECT_EQ(r.records(1).payload().access_recorded().decision(),
            v1::ACCESS_DECISION_DENIED);
  // The chains verify.
  grpc::ClientContext context;
  Prepare(&context, Caller{"", kAudToken}, "");
  v1::VerifyAccessLogResponse verify;
  ASSERT_TRUE(
      log->VerifyAccessLog(&context, v1::VerifyAccessLogRequest(), &verify)
          .ok());
  EXPECT_TRUE(verify.ok());
  EXPECT_GE(verify.records_checked(), 5u);
  // Only the server writes access records.
  v1::EventPayload forged;
  forged.mutable_access_recorded()->set_decision(v1::ACCESS_DECISION_ALLOWED);
  EXPECT_EQ(Append(Caller{"", kWriterToken}, "case-n1", {MakeEvent(forged)})
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// Every string value of a message (recursively); with `skip_group_names`,
// but for the fields analysts may see in aggregates (program, team,
// organisation names).
void CollectStrings(const google::protobuf::Message& m,
                    std::set<std::string>* out, bool skip_group_names = true) {
  const google::protobuf::Reflection* r = m.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const auto* f : fields) {
    if (skip_group_names &&
        (f->name() == "program" || f->name() == "team" ||
         f->name() == "to_team" || f->name() == "organization")) {
      continue;
    }
    if (f->type() == google::protobuf::FieldDescriptor::TYPE_STRING) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) {
          out->insert(r->GetRepeatedString(m, f, i));
        }
      } else {
        out->insert(r->GetString(m, f));
      }
    } else if (f->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) {
          CollectStrings(r->GetRepeatedMessage(m, f, i), out, skip_group_names);
        }
      } else {
        CollectStrings(r->GetMessage(m, f), out, skip_group_names);
      }
    }
  }
}

TEST_F(AccessControlTest, AnalystOutputsHoldNoIdentifierOrFreeText) {
  caseload::CaseloadOptions options;
  options.cases = 40;
  options.seed = 7;
  ASSERT_OK(caseload::LoadCaseload(*server_->log(), options, [](uint64_t) {}));
  // Every identifier and free text of the caseload.
  std::set<std::string> secrets;
  std::set<std::string> case_ids;
  // Names analysts may see as group keys, wherever else they occur (e.g. a
  // consent's purpose "return-to-work").
  std::set<std::string> group_names;
  engine::ReadAllRequest read;
  read.max_count = 1000;
  for (;;) {
    ASSERT_OK_AND_ASSIGN(engine::ReadPage page, server_->log()->ReadAll(read));
    for (const v1::Event& e : page.events) {
      CollectStrings(e.payload(), &secrets);
      secrets.insert(e.envelope().case_id());
      secrets.insert(e.envelope().actor().user_id());
      if (e.payload().has_case_opened()) {
        group_names.insert(e.payload().case_opened().program());
        group_names.insert(e.payload().case_opened().team());
        group_names.insert(e.payload().case_opened().organization());
      }
      if (absl::StartsWith(e.envelope().case_id(), "case-")) {
        case_ids.insert(e.envelope().case_id());
      }
    }
    if (page.end) break;
    read.from_position = page.next;
  }
  // Short words ("g1", "yes") would match by chance.
  for (auto it = secrets.begin(); it != secrets.end();) {
    it = it->size() < 5 || group_names.count(*it) > 0 ? secrets.erase(it)
                                                      : std::next(it);
  }
  ASSERT_GT(secrets.size(), 100u);
  ASSERT_GE(case_ids.size(), 40u);

  const Caller analyst{"analyst", kAnaToken};
  auto stub = v1::Analytics::NewStub(plain_);
  // Every string the analyst receives (numbers cannot carry names or text).
  std::set<std::string> output;
  for (int by = v1::METRICS_GROUP_BY_NONE;
       by <= v1::METRICS_GROUP_BY_TRAINING_CYCLE; ++by) {
    grpc::ClientContext context;
    Prepare(&context, analyst, "");
    v1::GetMetricsRequest request;
    request.set_group_by(static_cast<v1::MetricsGroupBy>(by));
    request.set_min_position(server_->log()->LastPosition());
    v1::GetMetricsResponse response;
    ASSERT_TRUE(stub->GetMetrics(&context, request, &response).ok());
    EXPECT_EQ(response.report().as_of().day(), 0);
    CollectStrings(response, &output, /*skip_group_names=*/false);
  }
  std::set<std::string> pseudonyms;
  for (const std::string& id : case_ids) {
    grpc::ClientContext context;
    Prepare(&context, analyst, "");
    v1::GetCaseMetricsRequest request;
    request.set_case_id(id);
    v1::GetCaseMetricsResponse response;
    ASSERT_TRUE(stub->GetCaseMetrics(&context, request, &response).ok()) << id;
    EXPECT_TRUE(absl::StartsWith(response.metrics().case_id(), "p-"));
    EXPECT_EQ(response.metrics().as_of().day(), 0);
    pseudonyms.insert(response.metrics().case_id());
    CollectStrings(response, &output, /*skip_group_names=*/false);
  }
  EXPECT_EQ(pseudonyms.size(), case_ids.size());  // distinct per case
  ASSERT_GT(output.size(), case_ids.size());
  for (const std::string& value : output) {
    for (const std::string& secret : secrets) {
      EXPECT_FALSE(absl::StrContains(value, secret))
          << "found '" << secret << "' in '" << value << "'";
    }
  }
  // The analyst gets nothing else.
  auto queries = v1::Queries::NewStub(plain_);
  grpc::ClientContext context;
  Prepare(&context, analyst, "");
  v1::GetPlanRequest plan;
  plan.set_case_id(*case_ids.begin());
  v1::GetPlanResponse response;
  EXPECT_EQ(queries->GetPlan(&context, plan, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// Access records bigger than the log accepts: the write fails, so the read
// must fail and return nothing.
class AccessLogFailClosedTest : public AccessControlTest {
 protected:
  void Customize(ServerOptions& options) override {
    options.log.max_event_bytes = 400;
  }
};

TEST_F(AccessLogFailClosedTest, ReadFailsWhenItsRecordCannotBeWritten) {
  auto queries = v1::Queries::NewStub(anna_);
  v1::GetPlanRequest request;
  request.set_case_id("case-n1");
  {
    grpc::ClientContext context;
    Prepare(&context, Caller{}, "short");
    v1::GetPlanResponse response;
    ASSERT_TRUE(queries->GetPlan(&context, request, &response).ok());
  }
  grpc::ClientContext context;
  Prepare(&context, Caller{}, std::string(250, 'p'));  // record > 400 bytes
  v1::GetPlanResponse response;
  const grpc::Status s = queries->GetPlan(&context, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_FALSE(response.has_plan());
  EXPECT_TRUE(RecordsWithPurpose(std::string(250, 'p')).empty());
}

TEST(PlaintextTest, OnlyOnLoopbackAndOnlyWhenAsked) {
  TempDir dir;
  ServerOptions options;
  options.data_dir = dir.Sub("data");
  options.listen = "127.0.0.1:0";
  EXPECT_THAT(LedgerServer::Start(options).status(),
              testing::StatusIs(absl::StatusCode::kFailedPrecondition));
  options.plaintext_loopback = true;
  options.listen = "0.0.0.0:0";
  EXPECT_THAT(LedgerServer::Start(options).status(),
              testing::StatusIs(absl::StatusCode::kFailedPrecondition));
  for (const char* yes :
       {"127.0.0.1:1", "127.1.2.3:1", "localhost:1", "[::1]:1"}) {
    EXPECT_TRUE(IsLoopbackAddress(yes)) << yes;
  }
  for (const char* no : {"0.0.0.0:1", "10.0.0.1:1", "[::]:1",
                         "127.0.0.1.example:1", "example.com:1", ":1"}) {
    EXPECT_FALSE(IsLoopbackAddress(no)) << no;
  }
}

}  // namespace
}  // namespace caseledger::services
