// `run`: the daemon (SPEC §4, §7). Builds the parts from the configuration,
// waits for the database and the broker (at most policy.start_timeout, with
// STATUS and EXTEND_TIMEOUT_USEC), declares the topology, starts consuming,
// sends READY=1 and runs the main loop (daemon/daemon.h) until SIGTERM.
// SIGHUP reloads the file (bad file: the running configuration stays).
//
// Exit codes: 0 after a stop signal; 78 for configuration errors (including
// policy.dry_run, which the daemon refuses); 69 when a dependency is still
// down at the end of policy.start_timeout.
#pragma once

#include "cli/args.h"
#include "config/loader.h"
#include "ops/log.h"

namespace wxpay {

int RunDaemon(const Invocation& inv, const LoadedConfig& loaded, StderrLogger& log);

}  // namespace wxpay
