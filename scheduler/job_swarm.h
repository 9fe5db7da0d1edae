// What the preheat job runner needs from the swarm, as an interface so the
// runner is tested against a scripted fake (tests/scheduler/job_test_fakes.h)
// with a simulated clock. CoordinatorJobSwarm forwards to the SwarmCoordinator.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "scheduler/swarm_coordinator.h"

namespace shoal {

class JobSwarm {
 public:
  virtual ~JobSwarm() = default;
  virtual absl::Status RequestFetch(const std::string& host_id, const v1::FetchBlobTask& task) = 0;
  virtual void CancelFetch(const std::string& host_id, const std::string& digest,
                           const std::string& job_id) = 0;
  virtual std::optional<BlobSnapshot> GetBlob(const std::string& digest) = 0;
  virtual std::vector<v1::HostStatus> Hosts() = 0;
  virtual SeedChoice ChooseSeed(const std::string& digest, bool for_peers) = 0;
};

class CoordinatorJobSwarm : public JobSwarm {
 public:
  explicit CoordinatorJobSwarm(SwarmCoordinator& coordinator) : c_(coordinator) {}
  absl::Status RequestFetch(const std::string& host_id, const v1::FetchBlobTask& task) override {
    return c_.RequestFetch(host_id, task);
  }
  void CancelFetch(const std::string& host_id, const std::string& digest,
                   const std::string& job_id) override {
    c_.CancelFetch(host_id, digest, job_id);
  }
  std::optional<BlobSnapshot> GetBlob(const std::string& digest) override {
    return c_.GetBlob(digest);
  }
  std::vector<v1::HostStatus> Hosts() override {
    auto r = c_.ListHosts();
    return {r.hosts().begin(), r.hosts().end()};
  }
  SeedChoice ChooseSeed(const std::string& digest, bool for_peers) override {
    return c_.ChooseSeed(digest, for_peers);
  }

 private:
  SwarmCoordinator& c_;
};

}  // namespace shoal
