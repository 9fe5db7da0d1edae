#include "scheduler/scheduler_config.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shoal {

void RegisterSchedulerOptions(OptionSet& o, SchedulerConfig* c) {
  o.AddString("listen", &c->listen, "gRPC address (host:port) for hosts, announces and tasks");
  o.AddString("http-listen", &c->http_listen, "REST job API address (host:port; reserved)");
  o.AddString("data-dir", &c->data_dir, "directory for the job store");
  SwarmPolicy* s = &c->swarm;
  o.AddDuration("heartbeat-interval", &s->heartbeat_interval,
                "how often hosts heartbeat; a host silent for 3 intervals is dead");
  o.AddUint("max-children-per-parent", &s->max_children_per_parent,
            "children one parent serves per segment before others are preferred");
  o.AddUint("parents-per-segment", &s->parents_per_segment,
            "parents handed to a child for one segment");
  o.AddUint("max-origin-fallbacks", &s->max_origin_fallbacks,
            "peers per blob allowed to fetch from the origin at once when no seed is live");
  o.AddDuration("bad-parent-ttl", &s->bad_parent_ttl,
                "how long a parent a child reported bad is kept out of its parent sets");
  o.AddDuration("origin-fallback-stall", &s->origin_fallback_stall,
                "an origin-fallback peer silent this long frees its slot for the next peer");
  o.AddDuration("upstream-failure-ttl", &s->upstream_failure_ttl,
                "after a seed failed to fetch a blob, how long new requests get that failure");
  o.AddDuration("idle-blob-retention", &s->idle_blob_retention,
                "a blob nobody announces is forgotten after this long");
  o.AddDuration("dead-host-retention", &s->dead_host_retention,
                "a dead host stays listed this long");
  o.AddString("log-level", &c->log_level, "trace|debug|info|warn|error");
  o.AddString("log-format", &c->log_format, "text|json");
}

absl::Status ValidateListenAddress(const std::string& key, const std::string& address,
                                   bool allow_zero_port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        key, ": '", address, "' is not host:port (e.g. 127.0.0.1:65003 or 0.0.0.0:65003)"));
  }
  uint32_t port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port > 65535 ||
      (port == 0 && !allow_zero_port)) {
    return absl::InvalidArgumentError(
        absl::StrCat(key, ": '", address, "' has no valid port (want 1..65535)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateSchedulerConfig(const SchedulerConfig& c) {
  if (auto s = ValidateListenAddress("listen", c.listen, true); !s.ok()) return s;
  if (auto s = ValidateListenAddress("http-listen", c.http_listen, true); !s.ok()) return s;
  if (c.data_dir.empty()) {
    return absl::InvalidArgumentError(
        "data-dir: must not be empty (e.g. /var/lib/shoal/scheduler)");
  }
  const SwarmPolicy& s = c.swarm;
  if (s.heartbeat_interval < absl::Milliseconds(100) || s.heartbeat_interval > absl::Minutes(5)) {
    return absl::InvalidArgumentError(
        absl::StrCat("heartbeat-interval: ", absl::FormatDuration(s.heartbeat_interval),
                     " is out of range (100ms..5m)"));
  }
  if (s.max_children_per_parent < 1) {
    return absl::InvalidArgumentError("max-children-per-parent: must be at least 1");
  }
  if (s.parents_per_segment < 1 || s.parents_per_segment > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("parents-per-segment: ", s.parents_per_segment, " is out of range (1..64)"));
  }
  if (s.bad_parent_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("bad-parent-ttl: must be positive (e.g. 5m)");
  }
  if (s.origin_fallback_stall <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("origin-fallback-stall: must be positive (e.g. 2m)");
  }
  if (s.idle_blob_retention <= absl::ZeroDuration() ||
      s.dead_host_retention <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "idle-blob-retention and dead-host-retention: must be positive (e.g. 1h)");
  }
  if (c.log_format != "text" && c.log_format != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("log-format: '", c.log_format, "' is not text or json"));
  }
  return absl::OkStatus();
}

}  // namespace shoal
