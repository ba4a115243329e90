// The nonce_str of a request signature: 32 characters [0-9A-Za-z], as the
// official SDKs send. Injectable so known-answer tests can fix it.
#pragma once

#include <string>

#include "core/result.h"

namespace wxpay {

class NonceSource {
 public:
  virtual ~NonceSource() = default;
  // Thread-safe: called by every worker for every signed request.
  virtual Result<std::string> Next() = 0;
};

// OpenSSL's CSPRNG (RAND_bytes), unbiased by rejection sampling.
class RandomNonceSource final : public NonceSource {
 public:
  Result<std::string> Next() override;
};

}  // namespace wxpay
