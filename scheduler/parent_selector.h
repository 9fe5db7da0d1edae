// Picks the parents a child downloads one segment from. Pure: the caller
// describes every host that holds some of the segment and this ranks them,
// so the policy is unit tested without streams or clocks.
//
// Policy (DESIGN.md "Parent choice"): a candidate must be alive, not the child,
// not reported bad by the child, and below the per-parent children bound, so a
// segment's swarm fans out as a tree instead of a star on the seed. Ranked by:
// complete before partial, more bytes, same zone/rack as the child, fewer
// children, then id (stable). When that leaves nobody, seeds holding the
// segment are used beyond the bound (then any holder beyond it): a child with
// an overloaded parent still makes progress, and re-parenting moves it to a
// fresh holder as soon as one appears.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"

namespace shoal {

struct ParentCandidate {
  std::string host_id;
  bool is_seed = false;
  bool alive = true;
  bool complete = false;  // holds the whole segment
  uint64_t bytes = 0;     // bytes of the segment held
  std::string zone;
  std::string rack;
  uint32_t children = 0;  // children currently assigned to it for this segment
};

struct ParentQuery {
  std::string child_id;
  std::string zone;
  std::string rack;
  absl::flat_hash_set<std::string> bad_parents;
};

struct ParentLimits {
  uint32_t max_children_per_parent = 6;
  uint32_t parents_per_segment = 4;
};

// Returns up to parents_per_segment host ids, best first.
std::vector<std::string> SelectParents(const ParentQuery& query,
                                       std::vector<ParentCandidate> candidates,
                                       const ParentLimits& limits);

// 2 for same zone and rack, 1 for same zone, 0 otherwise (empty labels never match).
int LocalityScore(const ParentQuery& query, const ParentCandidate& candidate);

}  // namespace shoal
