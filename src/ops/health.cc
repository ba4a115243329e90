#include "ops/health.h"

#include <time.h>

#include <cstdio>

namespace wxpay {
namespace {

// Error texts come from libraries and WeChat Pay; the status line stays short.
constexpr size_t kMaxErrorBytes = 80;

std::string ShortText(std::string_view text) {
  if (text.size() <= kMaxErrorBytes) return std::string(text);
  size_t cut = kMaxErrorBytes - 3;
  // Never split a UTF-8 sequence: back up over continuation bytes.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

tm LocalTime(TimePoint t) {
  const time_t secs = std::chrono::system_clock::to_time_t(t);
  tm local{};
  localtime_r(&secs, &local);
  return local;
}

// "10:02", or "05-12 10:02" when t is not on the same local day as now.
std::string ClockTime(TimePoint t, TimePoint now) {
  const tm at = LocalTime(t);
  const tm today = LocalTime(now);
  char buf[32];
  if (at.tm_year == today.tm_year && at.tm_yday == today.tm_yday) {
    std::snprintf(buf, sizeof buf, "%02d:%02d", at.tm_hour, at.tm_min);
  } else {
    std::snprintf(buf, sizeof buf, "%02d-%02d %02d:%02d", at.tm_mon + 1, at.tm_mday, at.tm_hour, at.tm_min);
  }
  return buf;
}

}  // namespace

std::string_view PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kStarting: return "starting";
    case Phase::kConsuming: return "consuming";
    case Phase::kReloading: return "reloading";
    case Phase::kDraining: return "draining";
  }
  return "unknown";
}

void Health::SetPhase(Phase phase) {
  std::lock_guard<std::mutex> lock(mu_);
  if (s_.phase != phase) Alert();
  s_.phase = phase;
}

void Health::OrderStarted() {
  std::lock_guard<std::mutex> lock(mu_);
  ++s_.in_flight;
}

void Health::OrderFinished(std::string_view outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  if (s_.in_flight > 0) --s_.in_flight;
  auto it = s_.done.find(outcome);
  if (it == s_.done.end()) it = s_.done.emplace(std::string(outcome), 0).first;
  ++it->second;
  ++s_.done_total;
}

void Health::OrderDeferred() {
  std::lock_guard<std::mutex> lock(mu_);
  if (s_.in_flight > 0) --s_.in_flight;
}

void Health::SetRetrying(int64_t orders) {
  std::lock_guard<std::mutex> lock(mu_);
  s_.retrying = orders > 0 ? orders : 0;
}

void Health::DependencyUp(Dependency d) {
  std::lock_guard<std::mutex> lock(mu_);
  DependencyHealth& dep = s_.dependencies[static_cast<size_t>(d)];
  if (dep.state == DependencyHealth::State::kUp) return;
  dep = DependencyHealth{DependencyHealth::State::kUp, {}, {}, {}};
  Alert();
}

void Health::DependencyDown(Dependency d, std::string_view error, std::string_view hint) {
  const TimePoint now = clock_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  DependencyHealth& dep = s_.dependencies[static_cast<size_t>(d)];
  if (dep.state == DependencyHealth::State::kDown && dep.error == error && dep.hint == hint) return;
  if (dep.state != DependencyHealth::State::kDown) dep.since = now;
  Alert();
  dep.state = DependencyHealth::State::kDown;
  dep.error = std::string(error);
  dep.hint = std::string(hint);
}

void Health::SetBreakerOpen(std::string_view breaker, bool open) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = s_.breakers.find(breaker);
  if (it == s_.breakers.end()) it = s_.breakers.emplace(std::string(breaker), false).first;
  if (it->second != open) Alert();
  it->second = open;
}

void Health::RecordSuccess() {
  const TimePoint now = clock_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  s_.last_success = now;
}

HealthSnapshot Health::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return s_;
}

std::string Health::StatusLine() const { return RenderStatusLine(Snapshot(), clock_.Now()); }

std::string RenderStatusLine(const HealthSnapshot& s, TimePoint now) {
  auto count = [&](std::string_view outcome) -> uint64_t {
    auto it = s.done.find(outcome);
    return it == s.done.end() ? 0 : it->second;
  };
  std::string line(PhaseName(s.phase));
  line += ": " + std::to_string(s.done_total) + " done";
  if (s.done_total > 0) {
    const uint64_t paid = count("paid");
    const uint64_t cancelled = count("cancelled");
    line += " (" + std::to_string(paid) + " paid " + std::to_string(cancelled) + " cancelled " +
            std::to_string(s.done_total - paid - cancelled) + " other)";
  }
  line += ", " + std::to_string(s.in_flight) + " in flight, " + std::to_string(s.retrying) + " retrying";

  bool degraded = false;
  for (Dependency d : kAllDependencies) {
    const DependencyHealth& dep = s.dependency(d);
    if (dep.state != DependencyHealth::State::kDown) continue;
    degraded = true;
    line += "; ";
    line += DependencyName(d);
    line += ": " + ShortText(dep.error) + " since " + ClockTime(dep.since, now);
    if (!dep.hint.empty()) line += " (" + ShortText(dep.hint) + ")";
  }

  std::string open_breakers;
  for (const auto& [name, open] : s.breakers) {
    if (!open) continue;
    if (!open_breakers.empty()) open_breakers += ", ";
    open_breakers += name + " open";
  }
  if (!open_breakers.empty()) {
    degraded = true;
    line += "; breakers: " + open_breakers;
  }

  // Only worth the space when something is wrong: how long nothing has worked.
  if (degraded && s.last_success) line += "; last success " + ClockTime(*s.last_success, now);
  return line;
}

}  // namespace wxpay
