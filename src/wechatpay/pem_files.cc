#include "wechatpay/pem_files.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

namespace wxpay {
namespace {

constexpr size_t kMaxPemBytes = 1 << 20;
constexpr int kMinRsaBits = 2048;

// Wipes a buffer that held a private key before it is released.
struct ScrubbedString {
  std::string bytes;
  ~ScrubbedString() {
    if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
  }
};

Status ReadSmallFile(const std::string& path, std::string_view what, std::string* out) {
  if (path.empty()) return Fail(std::string(what) + ": no file configured");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Fail(std::string(what) + " " + path + ": cannot open: " + std::strerror(errno) +
                " (check the path and that the daemon's user may read it)");
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Fail(std::string(what) + " " + path + ": read error");
  *out = std::move(buf).str();
  if (out->size() > kMaxPemBytes) {
    return Fail(std::string(what) + " " + path + ": larger than 1 MiB, not a PEM key file");
  }
  return Status::Ok();
}

// Never prompts on a terminal for a passphrase.
int NoPassphrase(char*, int, int, void*) { return -1; }

BioPtr MemoryBio(std::string_view pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

Status CheckRsa(const EVP_PKEY* key, std::string_view source, std::string_view what) {
  if (!EVP_PKEY_is_a(key, "RSA")) {
    return Fail(std::string(source) + ": " + std::string(what) +
                " is not an RSA key (WeChat Pay API v3 uses RSA 2048)");
  }
  if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
    return Fail(std::string(source) + ": " + std::string(what) + " has " +
                std::to_string(EVP_PKEY_get_bits(key)) + " bits, at least 2048 required");
  }
  return Status::Ok();
}

std::optional<TimePoint> ToTimePoint(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

std::string NormalizeSerial(std::string_view serial) {
  std::string out;
  for (char c : serial) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  size_t first = out.find_first_not_of('0');
  if (first == std::string::npos) return out.empty() ? out : "0";
  return out.substr(first);
}

Result<EvpPkeyPtr> ParsePrivateKeyPem(std::string_view pem, std::string_view source) {
  ERR_clear_error();
  if (pem.find("ENCRYPTED PRIVATE KEY") != std::string_view::npos ||
      pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos) {
    return Fail(std::string(source) +
                ": the private key is encrypted; store it unencrypted with mode 0600 "
                "(or via systemd LoadCredential=)");
  }
  BioPtr bio = MemoryBio(pem);
  if (!bio) return Fail(std::string(source) + ": out of memory");
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!key) {
    return Fail(std::string(source) + ": not a PEM private key (" + DrainOpenSslErrors() +
                "); expected apiclient_key.pem (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)");
  }
  if (Status s = CheckRsa(key.get(), source, "the private key"); !s) return Fail(s.message());
  return key;
}

Result<EvpPkeyPtr> LoadPrivateKeyFile(const std::string& path) {
  ScrubbedString pem;
  if (Status s = ReadSmallFile(path, "private key file", &pem.bytes); !s) return Fail(s.message());
  return ParsePrivateKeyPem(pem.bytes, "private key file " + path);
}

Result<EvpPkeyPtr> ParsePublicKeyPem(std::string_view pem, std::string_view source) {
  ERR_clear_error();
  BioPtr bio = MemoryBio(pem);
  if (!bio) return Fail(std::string(source) + ": out of memory");
  EvpPkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!key) {
    return Fail(std::string(source) + ": not a PEM public key (" + DrainOpenSslErrors() +
                "); expected WeChat Pay's pub_key.pem (BEGIN PUBLIC KEY)");
  }
  if (Status s = CheckRsa(key.get(), source, "the public key"); !s) return Fail(s.message());
  return key;
}

Result<EvpPkeyPtr> LoadPublicKeyFile(const std::string& path) {
  std::string pem;
  if (Status s = ReadSmallFile(path, "public key file", &pem); !s) return Fail(s.message());
  return ParsePublicKeyPem(pem, "public key file " + path);
}

Result<Certificate> ParseCertificatePem(std::string_view pem, std::string_view source) {
  ERR_clear_error();
  BioPtr bio = MemoryBio(pem);
  if (!bio) return Fail(std::string(source) + ": out of memory");
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!cert) {
    return Fail(std::string(source) + ": not a PEM certificate (" + DrainOpenSslErrors() +
                "); expected a WeChat Pay platform certificate (BEGIN CERTIFICATE)");
  }
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(ASN1_INTEGER_to_BN(serial, nullptr), BN_free);
  if (!bn) return Fail(std::string(source) + ": unreadable serial number");
  std::unique_ptr<char, void (*)(char*)> hex(BN_bn2hex(bn.get()),
                                             [](char* p) { OPENSSL_free(p); });
  if (!hex) return Fail(std::string(source) + ": out of memory");
  Certificate out;
  out.serial = NormalizeSerial(hex.get());
  out.public_key = EvpPkeyPtr(X509_get_pubkey(cert.get()));
  if (!out.public_key) return Fail(std::string(source) + ": certificate without a usable public key");
  if (Status s = CheckRsa(out.public_key.get(), source, "the certificate's key"); !s) {
    return Fail(s.message());
  }
  out.not_after = ToTimePoint(X509_get0_notAfter(cert.get()));
  return out;
}

Result<Certificate> LoadCertificateFile(const std::string& path) {
  std::string pem;
  if (Status s = ReadSmallFile(path, "platform certificate", &pem); !s) return Fail(s.message());
  return ParseCertificatePem(pem, "platform certificate " + path);
}

}  // namespace wxpay
