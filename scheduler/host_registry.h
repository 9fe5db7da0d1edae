// Who is in the cluster and who is alive. A host registers with its data-plane
// address and labels, then heartbeats; one that misses `missed_heartbeats`
// intervals is dead. Death is noticed lazily (IsAlive reads the clock) so a
// dead host is never handed out as a parent, and acted on by the coordinator's
// periodic sweep (CollectNewlyDead) which fails its work over.
// Not thread-safe: the SwarmCoordinator owns it under its mutex.
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "shoal/v1/scheduler.pb.h"

namespace shoal {

struct HostRecord {
  v1::HostInfo info;
  absl::Time registered_at;
  absl::Time last_seen;
  // Set once the sweep has acted on the host's death; it must register again.
  bool declared_dead = false;
};

class HostRegistry {
 public:
  HostRegistry(Clock& clock, absl::Duration liveness_timeout);

  // Checks what a parent set needs: id, role, ip and data port.
  static absl::Status ValidateHostInfo(const v1::HostInfo& info);

  // Adds the host, or replaces its info when the id is known (a restarted host).
  void Register(const v1::HostInfo& info);
  // Returns false when the scheduler does not know the host (never registered,
  // forgotten after a restart, or declared dead): the host must register again.
  bool Heartbeat(const std::string& host_id, uint64_t free_disk_bytes);

  bool IsAlive(const std::string& host_id) const;
  bool IsSeed(const std::string& host_id) const;
  const HostRecord* Find(const std::string& host_id) const;
  // Live seeds, sorted by id.
  std::vector<std::string> LiveSeeds() const;
  // Every known host with its liveness, sorted by id.
  std::vector<v1::HostStatus> List() const;

  // Hosts that went silent since the last call; they are marked declared_dead.
  std::vector<std::string> CollectNewlyDead();
  // Drops hosts that have been dead for longer than `retention`.
  void ForgetDead(absl::Duration retention);

 private:
  bool AliveAt(const HostRecord& r, absl::Time now) const;

  Clock& clock_;
  absl::Duration liveness_timeout_;
  absl::flat_hash_map<std::string, HostRecord> hosts_;
};

}  // namespace shoal
