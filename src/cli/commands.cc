#include "cli/commands.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "broker/broker_session.h"
#include "cli/exit_codes.h"
#include "cli/wiring.h"
#include "core/engine.h"
#include "core/text.h"
#include "daemon/sweeper.h"
#include "store/state_store.h"
#include "store/store_factory.h"
#include "wechatpay/client.h"
#include "wechatpay/trade_json.h"

namespace wxpay {
namespace {

void PrintOut(const std::string& s) { std::fprintf(stdout, "%s\n", s.c_str()); }
void PrintErr(const std::string& s) { std::fprintf(stderr, "wxpay-reconciler: %s\n", s.c_str()); }

// Store errors that name a mapping key are mistakes in the file; the rest mean
// the database could not be reached.
int StoreOpenExitCode(const std::string& message) {
  if (message.rfind("database.", 0) == 0) return exit_code::kConfig;
  return exit_code::kUnavailable;
}

int InvalidOrderNo(const std::string& command, const std::string& order_no) {
  // Shown escaped: it may hold anything, a newline or a terminal escape included.
  PrintErr(command + ": '" + PreviewBytes(order_no) +
           "' is not a valid order number (6-32 characters of 0-9 A-Z a-z _ - | *)");
  return exit_code::kBadData;
}

// The parts a command that reconciles needs, built in dependency order.
struct Reconciler {
  SystemClock clock;
  std::unique_ptr<SqlShopStore> store;
  std::unique_ptr<WechatPayClient> client;
  std::unique_ptr<Engine> engine;

  // 0 on success, else the exit code (the reason is printed).
  int Open(const Config& config, bool dry_run, Logger& log) {
    auto s = OpenShopStore(config.database, 1, clock, log);
    if (!s.ok()) {
      PrintErr(s.error().message);
      return StoreOpenExitCode(s.error().message);
    }
    store = std::move(s).value();
    // The mapped columns must exist with usable types before any order is
    // read: a floating-point amount column cannot hold money exactly.
    auto schema = store->CheckSchema();
    if (!schema.ok()) {
      PrintErr(schema.error().message);
      return StoreOpenExitCode(schema.error().message);
    }
    auto c = WechatPayClient::Create(config.wechatpay, clock, log);
    if (!c.ok()) {
      PrintErr(c.error().message);
      return exit_code::kConfig;
    }
    client = std::move(c).value();
    EngineOptions options = EngineOptionsFromConfig(config);
    options.dry_run = options.dry_run || dry_run;
    engine = std::make_unique<Engine>(*store, *client, clock, options);
    return 0;
  }
};

int DecisionExitCode(const Decision& d) {
  switch (d.outcome) {
    case Outcome::kNothingToDo:
    case Outcome::kPaid:
    case Outcome::kCancelled: return exit_code::kOk;
    case Outcome::kReschedule: return exit_code::kTempFail;
    case Outcome::kDeadLetter: return exit_code::kBadData;
    case Outcome::kDatabaseError: return exit_code::kUnavailable;
  }
  return exit_code::kInternal;
}

void LogDecision(Logger& log, const Decision& d) {
  switch (d.Severity()) {
    case DecisionSeverity::kInfo: log.Info(RenderLogLine(d)); break;
    case DecisionSeverity::kWarning: log.Warning(RenderLogLine(d)); break;
    case DecisionSeverity::kError: log.Error(RenderLogLine(d)); break;
  }
}

// The more serious of two exit codes of check-config --connect.
int Worse(int a, int b) {
  auto rank = [](int code) {
    return code == exit_code::kConfig ? 3 : code == exit_code::kUnavailable ? 2 : code == exit_code::kOk ? 0 : 1;
  };
  return rank(b) > rank(a) ? b : a;
}

// check-config --connect: opens the shop's database, checks the mapped
// columns and compares the database's clock with ours (SPEC §7).
int ProbeDatabase(const Config& config, const Clock& clock, Logger& log) {
  auto store = OpenShopStore(config.database, 1, clock, log);
  if (!store.ok()) {
    PrintErr(store.error().message);
    return StoreOpenExitCode(store.error().message);
  }
  int rc = exit_code::kOk;
  auto report = (*store)->CheckSchema();
  if (!report.ok()) {
    PrintErr(report.error().message);
    rc = StoreOpenExitCode(report.error().message);
  } else {
    for (const auto& note : report->notes) PrintOut("database: " + note);
    PrintOut("database: reachable, orders table and mapped columns OK");
  }
  auto db_now = (*store)->DatabaseNow();
  if (db_now.ok()) {
    auto skew = std::chrono::duration_cast<std::chrono::seconds>(*db_now - clock.Now()).count();
    if (std::llabs(skew) > 30) {
      PrintErr("warning: the database clock read in database.orders.timezone (" +
               config.database.orders.timezone + ") differs from this host's by " + std::to_string(skew) +
               " s; a wrong timezone shifts every payment window: check database.orders.timezone");
    }
  }
  return rc;
}

// check-config --connect: a query for an order that cannot exist proves the
// merchant id, serial and key: WeChat Pay answers 404 only to a request whose
// signature it accepted, and the answer's signature proves ours.
int ProbeWechatPay(const Config& config, const Clock& clock, Logger& log) {
  auto client = WechatPayClient::Create(config.wechatpay, clock, log);
  if (!client.ok()) {
    PrintErr(client.error().message);
    return exit_code::kConfig;
  }
  auto probe = (*client)->Query(PaymentRef{"wxpayreconcilerprobe", ""});
  if (probe.ok() || probe.error().kind == PayErrorKind::kNotFound) {
    PrintOut("wechatpay: reachable, request signature accepted");
    return exit_code::kOk;
  }
  PrintErr("wechatpay: " + probe.error().Describe());
  return exit_code::kUnavailable;
}

// check-config --connect: logs in to RabbitMQ and looks up the two queues
// the shop and the daemon share. A queue that does not exist yet is not an
// error: `setup-topology` (or the daemon at start) declares it.
int ProbeBroker(const Config& config, Logger& log) {
  Result<ConnectOptions> options = ConnectOptionsFromConfig(config.rabbitmq);
  if (!options) {
    PrintErr("broker: " + options.error().message);
    return exit_code::kConfig;
  }
  options->connection_name = "wxpay-reconciler check-config";
  auto session = BrokerSession::Open(*options, 1, log);
  if (!session) {
    PrintErr("broker: " + session.error().message);
    return exit_code::kUnavailable;
  }
  for (const std::string& queue : {config.rabbitmq.queue, config.rabbitmq.dead_letter_queue}) {
    auto info = (*session)->InspectQueue(queue);
    if (info) {
      PrintOut("broker: queue '" + queue + "' exists (" + std::to_string(info->message_count) +
               " messages ready, " + std::to_string(info->consumer_count) + " consumers)");
    } else if (info.error().server.code == kReplyNotFound) {
      PrintOut("broker: queue '" + queue +
               "' does not exist yet; `wxpay-reconciler setup-topology` (or the daemon at start) declares it");
    } else {
      PrintErr("broker: " + info.error().message);
      return exit_code::kUnavailable;
    }
  }
  PrintOut("broker: reachable, logged in to " + (*session)->endpoint());
  return exit_code::kOk;
}

}  // namespace

int RunCheckConfig(const Invocation& inv, const LoadedConfig& loaded, Logger& log) {
  const Config& config = loaded.config;
  for (const auto& w : loaded.warnings) PrintErr("warning: " + w);
  if (!inv.connect) {
    PrintOut("configuration OK: " + config.source_file);
    return exit_code::kOk;
  }
  // Every dependency is tried, so that one run reports every problem; a
  // mistake in the file outranks an unreachable server.
  SystemClock clock;
  int worst = ProbeDatabase(config, clock, log);
  worst = Worse(worst, ProbeWechatPay(config, clock, log));
  worst = Worse(worst, ProbeBroker(config, log));
  if (worst == exit_code::kOk) PrintOut("configuration OK: " + config.source_file);
  return worst;
}

int RunQuery(const Invocation& inv, const Config& config, Logger& log) {
  if (!IsValidOrderNo(inv.order_no)) return InvalidOrderNo("query", inv.order_no);
  SystemClock clock;
  auto client = WechatPayClient::Create(config.wechatpay, clock, log);
  if (!client.ok()) {
    PrintErr(client.error().message);
    return exit_code::kConfig;
  }
  auto answer = (*client)->Query(PaymentRef{inv.order_no, ""});
  if (answer.ok()) {
    PrintOut(QueryAnswerJson(*answer));
    return exit_code::kOk;
  }
  const PayError& e = answer.error();
  if (e.kind == PayErrorKind::kNotFound) {
    PrintOut(QueryNotFoundJson(inv.order_no));
    return exit_code::kOk;
  }
  PrintErr("query " + inv.order_no + ": " + e.Describe());
  return exit_code::kUnavailable;
}

int RunReconcile(const Invocation& inv, const Config& config, Logger& log) {
  if (!IsValidOrderNo(inv.order_no)) return InvalidOrderNo("reconcile", inv.order_no);
  Reconciler r;
  if (int rc = r.Open(config, inv.dry_run, log); rc != 0) return rc;

  Decision d = r.engine->Process(inv.order_no, 1);
  LogDecision(log, d);
  PrintOut(inv.json ? RenderJson(d) : RenderLogLine(d));
  if (d.outcome == Outcome::kDeadLetter && !d.dry_run) {
    // No broker here: park it so the sweeper leaves it alone until `redrive`.
    auto state = StateStore::Open(config.state_dir, r.clock);
    Status parked = state.ok() ? (*state)->Park(d.order_no, DeadLetterReasonName(d.reason), d.error)
                               : Status(Error{state.error().message});
    if (!parked) PrintErr("warning: could not record the parked order: " + parked.message());
  }
  if (d.outcome == Outcome::kReschedule) {
    PrintErr("reconcile: decided to retry in " + FormatMillis(d.delay) +
             "; run it again later (one-shot commands never publish reschedules)");
  }
  return DecisionExitCode(d);
}

int RunSweep(const Invocation& inv, const Config& config, Logger& log) {
  Reconciler r;
  if (int rc = r.Open(config, inv.dry_run, log); rc != 0) return rc;
  auto state = StateStore::Open(config.state_dir, r.clock);
  if (!state.ok()) {
    PrintErr(state.error().message);
    return exit_code::kUnavailable;
  }
  // The same lock as the daemons' sweepers: one pass at a time per shop.
  const std::unique_ptr<SweepLock> lock = r.store->NewSweepLock();
  Sweeper sweeper(*r.store, *lock, **state, *r.engine, r.clock, log);
  SweepOptions options;
  options.order_ttl = config.policy.order_ttl;
  options.grace = config.sweeper.grace;
  options.max_pass = config.sweeper.max_pass;
  options.dry_run = inv.dry_run || config.policy.dry_run;
  SweepSummary s = sweeper.RunPass(options, [&](const Decision& d) {
    LogDecision(log, d);
    PrintOut(RenderLogLine(d));
  });
  if (s.held_elsewhere) {
    PrintErr("sweep: another sweeper (a daemon's or another `sweep`) is sweeping " + lock->subject() +
             " right now; nothing was done, try again later");
    return exit_code::kTempFail;
  }
  if (s.lock_error) {
    PrintErr("sweep: could not take the sweep lock: " + s.error);
    return exit_code::kUnavailable;
  }

  std::string line = "sweep: " + std::to_string(s.examined) + " orders: " +
                     std::to_string(s.count(Outcome::kPaid)) + " paid, " +
                     std::to_string(s.count(Outcome::kCancelled)) + " cancelled, " +
                     std::to_string(s.count(Outcome::kNothingToDo)) + " nothing to do, " +
                     std::to_string(s.count(Outcome::kReschedule)) + " to retry later, " +
                     std::to_string(s.count(Outcome::kDeadLetter)) + " parked; " +
                     std::to_string(s.skipped_parked) + " parked orders skipped";
  if (s.stopped_by_time) line += "; stopped after sweeper.max_pass, the next pass continues";
  if (options.dry_run) line += " (dry run: nothing changed)";
  PrintOut(line);
  if (s.database_error) {
    PrintErr("sweep stopped: " + s.error);
    return exit_code::kUnavailable;
  }
  if (s.count(Outcome::kReschedule) > 0) return exit_code::kTempFail;
  if (s.count(Outcome::kDeadLetter) > 0) return exit_code::kBadData;
  return exit_code::kOk;
}

}  // namespace wxpay
