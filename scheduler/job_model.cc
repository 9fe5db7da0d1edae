#include "scheduler/job_model.h"

namespace shoal {

const char* JobStateName(JobState state) {
  switch (state) {
    case JobState::kPending:
      return "pending";
    case JobState::kRunning:
      return "running";
    case JobState::kSucceeded:
      return "succeeded";
    case JobState::kFailed:
      return "failed";
    case JobState::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

std::optional<JobState> ParseJobState(absl::string_view name) {
  for (JobState s : {JobState::kPending, JobState::kRunning, JobState::kSucceeded,
                     JobState::kFailed, JobState::kCancelled}) {
    if (name == JobStateName(s)) return s;
  }
  return std::nullopt;
}

const char* TargetRoleName(TargetRole role) { return role == TargetRole::kSeed ? "seed" : "peer"; }

JobTarget* JobBlob::FindTarget(const std::string& host_id) {
  for (JobTarget& t : targets) {
    if (t.host_id == host_id) return &t;
  }
  return nullptr;
}

bool JobBlob::Settled() const {
  bool any_goal = false;
  for (const JobTarget& t : targets) {
    if (!t.goal) continue;
    any_goal = true;
    if (!IsTerminal(t.state)) return false;
  }
  // A seeds-only blob has no goal until its seed is chosen.
  return any_goal;
}

JobBlob* Job::FindBlob(const std::string& digest) {
  for (JobBlob& b : blobs) {
    if (b.digest == digest) return &b;
  }
  return nullptr;
}

}  // namespace shoal
