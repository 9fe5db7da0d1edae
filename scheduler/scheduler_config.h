// Configuration of shoal-scheduler: one struct, every field a YAML key and a
// flag (via OptionSet), validated in one place with messages that name the key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/options.h"
#include "common/transfer_config.h"

namespace shoal {

// The knobs of the swarm logic (what the coordinator needs; no addresses).
struct SwarmPolicy {
  absl::Duration heartbeat_interval = absl::Seconds(2);
  // A host is dead after this many heartbeat intervals without a heartbeat.
  uint32_t missed_heartbeats = 3;
  // Children one parent serves in one segment's swarm before others are preferred.
  uint32_t max_children_per_parent = 6;
  uint32_t parents_per_segment = 4;
  // Peers allowed to fetch one blob from the origin at the same time when no seed is live.
  uint32_t max_origin_fallbacks = 1;
  // How long a parent a child reported bad is left out of that child's parent sets.
  absl::Duration bad_parent_ttl = absl::Minutes(5);
  // An origin-fallback peer silent this long frees its slot for the next waiting peer.
  absl::Duration origin_fallback_stall = absl::Minutes(2);
  // After a seed failed to fetch a blob, new wanters get the failure instead of a
  // new origin fetch for this long (a 404 is not retried by every node).
  absl::Duration upstream_failure_ttl = absl::Seconds(30);
  // A blob nobody announces is forgotten after this long (metadata included).
  absl::Duration idle_blob_retention = absl::Hours(1);
  // A dead host stays listed (alive=false) this long, then is forgotten.
  absl::Duration dead_host_retention = absl::Hours(1);

  absl::Duration liveness_timeout() const { return heartbeat_interval * missed_heartbeats; }
};

// The knobs of preheat jobs.
struct JobSettings {
  // Registries (host:port) the resolver reaches over plain HTTP.
  std::vector<std::string> insecure_registries;
  // How often running jobs look at the swarm and move on.
  absl::Duration poll_interval = absl::Milliseconds(250);
  // How long a tag's manifest answer is reused (N jobs for one tag, one request).
  absl::Duration tag_cache_ttl = absl::Seconds(30);
  // A blob copy that shows no progress for this long fails; zero: derived from
  // the transfer timeouts (TransferConfig::NoProgressTimeout).
  absl::Duration stall_timeout = absl::ZeroDuration();
  // Finished jobs are kept this long.
  absl::Duration retention = absl::Hours(24 * 7);
  uint32_t default_layer_concurrency = 8;
  uint32_t default_host_concurrency = 64;
};

struct SchedulerConfig {
  std::string listen = "127.0.0.1:65003";
  std::string http_listen = "127.0.0.1:65002";  // REST job API; empty: off
  std::string data_dir = "/var/lib/shoal/scheduler";
  std::string log_level = "info";
  std::string log_format = "text";
  SwarmPolicy swarm;
  JobSettings jobs;
  // The seeds' and peers' timeout model (same flags, same defaults): the job
  // stall timeout derives from it.
  TransferConfig transfer;

  absl::Duration job_stall_timeout() const {
    return jobs.stall_timeout > absl::ZeroDuration() ? jobs.stall_timeout
                                                     : transfer.NoProgressTimeout();
  }
};

// Registers every field of `config` with `options` (defaults = current values).
void RegisterSchedulerOptions(OptionSet& options, SchedulerConfig* config);

// Checks ranges and formats; the message names the offending key.
absl::Status ValidateSchedulerConfig(const SchedulerConfig& config);

// "host:port" with a numeric port in 1..65535 (port 0 allowed when allow_zero_port).
absl::Status ValidateListenAddress(const std::string& key, const std::string& address,
                                   bool allow_zero_port);

}  // namespace shoal
