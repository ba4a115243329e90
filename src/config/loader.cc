#include "config/loader.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "config/checks.h"
#include "config/convert.h"
#include "config/diagnostics.h"
#include "config/files.h"
#include "config/keys.h"
#include "config/yaml_tree.h"

namespace wxpay {
namespace {

constexpr std::size_t kMaxConfigSize = 1024 * 1024;

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view LastComponent(std::string_view name) {
  const std::size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

std::string JoinOr(const std::vector<std::string>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

// " (did you mean prefetch?)", or the keys allowed in this section.
std::string UnknownKeyAdvice(std::string_view section, std::string_view name) {
  const std::vector<const KeyDecl*> siblings = ChildKeys(section);
  const std::size_t tolerance = name.size() <= 4 ? 1 : 2;
  std::vector<std::string> close;
  for (const KeyDecl* sibling : siblings) {
    if (EditDistance(LastComponent(sibling->name), name) <= tolerance) {
      close.emplace_back(LastComponent(sibling->name));
    }
  }
  if (!close.empty()) return " (did you mean " + JoinOr(close) + "?)";
  std::vector<std::string> elsewhere;
  for (const KeyDecl& decl : ConfigKeys()) {
    if (LastComponent(decl.name) == name) elsewhere.push_back(decl.name);
  }
  if (!elsewhere.empty()) return " (did you mean " + JoinOr(elsewhere) + "?)";
  std::string known;
  for (const KeyDecl* sibling : siblings) {
    known += known.empty() ? "" : ", ";
    known += LastComponent(sibling->name);
  }
  return " (known keys here: " + known + ")";
}

class Loader {
 public:
  explicit Loader(const EnvLookup& env) : env_(env) {}

  Result<LoadedConfig, std::vector<std::string>> Load(const std::string& text, const std::string& name) {
    Result<YamlNode, YamlSyntaxError> root = ParseYaml(text);
    if (!root) {
      return std::vector<std::string>{name + ":" + std::to_string(root.error().line) + ": " + root.error().message};
    }
    ApplyDefaults();
    if (root->IsMapping()) {
      Walk(*root, "");
    } else if (!root->IsNull()) {
      diag_.Error(root->line, "", "the file must be a mapping of sections (rabbitmq:, database:, wechatpay:, policy:, ...), not " +
                                      DescribeNode(*root, false));
      return diag_.FormattedErrors(name);
    }
    ReportMissingRequired();
    DefaultStateDir();
    ConfigChecker(config_, where_, diag_).RunAll();
    if (diag_.HasErrors()) return diag_.FormattedErrors(name);
    config_.source_file = name;
    return LoadedConfig{std::move(config_), diag_.FormattedWarnings(name)};
  }

 private:
  void ApplyDefaults() {
    for (const KeyDecl& decl : ConfigKeys()) {
      if (decl.HasStaticDefault()) decl.store(config_, decl.default_value);
    }
  }

  void Walk(const YamlNode& mapping, const std::string& section) {
    std::map<std::string, int> seen;  // key -> line of its first occurrence
    for (const auto& [key_node, value] : mapping.entries) {
      const std::string where = section.empty() ? std::string("(top level)") : section;
      if (!key_node.IsScalar()) {
        diag_.Error(key_node.line, where, "a key must be a plain name, not " + DescribeNode(key_node, false));
        continue;
      }
      const std::string path = section.empty() ? key_node.text : section + "." + key_node.text;
      const int line = key_node.line;
      if (auto [it, inserted] = seen.emplace(key_node.text, line); !inserted) {
        diag_.Error(line, path, "duplicate key (first set on line " + std::to_string(it->second) + "); keep one");
        continue;
      }
      const KeyDecl* decl = FindKey(path);
      if (decl == nullptr) {
        diag_.Error(line, path, "unknown key" + UnknownKeyAdvice(section, key_node.text));
        continue;
      }
      where_.SetLine(path, line);
      if (decl->IsSection()) {
        WalkSection(*decl, value, line);
      } else {
        StoreLeaf(*decl, value, line);
      }
    }
  }

  void WalkSection(const KeyDecl& decl, const YamlNode& value, int line) {
    if (value.IsMapping()) {
      Walk(value, decl.name);
      return;
    }
    if (value.IsNull()) return;  // "section:" with nothing under it
    std::string keys;
    for (const KeyDecl* child : ChildKeys(decl.name)) {
      keys += keys.empty() ? "" : ", ";
      keys += LastComponent(child->name);
    }
    diag_.Error(line, decl.name, "expected a section of keys (" + keys + "), got " + DescribeNode(value, !decl.secret));
    where_.MarkUnusable(decl.name);
  }

  void StoreLeaf(const KeyDecl& decl, const YamlNode& value, int line) {
    KeyValue converted;
    if (std::optional<ValueError> problem = ConvertValue(decl, value, env_, converted)) {
      diag_.Error(problem->line != 0 ? problem->line : line, decl.name, problem->message);
      where_.MarkUnusable(decl.name);
      return;
    }
    if (decl.required && decl.type == KeyType::kString && std::get<std::string>(converted).empty()) {
      diag_.Error(line, decl.name, "must not be empty (" + decl.required_hint + ")");
      where_.MarkUnusable(decl.name);
      return;
    }
    decl.store(config_, converted);
    for (std::size_t i = 0; i < value.items.size(); ++i) where_.SetItemLine(decl.name, i, value.items[i].line);
  }

  void ReportMissingRequired() {
    std::set<std::string> reported_sections;
    for (const KeyDecl& decl : ConfigKeys()) {
      if (!decl.required || where_.Present(decl.name)) continue;
      where_.MarkUnusable(decl.name);
      const std::string parent(ParentKey(decl.name));
      if (!where_.Usable(parent)) continue;  // the section itself was reported
      std::string missing = decl.name;
      for (std::string_view p = parent; !p.empty() && !where_.Present(p); p = ParentKey(p)) missing = std::string(p);
      if (missing == decl.name) {
        diag_.Error(where_.LineOf(parent), decl.name, "required key is missing (" + decl.required_hint + ")");
        continue;
      }
      if (!reported_sections.insert(missing).second) continue;
      where_.MarkUnusable(missing);  // its defaults are not what the operator meant: skip its checks
      std::string needed;
      for (const KeyDecl& other : ConfigKeys()) {
        if (other.required && other.name.rfind(missing + ".", 0) == 0) {
          needed += needed.empty() ? "" : ", ";
          needed += other.name.substr(missing.size() + 1);
        }
      }
      diag_.Error(where_.LineOf(ParentKey(missing)), missing, "required section is missing (it needs " + needed + ")");
    }
  }

  void DefaultStateDir() {
    if (where_.Present("state_dir")) return;
    const std::optional<std::string> state_directory = env_("STATE_DIRECTORY");
    // systemd joins several StateDirectory= paths with ':'; ours is the first.
    std::string first = state_directory ? state_directory->substr(0, state_directory->find(':')) : std::string();
    config_.state_dir = first.empty() ? std::string(kDefaultStateDir) : first;
  }

  const EnvLookup& env_;
  Config config_;
  KeyLocations where_;
  Diagnostics diag_;
};

}  // namespace

Result<LoadedConfig, std::vector<std::string>> LoadConfigText(const std::string& text,
                                                              const std::string& name_for_messages,
                                                              const EnvLookup& env) {
  return Loader(env).Load(text, name_for_messages);
}

Result<LoadedConfig, std::vector<std::string>> LoadConfigFile(const std::string& path, const EnvLookup& env) {
  Result<std::string> text = ReadTextFile(path, kMaxConfigSize);
  if (!text) {
    return std::vector<std::string>{"configuration file: " + text.error().message +
                                    " (choose the file with -c FILE or WXPAY_RECONCILER_CONFIG)"};
  }
  return LoadConfigText(*text, path, env);
}

EnvLookup ProcessEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

}  // namespace wxpay
