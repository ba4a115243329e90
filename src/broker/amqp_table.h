// Conversions between the owned FieldTable / MessageProperties and
// librabbitmq's C structures, plus an RAII memory pool for the C side.
#pragma once

#include <amqp.h>

#include <string>

#include "broker/field_table.h"
#include "broker/message.h"
#include "core/result.h"

namespace wxpay {

// An amqp_pool_t that is emptied when it goes out of scope. Everything built
// in it (tables, properties, bytes) lives exactly as long as the pool.
class AmqpPool {
 public:
  AmqpPool();
  ~AmqpPool();
  AmqpPool(const AmqpPool&) = delete;
  AmqpPool& operator=(const AmqpPool&) = delete;

  amqp_pool_t* get() { return &pool_; }
  // A copy of `text` in the pool (no terminating NUL needed by AMQP).
  // Returns {0, nullptr} for empty text; empty bytes for failed allocation
  // are reported through Result by the callers below.
  Result<amqp_bytes_t> Bytes(const std::string& text);

 private:
  amqp_pool_t pool_;
};

// Deeper nesting is cut (librabbitmq 0.11 itself does not bound it).
inline constexpr int kMaxFieldDepth = 32;

// The C view of `table`, allocated in `pool`.
Result<amqp_table_t> ToAmqpTable(const FieldTable& table, AmqpPool& pool);
// An owned copy. Values nested deeper than kMaxFieldDepth become void and
// `problem` says so (it is left unchanged otherwise).
FieldTable FromAmqpTable(const amqp_table_t& table, std::string& problem);

// The C view of `properties` (flags set exactly for the present fields).
Result<amqp_basic_properties_t> ToAmqpProperties(const MessageProperties& properties, AmqpPool& pool);
MessageProperties FromAmqpProperties(const amqp_basic_properties_t& properties, std::string& problem);

// Owned copy of librabbitmq bytes (which may be {0, nullptr}).
std::string ToString(amqp_bytes_t bytes);

}  // namespace wxpay
