// The shoal.v1.Scheduler gRPC service (callback API): unary host calls answer
// inline, streams get a reactor each. The preheat job RPCs are not served yet
// (UNIMPLEMENTED, the generated default).
#pragma once

#include <grpcpp/grpcpp.h>

#include "scheduler/swarm_coordinator.h"
#include "shoal/v1/scheduler.grpc.pb.h"

namespace shoal {

class SchedulerService final : public v1::Scheduler::CallbackService {
 public:
  explicit SchedulerService(SwarmCoordinator& coordinator) : coordinator_(coordinator) {}

  grpc::ServerUnaryReactor* RegisterHost(grpc::CallbackServerContext* context,
                                         const v1::RegisterHostRequest* request,
                                         v1::RegisterHostResponse* response) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* context,
                                      const v1::HeartbeatRequest* request,
                                      v1::HeartbeatResponse* response) override;
  grpc::ServerUnaryReactor* ListHosts(grpc::CallbackServerContext* context,
                                      const v1::ListHostsRequest* request,
                                      v1::ListHostsResponse* response) override;
  grpc::ServerBidiReactor<v1::AnnounceRequest, v1::AnnounceResponse>* Announce(
      grpc::CallbackServerContext* context) override;
  grpc::ServerWriteReactor<v1::Task>* WatchTasks(grpc::CallbackServerContext* context,
                                                 const v1::WatchTasksRequest* request) override;

 private:
  SwarmCoordinator& coordinator_;
};

}  // namespace shoal
