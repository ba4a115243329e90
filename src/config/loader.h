// Loads the configuration file (SPEC §5) into a typed Config.
//
// The file is parsed into a tree (config/yaml_tree.h), every mapping is
// walked against the declaration table (config/keys.h) — unknown keys,
// duplicate keys, wrong types, missing required keys — then cross-checks
// run (config/checks.h). Every problem is reported at once, each as
// "FILE:LINE: KEY: what is wrong" with a 1-based line. ${ENV} is expanded in
// each scalar after parsing. Password files are read into Config; their
// content never appears in a message.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/env_expand.h"  // EnvLookup
#include "config/url.h"         // RedactUrl, for logging rabbitmq.url
#include "core/result.h"

namespace wxpay {

struct LoadedConfig {
  Config config;
  std::vector<std::string> warnings;  // "FILE:LINE: KEY: ...", for the log
};

// On failure: every problem found, each "FILE:LINE: KEY: what is wrong".
Result<LoadedConfig, std::vector<std::string>> LoadConfigFile(const std::string& path, const EnvLookup& env);
Result<LoadedConfig, std::vector<std::string>> LoadConfigText(const std::string& text,
                                                              const std::string& name_for_messages,
                                                              const EnvLookup& env);

// The process environment (getenv).
EnvLookup ProcessEnv();

// For SIGHUP: one line per key whose value changed but is not reloadable,
// e.g. "rabbitmq.queue: changed; needs a restart, keeping old value".
// Password file contents count as part of their (non-reloadable) key.
std::vector<std::string> NonReloadableChanges(const Config& old_config, const Config& new_config);

// `next` with every non-reloadable field (and the passwords read for them)
// taken from `old_config`.
Config MergeReload(const Config& old_config, const Config& next);

}  // namespace wxpay
