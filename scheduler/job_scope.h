// Which hosts a preheat job fills. Written as one string in the API:
//   seeds                  the seeds only (each blob on the seed its digest hashes to)
//   all-peers              every live peer
//   hosts:ID[,ID...]       these peers (each must be registered and alive)
//   KEY=VALUE[,KEY=VALUE]  live peers whose labels match every pair (a label selector)
// The target peers are fixed when the job is created, so a restart or a peer
// joining later does not change what the job promised.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "shoal/v1/scheduler.pb.h"

namespace shoal {

struct JobScope {
  enum class Kind { kSeeds, kAllPeers, kHosts, kLabels };
  Kind kind = Kind::kAllPeers;
  std::vector<std::string> hosts;             // kHosts, in the order given, no duplicates
  std::map<std::string, std::string> labels;  // kLabels

  std::string Canonical() const;  // sorted, normalised text (the idempotency key uses it)
};

// Empty text means all-peers. ApiError "invalid_scope" naming the problem.
absl::StatusOr<JobScope> ParseJobScope(absl::string_view text);

// The peers the scope names among `hosts` (ListHosts). ApiError "unknown_host"
// for a listed host that is not a registered live peer, "no_targets" when a
// peer scope matches no live peer, or "no_seeds" for seeds with none alive.
absl::StatusOr<std::vector<std::string>> ResolveScopeTargets(
    const JobScope& scope, const std::vector<v1::HostStatus>& hosts);

}  // namespace shoal
