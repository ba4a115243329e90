// Command dispatch only: parse the command line, load the configuration, run
// the command, return its exit code (SPEC §4).
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/broker_commands.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/run_command.h"
#include "core/version.h"
#include "config/loader.h"
#include "ops/log.h"

namespace {

wxpay::LogLevel ToLogLevel(wxpay::LogConfig::Level level) {
  switch (level) {
    case wxpay::LogConfig::Level::kDebug: return wxpay::LogLevel::kDebug;
    case wxpay::LogConfig::Level::kInfo: return wxpay::LogLevel::kInfo;
    case wxpay::LogConfig::Level::kWarning: return wxpay::LogLevel::kWarning;
    case wxpay::LogConfig::Level::kError: return wxpay::LogLevel::kError;
  }
  return wxpay::LogLevel::kInfo;
}

int Main(int argc, char** argv) {
  using namespace wxpay;
  std::vector<std::string> args(argv, argv + argc);
  EnvLookup env = ProcessEnv();
  auto parsed = ParseArgs(args, env);
  if (!parsed.ok()) {
    std::fprintf(stderr, "wxpay-reconciler: %s\n", parsed.error().message.c_str());
    return exit_code::kUsage;
  }
  const Invocation& inv = *parsed;
  if (inv.command == Command::kHelp) {
    std::fputs(UsageText().c_str(), stdout);
    return exit_code::kOk;
  }
  if (inv.command == Command::kVersion) {
    std::printf("wxpay-reconciler %s\n", kVersion);
    return exit_code::kOk;
  }

  auto loaded = LoadConfigFile(inv.config_path, env);
  if (!loaded.ok()) {
    const std::string summary = inv.config_path + ": configuration has " +
                                std::to_string(loaded.error().size()) + " error(s); nothing was done";
    if (inv.command == Command::kRun) {
      // The daemon's lines go to journald: each carries its priority (SPEC §7).
      StderrLogger log(LogLevel::kError, StderrLogger::UnderJournald());
      for (const auto& e : loaded.error()) log.Error(e);
      log.Error(summary);
    } else {
      for (const auto& e : loaded.error()) std::fprintf(stderr, "wxpay-reconciler: %s\n", e.c_str());
      std::fprintf(stderr, "wxpay-reconciler: %s\n", summary.c_str());
    }
    return exit_code::kConfig;
  }
  const Config& config = loaded->config;
  StderrLogger log(ToLogLevel(config.log.level), StderrLogger::UnderJournald());

  switch (inv.command) {
    case Command::kCheckConfig: return RunCheckConfig(inv, *loaded, log);
    case Command::kQuery: return RunQuery(inv, config, log);
    case Command::kReconcile: return RunReconcile(inv, config, log);
    case Command::kSweep: return RunSweep(inv, config, log);
    case Command::kRun: return RunDaemon(inv, *loaded, log);
    case Command::kSetupTopology: return RunSetupTopology(inv, config, log);
    case Command::kEnqueue: return RunEnqueue(inv, config, log);
    case Command::kRedrive: return RunRedrive(inv, config, log);
    case Command::kHelp:
    case Command::kVersion: break;
  }
  return exit_code::kInternal;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wxpay-reconciler: internal error: %s\n", e.what());
    return wxpay::exit_code::kInternal;
  }
}
