#include "scheduler/scheduler_service.h"

#include "scheduler/announce_reactor.h"
#include "scheduler/reactor_outbox.h"

namespace shoal {

grpc::ServerUnaryReactor* SchedulerService::RegisterHost(grpc::CallbackServerContext* context,
                                                         const v1::RegisterHostRequest* request,
                                                         v1::RegisterHostResponse* response) {
  auto* reactor = context->DefaultReactor();
  auto result = coordinator_.RegisterHost(*request);
  if (result.ok()) *response = *std::move(result);
  reactor->Finish(ToGrpcStatus(result.status()));
  return reactor;
}

grpc::ServerUnaryReactor* SchedulerService::Heartbeat(grpc::CallbackServerContext* context,
                                                      const v1::HeartbeatRequest* request,
                                                      v1::HeartbeatResponse* response) {
  auto* reactor = context->DefaultReactor();
  *response = coordinator_.Heartbeat(*request);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* SchedulerService::ListHosts(grpc::CallbackServerContext* context,
                                                      const v1::ListHostsRequest*,
                                                      v1::ListHostsResponse* response) {
  auto* reactor = context->DefaultReactor();
  *response = coordinator_.ListHosts();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerBidiReactor<v1::AnnounceRequest, v1::AnnounceResponse>* SchedulerService::Announce(
    grpc::CallbackServerContext*) {
  return new AnnounceReactor(coordinator_);
}

grpc::ServerWriteReactor<v1::Task>* SchedulerService::WatchTasks(
    grpc::CallbackServerContext*, const v1::WatchTasksRequest* request) {
  return new TaskStreamReactor(coordinator_, request->host_id());
}

}  // namespace shoal
