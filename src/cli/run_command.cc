#include "cli/run_command.h"

#include <malloc.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "broker/amqp_connection.h"
#include "broker/delay_tiers.h"
#include "broker/reconnecting_broker.h"
#include "broker/topology.h"
#include "cli/exit_codes.h"
#include "cli/wiring.h"
#include "core/engine.h"
#include "core/wechat_breaker.h"
#include "daemon/daemon.h"
#include "daemon/daemon_config.h"
#include "daemon/delivery_loop.h"
#include "daemon/metered_gateway.h"
#include "daemon/order_claims.h"
#include "daemon/signals.h"
#include "daemon/startup.h"
#include "daemon/sweep_scheduler.h"
#include "daemon/worker_pool.h"
#include "ops/health.h"
#include "ops/metrics.h"
#include "ops/sd_notifier.h"
#include "store/state_store.h"
#include "store/store_factory.h"
#include "wechatpay/client.h"

namespace wxpay {
namespace {

// SPEC §7: warn when the database's clock (read in orders.timezone) and ours
// disagree by more than this.
constexpr std::chrono::seconds kMaxClockSkew{30};

LogLevel ToLogLevel(LogConfig::Level level) {
  switch (level) {
    case LogConfig::Level::kDebug: return LogLevel::kDebug;
    case LogConfig::Level::kInfo: return LogLevel::kInfo;
    case LogConfig::Level::kWarning: return LogLevel::kWarning;
    case LogConfig::Level::kError: return LogLevel::kError;
  }
  return LogLevel::kInfo;
}

// Mapping problems (an error naming a database.* key) are mistakes in the
// file; anything else means the database is not reachable yet.
bool IsConfigError(const std::string& store_error) { return store_error.rfind("database.", 0) == 0; }

void CheckClockSkew(ShopStore& store, const Clock& clock, const Config& config, Logger& log) {
  StoreResult<TimePoint> db_now = store.DatabaseNow();
  if (!db_now.ok()) {
    log.Warning("database: could not read its clock for the start-up comparison: " + db_now.error().message);
    return;
  }
  const auto skew = std::chrono::duration_cast<std::chrono::seconds>(*db_now - clock.Now());
  if (skew > kMaxClockSkew || skew < -kMaxClockSkew) {
    log.Warning("database: its clock read in database.orders.timezone (" + config.database.orders.timezone +
                ") differs from this host's by " + std::to_string(skew.count()) +
                " s; a wrong timezone shifts every payment window: check database.orders.timezone and both clocks");
  }
}

int StartFailure(const StartReport& report, const std::string& what, const Config& config, Logger& log) {
  switch (report.outcome) {
    case StartOutcome::kReady: return exit_code::kOk;
    case StartOutcome::kStopped: return exit_code::kOk;  // STOPPING=1 was sent by the caller
    case StartOutcome::kFatal: log.Error(report.error); return exit_code::kConfig;
    case StartOutcome::kTimedOut:
      log.Error(what + " still unavailable after policy.start_timeout (" +
               std::to_string(config.policy.start_timeout.count() / 1000) + " s): " + report.error);
      return exit_code::kUnavailable;
  }
  return exit_code::kInternal;
}

// SIGHUP: policy.retry and policy.userpaying_recheck move the delay tiers
// (SPEC §6). Switch only once every new retry queue exists: a reschedule into
// a missing one is unroutable and pauses consuming. Old tier queues stay;
// what waits in them still comes back.
void SwitchDelayTiers(const Config& merged, ReconnectingBroker& broker, DeliveryLoop& loop, Logger& log) {
  DelayTiers next_tiers = ComputeDelayTiers(merged);
  if (next_tiers == loop.tiers()) return;
  TopologyPlan plan = RetryTopology(merged.rabbitmq, next_tiers);
  BrokerSession* session = broker.session();
  // The broker does not read a blocked connection: a declaration would wait
  // out the RPC timeout and lose the connection.
  Result<TopologyReport> declared = Fail("rabbitmq: not connected");
  if (session != nullptr && session->blocked()) {
    declared = Fail("rabbitmq: the broker blocks this connection (memory or disk alarm)");
  } else if (session != nullptr) {
    declared = DeclareTopology(*session, plan);
  }
  if (!declared) {
    log.Warning("reload: policy.retry / policy.userpaying_recheck need new retry queues, which could not be "
                "declared: " + declared.error().message +
                "; reschedules keep the old delay tiers (rounded up, at most " +
                std::to_string(loop.tiers().back().count()) + " ms): fix that, then send SIGHUP again (or restart)");
    return;
  }
  for (const std::string& created : declared->created) log.Info("rabbitmq: declared " + created);
  std::string listed;
  for (Millis tier : next_tiers) listed += (listed.empty() ? "" : ", ") + std::to_string(tier.count());
  loop.SetTiers(std::move(next_tiers));
  broker.SetRedeclare(std::move(plan));
  log.Info("reload: delay tiers now " + listed + " ms");
}

}  // namespace

int RunDaemon(const Invocation& inv, const LoadedConfig& loaded, StderrLogger& log) {
  Config config = loaded.config;
  if (config.policy.dry_run) {
    log.Error("run: policy.dry_run is true in " + config.source_file +
             "; the daemon never runs dry (use `reconcile --dry-run` or `sweep --dry-run`)");
    return exit_code::kConfig;
  }
  for (const std::string& w : loaded.warnings) log.Warning(w);

  // glibc gives each thread that allocates its own malloc arena (up to 8 per
  // core), about 1 MB of resident memory for 10 workers. Their allocations
  // are small and short (most served by the per-thread cache), so one shared
  // arena costs no measurable CPU and less resident memory than two.
  mallopt(M_ARENA_MAX, 1);
  // Before any thread exists, so that every thread inherits the mask.
  SignalWatcher signals;
  SdNotifier notifier(log);
  SystemClock clock;
  Health health(clock);
  Metrics metrics;
  notifier.Status("starting");

  Result<std::unique_ptr<WechatPayClient>> client = WechatPayClient::Create(config.wechatpay, clock, log);
  if (!client) {
    log.Error(client.error().message);
    return exit_code::kConfig;
  }
  Result<ConnectOptions> connect = ConnectOptionsFromConfig(config.rabbitmq);
  if (!connect) {
    log.Error(connect.error().message);
    return exit_code::kConfig;
  }
  Result<std::unique_ptr<StateStore>> state = StateStore::Open(config.state_dir, clock);
  if (!state) {
    log.Error(state.error().message);
    return exit_code::kUnavailable;
  }

  StartupWaiter waiter(notifier, health, log, signals, config.policy.start_timeout);
  std::unique_ptr<SqlShopStore> store;
  StartReport db_ready = waiter.WaitFor(Dependency::kDatabase, "the database", [&] {
    Result<std::unique_ptr<SqlShopStore>> opened =
        OpenShopStore(config.database, config.policy.concurrency, clock, log);
    if (!opened) {
      return IsConfigError(opened.error().message) ? StartAttempt::Fatal(opened.error().message)
                                                   : StartAttempt::Retry(opened.error().message);
    }
    // A money column of FLOAT/REAL or a missing mapped column is a mistake in
    // the file: refuse it before a single order is touched (SPEC §5).
    if (Result<SchemaReport> schema = (*opened)->CheckSchema(); !schema) {
      const std::string& why = schema.error().message;
      return IsConfigError(why) ? StartAttempt::Fatal(why) : StartAttempt::Retry(why);
    }
    store = std::move(opened).value();
    return StartAttempt::Ok();
  });
  if (db_ready.outcome == StartOutcome::kStopped) notifier.Stopping();
  if (db_ready.outcome != StartOutcome::kReady) return StartFailure(db_ready, "the database", config, log);
  metrics.SetUp(Dependency::kDatabase, true);
  CheckClockSkew(*store, clock, config, log);

  MeteredGateway gateway(**client, metrics, health);
  Engine engine(*store, gateway, clock, EngineOptionsFromConfig(config));

  const DelayTiers tiers = ComputeDelayTiers(config);
  BrokerOptions broker_options;
  broker_options.connect = *connect;
  broker_options.queue = config.rabbitmq.queue;
  broker_options.prefetch = config.rabbitmq.prefetch;
  broker_options.redeclare = RetryTopology(config.rabbitmq, tiers);
  ReconnectingBroker broker(broker_options, log);
  StartReport broker_ready = waiter.WaitFor(Dependency::kRabbitmq, "RabbitMQ", [&] {
    // The full topology (including the work queue) first, then the consumer.
    (void)broker.SetConsuming(false);
    if (Status s = broker.Connect(); !s) return StartAttempt::Retry(s.message());
    Result<TopologyReport> declared = DeclareTopology(*broker.session(), FullTopology(config.rabbitmq, tiers));
    if (!declared) return StartAttempt::Retry(declared.error().message);
    for (const std::string& created : declared->created) log.Info("rabbitmq: declared " + created);
    if (Status s = broker.SetConsuming(true); !s) return StartAttempt::Retry(s.message());
    return StartAttempt::Ok();
  });
  if (broker_ready.outcome == StartOutcome::kStopped) notifier.Stopping();
  if (broker_ready.outcome != StartOutcome::kReady) return StartFailure(broker_ready, "RabbitMQ", config, log);
  metrics.SetUp(Dependency::kRabbitmq, true);

  WechatBreaker breaker;
  for (const char* name : {"wechat", "not_found"}) {
    metrics.SetBreakerOpen(name, false);
    health.SetBreakerOpen(name, false);
  }
  OrderClaims claims;
  // Two threads beyond policy.concurrency: the database and WeChat probes
  // must not wait behind stuck orders.
  WorkerPool workers(config.policy.concurrency + 2);
  DeliveryLoop loop(DeliveryLoopDeps{broker, engine, *store, gateway, **state, breaker, claims, workers, health,
                                     metrics, log, clock},
                    DeliveryLoopOptionsFromConfig(config));
  const std::unique_ptr<SweepLock> sweep_lock = store->NewSweepLock();  // outlives the sweep thread
  SweepScheduler sweeper(*store, *sweep_lock, **state, engine, claims, breaker, metrics, log, clock,
                         SweepScheduleFromConfig(config));

  Daemon* daemon_ptr = nullptr;
  auto reload = [&] {
    Result<LoadedConfig, std::vector<std::string>> next = LoadConfigFile(inv.config_path, ProcessEnv());
    if (!next) {
      for (const std::string& e : next.error()) log.Error("reload: " + e);
      log.Error("reload: " + inv.config_path + " has " + std::to_string(next.error().size()) +
                " error(s); keeping the running configuration");
    } else {
      for (const std::string& w : next->warnings) log.Warning("reload: " + w);
      for (const std::string& w : NonReloadableChanges(config, next->config)) log.Warning("reload: " + w);
      Config merged = MergeReload(config, next->config);
      log.SetLevel(ToLogLevel(merged.log.level));
      engine.SetOptions(EngineOptionsFromConfig(merged));
      if (Status s = (*client)->ReloadKeys(merged.wechatpay); !s) {
        log.Error("reload: WeChat Pay keys: " + s.message() + "; keeping the keys in use");
      }
      (*client)->SetRateLimit(merged.wechatpay.max_requests_per_second);
      sweeper.SetSchedule(SweepScheduleFromConfig(merged));
      SwitchDelayTiers(merged, broker, loop, log);
      if (daemon_ptr != nullptr) daemon_ptr->SetMetricsTextfile(merged.metrics.textfile);
      config = std::move(merged);
      log.Info("reload: applied " + inv.config_path);
    }
    engine.not_found_breaker().Reset();
  };
  Daemon daemon(loop, &sweeper, workers, signals, notifier, health, metrics, log, DaemonOptionsFromConfig(config),
                reload);
  daemon_ptr = &daemon;

  health.SetPhase(Phase::kConsuming);
  notifier.Ready();
  notifier.Status(health.StatusLine());
  daemon.WriteMetrics();
  log.Info("consuming " + config.rabbitmq.queue + " with " + std::to_string(config.policy.concurrency) +
           " workers (prefetch " + std::to_string(config.rabbitmq.prefetch) + ")");

  const DaemonExit exit = daemon.Run();
  if (exit.abandon) {
    // Workers are stuck in a call: do not wait for them. Nothing is lost:
    // every unacknowledged message goes back to its queue with the connection.
    std::fflush(stderr);
    std::_Exit(exit.code);
  }
  return exit.code;
}

}  // namespace wxpay
