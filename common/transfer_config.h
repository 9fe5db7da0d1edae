// One timeout model for every transfer (DESIGN.md "Timeouts and retries"):
// a chunk or segment fails when no byte arrives for stall_timeout, or when its
// deadline base + bytes / min_rate passes. libtorrent's timeouts and the
// scheduler's "segment made no progress" check derive from the same values.
#pragma once

#include <cstdint>

#include "absl/time/time.h"

namespace shoal {

struct TransferConfig {
  // Origin fetch.
  uint64_t chunk_size = 8ull << 20;  // ranged GET unit; divides segment_size
  uint32_t origin_concurrency = 4;   // parallel ranged GETs per blob
  absl::Duration stall_timeout = absl::Seconds(30);
  absl::Duration deadline_base = absl::Seconds(30);
  uint64_t min_rate = 256ull << 10;  // bytes/s a chunk must at least average
  // Retries.
  uint32_t max_attempts = 10;  // per chunk; 0 = unlimited
  absl::Duration backoff_initial = absl::Milliseconds(500);
  absl::Duration backoff_max = absl::Seconds(30);
  // Cutting blobs.
  uint64_t segment_size = 64ull << 20;
  uint32_t piece_size = 4u << 20;
  uint64_t piece_size_bytes = 4u << 20;  // as configured; validated into piece_size

  // Deadline for moving `bytes` in one request.
  absl::Duration DeadlineFor(uint64_t bytes) const {
    return deadline_base +
           absl::Seconds(static_cast<double>(bytes) / static_cast<double>(min_rate));
  }
  // libtorrent: a piece request must be answered within the time one piece takes at
  // min_rate (plus the stall budget), so big pieces never hit a fixed short timeout.
  int PeerRequestTimeoutSeconds() const {
    return static_cast<int>(absl::ToInt64Seconds(stall_timeout) + piece_size / min_rate + 1);
  }
  int PeerInactivityTimeoutSeconds() const {
    return static_cast<int>(absl::ToInt64Seconds(stall_timeout) * 2);
  }
  // The scheduler: a preheat copy that reports no new bytes for this long has
  // failed. A whole segment may take its deadline at min_rate before it counts
  // (peers report verified pieces, seeds durable chunks), plus one stall and one
  // backoff before the retry moves again. Defaults: 30 + 286 + 30 s = 5m46s.
  absl::Duration NoProgressTimeout() const {
    return stall_timeout + DeadlineFor(segment_size) + backoff_max;
  }
};

}  // namespace shoal
