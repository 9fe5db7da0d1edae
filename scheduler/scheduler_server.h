// A running scheduler: the gRPC server, the coordinator behind it, and the
// ticker that drives liveness and failover; with a data dir also the preheat
// jobs (store, resolver, manager, their ticker) and the REST job API. main.cc
// and the service tests both start one (tests on 127.0.0.1:0 and, if they
// like, without the ticker so a SimulatedClock and explicit Tick() calls
// decide when hosts die).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "scheduler/image_resolver.h"
#include "scheduler/job_http_api.h"
#include "scheduler/job_manager.h"
#include "scheduler/job_store.h"
#include "scheduler/job_swarm.h"
#include "scheduler/manifest_lookup_cache.h"
#include "scheduler/scheduler_config.h"
#include "scheduler/scheduler_service.h"
#include "scheduler/swarm_coordinator.h"

namespace shoal {

struct SchedulerServerOptions {
  std::string listen = "127.0.0.1:0";
  SwarmPolicy policy;
  Clock* clock = &Clock::Real();
  bool run_ticker = true;  // Tick() every heartbeat_interval / 2

  // Preheat jobs: off when data_dir is empty (the job RPCs answer UNIMPLEMENTED).
  std::string data_dir;
  std::string http_listen;  // REST job API; empty: none
  JobSettings jobs;
  // How the resolver reaches registries; MakeHttpOriginClient when empty.
  OriginClientFactory origin_client_factory;
};

class SchedulerServer {
 public:
  static absl::StatusOr<std::unique_ptr<SchedulerServer>> Start(
      const SchedulerServerOptions& options);
  ~SchedulerServer();

  int port() const { return port_; }
  std::string address() const;  // host:port actually bound
  SwarmCoordinator& coordinator() { return *coordinator_; }
  JobManager* jobs() { return jobs_.get(); }
  // REST job API address actually bound; empty without one.
  std::string http_address() const { return http_ ? http_->address() : std::string(); }
  // Ends all streams (clients see UNAVAILABLE), stops the server within about a
  // second and joins the ticker. Idempotent.
  void Shutdown();

 private:
  SchedulerServer() = default;
  void RunTicker(absl::Duration interval);
  void RunJobTicker(absl::Duration interval);
  absl::Status StartJobs(const SchedulerServerOptions& options);

  std::string host_;
  int port_ = 0;
  std::unique_ptr<SwarmCoordinator> coordinator_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<ManifestLookupCache> manifest_cache_;
  std::unique_ptr<ImageResolver> resolver_;
  std::unique_ptr<CoordinatorJobSwarm> job_swarm_;
  std::unique_ptr<JobManager> jobs_;
  std::unique_ptr<JobHttpApi> http_;
  std::thread job_ticker_;
  std::unique_ptr<SchedulerService> service_;
  std::unique_ptr<grpc::Server> server_;
  absl::Notification stop_;
  std::thread ticker_;
  bool shut_down_ = false;
};

}  // namespace shoal
