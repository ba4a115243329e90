// Conversion of one YAML value to a declared key's type, with ${ENV}
// expansion of every scalar first. Range checks of KeyDecl::min/max are part
// of the conversion.
#pragma once

#include <optional>
#include <string>

#include "config/env_expand.h"
#include "config/keys.h"
#include "config/yaml_tree.h"
#include "core/result.h"

namespace wxpay {

struct ValueError {
  int line = 0;  // 0: the key's own line; else the line of a list item
  std::string message;  // without the "FILE:LINE: KEY: " prefix
};

// Stores the value in `out`, or returns what is wrong with it. (Not a
// Result<KeyValue>: GCC 12 with sanitizers reports a variant moved into
// another variant as maybe-uninitialized, a false positive that -Werror
// turns into a build failure.)
std::optional<ValueError> ConvertValue(const KeyDecl& decl, const YamlNode& node, const EnvLookup& env,
                                       KeyValue& out);

}  // namespace wxpay
