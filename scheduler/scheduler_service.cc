#include "scheduler/scheduler_service.h"

#include "scheduler/announce_reactor.h"
#include "scheduler/job_json.h"
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

// ---- Preheat jobs ----

namespace {

grpc::Status NoJobs() {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      "this scheduler runs without a job store; start it with --data-dir");
}

}  // namespace

grpc::ServerUnaryReactor* SchedulerService::CreateJob(grpc::CallbackServerContext* context,
                                                      const v1::CreateJobRequest* request,
                                                      v1::CreateJobResponse* response) {
  auto* reactor = context->DefaultReactor();
  if (jobs_ == nullptr || workers_ == nullptr) {
    reactor->Finish(NoJobs());
    return reactor;
  }
  workers_->Run([this, reactor, request, response] {
    auto created = jobs_->CreateJob(*request);
    if (created.ok()) {
      response->set_job_id(created->id);
      response->set_existing(created->existing);
      response->set_state(JobStateToProto(created->state));
      response->set_error(created->error);
    }
    reactor->Finish(ToGrpcStatus(created.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* SchedulerService::GetJob(grpc::CallbackServerContext* context,
                                                   const v1::GetJobRequest* request,
                                                   v1::JobStatus* response) {
  auto* reactor = context->DefaultReactor();
  if (jobs_ == nullptr) {
    reactor->Finish(NoJobs());
    return reactor;
  }
  auto status = jobs_->GetJob(request->job_id());
  if (status.ok()) *response = *std::move(status);
  reactor->Finish(ToGrpcStatus(status.status()));
  return reactor;
}

grpc::ServerUnaryReactor* SchedulerService::ListJobs(grpc::CallbackServerContext* context,
                                                     const v1::ListJobsRequest* request,
                                                     v1::ListJobsResponse* response) {
  auto* reactor = context->DefaultReactor();
  if (jobs_ == nullptr) {
    reactor->Finish(NoJobs());
    return reactor;
  }
  std::optional<JobState> state;
  if (request->state() != v1::JOB_STATE_UNSPECIFIED) {
    state = ParseJobState(JobStateText(request->state()));
  }
  for (auto& j : jobs_->ListJobs(state)) *response->add_jobs() = std::move(j);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* SchedulerService::CancelJob(grpc::CallbackServerContext* context,
                                                      const v1::CancelJobRequest* request,
                                                      v1::JobStatus* response) {
  auto* reactor = context->DefaultReactor();
  if (jobs_ == nullptr) {
    reactor->Finish(NoJobs());
    return reactor;
  }
  auto status = jobs_->CancelJob(request->job_id());
  if (status.ok()) *response = *std::move(status);
  reactor->Finish(ToGrpcStatus(status.status()));
  return reactor;
}

}  // namespace shoal
