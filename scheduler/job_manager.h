// The preheat job service behind both APIs (REST and gRPC): validates and
// creates jobs (resolving the image, deduplicating identical requests), answers
// status, lists and cancels, and drives every active job with the JobRunner on
// each Tick. Jobs are written to the JobStore as they change and reloaded on
// start, so a restarted scheduler resumes them.
//
// Thread-safe. CreateJob blocks on the registry (resolution) without holding
// the lock; everything else returns quickly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "scheduler/image_resolver.h"
#include "scheduler/job_model.h"
#include "scheduler/job_runner.h"
#include "scheduler/job_store.h"
#include "scheduler/job_swarm.h"
#include "shoal/v1/scheduler.pb.h"

namespace shoal {

struct JobManagerOptions {
  JobRunnerOptions runner;
  uint32_t default_layer_concurrency = 8;
  uint32_t default_host_concurrency = 64;
  uint32_t max_concurrency = 1024;
  // Finished jobs older than this are dropped from the store at start.
  absl::Duration retention = absl::Hours(24 * 7);
};

v1::JobState JobStateToProto(JobState state);

struct CreatedJob {
  std::string id;
  bool existing = false;  // an identical job already existed; this is its id
  JobState state = JobState::kPending;
  std::string error;
};

class JobManager {
 public:
  static absl::StatusOr<std::unique_ptr<JobManager>> Create(JobStore& store,
                                                            ImageResolver& resolver,
                                                            JobSwarm& swarm, Clock& clock,
                                                            JobManagerOptions options);

  // ApiError (InvalidArgument / FailedPrecondition) for bad input. A registry
  // that refuses or lacks the image does not make an error here: the job is
  // created failed, with the registry's reason.
  absl::StatusOr<CreatedJob> CreateJob(const v1::CreateJobRequest& request);
  absl::StatusOr<v1::JobStatus> GetJob(const std::string& id);
  // Newest first; all states when `state` is empty.
  std::vector<v1::JobStatus> ListJobs(std::optional<JobState> state);
  // FailedPrecondition when the job already succeeded or failed; a cancelled
  // job is returned as it is.
  absl::StatusOr<v1::JobStatus> CancelJob(const std::string& id);
  // Advances every active job once.
  void Tick();

 private:
  JobManager(JobStore& store, ImageResolver& resolver, JobSwarm& swarm, Clock& clock,
             JobManagerOptions options);
  absl::StatusOr<Job> PrepareJob(const v1::CreateJobRequest& request);
  const Job* FindDuplicate(const Job& job) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::JobStatus Status(const Job& job) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NewJobId();
  void Persist(const Job& job, const JobChanges& changes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RememberSeeds(const std::vector<v1::HostStatus>& hosts) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  JobStore& store_;
  ImageResolver& resolver_;
  JobSwarm& swarm_;
  Clock& clock_;
  const JobManagerOptions options_;

  absl::Mutex mu_;
  JobRunner runner_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Job>> jobs_ ABSL_GUARDED_BY(mu_);  // creation order
  absl::flat_hash_map<std::string, Job*> by_id_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, JobProgress> progress_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, absl::Time> seeds_recorded_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shoal
