// The physical lower bound on distributing F bytes from one origin to N nodes
// (Kumar & Ross, "Peer-assisted file distribution: the minimum distribution time",
// 2006): no system can beat
//   T = max(F / u_origin, F / d_node, N·F / (u_origin + N·u_node))
// — the origin must send every byte at least once, every node must receive every
// byte, and all N copies must be uploaded by someone. Rates are in bits/s.
#pragma once

#include <cstdint>
#include <string>

namespace shoal::bench {

struct BoundInputs {
  uint64_t image_bytes = 0;  // F
  uint32_t nodes = 0;        // N
  uint64_t origin_upload_bps = 0;
  uint64_t node_download_bps = 0;
  uint64_t node_upload_bps = 0;
};

struct PhysicalBound {
  double origin_seconds = 0;  // F / u_origin
  double node_seconds = 0;    // F / d_node
  double swarm_seconds = 0;   // N·F / (u_origin + N·u_node)
  double seconds = 0;         // the max of the three
  // Which term binds: "origin uplink", "node downlink" or "total upload".
  std::string binding;
};

PhysicalBound ComputeBound(const BoundInputs& in);

}  // namespace shoal::bench
