#include "config/env_expand.h"

namespace wxpay {
namespace {

bool IsNameStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// systemd provides these two; saying so saves an operator a search.
std::string UnsetHint(std::string_view name) {
  if (name == "CREDENTIALS_DIRECTORY") return " (systemd sets it when the unit has LoadCredential=)";
  if (name == "STATE_DIRECTORY") return " (systemd sets it when the unit has StateDirectory=)";
  return "";
}

}  // namespace

Result<std::string> ExpandEnv(std::string_view text, const EnvLookup& env) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t dollar = text.find('$', pos);
    if (dollar == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    out.append(text.substr(pos, dollar - pos));
    if (text.substr(dollar, 3) == "$${") {
      out.append("${");
      pos = dollar + 3;
      continue;
    }
    if (text.substr(dollar, 2) != "${") {
      out.push_back('$');
      pos = dollar + 1;
      continue;
    }
    const std::size_t name_start = dollar + 2;
    const std::size_t close = text.find('}', name_start);
    if (close == std::string_view::npos) {
      return Fail("\"${\" without a closing \"}\" (write $${ for a literal ${)");
    }
    const std::string_view name = text.substr(name_start, close - name_start);
    bool valid = !name.empty() && IsNameStart(name.front());
    for (char c : name) valid = valid && IsNameChar(c);
    if (!valid) {
      return Fail("\"${" + std::string(name) +
                  "}\" is not a variable reference (names are letters, digits and _, not starting "
                  "with a digit; write $${ for a literal ${)");
    }
    const std::optional<std::string> value = env(name);
    if (!value) {
      return Fail("environment variable " + std::string(name) + " is not set" + UnsetHint(name));
    }
    out.append(*value);
    pos = close + 1;
  }
  return out;
}

}  // namespace wxpay
