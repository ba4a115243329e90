// The sweep lock (store/sweep_lock.h) of a database server: its own session,
// opened with the store's connector when the lock is taken and closed when it
// is given back, and three statements from the adapter.
#pragma once

#include <memory>
#include <string>

#include "store/mapping.h"
#include "store/server_pool.h"
#include "store/sweep_lock.h"

namespace wxpay {

// Each statement, the lock's name or key bound, answers one row with one
// column: 1 (yes) or 0 (no).
struct SweepLockSql {
  SqlStatement take;     // taken now by this session (without waiting)?
  SqlStatement check;    // held by this session?
  SqlStatement release;  // given back (the answer is not used)
};

// `label` ("mysql", "postgresql") starts the messages. Used by one thread at
// a time; independent of the store once made.
std::unique_ptr<SweepLock> MakeServerSweepLock(std::string label, std::string subject,
                                               Connector connect, SweepLockSql sql);

}  // namespace wxpay
