// Configuration and counters of the registry mirror (MirrorServer), in their own
// header so the route handlers can share them without including the server.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "common/clock.h"

namespace shoal {

struct MirrorOptions {
  std::string listen = "127.0.0.1:65001";  // host:port; port 0 picks a free one
  std::string default_registry;            // used when a request carries no ?ns=
  // How long a blob request waits for the swarm to learn the blob's size before
  // answering 504. Generous: the first request may have to wait for the scheduler.
  absl::Duration size_timeout = absl::Minutes(5);
  // A stream that makes no progress for this long is aborted (the client retries).
  // Longer than the swarm's own stall_timeout, so re-parenting and origin fallback
  // get their chance first.
  absl::Duration stall_timeout = absl::Minutes(5);
  // Waits are cut into slices this long so Stop() is noticed promptly.
  absl::Duration wait_slice = absl::Milliseconds(500);
  // Socket write timeout towards the client.
  absl::Duration write_timeout = absl::Seconds(30);
  // One thread per connection being served; streams hold theirs while they wait.
  int worker_threads = 64;
  Clock* clock = &Clock::Real();
};

// Shared by the handlers; read through MirrorServer::counters().
struct MirrorStats {
  std::atomic<uint64_t> blob_bytes_served{0};
  std::atomic<uint64_t> blobs_served_from_cache{0};
  std::atomic<uint64_t> blobs_served_streaming{0};
  std::atomic<uint64_t> manifest_requests{0};
  std::atomic<uint64_t> errors{0};  // error answers and aborted streams
};

}  // namespace shoal
