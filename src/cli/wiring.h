// Builds the program's parts from a loaded Config: the engine's options and
// the adapters. Shared by the one-shot commands and the daemon.
#pragma once

#include "config/config.h"
#include "core/engine_options.h"

namespace wxpay {

// policy.* and the merchant identity of wechatpay.* as the engine's options.
EngineOptions EngineOptionsFromConfig(const Config& config);

}  // namespace wxpay
