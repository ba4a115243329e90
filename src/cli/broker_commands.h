// The one-shot broker commands of SPEC §4. Each returns the process exit code
// (cli/exit_codes.h), prints its answer on stdout and problems on stderr.
//
//   setup-topology  declares what the daemon needs (SPEC §6), only what is
//                   absent; idempotent. A mismatching existing object is
//                   reported with its name and arguments (exit 69).
//   enqueue         publishes an order number as the shop would (text or
//                   JSON per rabbitmq.message.format), persistent, confirmed
//                   and mandatory: an unroutable message is an error (69).
//                   Without --delay it goes straight to rabbitmq.queue. With
//                   --delay D it waits in the shortest delay queue of at
//                   least D: the shop delay queue (rabbitmq.shop_delay, which
//                   waits exactly its ttl) or one of the daemon's retry tiers
//                   (<queue>.retry.<ms>); D beyond all of them is a usage
//                   error (64).
//   redrive         moves dead letters from dead_letter_queue back to queue:
//                   each is taken with basic.get, republished (confirmed,
//                   mandatory) with x-wxpay-attempt, x-wxpay-reason and
//                   x-wxpay-error removed (attempts start again at 1;
//                   x-wxpay-first-seen is kept), then acknowledged; its
//                   parked mark is cleared. With --reason only dead letters
//                   of that reason move; the others are held and requeued at
//                   the end. At most as many messages as the queue held at
//                   the start are examined (no loop over requeued ones), at
//                   most --limit are moved.
#pragma once

#include "cli/args.h"
#include "config/config.h"
#include "ops/log.h"

namespace wxpay {

int RunSetupTopology(const Invocation& inv, const Config& config, Logger& log);
int RunEnqueue(const Invocation& inv, const Config& config, Logger& log);
int RunRedrive(const Invocation& inv, const Config& config, Logger& log);

}  // namespace wxpay
