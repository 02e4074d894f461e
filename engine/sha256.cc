#include "engine/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace caseledger::engine {

std::string Sha256(absl::string_view data) {
  std::string digest(kSha256Bytes, '\0');
  unsigned int size = 0;
  // EVP_Digest fails only on allocation failure or a broken OpenSSL; there
  // is no safe way to continue without a hash.
  if (EVP_Digest(data.data(), data.size(),
                 reinterpret_cast<unsigned char*>(digest.data()), &size,
                 EVP_sha256(), nullptr) != 1 ||
      size != kSha256Bytes) {
    std::abort();
  }
  return digest;
}

std::string ToHex(absl::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

}  // namespace caseledger::engine
