// The data of a preheat job: what was asked (spec), what it resolved to (blobs),
// and per blob per host where the copy stands (targets). Plain structs shared by
// the job store (SQLite rows), the runner (which moves targets along) and the
// API (which renders them); no logic beyond names and small helpers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/origin_client.h"

namespace shoal {

// Jobs and per-host copies share one life cycle.
enum class JobState { kPending, kRunning, kSucceeded, kFailed, kCancelled };
const char* JobStateName(JobState state);  // "pending", "running", ...
std::optional<JobState> ParseJobState(absl::string_view name);
inline bool IsTerminal(JobState s) {
  return s == JobState::kSucceeded || s == JobState::kFailed || s == JobState::kCancelled;
}

enum class TargetRole { kSeed, kPeer };
const char* TargetRoleName(TargetRole role);  // "seed", "peer"

struct JobSpec {
  std::string image;      // as the caller wrote it
  std::string reference;  // normalised: registry/repository[:tag][@digest]
  std::string registry;
  std::string repository;
  std::string platform;  // "linux/amd64", ..., or "all"
  std::string scope;     // canonical scope text
  bool seeds_only = false;
  std::vector<std::string> target_hosts;  // peers chosen at creation (empty when seeds_only)
  uint32_t layer_concurrency = 0;
  uint32_t host_concurrency = 0;
  std::string idempotency_key;
  RegistryCredentials credentials;  // never logged, never returned; wiped when the job ends
};

// One host's copy of one blob.
struct JobTarget {
  std::string host_id;
  TargetRole role = TargetRole::kPeer;
  // A seed that fetches the blob for peers is a source, not a goal: the job
  // succeeds when every goal target succeeded.
  bool goal = true;
  JobState state = JobState::kPending;
  uint64_t bytes_done = 0;
  uint64_t rate_bps = 0;
  std::string error;
  absl::Time requested_at = absl::InfinitePast();  // first asked (survives restarts)
  absl::Time started_at = absl::InfinitePast();    // first seen working
  absl::Time finished_at = absl::InfinitePast();
};

struct JobBlob {
  std::string digest;
  uint64_t size = 0;
  std::string media_type;
  std::vector<JobTarget> targets;  // the seed (if any) first

  JobTarget* FindTarget(const std::string& host_id);
  bool Settled() const;  // has goal targets and every one is terminal
};

struct Job {
  std::string id;
  JobSpec spec;
  std::string resolved_digest;
  JobState state = JobState::kPending;
  std::string error;
  std::vector<JobBlob> blobs;
  absl::Time created_at;
  absl::Time finished_at = absl::InfinitePast();

  JobBlob* FindBlob(const std::string& digest);
};

inline int64_t ToUnixMillisOrZero(absl::Time t) {
  return t == absl::InfinitePast() ? 0 : absl::ToUnixMillis(t);
}
inline absl::Time FromUnixMillisOrPast(int64_t ms) {
  return ms == 0 ? absl::InfinitePast() : absl::FromUnixMillis(ms);
}

}  // namespace shoal
