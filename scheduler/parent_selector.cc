#include "scheduler/parent_selector.h"

#include <algorithm>
#include <tuple>

namespace shoal {

int LocalityScore(const ParentQuery& q, const ParentCandidate& c) {
  if (q.zone.empty() || q.zone != c.zone) return 0;
  return (!q.rack.empty() && q.rack == c.rack) ? 2 : 1;
}

std::vector<std::string> SelectParents(const ParentQuery& query,
                                       std::vector<ParentCandidate> candidates,
                                       const ParentLimits& limits) {
  std::erase_if(candidates, [&](const ParentCandidate& c) {
    return !c.alive || c.host_id == query.child_id || query.bad_parents.contains(c.host_id) ||
           (!c.complete && c.bytes == 0);
  });
  auto better = [&](const ParentCandidate& a, const ParentCandidate& b) {
    // Larger tuple wins; children and id are negated by swapping sides.
    return std::make_tuple(a.complete, a.bytes, LocalityScore(query, a), b.children, b.host_id) >
           std::make_tuple(b.complete, b.bytes, LocalityScore(query, b), a.children, a.host_id);
  };
  std::sort(candidates.begin(), candidates.end(), better);

  std::vector<std::string> chosen;
  auto take = [&](auto&& eligible) {
    for (const auto& c : candidates) {
      if (chosen.size() >= limits.parents_per_segment) break;
      if (eligible(c)) chosen.push_back(c.host_id);
    }
  };
  take([&](const ParentCandidate& c) { return c.children < limits.max_children_per_parent; });
  if (!chosen.empty()) return chosen;

  // Everyone is at the bound: overload the least-loaded seeds rather than stall the child.
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const ParentCandidate& a, const ParentCandidate& b) {
                     return std::tie(a.complete, b.children) > std::tie(b.complete, a.children);
                   });
  take([](const ParentCandidate& c) { return c.is_seed; });
  if (!chosen.empty()) return chosen;
  take([](const ParentCandidate&) { return true; });
  return chosen;
}

}  // namespace shoal
