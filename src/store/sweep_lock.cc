#include "store/sweep_lock.h"

namespace wxpay {
namespace {

constexpr std::string_view kPrefix = "wxpay-reconciler:sweep:";
// MySQL refuses longer GET_LOCK names.
constexpr size_t kMaxNameLength = 64;

uint64_t Fnv1a64(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string Hex(uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kDigits[value & 0xf];
    value >>= 4;
  }
  return out;
}

}  // namespace

std::string SweepLockSubject(const DatabaseConfig& db) { return db.name + "/" + db.orders.table; }

std::string SweepLockName(const DatabaseConfig& db) {
  const std::string subject = SweepLockSubject(db);
  if (kPrefix.size() + subject.size() <= kMaxNameLength) return std::string(kPrefix) + subject;
  return std::string(kPrefix) + Hex(Fnv1a64(subject));
}

int64_t SweepLockKey(std::string_view name) {
  return static_cast<int64_t>(Fnv1a64(name) & 0x7fffffffffffffffull);
}

}  // namespace wxpay
