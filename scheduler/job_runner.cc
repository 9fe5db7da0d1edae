#include "scheduler/job_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "scheduler/human_units.h"

namespace shoal {
namespace {

std::string Short(const std::string& digest) {
  return digest.size() > 19 ? digest.substr(7, 12) : digest;
}

bool Started(const JobBlob& b) {
  for (const JobTarget& t : b.targets) {
    if (t.requested_at != absl::InfinitePast()) return true;
  }
  return false;
}

const HostBlobSnapshot* FindHost(const std::optional<BlobSnapshot>& snap, const std::string& id) {
  if (!snap) return nullptr;
  for (const HostBlobSnapshot& h : snap->hosts) {
    if (h.host_id == id) return &h;
  }
  return nullptr;
}

}  // namespace

JobRunner::JobRunner(JobSwarm& swarm, Clock& clock, JobRunnerOptions options)
    : swarm_(swarm), clock_(clock), options_(options), started_at_(clock.Now()) {}

v1::FetchBlobTask JobRunner::TaskFor(const Job& job, const JobBlob& blob) const {
  v1::FetchBlobTask task;
  task.mutable_blob()->set_digest(blob.digest);
  task.mutable_blob()->set_registry(job.spec.registry);
  task.mutable_blob()->set_repository(job.spec.repository);
  task.mutable_auth()->set_username(job.spec.credentials.username);
  task.mutable_auth()->set_password(job.spec.credentials.password);
  task.set_job_id(job.id);
  return task;
}

void JobRunner::Finish(JobTarget& t, JobState state, std::string error) {
  t.state = state;
  t.error = std::move(error);
  t.rate_bps = 0;
  t.finished_at = clock_.Now();
}

std::pair<uint64_t, uint64_t> JobRunner::Totals(const Job& job) {
  uint64_t total = 0, done = 0;
  for (const JobBlob& b : job.blobs) {
    for (const JobTarget& t : b.targets) {
      if (!t.goal) continue;
      total += b.size;
      done += std::min(t.bytes_done, b.size);
    }
  }
  return {total, done};
}

bool JobRunner::PlaceSeed(Job& job, size_t bi, JobProgress& progress, JobChanges& changes) {
  JobBlob& blob = job.blobs[bi];
  for (const JobTarget& t : blob.targets) {
    if (t.role == TargetRole::kSeed) return true;
  }
  const bool seeds_only = job.spec.seeds_only;
  SeedChoice choice = swarm_.ChooseSeed(blob.digest, !seeds_only);
  switch (choice.kind) {
    case SeedChoice::Kind::kSeed: {
      JobTarget t;
      t.host_id = choice.seed;
      t.role = TargetRole::kSeed;
      t.goal = seeds_only;
      blob.targets.insert(blob.targets.begin(), t);
      // Indexes of this blob's targets moved: record them all.
      for (size_t ti = 0; ti < blob.targets.size(); ++ti) changes.targets.insert({bi, ti});
      progress.no_seed_since = absl::InfinitePast();
      return true;
    }
    case SeedChoice::Kind::kNotNeeded:
      return true;
    case SeedChoice::Kind::kWait:
      return false;
    case SeedChoice::Kind::kNone:
      if (!seeds_only) return true;  // peers without a seed: the swarm's origin fallback
      if (progress.no_seed_since == absl::InfinitePast()) progress.no_seed_since = clock_.Now();
      if (clock_.Now() - progress.no_seed_since >= options_.no_seed_timeout) {
        job.state = JobState::kFailed;
        job.error =
            absl::StrCat("no live seed for ", absl::FormatDuration(options_.no_seed_timeout),
                         "; a seeds-only job needs a running shoal-seed");
        job.finished_at = clock_.Now();
        changes.job_row = true;
      }
      return false;
  }
  return false;
}

void JobRunner::AdvanceTarget(Job& job, size_t bi, size_t ti, JobProgress& progress,
                              const absl::flat_hash_map<std::string, v1::HostStatus>& hosts,
                              const std::optional<BlobSnapshot>& snapshot, uint32_t& running_peers,
                              JobChanges& changes) {
  JobBlob& blob = job.blobs[bi];
  JobTarget& t = blob.targets[ti];
  if (IsTerminal(t.state)) return;
  const absl::Time now = clock_.Now();
  JobProgress::Target& rt = progress.targets[{blob.digest, t.host_id}];
  auto fail = [&](std::string why) {
    Finish(t, JobState::kFailed, std::move(why));
    changes.targets.insert({bi, ti});
    if (t.role == TargetRole::kPeer && t.requested_at != absl::InfinitePast() &&
        running_peers > 0) {
      --running_peers;
    }
    Logger("jobs")->warn("job {}: blob {} on {} failed: {}", job.id, Short(blob.digest), t.host_id,
                         t.error);
  };

  auto host = hosts.find(t.host_id);
  if (host == hosts.end()) {
    if (now - started_at_ >= options_.host_grace) {
      fail(absl::StrCat("host ", t.host_id, " is not registered with the scheduler (gone for ",
                        absl::FormatDuration(options_.host_grace), " or more)"));
    }
    return;
  }
  if (!host->second.alive()) {
    fail(absl::StrCat("host ", t.host_id, " stopped heartbeating (declared dead) before it had ",
                      "the blob"));
    return;
  }

  // Ask the host: the first time, and again after a restart (the swarm forgot).
  if (rt.last_request == absl::InfinitePast()) {
    const bool first = t.requested_at == absl::InfinitePast();
    if (first && t.role == TargetRole::kPeer && running_peers >= job.spec.host_concurrency) return;
    absl::Status s = swarm_.RequestFetch(t.host_id, TaskFor(job, blob));
    if (absl::IsNotFound(s)) return;  // not registered (yet): the liveness checks decide
    if (!s.ok()) {
      fail(absl::StrCat("cannot ask host ", t.host_id, ": ", s.message()));
      return;
    }
    rt.last_request = now;
    rt.last_progress = now;
    if (first) {
      t.requested_at = now;
      if (t.role == TargetRole::kPeer) ++running_peers;
    }
    t.state = JobState::kRunning;
    changes.targets.insert({bi, ti});
  }

  const HostBlobSnapshot* hs = FindHost(snapshot, t.host_id);
  if (hs == nullptr) {
    if (now - rt.last_request >= options_.resend_after) {
      rt.last_request = absl::InfinitePast();  // asked again next pass
    }
  } else {
    uint64_t bytes = std::min(hs->bytes_done, blob.size);
    if (bytes != rt.last_bytes || hs->state != rt.last_state) rt.last_progress = now;
    rt.last_bytes = bytes;
    rt.last_state = hs->state;
    t.bytes_done = bytes;
    t.rate_bps = hs->rate_bps;
    const bool working = bytes > 0 || hs->state == "downloading" ||
                         hs->state == "fetching-origin" || hs->state == "done";
    if (t.started_at == absl::InfinitePast() && working) {
      t.started_at = now;
      changes.targets.insert({bi, ti});
    }
    const bool fresh = hs->finished_at >= rt.last_request;
    if (hs->state == "done" && (hs->connected || fresh)) {
      t.bytes_done = blob.size;
      Finish(t, JobState::kSucceeded, "");
      changes.targets.insert({bi, ti});
      if (t.role == TargetRole::kPeer && running_peers > 0) --running_peers;
      return;
    }
    if (hs->state == "failed" && fresh) {
      fail(hs->error.empty() ? std::string("the host reported a failure without a reason")
                             : hs->error);
      return;
    }
  }
  if (now - rt.last_progress >= options_.stall_timeout) {
    fail(absl::StrCat("no progress for ", absl::FormatDuration(options_.stall_timeout), " (",
                      HumanBytes(t.bytes_done), " of ", HumanBytes(blob.size), ")"));
  }
}

void JobRunner::Advance(Job& job, JobProgress& progress,
                        const absl::flat_hash_map<std::string, v1::HostStatus>& hosts,
                        JobChanges& changes) {
  if (IsTerminal(job.state)) return;
  if (job.state == JobState::kPending) {
    job.state = JobState::kRunning;
    changes.job_row = true;
    Logger("jobs")->info("job {}: running ({} blobs, scope {})", job.id, job.blobs.size(),
                         job.spec.scope);
  }
  // Small blobs (an image's config, tiny layers) take no concurrency slot: they
  // are over in a round trip, and queued behind the big layers they alone kept a
  // whole job waiting once the layers were done.
  auto takes_slot = [this](const JobBlob& b) { return b.size >= options_.small_blob_bytes; };
  uint32_t in_flight = 0;
  for (const JobBlob& b : job.blobs) {
    if (Started(b) && !b.Settled() && takes_slot(b)) ++in_flight;
  }
  for (size_t bi = 0; bi < job.blobs.size(); ++bi) {
    JobBlob& blob = job.blobs[bi];
    if (blob.Settled()) continue;
    const bool started = Started(blob);
    if (!started && takes_slot(blob) && in_flight >= job.spec.layer_concurrency) continue;
    if (!PlaceSeed(job, bi, progress, changes)) {
      if (IsTerminal(job.state)) return;
      continue;
    }
    if (!started && takes_slot(blob)) ++in_flight;
    std::optional<BlobSnapshot> snapshot = swarm_.GetBlob(blob.digest);
    uint32_t running_peers = 0;
    for (const JobTarget& t : blob.targets) {
      if (t.role == TargetRole::kPeer && t.requested_at != absl::InfinitePast() &&
          !IsTerminal(t.state)) {
        ++running_peers;
      }
    }
    for (size_t ti = 0; ti < blob.targets.size(); ++ti) {
      AdvanceTarget(job, bi, ti, progress, hosts, snapshot, running_peers, changes);
    }
    if (blob.Settled()) {
      if (takes_slot(blob)) --in_flight;  // its slot goes to the next blob in this same pass
      Logger("jobs")->info("job {}: blob {} settled", job.id, Short(blob.digest));
    }
  }
  SampleRate(job, progress);
  Settle(job, changes);
}

void JobRunner::SampleRate(const Job& job, JobProgress& progress) {
  const absl::Time now = clock_.Now();
  uint64_t done = Totals(job).second;
  if (progress.last_sample != absl::InfinitePast()) {
    double secs = absl::ToDoubleSeconds(now - progress.last_sample);
    if (secs < 0.5) return;  // too short a window to mean anything
    double sample = done >= progress.last_done ? (done - progress.last_done) / secs : 0;
    progress.rate_bps = progress.rate_bps == 0 ? sample : 0.7 * progress.rate_bps + 0.3 * sample;
  }
  progress.last_done = done;
  progress.last_sample = now;
}

void JobRunner::Settle(Job& job, JobChanges& changes) {
  if (IsTerminal(job.state)) return;
  size_t goals = 0, failed = 0;
  const JobBlob* first_blob = nullptr;
  const JobTarget* first = nullptr;
  for (const JobBlob& b : job.blobs) {
    if (!b.Settled()) return;
    for (const JobTarget& t : b.targets) {
      if (!t.goal) continue;
      ++goals;
      if (t.state != JobState::kSucceeded) {
        ++failed;
        if (first == nullptr) {
          first = &t;
          first_blob = &b;
        }
      }
    }
  }
  job.state = failed == 0 ? JobState::kSucceeded : JobState::kFailed;
  job.finished_at = clock_.Now();
  if (first != nullptr) {
    job.error =
        absl::StrCat(failed, " of ", goals, " blob copies failed; first: ", first_blob->digest,
                     " on ", first->host_id, ": ", first->error);
  }
  changes.job_row = true;
  auto log = Logger("jobs");
  if (failed == 0) {
    log->info(
        "job {}: succeeded ({} blob copies in {})", job.id, goals,
        absl::FormatDuration(absl::Trunc(job.finished_at - job.created_at, absl::Milliseconds(1))));
  } else {
    log->warn("job {}: failed: {}", job.id, job.error);
  }
}

void JobRunner::Cancel(Job& job, const StillNeeded& still_needed, JobChanges& changes) {
  if (IsTerminal(job.state)) return;
  // Peers first: once they stop wanting a blob, its seed's origin fetch can stop too.
  for (TargetRole role : {TargetRole::kPeer, TargetRole::kSeed}) {
    for (size_t bi = 0; bi < job.blobs.size(); ++bi) {
      JobBlob& blob = job.blobs[bi];
      for (size_t ti = 0; ti < blob.targets.size(); ++ti) {
        JobTarget& t = blob.targets[ti];
        if (t.role != role || IsTerminal(t.state)) continue;
        if (t.requested_at != absl::InfinitePast() && !still_needed(t.host_id, blob.digest, role)) {
          swarm_.CancelFetch(t.host_id, blob.digest, job.id);
        }
        Finish(t, JobState::kCancelled, "cancelled");
        changes.targets.insert({bi, ti});
      }
    }
  }
  job.state = JobState::kCancelled;
  job.error = "cancelled";
  job.finished_at = clock_.Now();
  changes.job_row = true;
  Logger("jobs")->info("job {}: cancelled", job.id);
}

}  // namespace shoal
