// SIGHUP support: which changes a reload may apply (KeyDecl::reloadable).
#include "config/keys.h"
#include "config/loader.h"

namespace wxpay {

std::vector<std::string> NonReloadableChanges(const Config& old_config, const Config& new_config) {
  std::vector<std::string> changes;
  for (const KeyDecl& decl : ConfigKeys()) {
    if (decl.IsSection() || decl.reloadable) continue;
    if (decl.load(old_config) != decl.load(new_config)) {
      changes.push_back(decl.name + ": changed; needs a restart, keeping old value");
    }
  }
  // Same password file, new content: just as much a change of a key that
  // needs a restart. (The password itself is never named.)
  if (old_config.rabbitmq.password_file == new_config.rabbitmq.password_file &&
      old_config.rabbitmq.url == new_config.rabbitmq.url &&
      old_config.rabbitmq.password != new_config.rabbitmq.password) {
    changes.push_back("rabbitmq.password_file: the password changed; needs a restart, keeping old value");
  }
  if (old_config.database.password_file == new_config.database.password_file &&
      old_config.database.password != new_config.database.password) {
    changes.push_back("database.password_file: the password changed; needs a restart, keeping old value");
  }
  return changes;
}

Config MergeReload(const Config& old_config, const Config& next) {
  Config merged = next;
  for (const KeyDecl& decl : ConfigKeys()) {
    if (decl.IsSection() || decl.reloadable) continue;
    decl.store(merged, decl.load(old_config));
  }
  merged.rabbitmq.password = old_config.rabbitmq.password;
  merged.database.password = old_config.database.password;
  return merged;
}

}  // namespace wxpay
