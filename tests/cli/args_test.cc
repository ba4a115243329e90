#include "cli/args.h"

#include <gtest/gtest.h>

#include <map>

namespace wxpay {
namespace {

using Env = std::map<std::string, std::string>;

Result<Invocation> Parse(std::vector<std::string> args, Env env = {}) {
  args.insert(args.begin(), "wxpay-reconciler");
  return ParseArgs(args, [env](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

TEST(Args, DefaultsToRunWithDefaultConfig) {
  auto r = Parse({});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->command, Command::kRun);
  EXPECT_EQ(r->config_path, "/etc/wxpay-reconciler/config.yaml");
}

TEST(Args, ConfigPrecedenceFlagOverEnvOverDefault) {
  EXPECT_EQ(Parse({"run"}, {{"WXPAY_RECONCILER_CONFIG", "/env.yaml"}})->config_path, "/env.yaml");
  EXPECT_EQ(Parse({"-c", "/flag.yaml", "run"}, {{"WXPAY_RECONCILER_CONFIG", "/env.yaml"}})->config_path,
            "/flag.yaml");
  EXPECT_EQ(Parse({"query", "123456", "-c", "/late.yaml"})->config_path, "/late.yaml");
}

TEST(Args, ReconcileTakesOrderAndFlags) {
  auto r = Parse({"reconcile", "ORDER_123", "--dry-run", "--json"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->command, Command::kReconcile);
  EXPECT_EQ(r->order_no, "ORDER_123");
  EXPECT_TRUE(r->dry_run);
  EXPECT_TRUE(r->json);
}

TEST(Args, EnqueueDelayAndRedriveOptions) {
  auto e = Parse({"enqueue", "123456", "--delay", "1h30m"});
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->delay->count(), 5'400'000);
  auto r = Parse({"redrive", "--reason", "not_found", "--limit", "10"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->reason, "not_found");
  EXPECT_EQ(*r->limit, 10);
}

TEST(Args, HelpAndVersionWinOverEverything) {
  EXPECT_EQ(Parse({"query", "--help"})->command, Command::kHelp);
  EXPECT_EQ(Parse({"--version"})->command, Command::kVersion);
}

TEST(Args, UsageErrorsSayWhatIsWrong) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {{"frobnicate"}, "unknown command 'frobnicate' (see --help)"},
      {{"query"}, "query: missing ORDER_NO (see --help)"},
      {{"reconcile"}, "reconcile: missing ORDER_NO (see --help)"},
      {{"query", "123456", "789012"}, "query: unexpected argument '789012' (see --help)"},
      {{"run", "--bogus"}, "unknown option '--bogus' (see --help)"},
      {{"-c"}, "-c: missing value (see --help)"},
      {{"query", "123456", "--dry-run"}, "query: --dry-run is not an option of this command (see --help)"},
      {{"sweep", "--json"}, "sweep: --json is not an option of this command (see --help)"},
      {{"run", "--connect"}, "run: --connect is not an option of this command (see --help)"},
      {{"enqueue", "123456", "--delay", "soon"},
       "--delay: 'soon' is not a duration (e.g. 500ms, 30s, 15m, 1h) (see --help)"},
      {{"redrive", "--limit", "0"}, "--limit: '0' is not a positive number (see --help)"},
      {{"redrive", "--limit", "5x"}, "--limit: '5x' is not a positive number (see --help)"},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.args);
    ASSERT_FALSE(r.ok()) << c.args[0];
    EXPECT_EQ(r.error().message, c.message);
  }
}

}  // namespace
}  // namespace wxpay
