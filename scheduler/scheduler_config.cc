#include "scheduler/scheduler_config.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/daemon_config.h"
#include "common/digest.h"

namespace shoal {

void RegisterSchedulerOptions(OptionSet& o, SchedulerConfig* c) {
  o.AddString("listen", &c->listen, "gRPC address (host:port) for hosts, announces and tasks");
  o.AddString("http-listen", &c->http_listen,
              "REST job API address (host:port); empty turns the REST API off");
  o.AddString("data-dir", &c->data_dir, "directory for the job store (jobs.sqlite, mode 0600)");
  JobSettings* j = &c->jobs;
  o.AddStringList("insecure-registry", &j->insecure_registries,
                  "registry HOST:PORT the image resolver reaches over plain HTTP (repeatable)");
  o.AddDuration("job-poll-interval", &j->poll_interval,
                "how often running preheat jobs look at the swarm and move on");
  o.AddDuration("tag-cache-ttl", &j->tag_cache_ttl,
                "how long a tag's manifest is reused (concurrent jobs for a tag: one request)");
  o.AddDuration("job-stall-timeout", &j->stall_timeout,
                "a preheat blob copy with no progress for this long fails (0: stall-timeout + "
                "deadline-base + segment-size / min-rate + backoff-max, 5m46s by default)");
  o.AddDuration("job-retention", &j->retention, "finished jobs are kept this long");
  o.AddUint("job-layer-concurrency", &j->default_layer_concurrency,
            "blobs a job moves at once unless the job says otherwise");
  o.AddUint("job-host-concurrency", &j->default_host_concurrency,
            "target hosts per blob at once unless the job says otherwise");
  AddTransferTimeoutOptions(o, c->transfer);
  o.AddBytes("segment-size", &c->transfer.segment_size,
             "the seeds' segment size (the job stall timeout allows one segment at min-rate)");
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
  if (!c.http_listen.empty()) {
    if (auto s = ValidateListenAddress("http-listen", c.http_listen, true); !s.ok()) return s;
  }
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
  const JobSettings& j = c.jobs;
  if (j.poll_interval < absl::Milliseconds(10) || j.poll_interval > absl::Minutes(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("job-poll-interval: ", absl::FormatDuration(j.poll_interval),
                     " is out of range (10ms..1m)"));
  }
  if (j.tag_cache_ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("tag-cache-ttl: must not be negative (0 turns it off)");
  }
  if ((j.stall_timeout != absl::ZeroDuration() && j.stall_timeout < absl::Seconds(1)) ||
      j.retention < absl::Minutes(1)) {
    return absl::InvalidArgumentError(
        "job-stall-timeout must be 0 (derived) or at least 1s, and job-retention at least 1m");
  }
  const TransferConfig& t = c.transfer;
  if (t.min_rate == 0 || t.segment_size == 0 || t.stall_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("min-rate, segment-size and stall-timeout must be positive");
  }
  if (j.default_layer_concurrency < 1 || j.default_layer_concurrency > 1024 ||
      j.default_host_concurrency < 1 || j.default_host_concurrency > 1024) {
    return absl::InvalidArgumentError(
        "job-layer-concurrency and job-host-concurrency: must be in 1..1024");
  }
  for (const std::string& r : j.insecure_registries) {
    if (auto st = ValidateRegistryHost(r); !st.ok() || r.find('/') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "insecure-registry: '", r, "' is not a registry HOST[:PORT] (no scheme, no path)"));
    }
  }
  if (c.log_format != "text" && c.log_format != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("log-format: '", c.log_format, "' is not text or json"));
  }
  return absl::OkStatus();
}

}  // namespace shoal
