// The key store on its own (real RocksDB in a temp directory): values
// sealed under a case's data key (KeyStore::SealValue / OpenValue), which
// the projection store uses for its per-case read models.

#include "engine/key_store.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace caseledger::engine {
namespace {

using ::caseledger::testing::StatusIs;
using ::caseledger::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "MARMOSET-4410-PLAN";

class KeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KeyStoreOptions options;
    options.path = dir_.Sub("keys");
    options.master_key = std::string(kMasterKeyBytes, 'm');
    ASSERT_OK_AND_ASSIGN(keys_, KeyStore::Open(options));
  }

  static v1::ErasureLedgerEntry Entry(const std::string& case_id) {
    v1::ErasureLedgerEntry entry;
    entry.set_case_id(case_id);
    entry.set_reason("client request");
    entry.set_legal_basis("GDPR art. 17");
    return entry;
  }

  TempDir dir_;
  std::unique_ptr<KeyStore> keys_;
};

TEST_F(KeyStoreTest, SealedValueOpensOnlyInItsPlaceAndCase) {
  ASSERT_OK_AND_ASSIGN(std::string sealed,
                       keys_->SealValue("case-a", "c/case-a#plan", kSecret));
  EXPECT_THAT(sealed, Not(HasSubstr(kSecret)));
  ASSERT_OK_AND_ASSIGN(DataKey key, keys_->GetOrCreate("case-a"));
  EXPECT_EQ(sealed.substr(0, key.id.size()), key.id);
  ASSERT_OK_AND_ASSIGN(std::string opened,
                       keys_->OpenValue("case-a", "c/case-a#plan", sealed));
  EXPECT_EQ(opened, kSecret);

  // Moved to another place of the same case, or to another case: refused.
  EXPECT_THAT(keys_->OpenValue("case-a", "f/case-a", sealed),
              StatusIs(absl::StatusCode::kDataLoss));
  ASSERT_OK(keys_->GetOrCreate("case-b").status());
  EXPECT_THAT(keys_->OpenValue("case-b", "c/case-a#plan", sealed),
              StatusIs(absl::StatusCode::kDataLoss));
  // Altered bytes, or a truncated value: refused, and the message holds no
  // plaintext.
  for (size_t i :
       {size_t{0}, size_t{9}, sealed.size() / 2, sealed.size() - 1}) {
    std::string altered = sealed;
    altered[i] = static_cast<char>(altered[i] ^ 0x01);
    absl::StatusOr<std::string> opened =
        keys_->OpenValue("case-a", "c/case-a#plan", altered);
    EXPECT_THAT(opened, StatusIs(absl::StatusCode::kDataLoss)) << i;
    EXPECT_THAT(opened.status().message(), Not(HasSubstr(kSecret)));
  }
  EXPECT_THAT(keys_->OpenValue("case-a", "c/case-a#plan", sealed.substr(0, 5)),
              StatusIs(absl::StatusCode::kDataLoss));
  // A case without a key cannot have sealed values.
  EXPECT_THAT(keys_->OpenValue("case-none", "c/case-a#plan", sealed),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(KeyStoreTest, ErasureLeavesSealedValuesUnreadable) {
  ASSERT_OK_AND_ASSIGN(std::string sealed,
                       keys_->SealValue("case-a", "t/case-a", kSecret));
  ASSERT_OK_AND_ASSIGN(std::string other,
                       keys_->SealValue("case-b", "t/case-b", kSecret));
  ASSERT_OK(keys_->SyncIfNeeded());
  ASSERT_OK(keys_->Erase(Entry("case-a")).status());
  EXPECT_THAT(keys_->OpenValue("case-a", "t/case-a", sealed),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("erased")));
  EXPECT_THAT(keys_->SealValue("case-a", "t/case-a", kSecret),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(keys_->OpenValue("case-b", "t/case-b", other).status());
}

}  // namespace
}  // namespace caseledger::engine
