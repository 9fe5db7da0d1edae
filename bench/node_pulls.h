// Every node fetching every blob at the same moment, the way a cluster rolling out
// an image does: one thread per (node, blob), each inside its node's network
// namespace so the bytes cross that node's shaped link, started together. Bodies
// are hashed as they stream in (nothing is written to disk), so "the node got the
// blob" means the right size and the right sha256, not just a 200.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "bench/progress.h"
#include "bench/report.h"

namespace shoal::bench {

struct NodePullPlan {
  std::string node_name;          // "node-3"
  std::string netns;              // where its requests come from
  std::vector<std::string> urls;  // one per blob, in the order of the blob list
};

struct PullOptions {
  absl::Duration deadline = absl::Hours(1);  // per request, from the common start
  // A request that receives nothing for this long fails (a mirror may hold the
  // first byte back while the swarm starts, so this is generous).
  absl::Duration stall_timeout = absl::Minutes(3);
  const std::atomic<bool>* cancel = nullptr;  // Ctrl-C
  std::string user_agent = "shoal-bench";
  TransferMeter* meter = nullptr;  // optional progress
  absl::Time* started = nullptr;   // optional: receives the common start time
};

// Node outcomes in plan order; `seconds` is set when every blob arrived intact and
// is the time from the common start until the node's last blob finished.
std::vector<NodeOutcome> PullOnAllNodes(const std::vector<NodePullPlan>& plans,
                                        const std::vector<ImageInfo::Blob>& blobs,
                                        const PullOptions& options);

}  // namespace shoal::bench
