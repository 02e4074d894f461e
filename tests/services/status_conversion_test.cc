#include "services/status_conversion.h"

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "engine/event_log.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/test/server_context_test_spouse.h"
#include "gtest/gtest.h"
#include "tests/testing/event_builders.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace caseledger::services {
namespace {

using ::caseledger::testing::MakeNoteEvent;
using ::caseledger::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

TEST(StatusConversionTest, OkIsOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(StatusConversionTest, CodesMapOneToOneAndKeepTheMessage) {
  const std::pair<absl::StatusCode, grpc::StatusCode> kCodes[] = {
      {absl::StatusCode::kCancelled, grpc::StatusCode::CANCELLED},
      {absl::StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
      {absl::StatusCode::kDeadlineExceeded,
       grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND},
      {absl::StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS},
      {absl::StatusCode::kPermissionDenied,
       grpc::StatusCode::PERMISSION_DENIED},
      {absl::StatusCode::kResourceExhausted,
       grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::StatusCode::kFailedPrecondition,
       grpc::StatusCode::FAILED_PRECONDITION},
      {absl::StatusCode::kAborted, grpc::StatusCode::ABORTED},
      {absl::StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE},
      {absl::StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED},
      {absl::StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
      {absl::StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED},
  };
  for (const auto& [absl_code, grpc_code] : kCodes) {
    const std::string message = "events[0].envelope.occurred_at: " +
                                absl::StatusCodeToString(absl_code);
    const grpc::Status converted =
        ToGrpcStatus(absl::Status(absl_code, message));
    EXPECT_EQ(converted.error_code(), grpc_code)
        << absl::StatusCodeToString(absl_code);
    EXPECT_EQ(converted.error_message(), message);
  }
}

TEST(StatusConversionTest, DataLossInternalAndUnknownHideTheDetail) {
  const std::string detail =
      "sst file /var/lib/caseledger/log/000123.sst: checksum mismatch in "
      "case-42";
  const std::pair<absl::StatusCode, grpc::StatusCode> kHidden[] = {
      {absl::StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS},
      {absl::StatusCode::kInternal, grpc::StatusCode::INTERNAL},
      {absl::StatusCode::kUnknown, grpc::StatusCode::UNKNOWN},
  };
  for (const auto& [absl_code, grpc_code] : kHidden) {
    const grpc::Status converted =
        ToGrpcStatus(absl::Status(absl_code, detail));
    EXPECT_EQ(converted.error_code(), grpc_code)
        << absl::StatusCodeToString(absl_code);
    EXPECT_THAT(converted.error_message(), HasSubstr("incident"));
    EXPECT_THAT(converted.error_message(), Not(HasSubstr("sst")));
    EXPECT_THAT(converted.error_message(), Not(HasSubstr("case-42")));
    EXPECT_THAT(converted.error_message(), Not(HasSubstr("checksum")));
    EXPECT_TRUE(converted.error_details().empty());
  }
  // Each incident gets its own number.
  EXPECT_NE(ToGrpcStatus(absl::InternalError(detail)).error_message(),
            ToGrpcStatus(absl::InternalError(detail)).error_message());
}

// An ABORTED status as the engine returns it: with the case's version.
absl::Status RealVersionConflict(const TempDir& dir, uint64_t* version) {
  engine::EventLogOptions options;
  options.path = dir.Sub("log");
  absl::StatusOr<std::unique_ptr<engine::EventLog>> log =
      engine::EventLog::Open(options);
  if (!log.ok()) return log.status();
  engine::AppendRequest first;
  first.case_id = "c1";
  first.events = {MakeNoteEvent(), MakeNoteEvent()};
  absl::StatusOr<engine::AppendResult> appended = (*log)->Append(first);
  if (!appended.ok()) return appended.status();
  *version = appended->last_version;
  engine::AppendRequest stale;
  stale.case_id = "c1";
  stale.expected = engine::ExpectedVersion::Exact(1);
  stale.events = {MakeNoteEvent()};
  return (*log)->Append(stale).status();
}

TEST(StatusConversionTest, VersionConflictAddsTheCurrentVersionTrailer) {
  TempDir dir;
  uint64_t version = 0;
  const absl::Status conflict = RealVersionConflict(dir, &version);
  ASSERT_EQ(conflict.code(), absl::StatusCode::kAborted) << conflict;
  ASSERT_EQ(version, 2u);

  grpc::ServerContext context;
  grpc::testing::ServerContextTestSpouse spouse(&context);
  const grpc::Status converted = ToGrpcStatus(conflict, &context);
  EXPECT_EQ(converted.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(converted.error_message(), std::string(conflict.message()));
  EXPECT_THAT(spouse.GetTrailingMetadata(),
              UnorderedElementsAre(Pair("current-version", "2")));

  // Without a context there is nowhere to put it, and nothing breaks.
  EXPECT_EQ(ToGrpcStatus(conflict).error_code(), grpc::StatusCode::ABORTED);
}

TEST(StatusConversionTest, NoTrailerWithoutAVersionPayload) {
  grpc::ServerContext context;
  grpc::testing::ServerContextTestSpouse spouse(&context);
  EXPECT_EQ(ToGrpcStatus(absl::AbortedError("plain"), &context).error_code(),
            grpc::StatusCode::ABORTED);
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("case c9 has no events"), &context)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(spouse.GetTrailingMetadata(), IsEmpty());
}

}  // namespace
}  // namespace caseledger::services
