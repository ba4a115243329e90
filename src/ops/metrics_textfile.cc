#include "ops/metrics_textfile.h"

#include "ops/atomic_file.h"

namespace wxpay {

Status WriteMetricsTextfile(const std::string& path, const Metrics& metrics) {
  Status s = ReplaceFileAtomically(path, metrics.Render(), 0644);
  if (s.ok()) return s;
  return Fail("metrics.textfile: " + s.message() +
              " (the directory must exist and be writable by the service: under systemd add it with "
              "ReadWritePaths=, see systemd/examples/metrics.conf)");
}

}  // namespace wxpay
