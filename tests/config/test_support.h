// Helpers shared by the configuration tests: a temporary directory with
// dummy key and password files, an injected environment, and a small valid
// configuration whose lines the tests know by number.
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/loader.h"

namespace wxpay::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/wxpay-config-test.XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = buffer.data();
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `name` inside the directory with `mode`; returns its path.
  std::string Write(const std::string& name, const std::string& content, mode_t mode = 0600) const {
    const std::string file = path_ + "/" + name;
    {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << content;
    }
    ::chmod(file.c_str(), mode);
    return file;
  }

 private:
  std::string path_;
};

inline EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// A valid configuration; key files come from ${DIR}. Line numbers matter to
// the tests: keep them stable.
inline const char* const kBaseConfig =
    "rabbitmq:\n"                                                           // 1
    "  url: amqp://wxpay:secret@127.0.0.1:5672/%2f\n"                       // 2
    "  queue: order.expired\n"                                              // 3
    "  dead_letter_queue: order.expired.dead\n"                             // 4
    "database:\n"                                                           // 5
    "  driver: sqlite\n"                                                    // 6
    "  path: /var/lib/shop/shop.db\n"                                       // 7
    "  orders:\n"                                                           // 8
    "    order_no: order_no\n"                                              // 9
    "    status: status\n"                                                  // 10
    "    amount: amount\n"                                                  // 11
    "    created_at: created_at\n"                                          // 12
    "    status_values:\n"                                                  // 13
    "      unpaid: \"1\"\n"                                                 // 14
    "      paid: \"2\"\n"                                                   // 15
    "      cancelled: \"5\"\n"                                              // 16
    "wechatpay:\n"                                                          // 17
    "  mchid: \"1900000001\"\n"                                             // 18
    "  merchant_serial_no: 5157F09EFDC096DE15EBE81A47057A7232F1B8E1\n"      // 19
    "  private_key_file: ${DIR}/apiclient_key.pem\n"                        // 20
    "  public_key_file: ${DIR}/pub_key.pem\n"                               // 21
    "  public_key_id: PUB_KEY_ID_0114232134912410000000000000000001\n"      // 22
    "policy:\n"                                                             // 23
    "  order_ttl: 15m\n";                                                   // 24

// Returns `text` with the first occurrence of `from` replaced by `to`;
// throws when `from` is absent, so a stale test fails loudly.
inline std::string Edit(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  if (at == std::string::npos) throw std::invalid_argument("Edit: \"" + from + "\" not in the text");
  return text.replace(at, from.size(), to);
}

// The base configuration's files in a temp dir, and a loader bound to them.
class ConfigFixture {
 public:
  ConfigFixture() {
    dir_.Write("apiclient_key.pem", "-----BEGIN PRIVATE KEY-----\ndummy\n-----END PRIVATE KEY-----\n", 0600);
    dir_.Write("pub_key.pem", "-----BEGIN PUBLIC KEY-----\ndummy\n-----END PUBLIC KEY-----\n", 0644);
    env_["DIR"] = dir_.path();
  }

  const TempDir& dir() const { return dir_; }
  std::map<std::string, std::string>& env() { return env_; }

  Result<LoadedConfig, std::vector<std::string>> Load(const std::string& text) {
    return LoadConfigText(text, "test.yaml", MapEnv(env_));
  }
  // The errors of a load expected to fail (empty if it unexpectedly succeeded).
  std::vector<std::string> Errors(const std::string& text) {
    auto result = Load(text);
    if (result.ok()) return {};
    return result.error();
  }
  // The warnings of a load expected to succeed; {"LOAD FAILED: ..."} otherwise.
  std::vector<std::string> Warnings(const std::string& text) {
    auto result = Load(text);
    if (!result.ok()) {
      std::vector<std::string> out{"LOAD FAILED:"};
      for (const std::string& e : result.error()) out.push_back(e);
      return out;
    }
    return result->warnings;
  }

 private:
  TempDir dir_;
  std::map<std::string, std::string> env_;
};

}  // namespace wxpay::testing
