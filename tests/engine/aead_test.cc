// Tests of engine/internal/aead.h: AES-256-GCM sealing with random nonces
// drawn from a per-thread buffer.

#include "engine/internal/aead.h"

#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace caseledger::engine::internal {
namespace {

const std::string kKey(kAeadKeyBytes, 'k');

std::string NonceOf(const std::string& sealed) {
  return sealed.substr(0, kAeadNonceBytes);
}

TEST(AeadTest, SealedOpensWithItsKeyAndAssociatedDataOnly) {
  absl::StatusOr<std::string> sealed = Seal(kKey, "plan of case 7", "aad-1");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(
      sealed->size(),
      kAeadNonceBytes + std::string("plan of case 7").size() + kAeadTagBytes);
  EXPECT_EQ(sealed->find("plan of case 7"), std::string::npos);
  absl::StatusOr<std::string> opened = Open(kKey, *sealed, "aad-1");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, "plan of case 7");

  EXPECT_EQ(Open(kKey, *sealed, "aad-2").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      Open(std::string(kAeadKeyBytes, 'x'), *sealed, "aad-1").status().code(),
      absl::StatusCode::kDataLoss);
  std::string altered = *sealed;
  altered[kAeadNonceBytes] ^= 1;
  EXPECT_EQ(Open(kKey, altered, "aad-1").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(Open(kKey, sealed->substr(0, kAeadNonceBytes + kAeadTagBytes - 1),
                 "aad-1")
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(Seal("short", "x", "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Each thread reuses its cipher contexts across keys: a value sealed under
// one key right after another must still open only under its own.
TEST(AeadTest, ContextsReusedAcrossKeysKeepValuesApart) {
  const std::string other(kAeadKeyBytes, 'o');
  absl::StatusOr<std::string> a = Seal(kKey, "a", "");
  absl::StatusOr<std::string> b = Seal(other, "b", "");
  absl::StatusOr<std::string> empty = Seal(kKey, "", "");
  ASSERT_TRUE(a.ok() && b.ok() && empty.ok());
  EXPECT_EQ(*Open(kKey, *a, ""), "a");
  EXPECT_EQ(*Open(other, *b, ""), "b");
  EXPECT_EQ(*Open(kKey, *empty, ""), "");
  EXPECT_FALSE(Open(other, *a, "").ok());
  EXPECT_FALSE(Open(kKey, *b, "").ok());
}

// Nonces are handed out from a buffer refilled every few hundred seals:
// across several refills and several threads, no nonce repeats.
TEST(AeadTest, NoncesNeverRepeatAcrossRefillsAndThreads) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;  // several buffer refills each
  std::vector<std::vector<std::string>> nonces(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &nonces] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<std::string> sealed = Seal(kKey, "same", "same");
        ASSERT_TRUE(sealed.ok());
        nonces[t].push_back(NonceOf(*sealed));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  absl::flat_hash_set<std::string> seen;
  for (const auto& list : nonces) {
    for (const std::string& nonce : list) {
      EXPECT_TRUE(seen.insert(nonce).second) << "a nonce repeated";
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kPerThread));
}

// A forked child must not take the nonces its parent has buffered: the
// child's next nonce differs from the parent's next one.
TEST(AeadTest, AForkedChildDrawsNoncesOfItsOwn) {
  ASSERT_TRUE(Seal(kKey, "fill the buffer", "").ok());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    absl::StatusOr<std::string> sealed = Seal(kKey, "child", "");
    const std::string nonce = sealed.ok() ? NonceOf(*sealed) : std::string();
    const bool written =
        !nonce.empty() && write(fds[1], nonce.data(), nonce.size()) ==
                              static_cast<ssize_t>(nonce.size());
    _exit(written ? 0 : 1);
  }
  close(fds[1]);
  std::string from_child(kAeadNonceBytes, '\0');
  ssize_t got = 0;
  while (got < static_cast<ssize_t>(kAeadNonceBytes)) {
    const ssize_t n = read(fds[0], from_child.data() + got,
                           kAeadNonceBytes - static_cast<size_t>(got));
    if (n <= 0) break;
    got += n;
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(got, static_cast<ssize_t>(kAeadNonceBytes));
  absl::StatusOr<std::string> parent = Seal(kKey, "parent", "");
  ASSERT_TRUE(parent.ok());
  EXPECT_NE(NonceOf(*parent), from_child);
}

}  // namespace
}  // namespace caseledger::engine::internal
