// Looking at running shoal daemons from the outside, as an operator would: their
// Prometheus metrics and readiness (--metrics-listen), and a blob streamed out of
// a peer's registry mirror while it is hashed. Used by tests and benchmarks.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "testkit/shoal_cluster.h"

namespace shoal::testkit {

// Polls cond every `every` until it holds or timeout passes.
bool WaitUntil(const std::function<bool()>& cond, absl::Duration timeout,
               absl::Duration every = absl::Milliseconds(100));

// The daemon's /metrics (address from <data-dir>/metrics.address).
absl::StatusOr<std::map<std::string, double>> ScrapeMetrics(const Daemon& d);
// One metric, or -1 when the daemon cannot be scraped.
double MetricOf(const Daemon& d, const std::string& name);
// /readyz answers 200: the daemon is registered with the scheduler.
bool DaemonReady(const Daemon& d);

// Waits until every seed answers /readyz (registered with the scheduler), plus a
// moment for its task stream to open: a blob asked for before that is sent to the
// origin by the scheduler ("no live seed"), which callers must not mistake for a
// failure of the data path.
absl::Status WaitForSeeds(ShoalCluster& cluster, absl::Duration timeout = absl::Seconds(30));

struct MirrorStream {
  long status = 0;
  uint64_t bytes = 0;
  std::string sha256;                                    // "sha256:<hex>" of the bytes received
  std::string error;                                     // transport error, if any
  absl::Duration elapsed;                                // GET to last byte
  absl::Duration first_byte = absl::InfiniteDuration();  // GET to first body byte
};
// GETs the blob from a peer's mirror (?ns=registry) and hashes it as it streams;
// on_bytes (if set) is called with the running total, from the transfer thread.
MirrorStream StreamFromMirror(const std::string& mirror, const std::string& repository,
                              const std::string& digest, const std::string& registry,
                              absl::Duration timeout,
                              std::function<void(uint64_t total)> on_bytes = nullptr);

}  // namespace shoal::testkit
