// Command-line parsing (SPEC §4). Pure: no I/O besides the environment lookup
// passed in, so every usage error is unit-tested.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace wxpay {

enum class Command {
  kRun,
  kCheckConfig,
  kQuery,
  kReconcile,
  kSweep,
  kSetupTopology,
  kEnqueue,
  kRedrive,
  kHelp,
  kVersion,
};

struct Invocation {
  Command command = Command::kRun;
  std::string config_path;
  std::string order_no;  // query, reconcile, enqueue
  bool dry_run = false;  // reconcile, sweep
  bool json = false;     // reconcile
  bool connect = false;  // check-config
  std::optional<std::chrono::milliseconds> delay;  // enqueue
  std::string reason;                               // redrive
  std::optional<long> limit;                        // redrive
};

inline constexpr const char* kDefaultConfigPath = "/etc/wxpay-reconciler/config.yaml";

// argv[0] is skipped. `env` looks up WXPAY_RECONCILER_CONFIG.
// Errors are one line, e.g. "reconcile: missing ORDER_NO".
Result<Invocation> ParseArgs(const std::vector<std::string>& argv,
                             const std::function<std::optional<std::string>(std::string_view)>& env);

std::string UsageText();

}  // namespace wxpay
