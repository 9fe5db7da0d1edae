// The shoal.v1.Scheduler gRPC service (callback API): unary host calls answer
// inline, streams get a reactor each. The preheat job RPCs go to the
// JobManager (CreateJob on a worker thread: it waits on the registry); without
// one (no data dir) they answer UNIMPLEMENTED.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "scheduler/blocking_executor.h"
#include "scheduler/job_manager.h"
#include "scheduler/swarm_coordinator.h"
#include "shoal/v1/scheduler.grpc.pb.h"

namespace shoal {

class SchedulerService final : public v1::Scheduler::CallbackService {
 public:
  explicit SchedulerService(SwarmCoordinator& coordinator, JobManager* jobs = nullptr)
      : coordinator_(coordinator), jobs_(jobs) {
    if (jobs_ != nullptr) workers_ = std::make_unique<BlockingExecutor>(4);
  }

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

  grpc::ServerUnaryReactor* CreateJob(grpc::CallbackServerContext* context,
                                      const v1::CreateJobRequest* request,
                                      v1::CreateJobResponse* response) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const v1::GetJobRequest* request,
                                   v1::JobStatus* response) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* context,
                                     const v1::ListJobsRequest* request,
                                     v1::ListJobsResponse* response) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* context,
                                      const v1::CancelJobRequest* request,
                                      v1::JobStatus* response) override;

  // Finishes queued CreateJob calls and stops the workers (before the JobManager goes).
  void StopWorkers() { workers_.reset(); }

 private:
  SwarmCoordinator& coordinator_;
  JobManager* jobs_;
  std::unique_ptr<BlockingExecutor> workers_;
};

}  // namespace shoal
