// ${NAME} expansion inside configuration values (SPEC §5). It runs on each
// scalar after YAML parsing, never on the file's text, so a variable's value
// can never change the file's structure.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace wxpay {

// Looks up an environment variable; nullopt when unset. Injected so tests
// need no setenv.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Replaces every ${NAME} (NAME: letters, digits and _, not starting with a
// digit) by the variable's value; "$${" stands for a literal "${". A "$" not
// followed by "{" is kept as is. An unset variable is an error naming it.
// Errors never quote the text itself (it may be a URL holding a password).
Result<std::string> ExpandEnv(std::string_view text, const EnvLookup& env);

}  // namespace wxpay
