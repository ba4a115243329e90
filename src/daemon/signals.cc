#include "daemon/signals.h"

#include <pthread.h>
#include <time.h>

namespace wxpay {

SignalWatcher::SignalWatcher() {
  sigemptyset(&watched_);
  sigaddset(&watched_, SIGTERM);
  sigaddset(&watched_, SIGINT);
  sigaddset(&watched_, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &watched_, nullptr);
}

int SignalWatcher::Take() {
  const timespec no_wait{0, 0};
  const int signo = sigtimedwait(&watched_, nullptr, &no_wait);
  return signo > 0 ? signo : 0;
}

}  // namespace wxpay
