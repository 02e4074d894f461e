#include "engine/internal/aead.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

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
  absl::StatusOr<std::string> nonce = RandomBytes(kAeadNonceBytes);
  if (!nonce.ok()) return nonce.status();
  std::string out(kAeadNonceBytes + plaintext.size() + kAeadTagBytes, '\0');
  unsigned char* o = reinterpret_cast<unsigned char*>(out.data());
  std::copy(nonce->begin(), nonce->end(), out.begin());
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int total = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key),
                         Bytes(*nonce)) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad),
                                         static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), o + kAeadNonceBytes, &len, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1) {
    return absl::InternalError("encryption failed");
  }
  total = len;
  if (EVP_EncryptFinal_ex(ctx.get(), o + kAeadNonceBytes + total, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kAeadTagBytes,
                          o + kAeadNonceBytes + plaintext.size()) != 1) {
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
  std::string tag(sealed.substr(kAeadNonceBytes + n));
  std::string out(n, '\0');
  unsigned char* o = reinterpret_cast<unsigned char*>(out.data());
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key),
                         Bytes(nonce)) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad),
                                         static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), o, &len, Bytes(body), static_cast<int>(n)) !=
          1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kAeadTagBytes,
                          tag.data()) != 1) {
    return absl::DataLossError("encrypted data cannot be decrypted");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), o + len, &len) != 1) {
    return absl::DataLossError("encrypted data fails authentication");
  }
  return out;
}

}  // namespace caseledger::engine::internal
