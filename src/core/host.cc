#include "core/host.h"

namespace wxpay {

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  // A dotted quad whose first octet is 127, each octet 0-255 without junk.
  int octets = 0;
  int value = -1;
  int first = -1;
  for (size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      if (value < 0 || value > 255) return false;
      if (octets == 0) first = value;
      ++octets;
      value = -1;
    } else if (host[i] >= '0' && host[i] <= '9') {
      value = (value < 0 ? 0 : value * 10) + (host[i] - '0');
      if (value > 255) return false;
    } else {
      return false;
    }
  }
  return octets == 4 && first == 127;
}

}  // namespace wxpay
