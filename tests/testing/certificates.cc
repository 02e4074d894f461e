#include "tests/testing/certificates.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace caseledger::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "test certificates: %s failed\n", what);
    std::abort();
  }
}

std::string ToPem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  Check(PEM_write_bio_X509(bio, cert) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, n);
  BIO_free(bio);
  return out;
}

std::string ToPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  Check(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr,
                                 nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, n);
  BIO_free(bio);
  return out;
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext =
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, const_cast<char*>(value));
  Check(ext != nullptr, "X509V3_EXT_conf_nid");
  Check(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named `cn`, signed by `issuer_key` as `issuer`
// (itself when null).
X509* MakeCert(EVP_PKEY* key, const std::string& cn, X509* issuer,
               EVP_PKEY* issuer_key, absl::Duration not_before,
               absl::Duration not_after) {
  static std::atomic<long> serial{1000};
  X509* cert = X509_new();
  Check(X509_set_version(cert, 2) == 1, "X509_set_version");
  ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), absl::ToInt64Seconds(not_before));
  X509_gmtime_adj(X509_getm_notAfter(cert), absl::ToInt64Seconds(not_after));
  Check(X509_set_pubkey(cert, key) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(
      cert, issuer != nullptr ? X509_get_subject_name(issuer) : name);
  return cert;
}

}  // namespace

struct TestCa::Key {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  ~Key() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

TestCa::TestCa(const std::string& name) : key_(std::make_unique<Key>()) {
  key_->key = EVP_EC_gen("P-256");
  Check(key_->key != nullptr, "EVP_EC_gen");
  key_->cert = MakeCert(key_->key, name, nullptr, key_->key, -absl::Hours(1),
                        absl::Hours(24));
  AddExtension(key_->cert, key_->cert, NID_basic_constraints,
               "critical,CA:TRUE");
  AddExtension(key_->cert, key_->cert, NID_key_usage,
               "critical,keyCertSign,cRLSign");
  AddExtension(key_->cert, key_->cert, NID_subject_key_identifier, "hash");
  Check(X509_sign(key_->cert, key_->key, EVP_sha256()) > 0, "X509_sign");
  pem_.certificate = ToPem(key_->cert);
  pem_.private_key = ToPem(key_->key);
}

TestCa::~TestCa() = default;

Pem TestCa::Issue(const std::string& common_name, bool server,
                  absl::Duration not_before, absl::Duration not_after) const {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  Check(key != nullptr, "EVP_EC_gen");
  X509* cert =
      MakeCert(key, common_name, key_->cert, key_->key, not_before, not_after);
  AddExtension(cert, key_->cert, NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(cert, key_->cert, NID_key_usage,
               "critical,digitalSignature,keyAgreement");
  AddExtension(cert, key_->cert, NID_ext_key_usage,
               server ? "serverAuth" : "clientAuth");
  AddExtension(cert, key_->cert, NID_authority_key_identifier, "keyid:always");
  if (server) {
    AddExtension(cert, key_->cert, NID_subject_alt_name,
                 "DNS:localhost,IP:127.0.0.1");
  }
  Check(X509_sign(cert, key_->key, EVP_sha256()) > 0, "X509_sign");
  Pem pem{ToPem(cert), ToPem(key)};
  X509_free(cert);
  EVP_PKEY_free(key);
  return pem;
}

Pem TestCa::Server() const {
  return Issue("localhost", true, -absl::Hours(1), absl::Hours(24));
}

Pem TestCa::Client(const std::string& common_name, absl::Duration not_before,
                   absl::Duration not_after) const {
  return Issue(common_name, false, not_before, not_after);
}

}  // namespace caseledger::testing
