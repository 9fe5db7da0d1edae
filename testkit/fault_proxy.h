// A misbehaving origin for tests and benchmarks: an HTTP reverse proxy on
// 127.0.0.1:<free port> in front of a real upstream (docker-registry, or any plain
// HTTP server) that, on a schedule the test sets, delays answers, stalls or cuts
// bodies midway, ends bodies early, or answers 429/500/503 - the failures a real
// registry or CDN shows under load - and counts the body bytes it passed per path,
// so a test can prove how often the origin served each blob.
//
// Only GET and HEAD are proxied (what pulling uses); bodies stream through without
// being buffered whole. Upstream redirects are passed through unchanged.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace shoal {

struct FaultRule {
  enum class Action {
    kDelay,         // wait `delay` before forwarding the request
    kStallMidBody,  // after `after_bytes` of body, send nothing for `delay`, then go on
    kResetMidBody,  // after `after_bytes` of body, drop the connection (body incomplete)
    kTruncateBody,  // after `after_bytes` of body, end the answer cleanly (chunked, short)
    kStatus,        // answer `status` (429, 500, 503, ...) without asking upstream
  };
  // Which requests it applies to; every condition that is set must hold.
  std::string path_regex;                 // searched in the path (query excluded); empty: any
  std::string method;                     // "GET" or "HEAD"; empty: any
  std::vector<uint64_t> request_indexes;  // 0-based index among all requests; empty: any
  int64_t times = -1;                     // fires at most this many times; -1: unlimited
  double probability = 1.0;               // chance per matching request (the proxy's seeded RNG)
  // What happens.
  Action action = Action::kStatus;
  absl::Duration delay = absl::ZeroDuration();
  uint64_t after_bytes = 0;
  int status = 503;
  absl::Duration retry_after = absl::ZeroDuration();  // kStatus: Retry-After header if > 0
};

class FaultProxy {
 public:
  struct Options {
    std::string upstream;  // "host:port" of the real origin, plain HTTP
    uint64_t seed = 1;     // for rule probabilities, so a run can be repeated
    int threads = 32;      // concurrent connections served (stalls hold one each)
    // Shaping of GET bodies, bytes/s (0: unlimited): per connection, as a CDN or a
    // long-distance TCP path limits one stream, and for all connections together.
    uint64_t rate_per_connection = 0;
    uint64_t rate_total = 0;
  };
  static absl::StatusOr<std::unique_ptr<FaultProxy>> Start(const Options& options);
  ~FaultProxy();  // stops

  int port() const { return port_; }
  std::string address() const;  // "127.0.0.1:<port>", usable as a registry host

  // Rules are tried in the order added; the first that matches (and wins its
  // probability roll) applies. At most one rule applies to a request.
  void AddRule(FaultRule rule);
  void ClearRules();

  struct PathCounts {
    uint64_t requests = 0;
    uint64_t body_bytes = 0;  // body bytes actually sent to clients
  };
  PathCounts Counts(const std::string& path) const;
  std::map<std::string, PathCounts> AllCounts() const;
  uint64_t requests() const { return requests_.load(); }
  uint64_t faults_injected() const { return faults_.load(); }
  // How often faults of one kind fired (a mid-body fault counts when its rule was
  // picked, even if the body ended before after_bytes).
  uint64_t faults_injected(FaultRule::Action action) const;
  // Changes the shaping for bodies that start from now on (bytes/s, 0: unlimited).
  void SetRateLimits(uint64_t per_connection, uint64_t total);

  // Stops serving; blocked stalls and delays end at once. Idempotent.
  void Stop();

 private:
  struct Impl;
  FaultProxy() = default;
  std::optional<FaultRule> Pick(const std::string& method, const std::string& path, uint64_t index);
  void CountBytes(const std::string& path, uint64_t n);
  bool Stopping() const;
  // Sleeps d unless the proxy stops first; false when it stopped.
  bool SleepUnlessStopped(absl::Duration d);
  // Waits until n more body bytes may go out on a connection that started at
  // `start` and has sent `sent` bytes before these (shaping); false when stopping.
  bool Pace(absl::Time start, uint64_t sent, uint64_t n, uint64_t rate_per_connection);

  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::string upstream_host_;
  int upstream_port_ = 0;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> faults_{0};

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  struct ArmedRule {
    FaultRule rule;
    std::regex path;
    int64_t fired = 0;
  };
  std::vector<ArmedRule> rules_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, PathCounts> counts_ ABSL_GUARDED_BY(mu_);
  std::map<FaultRule::Action, uint64_t> faults_by_action_ ABSL_GUARDED_BY(mu_);
  uint64_t rate_per_connection_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t rate_total_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time total_next_free_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace shoal
