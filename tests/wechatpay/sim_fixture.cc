#include "wechatpay/sim_fixture.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

extern char** environ;

namespace wxpay::testing {
namespace {

constexpr const char* kHowToRun =
    "integration tests need the WeChat Pay simulator: run scripts/run-tests.sh, or by hand: "
    "scripts/gen-test-pki.sh /tmp/pki && WXPAY_TEST_SIM=tests/sim/wxpay_sim.py "
    "WXPAY_TEST_PKI=/tmp/pki build/tests/wechatpay_it";

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

size_t Collect(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

int JsonInt(const cJSON* root, std::initializer_list<const char*> path) {
  const cJSON* node = root;
  for (const char* key : path) node = cJSON_GetObjectItemCaseSensitive(node, key);
  return cJSON_IsNumber(node) ? node->valueint : 0;
}

}  // namespace

std::string RequireEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || value[0] == '\0') {
    ADD_FAILURE() << name << " is not set. " << kHowToRun;
    return "";
  }
  return value;
}

std::string PkiFile(std::string_view name) {
  return RequireEnv("WXPAY_TEST_PKI") + "/" + std::string(name);
}

std::string PkiLine(std::string_view name) {
  std::string text = ReadFileOrDie(PkiFile(name));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

std::unique_ptr<Simulator> Simulator::Start(const SimOptions& options) {
  std::string sim = RequireEnv("WXPAY_TEST_SIM");
  std::string pki = RequireEnv("WXPAY_TEST_PKI");
  if (sim.empty() || pki.empty()) return nullptr;

  auto s = std::make_unique<Simulator>();
  s->tls_ = !options.plain_http;
  std::string state = s->dir_.Write("state.json", R"({"orders": {}})");
  std::vector<std::string> args = {"/usr/bin/python3", sim, "--pki", pki, "--state", state,
                                   "--port", "0", "--port-file", s->dir_.path() + "/port"};
  if (options.plain_http) args.push_back("--plain-http");
  if (!options.sign_with.empty()) {
    args.push_back("--sign-with");
    args.push_back(options.sign_with);
  }
  if (options.idle_timeout_s > 0) {
    args.push_back("--idle-timeout");
    args.push_back(std::to_string(options.idle_timeout_s));
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::string log = s->dir_.path() + "/sim.log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  int rc = posix_spawn(&s->pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << sim << ": " << std::strerror(rc);
    s->pid_ = -1;
    return nullptr;
  }
  if (!s->WaitForPort()) return nullptr;
  return s;
}

bool Simulator::WaitForPort() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  std::string port_file = dir_.path() + "/port";
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      port_ = port;
      return true;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "the simulator exited at start:\n" << Log();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "the simulator wrote no port file within 15 s:\n" << Log();
  return false;
}

Simulator::~Simulator() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
}

std::string Simulator::base_url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

std::string Simulator::Log() const { return ReadFileOrDie(dir_.path() + "/sim.log"); }

ControlAnswer Simulator::Control(const std::string& method, const std::string& path,
                                 const std::string& body) const {
  ControlAnswer out;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), curl_easy_cleanup);
  if (!h) return out;
  std::string url = base_url() + path;
  std::string ca = PkiFile("ca.pem");
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(h.get(), CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, 10000L);
  if (!body.empty()) {
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &out.body);
  CURLcode rc = curl_easy_perform(h.get());
  if (rc != CURLE_OK) {
    ADD_FAILURE() << method << " " << path << ": " << curl_easy_strerror(rc);
    return out;
  }
  curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

void Simulator::PutOrder(const std::string& no, const std::string& order_json) const {
  ControlAnswer a = Control("POST", "/_sim/orders/" + no, order_json);
  EXPECT_EQ(a.status, 200) << a.body;
}

void Simulator::AddFault(const std::string& fault_json) const {
  ControlAnswer a = Control("POST", "/_sim/faults", fault_json);
  EXPECT_EQ(a.status, 200) << a.body;
}

void Simulator::ClearFaults() const {
  ControlAnswer a = Control("DELETE", "/_sim/faults");
  EXPECT_EQ(a.status, 200) << a.body;
}

void Simulator::ResetStats() const {
  ControlAnswer a = Control("POST", "/_sim/reset");
  EXPECT_EQ(a.status, 204) << a.body;
}

void Simulator::Configure(const std::string& settings_json) const {
  ControlAnswer a = Control("POST", "/_sim/config", settings_json);
  EXPECT_EQ(a.status, 200) << a.body;
}

int Simulator::Requests(const std::string& endpoint) const {
  ControlAnswer a = Control("GET", "/_sim/stats");
  JsonPtr json(cJSON_Parse(a.body.c_str()), cJSON_Delete);
  return JsonInt(json.get(), {"requests", endpoint.c_str()});
}

int Simulator::OrderRequests(const std::string& no, const std::string& endpoint) const {
  ControlAnswer a = Control("GET", "/_sim/stats");
  JsonPtr json(cJSON_Parse(a.body.c_str()), cJSON_Delete);
  return JsonInt(json.get(), {"by_order", no.c_str(), endpoint.c_str()});
}

int Simulator::Rejected(const std::string& code) const {
  ControlAnswer a = Control("GET", "/_sim/stats");
  JsonPtr json(cJSON_Parse(a.body.c_str()), cJSON_Delete);
  return JsonInt(json.get(), {"rejected", code.c_str()});
}

int ClosedLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  if (fd >= 0) close(fd);
  return port;
}

}  // namespace wxpay::testing
