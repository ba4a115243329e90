// Reading one sd_notify datagram the way systemd does, for the fake service
// managers of the tests (tests/ops/notify_receiver.h, tests/service/notify_log.h):
// file descriptors passed along with it (BARRIER=1 sends one) are closed at
// once, so a barrier waiting on them completes.
#pragma once

#include <optional>
#include <string>

namespace wxpay::testing {

// The text of the next datagram on the AF_UNIX datagram socket `fd` (waits
// for one unless the caller polled first); nullopt when recvmsg fails.
std::optional<std::string> ReceiveNotifyDatagram(int fd);

}  // namespace wxpay::testing
