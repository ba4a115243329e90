// bench_publish: publishes order numbers onto the daemon's work queue as the
// shop would, straight to rabbitmq.queue (no delay hop), at a steady rate or
// as fast as the broker confirms, and records when each one was published.
//
//   bench_publish -c CONFIG --orders FILE --out FILE [--rate PER_SECOND]
//
// CONFIG is the daemon's configuration (rabbitmq.url and rabbitmq.queue are
// used). FILE holds one order number per line. --rate 0 (default) publishes
// as fast as possible with at most kWindow publishes unconfirmed. --out gets
// one line per order: "ORDER_NO<TAB>UNIX_MS" (the wall clock just before the
// publish, microsecond precision), the clock the database trigger of the
// benchmark uses too. Prints a JSON summary on stdout; exit 1 when a publish
// was not confirmed.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "broker/amqp_connection.h"
#include "broker/broker_session.h"
#include "config/loader.h"
#include "ops/log.h"

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr size_t kWindow = 2000;  // unconfirmed publishes at most (as-fast-as-possible mode)
constexpr std::chrono::seconds kConfirmTimeout{60};

struct Options {
  std::string config;
  std::string orders;
  std::string out;
  double rate = 0;
};

int Usage() {
  std::fprintf(stderr, "usage: bench_publish -c CONFIG --orders FILE --out FILE [--rate PER_SECOND]\n");
  return 64;
}

double UnixMillis() {
  return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class Publisher {
 public:
  Publisher(wxpay::BrokerSession& session, std::string queue) : session_(session), queue_(std::move(queue)) {}

  bool Publish(const std::string& order_no) {
    wxpay::OutgoingMessage m;
    m.exchange = "";
    m.routing_key = queue_;
    m.body = order_no;
    m.mandatory = true;
    m.properties.content_type = "text/plain";
    m.properties.delivery_mode = wxpay::kPersistentDeliveryMode;
    wxpay::Result<wxpay::PublishId> sent = session_.Publish(m);
    if (!sent) {
      std::fprintf(stderr, "bench_publish: %s: %s\n", order_no.c_str(), sent.error().message.c_str());
      return false;
    }
    ++published_;
    return true;
  }

  // Handles broker events until `until` (at least one poll).
  void PumpUntil(SteadyClock::time_point until) {
    do {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - SteadyClock::now());
      Handle(session_.Poll(std::max(left, std::chrono::milliseconds(0))));
    } while (SteadyClock::now() < until && !session_.closed());
  }

  // Polls until fewer than `limit` publishes are unconfirmed or `deadline`.
  void WaitBelow(size_t limit, SteadyClock::time_point deadline) {
    while (unsettled() >= limit && SteadyClock::now() < deadline && !session_.closed()) {
      Handle(session_.Poll(std::chrono::milliseconds(100)));
    }
  }

  size_t unsettled() const { return published_ - confirmed_ - failed_; }
  size_t published() const { return published_; }
  size_t confirmed() const { return confirmed_; }
  size_t failed() const { return failed_; }

 private:
  void Handle(const wxpay::BrokerEvent& event) {
    if (std::holds_alternative<wxpay::PublishConfirmed>(event)) {
      ++confirmed_;
    } else if (const auto* f = std::get_if<wxpay::PublishFailed>(&event)) {
      ++failed_;
      if (failed_ <= 5) std::fprintf(stderr, "bench_publish: a publish failed: %s\n", f->reason.c_str());
    } else if (const auto* c = std::get_if<wxpay::Closed>(&event)) {
      std::fprintf(stderr, "bench_publish: connection closed: %s\n", c->reason.c_str());
    }
  }

  wxpay::BrokerSession& session_;
  const std::string queue_;
  size_t published_ = 0;
  size_t confirmed_ = 0;
  size_t failed_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) return Usage();
    if (arg == "-c") {
      o.config = argv[++i];
    } else if (arg == "--orders") {
      o.orders = argv[++i];
    } else if (arg == "--out") {
      o.out = argv[++i];
    } else if (arg == "--rate") {
      o.rate = std::atof(argv[++i]);
    } else {
      return Usage();
    }
  }
  if (o.config.empty() || o.orders.empty() || o.out.empty() || o.rate < 0) return Usage();

  auto loaded = wxpay::LoadConfigFile(o.config, wxpay::ProcessEnv());
  if (!loaded) {
    for (const std::string& e : loaded.error()) std::fprintf(stderr, "bench_publish: %s\n", e.c_str());
    return 1;
  }
  const wxpay::RabbitConfig& rabbit = loaded->config.rabbitmq;

  std::vector<std::string> orders;
  {
    std::ifstream in(o.orders);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) orders.push_back(line);
    }
  }
  if (orders.empty()) {
    std::fprintf(stderr, "bench_publish: no order numbers in %s\n", o.orders.c_str());
    return 1;
  }

  wxpay::StderrLogger log(wxpay::LogLevel::kWarning, false);
  wxpay::Result<wxpay::ConnectOptions> connect = wxpay::ConnectOptionsFromConfig(rabbit);
  if (!connect) {
    std::fprintf(stderr, "bench_publish: %s\n", connect.error().message.c_str());
    return 1;
  }
  connect->connection_name = "wxpay-reconciler bench publisher";
  auto session = wxpay::BrokerSession::Open(*connect, 1, log);
  if (!session) {
    std::fprintf(stderr, "bench_publish: %s\n", session.error().message.c_str());
    return 1;
  }

  std::vector<double> published_at(orders.size(), 0);
  Publisher publisher(**session, rabbit.queue);
  const auto start = SteadyClock::now();
  double max_late_ms = 0;
  for (size_t i = 0; i < orders.size(); ++i) {
    if (o.rate > 0) {
      const auto due = start + std::chrono::duration_cast<SteadyClock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(i) / o.rate));
      if (SteadyClock::now() < due) publisher.PumpUntil(due);
      max_late_ms = std::max(max_late_ms,
                             std::chrono::duration<double, std::milli>(SteadyClock::now() - due).count());
    } else {
      publisher.WaitBelow(kWindow, SteadyClock::now() + kConfirmTimeout);
    }
    published_at[i] = UnixMillis();
    if (!publisher.Publish(orders[i])) return 1;
  }
  const double publish_s = std::chrono::duration<double>(SteadyClock::now() - start).count();
  publisher.WaitBelow(1, SteadyClock::now() + kConfirmTimeout);

  std::FILE* out = std::fopen(o.out.c_str(), "w");
  if (out == nullptr) {
    std::fprintf(stderr, "bench_publish: cannot write %s\n", o.out.c_str());
    return 1;
  }
  for (size_t i = 0; i < orders.size(); ++i) std::fprintf(out, "%s\t%.3f\n", orders[i].c_str(), published_at[i]);
  std::fclose(out);

  std::printf(
      "{\"published\": %zu, \"confirmed\": %zu, \"failed\": %zu, \"publish_s\": %.3f, \"rate\": %.1f, "
      "\"max_late_ms\": %.1f}\n",
      publisher.published(), publisher.confirmed(), publisher.failed(), publish_s,
      static_cast<double>(publisher.published()) / publish_s, max_late_ms);
  return publisher.confirmed() == orders.size() ? 0 : 1;
}
