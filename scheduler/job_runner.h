// Moves preheat jobs along. Each pass (Advance) looks at what the swarm reports
// for the job's blobs and hosts and does the next thing: start up to
// layer_concurrency blobs at once (largest first; blobs under small_blob_bytes,
// such as the image config, start at once without taking a slot), put each on its seed (the
// seed the swarm already uses, else the one its digest hashes to) and on up to
// host_concurrency target peers at a time, mark copies done or failed, fail the
// copies of hosts that died or never came back after a restart, re-ask hosts
// whose task got lost, and fail copies that stop moving for stall_timeout. When
// every copy a job promised is settled the job succeeds or fails.
//
// Stateless apart from the Job it is given and a JobProgress of memory-only
// details (last request times, rates), so a restarted scheduler picks jobs up
// from their stored form. Not thread-safe: the JobManager calls it under its lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "scheduler/job_model.h"
#include "scheduler/job_swarm.h"

namespace shoal {

struct JobRunnerOptions {
  // After the scheduler (re)starts, hosts it does not know yet get this long to
  // register before their copies fail.
  absl::Duration host_grace = absl::Seconds(20);
  // Blobs smaller than this (configs, tiny layers) never wait for a slot: they
  // are over in a round trip.
  uint64_t small_blob_bytes = 4ull << 20;
  // A copy that shows no progress at all for this long fails (the scheduler
  // derives it from the transfer timeouts, see SchedulerConfig).
  absl::Duration stall_timeout = absl::Minutes(10);
  // A requested copy the swarm has heard nothing about for this long is asked
  // for again (its task was lost, e.g. across a restart).
  absl::Duration resend_after = absl::Seconds(30);
  // A seeds-only job fails when no seed is alive for this long.
  absl::Duration no_seed_timeout = absl::Minutes(1);
};

// What a pass changed, for the job store.
struct JobChanges {
  bool job_row = false;
  std::set<std::pair<size_t, size_t>> targets;  // (blob index, target index)
};

// Memory-only details of one job.
struct JobProgress {
  struct Target {
    absl::Time last_request = absl::InfinitePast();
    absl::Time last_progress = absl::InfinitePast();
    uint64_t last_bytes = 0;
    std::string last_state;
  };
  std::map<std::pair<std::string, std::string>, Target> targets;  // (digest, host)
  absl::Time no_seed_since = absl::InfinitePast();
  // Aggregate rate over the goal copies, smoothed.
  uint64_t last_done = 0;
  absl::Time last_sample = absl::InfinitePast();
  double rate_bps = 0;
};

// Which (host, digest) copies other active jobs still need; cancel leaves them running.
using StillNeeded =
    std::function<bool(const std::string& host_id, const std::string& digest, TargetRole role)>;

class JobRunner {
 public:
  JobRunner(JobSwarm& swarm, Clock& clock, JobRunnerOptions options);

  // One pass over a pending or running job.
  void Advance(Job& job, JobProgress& progress,
               const absl::flat_hash_map<std::string, v1::HostStatus>& hosts, JobChanges& changes);
  // Stops the job's copies everywhere (except those `still_needed`) and marks
  // the job and its unfinished copies cancelled.
  void Cancel(Job& job, const StillNeeded& still_needed, JobChanges& changes);

  // Totals over the goal copies: bytes promised, bytes there.
  static std::pair<uint64_t, uint64_t> Totals(const Job& job);

 private:
  // Starts (or continues) one blob; false when it must wait (no seed decided yet).
  bool PlaceSeed(Job& job, size_t bi, JobProgress& progress, JobChanges& changes);
  void AdvanceTarget(Job& job, size_t bi, size_t ti, JobProgress& progress,
                     const absl::flat_hash_map<std::string, v1::HostStatus>& hosts,
                     const std::optional<BlobSnapshot>& snapshot, uint32_t& running_peers,
                     JobChanges& changes);
  void Finish(JobTarget& t, JobState state, std::string error);
  void Settle(Job& job, JobChanges& changes);
  void SampleRate(const Job& job, JobProgress& progress);
  v1::FetchBlobTask TaskFor(const Job& job, const JobBlob& blob) const;

  JobSwarm& swarm_;
  Clock& clock_;
  const JobRunnerOptions options_;
  const absl::Time started_at_;
};

}  // namespace shoal
