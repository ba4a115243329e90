#include "broker/message.h"

namespace wxpay {

bool operator==(const MessageProperties& a, const MessageProperties& b) {
  return a.content_type == b.content_type && a.content_encoding == b.content_encoding && a.headers == b.headers &&
         a.delivery_mode == b.delivery_mode && a.priority == b.priority && a.correlation_id == b.correlation_id &&
         a.reply_to == b.reply_to && a.expiration == b.expiration && a.message_id == b.message_id &&
         a.timestamp == b.timestamp && a.type == b.type && a.user_id == b.user_id && a.app_id == b.app_id &&
         a.cluster_id == b.cluster_id;
}

}  // namespace wxpay
