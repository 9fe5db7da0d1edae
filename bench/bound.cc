#include "bench/bound.h"

namespace shoal::bench {

PhysicalBound ComputeBound(const BoundInputs& in) {
  PhysicalBound b;
  const double bits = static_cast<double>(in.image_bytes) * 8.0;
  const double n = static_cast<double>(in.nodes);
  b.origin_seconds = bits / static_cast<double>(in.origin_upload_bps);
  b.node_seconds = bits / static_cast<double>(in.node_download_bps);
  b.swarm_seconds =
      n * bits /
      (static_cast<double>(in.origin_upload_bps) + n * static_cast<double>(in.node_upload_bps));
  b.seconds = b.origin_seconds;
  b.binding = "origin uplink";
  if (b.node_seconds > b.seconds) {
    b.seconds = b.node_seconds;
    b.binding = "node downlink";
  }
  if (b.swarm_seconds > b.seconds) {
    b.seconds = b.swarm_seconds;
    b.binding = "total upload";
  }
  return b;
}

}  // namespace shoal::bench
