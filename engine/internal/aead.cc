#include "engine/internal/aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>

namespace caseledger::engine::internal {
namespace {

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// AES-256-GCM from OpenSSL's default provider, fetched once: passing
// EVP_aes_256_gcm() to every EVP_*Init_ex makes OpenSSL 3 look the
// implementation up again on every message. Never freed (process lifetime).
const EVP_CIPHER* Cipher() {
  static const EVP_CIPHER* const cipher = [] {
    const EVP_CIPHER* fetched =
        EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return fetched != nullptr ? fetched : EVP_aes_256_gcm();
  }();
  return cipher;
}

// This thread's cipher context for one direction, bound to Cipher() once and
// re-keyed for every message (EVP_*Init_ex with a null cipher keeps it and
// resets the message state). Allocating and binding a context per message
// cost more than encrypting a typical event. nullptr if OpenSSL cannot
// allocate one.
EVP_CIPHER_CTX* ThreadContext(bool encrypt) {
  thread_local Ctx encrypt_ctx;
  thread_local Ctx decrypt_ctx;
  Ctx& ctx = encrypt ? encrypt_ctx : decrypt_ctx;
  if (ctx == nullptr) {
    Ctx fresh(EVP_CIPHER_CTX_new());
    if (fresh == nullptr ||
        EVP_CipherInit_ex(fresh.get(), Cipher(), nullptr, nullptr, nullptr,
                          encrypt ? 1 : 0) != 1) {
      return nullptr;
    }
    ctx = std::move(fresh);
  }
  return ctx.get();
}

// Random nonces, drawn from RAND_bytes in blocks: one RAND_bytes call costs
// about as much as encrypting a whole event (OpenSSL 3 locks its generator
// and checks for a fork on every call), so each thread takes kNonceBlock
// nonces' worth of random bytes at once and hands them out in order. The
// nonces are exactly as random as with one call per nonce. A forked child
// must not reuse its parent's buffered bytes: pthread_atfork bumps a
// generation in the child, and a buffer of an older generation is refilled.
constexpr size_t kNonceBlock = 256;
std::atomic<uint64_t> fork_generation{0};

void CountFork() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

bool NextNonce(unsigned char* nonce) {
  static const bool registered =
      pthread_atfork(nullptr, nullptr, &CountFork) == 0;
  struct Buffer {
    unsigned char bytes[kNonceBlock * kAeadNonceBytes];
    size_t next = kNonceBlock;  // empty
    uint64_t generation = 0;
    ~Buffer() { OPENSSL_cleanse(bytes, sizeof(bytes)); }
  };
  thread_local Buffer buffer;
  const uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  // Without the fork handler, never buffer: one call per nonce.
  if (!registered) return RAND_bytes(nonce, kAeadNonceBytes) == 1;
  if (buffer.next == kNonceBlock || buffer.generation != generation) {
    if (RAND_bytes(buffer.bytes, sizeof(buffer.bytes)) != 1) return false;
    buffer.next = 0;
    buffer.generation = generation;
  }
  unsigned char* taken = buffer.bytes + buffer.next * kAeadNonceBytes;
  std::copy(taken, taken + kAeadNonceBytes, nonce);
  OPENSSL_cleanse(taken, kAeadNonceBytes);
  ++buffer.next;
  return true;
}

}  // namespace

absl::StatusOr<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                          static_cast<int>(n)) != 1) {
    return absl::InternalError("random generator failed");
  }
  return out;
}

absl::StatusOr<std::string> Seal(absl::string_view key,
                                 absl::string_view plaintext,
                                 absl::string_view aad) {
  if (key.size() != kAeadKeyBytes) {
    return absl::InvalidArgumentError("key: must be 32 bytes");
  }
  std::string out(kAeadNonceBytes + plaintext.size() + kAeadTagBytes, '\0');
  unsigned char* o = reinterpret_cast<unsigned char*>(out.data());
  unsigned char* body = o + kAeadNonceBytes;
  if (!NextNonce(o)) {
    return absl::InternalError("random generator failed");
  }
  EVP_CIPHER_CTX* ctx = ThreadContext(/*encrypt=*/true);
  int len = 0;
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx, nullptr, nullptr, Bytes(key), o) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx, nullptr, &len, Bytes(aad),
                                         static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx, body, &len, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1) {
    return absl::InternalError("encryption failed");
  }
  const int total = len;
  if (EVP_EncryptFinal_ex(ctx, body + total, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kAeadTagBytes,
                          body + plaintext.size()) != 1) {
    return absl::InternalError("encryption failed");
  }
  return out;
}

absl::StatusOr<std::string> Open(absl::string_view key,
                                 absl::string_view sealed,
                                 absl::string_view aad) {
  if (key.size() != kAeadKeyBytes) {
    return absl::InvalidArgumentError("key: must be 32 bytes");
  }
  if (sealed.size() < kAeadNonceBytes + kAeadTagBytes) {
    return absl::DataLossError("encrypted data is truncated");
  }
  const size_t n = sealed.size() - kAeadNonceBytes - kAeadTagBytes;
  const absl::string_view nonce = sealed.substr(0, kAeadNonceBytes);
  const absl::string_view body = sealed.substr(kAeadNonceBytes, n);
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer; OpenSSL copies the tag.
  unsigned char tag[kAeadTagBytes];
  std::copy(sealed.end() - kAeadTagBytes, sealed.end(), tag);
  std::string out(n, '\0');
  unsigned char* o = reinterpret_cast<unsigned char*>(out.data());
  EVP_CIPHER_CTX* ctx = ThreadContext(/*encrypt=*/false);
  int len = 0;
  if (ctx == nullptr ||
      EVP_DecryptInit_ex(ctx, nullptr, nullptr, Bytes(key), Bytes(nonce)) !=
          1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx, nullptr, &len, Bytes(aad),
                                         static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx, o, &len, Bytes(body), static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kAeadTagBytes, tag) != 1) {
    return absl::DataLossError("encrypted data cannot be decrypted");
  }
  if (EVP_DecryptFinal_ex(ctx, o + len, &len) != 1) {
    return absl::DataLossError("encrypted data fails authentication");
  }
  return out;
}

}  // namespace caseledger::engine::internal
