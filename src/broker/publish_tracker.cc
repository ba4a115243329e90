#include "broker/publish_tracker.h"

#include <functional>

namespace wxpay {

uint64_t PublishTracker::Track(PublishId id, std::string_view exchange, std::string_view routing_key,
                               std::string_view body) {
  const uint64_t seq = ++last_seq_;
  pending_.emplace(seq, Pending{id, std::string(exchange), std::string(routing_key),
                                std::hash<std::string_view>{}(body), body.size(), false, std::string()});
  return seq;
}

void PublishTracker::MarkReturned(std::string_view exchange, std::string_view routing_key, std::string_view body,
                                  const std::string& reason) {
  const size_t hash = std::hash<std::string_view>{}(body);
  for (auto& [seq, p] : pending_) {
    if (!p.returned && p.exchange == exchange && p.routing_key == routing_key && p.body_hash == hash &&
        p.body_size == body.size()) {
      p.returned = true;
      p.return_reason = reason;
      return;
    }
  }
  fail_next_ack_ = true;
  unmatched_return_reason_ = reason;
}

bool PublishTracker::IsOutstanding(PublishId id) const {
  for (const auto& [seq, p] : pending_) {
    if (p.id == id) return true;
  }
  return false;
}

std::vector<PublishOutcome> PublishTracker::Settle(uint64_t tag, bool multiple, bool acked) {
  std::vector<PublishOutcome> out;
  auto settle_one = [&](std::map<uint64_t, Pending>::iterator it) {
    const Pending& p = it->second;
    PublishOutcome o;
    o.id = p.id;
    if (!acked) {
      o.reason = "the broker refused the message (basic.nack): a queue rejected it or the broker failed to store it";
    } else if (p.returned) {
      o.reason = "unroutable: the broker returned the message (" + p.return_reason + "), no queue is bound for it";
    } else if (fail_next_ack_) {
      o.reason = "possibly unroutable: the broker returned a message (" + unmatched_return_reason_ +
                 ") that could not be matched to one publish";
    } else {
      o.confirmed = true;
    }
    out.push_back(std::move(o));
    return pending_.erase(it);
  };
  if (multiple) {
    for (auto it = pending_.begin(); it != pending_.end() && it->first <= tag;) it = settle_one(it);
  } else if (auto it = pending_.find(tag); it != pending_.end()) {
    settle_one(it);
  }
  if (acked && !out.empty()) fail_next_ack_ = false;
  return out;
}

std::vector<PublishOutcome> PublishTracker::Ack(uint64_t tag, bool multiple) { return Settle(tag, multiple, true); }

std::vector<PublishOutcome> PublishTracker::Nack(uint64_t tag, bool multiple) { return Settle(tag, multiple, false); }

std::vector<PublishOutcome> PublishTracker::FailAll(const std::string& reason) {
  std::vector<PublishOutcome> out;
  for (auto& [seq, p] : pending_) out.push_back(PublishOutcome{p.id, false, reason});
  pending_.clear();
  last_seq_ = 0;
  fail_next_ack_ = false;
  return out;
}

}  // namespace wxpay
