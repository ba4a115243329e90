// Bookkeeping for publisher confirms on one confirm-mode channel (pure).
//
// RabbitMQ numbers the publishes of a confirm-mode channel 1, 2, 3, ... and
// answers each with basic.ack or basic.nack, possibly for several at once
// (multiple=true: every outstanding number <= tag). An unroutable mandatory
// publish first comes back as basic.return and is then acked: confirms alone
// do not prove routing (SPEC §2 invariant 4). A return carries no sequence
// number, so it is matched to the oldest outstanding, not yet returned
// publish with the same exchange, routing key and body; returns arrive in
// publish order, which makes that match exact. Should a return match nothing,
// every publish the next ack covers is failed: a needless duplicate is safe,
// a lost order is not.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "broker/message.h"

namespace wxpay {

struct PublishOutcome {
  PublishId id = 0;
  bool confirmed = false;  // acked and not returned
  std::string reason;      // when !confirmed
};

class PublishTracker {
 public:
  // Records the next publish of the channel; returns its sequence number.
  uint64_t Track(PublishId id, std::string_view exchange, std::string_view routing_key, std::string_view body);

  // basic.return: `reason` like "312 NO_ROUTE".
  void MarkReturned(std::string_view exchange, std::string_view routing_key, std::string_view body,
                    const std::string& reason);

  std::vector<PublishOutcome> Ack(uint64_t tag, bool multiple);
  std::vector<PublishOutcome> Nack(uint64_t tag, bool multiple);

  // The channel is gone: nothing outstanding will be confirmed. Numbering
  // restarts at 1 for the next channel.
  std::vector<PublishOutcome> FailAll(const std::string& reason);

  size_t outstanding() const { return pending_.size(); }
  bool IsOutstanding(PublishId id) const;

 private:
  struct Pending {
    PublishId id;
    std::string exchange;
    std::string routing_key;
    size_t body_hash;
    size_t body_size;
    bool returned = false;
    std::string return_reason;
  };
  std::vector<PublishOutcome> Settle(uint64_t tag, bool multiple, bool acked);

  std::map<uint64_t, Pending> pending_;  // by sequence number
  uint64_t last_seq_ = 0;
  bool fail_next_ack_ = false;  // a return that matched nothing
  std::string unmatched_return_reason_;
};

}  // namespace wxpay
