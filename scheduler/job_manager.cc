#include "scheduler/job_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "scheduler/api_error.h"
#include "scheduler/image_manifest.h"
#include "scheduler/image_reference.h"
#include "scheduler/job_scope.h"

namespace shoal {
namespace {

absl::Status BadConcurrency(const char* field, uint32_t value, uint32_t max) {
  return ApiError(
      absl::StatusCode::kInvalidArgument, "invalid_concurrency",
      absl::StrCat(field, " ", value, " is out of range (0 for the default, or 1..", max, ")"));
}

}  // namespace

v1::JobState JobStateToProto(JobState s) {
  switch (s) {
    case JobState::kPending:
      return v1::JOB_STATE_PENDING;
    case JobState::kRunning:
      return v1::JOB_STATE_RUNNING;
    case JobState::kSucceeded:
      return v1::JOB_STATE_SUCCEEDED;
    case JobState::kFailed:
      return v1::JOB_STATE_FAILED;
    case JobState::kCancelled:
      return v1::JOB_STATE_CANCELLED;
  }
  return v1::JOB_STATE_UNSPECIFIED;
}

JobManager::JobManager(JobStore& store, ImageResolver& resolver, JobSwarm& swarm, Clock& clock,
                       JobManagerOptions options)
    : store_(store),
      resolver_(resolver),
      swarm_(swarm),
      clock_(clock),
      options_(options),
      runner_(swarm, clock, options.runner) {}

absl::StatusOr<std::unique_ptr<JobManager>> JobManager::Create(JobStore& store,
                                                               ImageResolver& resolver,
                                                               JobSwarm& swarm, Clock& clock,
                                                               JobManagerOptions options) {
  std::unique_ptr<JobManager> m(new JobManager(store, resolver, swarm, clock, options));
  auto dropped = store.DeleteFinishedBefore(clock.Now() - options.retention);
  if (!dropped.ok()) return dropped.status();
  auto jobs = store.LoadAll();
  if (!jobs.ok()) return jobs.status();
  absl::MutexLock l(&m->mu_);
  size_t resumed = 0;
  for (Job& j : *jobs) {
    if (!IsTerminal(j.state)) ++resumed;
    auto owned = std::make_unique<Job>(std::move(j));
    m->by_id_[owned->id] = owned.get();
    m->jobs_.push_back(std::move(owned));
  }
  Logger("jobs")->info("job store {}: {} jobs ({} to resume), {} old ones dropped", store.path(),
                       m->jobs_.size(), resumed, *dropped);
  return m;
}

std::string JobManager::NewJobId() {
  static absl::Mutex id_mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen();
  absl::MutexLock l(&id_mu);
  return absl::StrFormat("job-%016x", absl::Uniform<uint64_t>(*gen));
}

absl::StatusOr<Job> JobManager::PrepareJob(const v1::CreateJobRequest& req) {
  Job job;
  JobSpec& sp = job.spec;
  sp.image = req.image();
  auto ref = ParseImageReference(req.image());
  if (!ref.ok()) {
    return ApiError(absl::StatusCode::kInvalidArgument, "invalid_reference",
                    ref.status().message());
  }
  sp.reference = ref->String();
  sp.registry = ref->registry;
  sp.repository = ref->repository;
  sp.platform = req.platform().empty() ? std::string(kDefaultPlatform) : req.platform();
  if (sp.platform != kAllPlatforms) {
    auto p = ParsePlatform(sp.platform);
    if (!p.ok()) {
      return ApiError(absl::StatusCode::kInvalidArgument, "invalid_platform", p.status().message());
    }
    sp.platform = p->String();
  }
  auto scope = ParseJobScope(req.scope());
  if (!scope.ok()) return scope.status();
  sp.scope = scope->Canonical();
  sp.seeds_only = scope->kind == JobScope::Kind::kSeeds;
  const uint32_t max = options_.max_concurrency;
  if (req.layer_concurrency() > max) {
    return BadConcurrency("layer_concurrency", req.layer_concurrency(), max);
  }
  if (req.host_concurrency() > max) {
    return BadConcurrency("host_concurrency", req.host_concurrency(), max);
  }
  sp.layer_concurrency =
      req.layer_concurrency() == 0 ? options_.default_layer_concurrency : req.layer_concurrency();
  sp.host_concurrency =
      req.host_concurrency() == 0 ? options_.default_host_concurrency : req.host_concurrency();
  sp.idempotency_key = req.idempotency_key();
  if (sp.idempotency_key.size() > 256) {
    return ApiError(absl::StatusCode::kInvalidArgument, "invalid_idempotency_key",
                    "idempotency_key is longer than 256 characters");
  }
  for (char c : sp.idempotency_key) {
    if (!absl::ascii_isprint(c)) {
      return ApiError(absl::StatusCode::kInvalidArgument, "invalid_idempotency_key",
                      "idempotency_key must be printable ASCII");
    }
  }
  sp.credentials = RegistryCredentials{req.auth().username(), req.auth().password()};
  auto targets = ResolveScopeTargets(*scope, swarm_.Hosts());
  if (!targets.ok()) return targets.status();
  sp.target_hosts = *targets;

  job.created_at = clock_.Now();
  auto resolved = resolver_.Resolve(*ref, sp.platform, sp.credentials);
  if (!resolved.ok()) {
    if (HasApiErrorReason(resolved.status())) return resolved.status();
    // The registry refused, lacks the image, or is unreachable: a job that
    // failed, with the registry's reason, rather than an API error.
    job.state = JobState::kFailed;
    job.error = std::string(resolved.status().message());
    job.finished_at = job.created_at;
    return job;
  }
  job.resolved_digest = resolved->digest;
  std::vector<ImageBlob> blobs = resolved->blobs;
  // Largest first: the longest transfers start first and the job ends sooner.
  std::stable_sort(blobs.begin(), blobs.end(),
                   [](const ImageBlob& a, const ImageBlob& b) { return a.size > b.size; });
  for (const ImageBlob& ib : blobs) {
    JobBlob b{ib.digest, ib.size, ib.media_type, {}};
    for (const std::string& host : sp.target_hosts) {
      JobTarget t;
      t.host_id = host;
      t.role = TargetRole::kPeer;
      b.targets.push_back(std::move(t));
    }
    job.blobs.push_back(std::move(b));
  }
  return job;
}

const Job* JobManager::FindDuplicate(const Job& job) const {
  for (const auto& other : jobs_) {
    if (other->resolved_digest != job.resolved_digest ||
        other->spec.platform != job.spec.platform || other->spec.scope != job.spec.scope ||
        other->spec.idempotency_key != job.spec.idempotency_key) {
      continue;
    }
    // With a key the caller names the job: any state matches. Without one,
    // only a job still under way is the same request.
    if (!job.spec.idempotency_key.empty() || !IsTerminal(other->state)) return other.get();
  }
  return nullptr;
}

absl::StatusOr<CreatedJob> JobManager::CreateJob(const v1::CreateJobRequest& request) {
  auto prepared = PrepareJob(request);
  if (!prepared.ok()) return prepared.status();
  Job& job = *prepared;
  absl::MutexLock l(&mu_);
  if (!job.resolved_digest.empty()) {
    if (const Job* dup = FindDuplicate(job)) {
      Logger("jobs")->info("job {}: the same preheat was asked again; answering with it", dup->id);
      return CreatedJob{dup->id, true, dup->state, dup->error};
    }
  }
  job.id = NewJobId();
  if (auto s = store_.Insert(job); !s.ok()) return s;
  auto log = Logger("jobs");
  if (job.state == JobState::kFailed) {
    log->warn("job {} for {} failed at once: {}", job.id, job.spec.reference, job.error);
  } else {
    log->info("job {} created: {} -> {} ({}), {} blobs, scope {} ({} peers), concurrency {}/{}",
              job.id, job.spec.reference, job.resolved_digest, job.spec.platform, job.blobs.size(),
              job.spec.scope, job.spec.target_hosts.size(), job.spec.layer_concurrency,
              job.spec.host_concurrency);
  }
  CreatedJob out{job.id, false, job.state, job.error};
  auto owned = std::make_unique<Job>(std::move(job));
  by_id_[owned->id] = owned.get();
  jobs_.push_back(std::move(owned));
  return out;
}

v1::JobStatus JobManager::Status(const Job& job) const {
  v1::JobStatus s;
  s.set_id(job.id);
  s.set_image(job.spec.image);
  s.set_reference(job.spec.reference);
  s.set_resolved_digest(job.resolved_digest);
  s.set_platform(job.spec.platform);
  s.set_scope(job.spec.scope);
  s.set_state(JobStateToProto(job.state));
  s.set_error(job.error);
  s.set_layer_concurrency(job.spec.layer_concurrency);
  s.set_host_concurrency(job.spec.host_concurrency);
  for (const auto& h : job.spec.target_hosts) s.add_target_hosts(h);
  for (const JobBlob& b : job.blobs) {
    v1::BlobStatus* bs = s.add_blobs();
    bs->set_digest(b.digest);
    bs->set_size(b.size);
    bs->set_media_type(b.media_type);
    for (const JobTarget& t : b.targets) {
      v1::HostProgress* hp = bs->add_hosts();
      hp->set_host_id(t.host_id);
      hp->set_state(JobStateName(t.state));
      hp->set_bytes_done(t.bytes_done);
      hp->set_rate_bps(t.rate_bps);
      hp->set_error(t.error);
      hp->set_role(TargetRoleName(t.role));
      hp->set_goal(t.goal);
      hp->set_requested_unix_ms(ToUnixMillisOrZero(t.requested_at));
      hp->set_started_unix_ms(ToUnixMillisOrZero(t.started_at));
      hp->set_finished_unix_ms(ToUnixMillisOrZero(t.finished_at));
    }
  }
  auto [total, done] = JobRunner::Totals(job);
  s.set_total_bytes(total);
  s.set_done_bytes(done);
  int64_t eta = -1;
  double rate = 0;
  if (auto it = progress_.find(job.id); it != progress_.end()) rate = it->second.rate_bps;
  if (job.state == JobState::kSucceeded) {
    eta = 0;
  } else if (job.state == JobState::kRunning && rate > 1) {
    eta = static_cast<int64_t>((total - std::min(total, done)) / rate + 0.999);
  }
  s.set_rate_bps(IsTerminal(job.state) ? 0 : static_cast<uint64_t>(rate));
  s.set_eta_seconds(eta);
  s.set_created_unix_ms(absl::ToUnixMillis(job.created_at));
  s.set_finished_unix_ms(ToUnixMillisOrZero(job.finished_at));
  return s;
}

absl::StatusOr<v1::JobStatus> JobManager::GetJob(const std::string& id) {
  absl::MutexLock l(&mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) {
    return ApiError(absl::StatusCode::kNotFound, "job_not_found",
                    absl::StrCat("no job '", id.substr(0, 100), "' (see GET /api/v1/jobs)"));
  }
  return Status(*it->second);
}

std::vector<v1::JobStatus> JobManager::ListJobs(std::optional<JobState> state) {
  absl::MutexLock l(&mu_);
  std::vector<v1::JobStatus> out;
  for (auto it = jobs_.rbegin(); it != jobs_.rend(); ++it) {
    if (!state || (*it)->state == *state) out.push_back(Status(**it));
  }
  return out;
}

absl::StatusOr<v1::JobStatus> JobManager::CancelJob(const std::string& id) {
  absl::MutexLock l(&mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) {
    return ApiError(absl::StatusCode::kNotFound, "job_not_found",
                    absl::StrCat("no job '", id.substr(0, 100), "' (see GET /api/v1/jobs)"));
  }
  Job& job = *it->second;
  if (job.state == JobState::kSucceeded || job.state == JobState::kFailed) {
    return ApiError(absl::StatusCode::kFailedPrecondition, "job_finished",
                    absl::StrCat("job ", id, " already ", JobStateName(job.state),
                                 "; there is nothing to cancel"));
  }
  auto still_needed = [&](const std::string& host, const std::string& digest, TargetRole role) {
    for (const auto& other : jobs_) {
      if (other.get() == &job || IsTerminal(other->state)) continue;
      for (const JobBlob& b : other->blobs) {
        if (b.digest != digest) continue;
        for (const JobTarget& t : b.targets) {
          if (IsTerminal(t.state)) continue;
          // A seed's fetch serves every job that wants the blob anywhere.
          if (t.host_id == host || role == TargetRole::kSeed) return true;
        }
      }
    }
    return false;
  };
  JobChanges changes;
  runner_.Cancel(job, still_needed, changes);
  Persist(job, changes);
  return Status(job);
}

void JobManager::Persist(const Job& job, const JobChanges& changes) {
  if (!changes.job_row && changes.targets.empty()) return;
  std::vector<std::pair<size_t, size_t>> targets(changes.targets.begin(), changes.targets.end());
  if (auto s = store_.Save(job, targets); !s.ok()) {
    // The job goes on in memory; a restart would redo some of its steps.
    Logger("jobs")->error("job {}: {}", job.id, s.message());
  }
}

void JobManager::RememberSeeds(const std::vector<v1::HostStatus>& hosts) {
  const absl::Time now = clock_.Now();
  for (const v1::HostStatus& h : hosts) {
    if (!h.alive() || h.host().role() != v1::HOST_ROLE_SEED) continue;
    auto it = seeds_recorded_.find(h.host().id());
    if (it != seeds_recorded_.end() && now - it->second < absl::Minutes(1)) continue;
    if (store_.RememberHost(h.host().id(), TargetRole::kSeed, now).ok()) {
      seeds_recorded_[h.host().id()] = now;
    }
  }
}

void JobManager::Tick() {
  std::vector<v1::HostStatus> hosts = swarm_.Hosts();
  absl::flat_hash_map<std::string, v1::HostStatus> by_id;
  for (const auto& h : hosts) by_id[h.host().id()] = h;
  absl::MutexLock l(&mu_);
  RememberSeeds(hosts);
  for (const auto& job : jobs_) {
    if (IsTerminal(job->state)) continue;
    JobChanges changes;
    runner_.Advance(*job, progress_[job->id], by_id, changes);
    Persist(*job, changes);
    if (IsTerminal(job->state)) progress_.erase(job->id);
  }
}

}  // namespace shoal
