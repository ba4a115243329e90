#include "cli/args.h"

#include "config/duration.h"

#include <cerrno>
#include <cstdlib>

namespace wxpay {
namespace {

struct CommandName {
  const char* name;
  Command command;
};

constexpr CommandName kCommands[] = {
    {"run", Command::kRun},
    {"check-config", Command::kCheckConfig},
    {"query", Command::kQuery},
    {"reconcile", Command::kReconcile},
    {"sweep", Command::kSweep},
    {"setup-topology", Command::kSetupTopology},
    {"enqueue", Command::kEnqueue},
    {"redrive", Command::kRedrive},
};

Error Usage(const std::string& message) { return Error{message + " (see --help)"}; }

}  // namespace

std::string UsageText() {
  return R"(wxpay-reconciler: reconciles a shop's unpaid orders with WeChat Pay (API v3)

usage:
  wxpay-reconciler [-c FILE] run                      the daemon (default command)
  wxpay-reconciler [-c FILE] check-config [--connect] validate; --connect also reaches broker, DB, WeChat Pay
  wxpay-reconciler [-c FILE] query ORDER_NO           WeChat Pay's verified view of one order; changes nothing
  wxpay-reconciler [-c FILE] reconcile ORDER_NO [--dry-run] [--json]
                                                      run the decision table once for one order
  wxpay-reconciler [-c FILE] sweep [--dry-run]        one pass of the safety-net sweeper
  wxpay-reconciler [-c FILE] setup-topology           declare the queues and exchanges the daemon needs
  wxpay-reconciler [-c FILE] enqueue ORDER_NO [--delay DURATION]
                                                      publish an order number as the shop would
  wxpay-reconciler [-c FILE] redrive [--reason R] [--limit N]
                                                      move dead letters back to the queue, attempts reset
  wxpay-reconciler --help | --version

config: -c FILE, else $WXPAY_RECONCILER_CONFIG, else /etc/wxpay-reconciler/config.yaml
exit codes: 0 done, 64 usage, 65 bad data, 69 dependency unavailable, 70 internal error,
            75 try again later, 78 configuration error
)";
}

Result<Invocation> ParseArgs(const std::vector<std::string>& argv,
                             const std::function<std::optional<std::string>(std::string_view)>& env) {
  Invocation inv;
  std::optional<std::string> config_flag;
  std::optional<Command> command;
  std::vector<std::string> positionals;

  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    auto value = [&](const char* flag) -> Result<std::string> {
      if (i + 1 >= argv.size()) return Usage(std::string(flag) + ": missing value");
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      inv.command = Command::kHelp;
      return inv;
    }
    if (a == "-V" || a == "--version") {
      inv.command = Command::kVersion;
      return inv;
    }
    if (a == "-c" || a == "--config") {
      auto v = value("-c");
      if (!v) return v.error();
      if (v->empty()) return Usage("-c: empty file name");
      config_flag = *v;
    } else if (a.rfind("--config=", 0) == 0) {
      config_flag = a.substr(9);
    } else if (a == "--dry-run") {
      inv.dry_run = true;
    } else if (a == "--json") {
      inv.json = true;
    } else if (a == "--connect") {
      inv.connect = true;
    } else if (a == "--delay") {
      auto v = value("--delay");
      if (!v) return v.error();
      auto d = ParseDuration(*v);
      if (!d.ok()) return Usage("--delay: '" + *v + "' is not a duration (e.g. 500ms, 30s, 15m, 1h)");
      inv.delay = *d;
    } else if (a == "--reason") {
      auto v = value("--reason");
      if (!v) return v.error();
      inv.reason = *v;
    } else if (a == "--limit") {
      auto v = value("--limit");
      if (!v) return v.error();
      errno = 0;
      char* end = nullptr;
      long n = std::strtol(v->c_str(), &end, 10);
      if (errno != 0 || end == v->c_str() || *end != '\0' || n < 1) {
        return Usage("--limit: '" + *v + "' is not a positive number");
      }
      inv.limit = n;
    } else if (!a.empty() && a[0] == '-') {
      return Usage("unknown option '" + a + "'");
    } else if (!command) {
      bool found = false;
      for (const auto& c : kCommands) {
        if (a == c.name) {
          command = c.command;
          found = true;
        }
      }
      if (!found) return Usage("unknown command '" + a + "'");
    } else {
      positionals.push_back(a);
    }
  }

  inv.command = command.value_or(Command::kRun);
  const bool takes_order = inv.command == Command::kQuery || inv.command == Command::kReconcile ||
                           inv.command == Command::kEnqueue;
  const char* name = "run";
  for (const auto& c : kCommands) {
    if (c.command == inv.command) name = c.name;
  }
  if (takes_order) {
    if (positionals.empty()) return Usage(std::string(name) + ": missing ORDER_NO");
    inv.order_no = positionals[0];
    positionals.erase(positionals.begin());
  }
  if (!positionals.empty()) {
    return Usage(std::string(name) + ": unexpected argument '" + positionals[0] + "'");
  }
  auto allow = [&](bool present, Command only, const char* flag) -> Status {
    if (present && inv.command != only) {
      return Usage(std::string(name) + ": " + flag + " is not an option of this command");
    }
    return Status::Ok();
  };
  if (inv.dry_run && inv.command != Command::kReconcile && inv.command != Command::kSweep) {
    return Usage(std::string(name) + ": --dry-run is not an option of this command");
  }
  for (const Status& s : {allow(inv.json, Command::kReconcile, "--json"),
                          allow(inv.connect, Command::kCheckConfig, "--connect"),
                          allow(inv.delay.has_value(), Command::kEnqueue, "--delay"),
                          allow(!inv.reason.empty(), Command::kRedrive, "--reason"),
                          allow(inv.limit.has_value(), Command::kRedrive, "--limit")}) {
    if (!s) return Error{s.message()};
  }

  if (config_flag) {
    inv.config_path = *config_flag;
  } else if (auto e = env("WXPAY_RECONCILER_CONFIG"); e && !e->empty()) {
    inv.config_path = *e;
  } else {
    inv.config_path = kDefaultConfigPath;
  }
  return inv;
}

}  // namespace wxpay
