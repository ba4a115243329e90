// Loading the merchant's private key, WeChat Pay's public key and platform
// certificates from PEM. Error messages name the file and what to do; they
// never contain key material.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "wechatpay/openssl_handles.h"

namespace wxpay {

// An RSA private key of at least 2048 bits: PKCS#8 ("BEGIN PRIVATE KEY", the
// apiclient_key.pem WeChat Pay issues) or PKCS#1 ("BEGIN RSA PRIVATE KEY").
// Encrypted keys are refused (the daemon has nobody to ask for a passphrase).
Result<EvpPkeyPtr> LoadPrivateKeyFile(const std::string& path);
Result<EvpPkeyPtr> ParsePrivateKeyPem(std::string_view pem, std::string_view source);

// An RSA public key as SPKI ("BEGIN PUBLIC KEY", WeChat Pay's pub_key.pem).
Result<EvpPkeyPtr> LoadPublicKeyFile(const std::string& path);
Result<EvpPkeyPtr> ParsePublicKeyPem(std::string_view pem, std::string_view source);

struct Certificate {
  std::string serial;  // normalized, see NormalizeSerial
  EvpPkeyPtr public_key;
  std::optional<TimePoint> not_after;
};

// The first certificate in a PEM file; its key must be RSA.
Result<Certificate> LoadCertificateFile(const std::string& path);
Result<Certificate> ParseCertificatePem(std::string_view pem, std::string_view source);

// Serials are compared as WeChat Pay prints them: uppercase hex without
// leading zeros ("0f57..." and "F57..." name the same certificate).
std::string NormalizeSerial(std::string_view serial);

}  // namespace wxpay
