// The engine's view of the outside world: one small interface per outside
// system. Real adapters live in store/ and wechatpay/; tests use fakes.
// Everything here is called from several worker threads at once: every
// implementation must be thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/order.h"
#include "core/result.h"
#include "core/trade.h"

namespace wxpay {

// ---------------------------------------------------------------- shop store

struct StoreError {
  enum class Kind {
    kUnavailable,  // connection refused/lost, timeout, lock wait: retry later, do not ack
    kBadRow,       // this order's row cannot be interpreted (NULL amount, bad date)
  };
  Kind kind = Kind::kUnavailable;
  std::string message;  // what failed and what to do; never a password
};

template <typename T>
using StoreResult = Result<T, StoreError>;

// Outcome of a conditional update `... WHERE order_no = ? AND status = <unpaid>`.
struct Transition {
  bool applied = false;  // exactly one row changed
  // When !applied: the status found instead (re-read in the same transaction),
  // so the caller can say who won (e.g. the payment callback).
  ShopState current = ShopState::kOther;
  std::string raw_status;
};

// Where the sweeper stopped: a keyset cursor over (created_at, order_no).
struct SweepCursor {
  TimePoint created_at{};
  std::string order_no;  // empty: start from the beginning
};

struct SweepItem {
  std::string order_no;
  TimePoint created_at;
};

class ShopStore {
 public:
  virtual ~ShopStore() = default;

  // nullopt: no such order, or the order is excluded by orders.filter.
  virtual StoreResult<std::optional<ShopOrder>> LoadOrder(std::string_view order_no) = 0;

  // unpaid -> paid in one transaction: status, optional paid_at (success_time
  // in the column's own format and zone), updated_at, version, and the
  // payments row inserted if and only if the update changed a row.
  virtual StoreResult<Transition> MarkPaid(const ShopOrder& order, const Trade& trade) = 0;

  // unpaid -> cancelled (+ updated_at, version).
  virtual StoreResult<Transition> MarkCancelled(const ShopOrder& order) = 0;

  // Unpaid orders created strictly before `created_before`, oldest first,
  // strictly after `after` in (created_at, order_no) order, at most `limit`.
  virtual StoreResult<std::vector<SweepItem>> ListUnpaid(TimePoint created_before,
                                                         const SweepCursor& after,
                                                         int limit) = 0;

  // The database's clock, for the start-up comparison of SPEC §7: the
  // database's "now" read as a datetime in the session zone and interpreted in
  // orders.timezone. A wrong zone shows up as an offset of hours.
  virtual StoreResult<TimePoint> DatabaseNow() = 0;
};

// ---------------------------------------------------------- payment gateway

struct PaymentRef {
  std::string out_trade_no;
  std::string sub_mchid;  // partner mode; empty = wechatpay.sub_mchid
};

class PaymentGateway {
 public:
  virtual ~PaymentGateway() = default;
  // GET .../out-trade-no/{out_trade_no}: a verified trade, or a classified error.
  virtual Result<Trade, PayError> Query(const PaymentRef& ref) = 0;
  // POST .../out-trade-no/{out_trade_no}/close: 204 (verified), or a classified error.
  virtual Result<CloseAccepted, PayError> Close(const PaymentRef& ref) = 0;
};

}  // namespace wxpay
