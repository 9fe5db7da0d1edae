#include "common/metrics.h"

#include <httplib.h>

#include <cmath>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace shoal {

void MetricCounter::RaiseTo(uint64_t v) {
  uint64_t cur = value_.load(std::memory_order_relaxed);
  while (cur < v && !value_.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

MetricCounter& MetricsRegistry::Counter(const std::string& name, const std::string& help) {
  absl::MutexLock l(&mu_);
  Entry& e = entries_[name];
  if (e.counter == nullptr) {
    e.help = help;
    e.is_counter = true;
    e.counter = std::make_unique<MetricCounter>();
  }
  return *e.counter;
}

MetricGauge& MetricsRegistry::Gauge(const std::string& name, const std::string& help) {
  absl::MutexLock l(&mu_);
  Entry& e = entries_[name];
  if (e.gauge == nullptr) {
    e.help = help;
    e.is_counter = false;
    e.gauge = std::make_unique<MetricGauge>();
  }
  return *e.gauge;
}

namespace {

void AppendMetric(std::string& out, const std::string& name, const std::string& help,
                  const char* type, const std::string& value) {
  absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n", name, " ",
                  value, "\n");
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 9e15) return absl::StrCat(static_cast<int64_t>(v));
  return absl::StrCat(v);
}

}  // namespace

std::string MetricsRegistry::Render(const std::vector<Computed>& computed) const {
  std::map<std::string, std::string> blocks;  // sorted by name
  {
    absl::MutexLock l(&mu_);
    for (const auto& [name, e] : entries_) {
      std::string& out = blocks[name];
      if (e.is_counter) {
        AppendMetric(out, name, e.help, "counter", absl::StrCat(e.counter->value()));
      } else {
        AppendMetric(out, name, e.help, "gauge", absl::StrCat(e.gauge->value()));
      }
    }
  }
  for (const Computed& c : computed) {
    AppendMetric(blocks[c.name], c.name, c.help, c.counter ? "counter" : "gauge",
                 FormatDouble(c.value()));
  }
  std::string out;
  for (const auto& [_, block] : blocks) out += block;
  return out;
}

DaemonMetrics::DaemonMetrics()
    : bytes_from_origin_total(registry.Counter("shoal_bytes_from_origin_total",
                                               "Blob body bytes received from origin registries.")),
      origin_retries_total(registry.Counter(
          "shoal_origin_retries_total",
          "Origin requests that failed (429, 5xx, reset, truncated, stalled) and were retried.")),
      bytes_from_peers_total(registry.Counter(
          "shoal_bytes_from_peers_total",
          "BitTorrent payload bytes received from other hosts, including pieces that failed "
          "their hash.")),
      bytes_uploaded_to_peers_total(registry.Counter(
          "shoal_bytes_uploaded_to_peers_total", "BitTorrent payload bytes sent to other hosts.")),
      pieces_failed_total(registry.Counter("shoal_pieces_failed_total",
                                           "Pieces received from other hosts that failed their "
                                           "SHA-1 check.")),
      parents_banned_total(registry.Counter("shoal_parents_banned_total",
                                            "Parents banned for sending data that failed a hash.")),
      blobs_verified_total(registry.Counter(
          "shoal_blobs_verified_total",
          "Blobs whose sha256 matched their digest and were marked verified in the cache.")),
      segments_ready_total(registry.Counter(
          "shoal_segments_ready_total",
          "Segments complete on this host: fetched from the origin (seeding starts) or "
          "downloaded from peers.")),
      blobs_failed_total(
          registry.Counter("shoal_blobs_failed_total", "Blob transfers that ended in an error.")) {}

DaemonMetrics& Metrics() {
  static DaemonMetrics* metrics = new DaemonMetrics();  // never destroyed: used until exit
  return *metrics;
}

std::map<std::string, double> ParseMetricsText(absl::string_view text) {
  std::map<std::string, double> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    if (space == absl::string_view::npos) continue;
    double v = 0;
    absl::string_view value = line.substr(space + 1);
    if (value == "NaN") {
      v = std::nan("");
    } else if (!absl::SimpleAtod(value, &v)) {
      continue;
    }
    out[std::string(absl::StripAsciiWhitespace(line.substr(0, space)))] = v;
  }
  return out;
}

struct MetricsServer::Impl {
  Options options;
  httplib::Server server;
  std::thread listener;
  std::string address;
  bool stopped = false;
};

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(Options options) {
  size_t colon = options.listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(options.listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("metrics-listen '", options.listen,
                                                   "' is not HOST:PORT or :PORT (e.g. :9100)"));
  }
  std::string host = options.listen.substr(0, colon);
  if (host.empty()) host = options.default_host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (options.registry == nullptr) options.registry = &Metrics().registry;

  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->impl_ = std::make_unique<Impl>();
  Impl* impl = s->impl_.get();
  impl->options = std::move(options);
  httplib::Server& svr = impl->server;
  svr.new_task_queue = [] { return new httplib::ThreadPool(2); };
  svr.Get("/metrics", [impl](const httplib::Request&, httplib::Response& res) {
    res.set_content(impl->options.registry->Render(impl->options.computed),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  svr.Get("/readyz", [impl](const httplib::Request&, httplib::Response& res) {
    bool ready = !impl->options.ready || impl->options.ready();
    res.status = ready ? 200 : 503;
    res.set_content(ready ? "ready\n" : "not ready\n", "text/plain");
  });
  int bound = port;
  if (port == 0) {
    bound = svr.bind_to_any_port(host);
  } else if (!svr.bind_to_port(host, port)) {
    bound = -1;
  }
  if (bound <= 0) {
    return absl::UnavailableError(absl::StrCat("metrics endpoint cannot listen on ", host, ":",
                                               port,
                                               " (is the port in use? check --metrics-listen)"));
  }
  impl->address =
      absl::StrCat(host.find(':') != std::string::npos ? "[" + host + "]" : host, ":", bound);
  impl->listener = std::thread([impl] { impl->server.listen_after_bind(); });
  for (int i = 0; i < 5000 && !svr.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return s;
}

MetricsServer::~MetricsServer() { Stop(); }

std::string MetricsServer::address() const { return impl_->address; }

void MetricsServer::Stop() {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  impl_->server.stop();
  if (impl_->listener.joinable()) impl_->listener.join();
}

}  // namespace shoal
