// Prometheus text metrics of a seed or peer (DESIGN.md "Configuration, logs,
// metrics"): a small registry of atomic counters and gauges that the data path
// bumps without locks, and an HTTP endpoint serving /metrics, /healthz and /readyz.
// Tests and the big-blob benchmark read the same endpoint to count bytes that were
// fetched again after a crash, so the counters mean exactly what their help says.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace shoal {

class MetricCounter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  // For totals kept elsewhere (libtorrent's session counters): raises, never lowers.
  void RaiseTo(uint64_t v);
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class MetricGauge {
 public:
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t d) { value_.fetch_add(d, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

class MetricsRegistry {
 public:
  // Idempotent by name: a second call returns the same metric. Names follow
  // Prometheus rules ([a-zA-Z_:][a-zA-Z0-9_:]*); counters end in _total.
  MetricCounter& Counter(const std::string& name, const std::string& help);
  MetricGauge& Gauge(const std::string& name, const std::string& help);
  // The exposition format (text/plain; version=0.0.4), metrics sorted by name;
  // `computed` adds gauges evaluated now (e.g. the cache size read from the store).
  struct Computed {
    std::string name;
    std::string help;
    std::function<double()> value;
    bool counter = false;  // a total kept elsewhere (e.g. the mirror's bytes served)
  };
  std::string Render(const std::vector<Computed>& computed = {}) const;

 private:
  struct Entry {
    std::string help;
    bool is_counter = true;
    std::unique_ptr<MetricCounter> counter;
    std::unique_ptr<MetricGauge> gauge;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

// What a shoal daemon counts. One set per process (a daemon is one process);
// every counter starts at 0 when the process starts.
struct DaemonMetrics {
  MetricsRegistry registry;
  MetricCounter& bytes_from_origin_total;  // blob body bytes received from origin registries
  MetricCounter& origin_retries_total;     // origin requests that failed and were retried
  MetricCounter& bytes_from_peers_total;  // libtorrent payload bytes received (incl. failed pieces)
  MetricCounter& bytes_uploaded_to_peers_total;  // libtorrent payload bytes sent
  MetricCounter& pieces_failed_total;            // pieces that failed their SHA-1 check
  MetricCounter& parents_banned_total;           // parents banned for sending bad data
  MetricCounter& blobs_verified_total;  // blobs whose sha256 matched and were marked verified
  MetricCounter& segments_ready_total;  // segments complete on this host (seeded or downloaded)
  MetricCounter& blobs_failed_total;    // blob transfers that ended in an error

  DaemonMetrics();
};
DaemonMetrics& Metrics();

// Parses exposition text into name{labels} -> value (comments skipped). For tests
// and the benchmark, which scrape the daemons.
std::map<std::string, double> ParseMetricsText(absl::string_view text);

// The HTTP endpoint: GET /metrics (the registry), /healthz (200 while the process
// serves), /readyz (200 when ready() says so, else 503).
class MetricsServer {
 public:
  struct Options {
    // "host:port"; ":port" binds default_host; port 0 picks a free port.
    std::string listen;
    std::string default_host = "127.0.0.1";
    MetricsRegistry* registry = nullptr;  // default: Metrics().registry
    std::function<bool()> ready;          // default: always ready
    std::vector<MetricsRegistry::Computed> computed;
  };
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(Options options);
  ~MetricsServer();             // Stop()
  std::string address() const;  // "host:port" actually bound
  void Stop();

 private:
  struct Impl;
  MetricsServer() = default;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shoal
