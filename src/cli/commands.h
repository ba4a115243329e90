// The one-shot commands of SPEC §4. Each returns the process exit code
// (cli/exit_codes.h) and prints its answer on stdout, problems on stderr.
#pragma once

#include "cli/args.h"
#include "config/loader.h"
#include "ops/log.h"

namespace wxpay {

int RunCheckConfig(const Invocation& inv, const LoadedConfig& loaded, Logger& log);
int RunQuery(const Invocation& inv, const Config& config, Logger& log);
int RunReconcile(const Invocation& inv, const Config& config, Logger& log);
int RunSweep(const Invocation& inv, const Config& config, Logger& log);

}  // namespace wxpay
