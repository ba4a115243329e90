// The metrics textfile for node-exporter's textfile collector
// (metrics.textfile, SPEC §5/§7): mode 0644, replaced atomically.
#pragma once

#include <string>

#include "core/result.h"
#include "ops/metrics.h"

namespace wxpay {

// Renders `metrics` and replaces `path` with it. Errors say what failed and
// what to check; the daemon logs them and keeps running.
Status WriteMetricsTextfile(const std::string& path, const Metrics& metrics);

}  // namespace wxpay
