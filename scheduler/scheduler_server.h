// A running scheduler: the gRPC server, the coordinator behind it, and the
// ticker that drives liveness and failover. main.cc and the service tests both
// start one (tests on 127.0.0.1:0 and, if they like, without the ticker so a
// SimulatedClock and explicit Tick() calls decide when hosts die).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "scheduler/scheduler_config.h"
#include "scheduler/scheduler_service.h"
#include "scheduler/swarm_coordinator.h"

namespace shoal {

struct SchedulerServerOptions {
  std::string listen = "127.0.0.1:0";
  SwarmPolicy policy;
  Clock* clock = &Clock::Real();
  bool run_ticker = true;  // Tick() every heartbeat_interval / 2
};

class SchedulerServer {
 public:
  static absl::StatusOr<std::unique_ptr<SchedulerServer>> Start(
      const SchedulerServerOptions& options);
  ~SchedulerServer();

  int port() const { return port_; }
  std::string address() const;  // host:port actually bound
  SwarmCoordinator& coordinator() { return *coordinator_; }
  // Ends all streams (clients see UNAVAILABLE), stops the server within about a
  // second and joins the ticker. Idempotent.
  void Shutdown();

 private:
  SchedulerServer() = default;
  void RunTicker(absl::Duration interval);

  std::string host_;
  int port_ = 0;
  std::unique_ptr<SwarmCoordinator> coordinator_;
  std::unique_ptr<SchedulerService> service_;
  std::unique_ptr<grpc::Server> server_;
  absl::Notification stop_;
  std::thread ticker_;
  bool shut_down_ = false;
};

}  // namespace shoal
