// Replacing a file so that readers see either the old or the new content,
// never a partial one: write a temporary file in the same directory, fsync,
// set the mode, rename over the target. Used for the metrics textfile, which
// node-exporter reads at any moment.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "core/result.h"

namespace wxpay {

// The temporary file is "<dir>/.<name>.tmp.XXXXXX": hidden, and without the
// target's extension, so a collector globbing "*.prom" never reads it. It is
// removed on every failure. `mode` is applied with fchmod, so the process
// umask (the unit sets UMask=0077) does not narrow it.
Status ReplaceFileAtomically(const std::string& path, std::string_view content, mode_t mode = 0644);

}  // namespace wxpay
