// RAII owners for the OpenSSL objects this module uses.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace wxpay {

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct X509Deleter {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

// Keys are shared between the key store's snapshots and in-flight requests.
// EVP_PKEY is safe for concurrent signing/verification once loaded.
using SharedPkey = std::shared_ptr<EVP_PKEY>;
inline SharedPkey Share(EvpPkeyPtr key) { return SharedPkey(key.release(), EvpPkeyDeleter()); }

// The one place OpenSSL's error queue becomes text: drains the thread's queue
// and returns its reasons ("unsupported", "bad decrypt", ...), or "no detail".
// OpenSSL's reasons never contain key material.
std::string DrainOpenSslErrors();

}  // namespace wxpay
