// Start-up under systemd (SPEC §4, §7, issue 5): a dependency that is down
// is retried in-process, with EXTEND_TIMEOUT_USEC and a STATUS= saying what
// is awaited, for at most policy.start_timeout, then exit 69 (never a crash
// loop into the start limit); a dependency that comes up in time lets the
// daemon become ready; a mistake in the file is exit 78.
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>

#include "service/service_fixture.h"

namespace wxpay::testing {
namespace {

using namespace std::chrono_literals;

class StartupIt : public ServiceIt {};

TEST_F(StartupIt, BrokerDownAtStartIsAwaitedThenExit69) {
  ServiceConfig c;
  c.amqp_url = "amqp://guest:guest@127.0.0.1:" + std::to_string(ClosedLoopbackPort()) + "/%2f";
  c.start_timeout = "3s";
  const auto started = std::chrono::steady_clock::now();
  ASSERT_NE(StartDaemon(WriteConfig("broker-down.yaml", c), 1s), nullptr);

  const std::optional<size_t> status = notify().WaitForPrefix("STATUS=starting: waiting for RabbitMQ: ", 10s);
  ASSERT_TRUE(status) << "STATUS should say the daemon waits for RabbitMQ\n" << Describe();
  EXPECT_GT(notify().Lines()[*status].text.size(), std::string("STATUS=starting: waiting for RabbitMQ: ").size())
      << "STATUS should also say what is wrong with it";
  const std::optional<size_t> extend = notify().WaitForPrefix("EXTEND_TIMEOUT_USEC=", 10s);
  ASSERT_TRUE(extend) << Describe();
  const std::string usec = notify().Lines()[*extend].text.substr(std::string("EXTEND_TIMEOUT_USEC=").size());
  EXPECT_GT(std::strtoll(usec.c_str(), nullptr, 10), 0) << "EXTEND_TIMEOUT_USEC=" << usec;

  const std::optional<int> code = daemon().Wait(30s);
  ASSERT_TRUE(code.has_value()) << "still running 30 s after a 3 s policy.start_timeout\n" << Describe();
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(*code, 69) << Describe();
  EXPECT_GE(took, 2900ms) << "gave up before policy.start_timeout";
  EXPECT_FALSE(notify().WaitForLine("READY=1", 0ms)) << Describe();
  EXPECT_NE(Output().find("RabbitMQ"), std::string::npos) << "the log should name what stayed down\n" << Describe();
}

TEST_F(StartupIt, DatabaseThatComesUpDuringTheWaitLetsItBecomeReady) {
  // The shop database is made elsewhere and moved into place in one step,
  // so the daemon never sees a half-made one.
  const std::string staging = dir_.path() + "/staging", late = dir_.path() + "/late";
  ASSERT_EQ(::mkdir(staging.c_str(), 0755), 0);
  ShopDb late_db(staging + "/shop.db");
  ServiceConfig c;
  c.database_path = late + "/shop.db";
  ASSERT_NE(StartDaemon(WriteConfig("database-late.yaml", c), 1s), nullptr);

  ASSERT_TRUE(notify().WaitForPrefix("STATUS=starting: waiting for the database: ", 15s)) << Describe();
  EXPECT_FALSE(notify().WaitForLine("READY=1", 0ms)) << "ready without its database\n" << Describe();
  ASSERT_EQ(std::rename(staging.c_str(), late.c_str()), 0);
  EXPECT_TRUE(notify().WaitForLine("READY=1", 30s)) << "not ready after the database appeared\n" << Describe();
  EXPECT_EQ(StopDaemon(), 0) << Describe();
}

TEST_F(StartupIt, AMistakeInTheFileExits78NamingIt) {
  ServiceConfig c;
  c.extra_yaml = "shop_name: demo\n";  // not a key of SPEC §5
  const std::string path = WriteConfig("mistake.yaml", c);
  ASSERT_NE(StartDaemon(path, 1s), nullptr);
  const std::optional<int> code = daemon().Wait(30s);
  ASSERT_TRUE(code.has_value()) << Describe();
  EXPECT_EQ(*code, 78) << Describe();
  EXPECT_NE(Output().find("mistake.yaml"), std::string::npos) << "the error should name the file\n" << Describe();
  EXPECT_NE(Output().find("shop_name"), std::string::npos) << "the error should name the key\n" << Describe();
  EXPECT_FALSE(notify().WaitForLine("READY=1", 0ms)) << Describe();
}

}  // namespace
}  // namespace wxpay::testing
