// SwarmCoordinator: parent sets. A child gets a set per segment when the
// segment's metadata reaches it; sets are recomputed when the child asks or
// reports a bad parent, repaired when a parent leaves, and extended (fan-out)
// when a host gets the first bytes of a segment or completes it, which moves
// children off overloaded parents so the swarm grows as a tree.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "scheduler/parent_selector.h"
#include "scheduler/swarm_coordinator.h"

namespace shoal {
namespace {

std::string Label(const HostRecord* r, const char* key) {
  if (r == nullptr) return "";
  auto it = r->info.labels().find(key);
  return it == r->info.labels().end() ? "" : it->second;
}

}  // namespace

std::vector<std::string> SwarmCoordinator::ComputeParents(BlobEntry& b, const std::string& child,
                                                          SegmentIndex k) {
  HostBlobState& st = b.hosts[child];
  absl::Time now = clock_.Now();
  absl::erase_if(st.bad_parents, [&](const auto& kv) { return kv.second <= now; });

  const HostRecord* child_rec = hosts_.Find(child);
  ParentQuery query;
  query.child_id = child;
  query.zone = Label(child_rec, "zone");
  query.rack = Label(child_rec, "rack");
  for (const auto& [parent, until] : st.bad_parents) query.bad_parents.insert(parent);

  std::vector<ParentCandidate> candidates;
  for (const auto& [id, h] : b.hosts) {
    if (id == child || !h.connected()) continue;
    bool complete = h.Holds(k);
    uint64_t bytes = complete ? b.SegmentLength(k) : h.PartialBytes(k);
    if (!complete && bytes == 0) continue;
    const HostRecord* rec = hosts_.Find(id);
    if (rec == nullptr) continue;
    ParentCandidate c;
    c.host_id = id;
    c.is_seed = rec->info.role() == v1::HOST_ROLE_SEED;
    c.alive = hosts_.IsAlive(id);
    c.complete = complete;
    c.bytes = bytes;
    c.zone = Label(rec, "zone");
    c.rack = Label(rec, "rack");
    c.children = b.Children(k, id);
    candidates.push_back(std::move(c));
  }
  ParentLimits limits{policy_.max_children_per_parent, policy_.parents_per_segment};
  return SelectParents(query, std::move(candidates), limits);
}

size_t SwarmCoordinator::SendParents(BlobEntry& b, const std::string& child, SegmentIndex k) {
  // The child's own current assignment must not count against its parents.
  b.ReleaseParents(child, k);
  std::vector<std::string> parents = ComputeParents(b, child, k);
  size_t n = parents.size();
  b.AssignParents(child, k, std::move(parents));
  SendParentSet(b, child, k);
  return n;
}

void SwarmCoordinator::SendParentSet(BlobEntry& b, const std::string& child, SegmentIndex k) {
  HostBlobState* st = b.FindHost(child);
  if (st == nullptr || !st->connected()) return;
  v1::AnnounceResponse m;
  v1::ParentSet* set = m.mutable_parents();
  set->set_segment_index(k);
  auto it = st->parents.find(k);
  if (it != st->parents.end()) {
    for (const auto& id : it->second) {
      const HostRecord* rec = hosts_.Find(id);
      if (rec == nullptr) continue;
      v1::Parent* p = set->add_parents();
      p->set_host_id(id);
      p->set_ip(rec->info.ip());
      p->set_port(rec->info.data_port());
    }
  }
  log_->debug("blob {} segment {}: parents for {}: {}", b.ref.digest().substr(7, 12), k, child,
              set->parents_size());
  st->sink->Send(m);
}

void SwarmCoordinator::FanOut(BlobEntry& b, const std::string& holder, SegmentIndex k) {
  if (!b.segments.contains(k)) return;  // nobody can join the segment's swarm yet
  HostBlobState* hst = b.FindHost(holder);
  if (hst == nullptr || !hst->connected() || !hosts_.IsAlive(holder)) return;
  const uint32_t bound = policy_.max_children_per_parent;
  if (b.Children(k, holder) >= bound) return;

  const HostRecord* holder_rec = hosts_.Find(holder);
  ParentCandidate as_candidate;
  as_candidate.zone = Label(holder_rec, "zone");
  as_candidate.rack = Label(holder_rec, "rack");
  absl::Time now = clock_.Now();

  struct Needy {
    std::string child;
    size_t parents;
    std::string overloaded;  // the parent to replace, empty when there is room
    int locality;
  };
  std::vector<Needy> needy;
  for (auto& [child, st] : b.hosts) {
    if (child == holder || !st.Wants(k) || !hosts_.IsAlive(child)) continue;
    if (auto bad = st.bad_parents.find(holder); bad != st.bad_parents.end() && bad->second > now) {
      continue;
    }
    std::vector<std::string> current;
    if (auto it = st.parents.find(k); it != st.parents.end()) current = it->second;
    if (std::find(current.begin(), current.end(), holder) != current.end()) continue;
    std::string overloaded;
    uint32_t worst = bound;
    for (const auto& p : current) {
      if (b.Children(k, p) > worst) {
        worst = b.Children(k, p);
        overloaded = p;
      }
    }
    if (overloaded.empty() && current.size() >= policy_.parents_per_segment) continue;
    const HostRecord* rec = hosts_.Find(child);
    ParentQuery q;
    q.zone = Label(rec, "zone");
    q.rack = Label(rec, "rack");
    needy.push_back({child, current.size(), overloaded, LocalityScore(q, as_candidate)});
  }
  // Children with the fewest parents first, then those stuck on an overloaded
  // parent, then the holder's neighbours.
  std::sort(needy.begin(), needy.end(), [](const Needy& a, const Needy& b) {
    return std::make_tuple(a.parents, a.overloaded.empty(), -a.locality, a.child) <
           std::make_tuple(b.parents, b.overloaded.empty(), -b.locality, b.child);
  });
  for (const Needy& n : needy) {
    if (b.Children(k, holder) >= bound) break;
    std::vector<std::string> set = b.hosts[n.child].parents[k];
    if (!n.overloaded.empty()) {
      std::replace(set.begin(), set.end(), n.overloaded, holder);
    } else {
      set.push_back(holder);
    }
    b.AssignParents(n.child, k, std::move(set));
    SendParentSet(b, n.child, k);
  }
}

void SwarmCoordinator::ReparentChildrenOf(BlobEntry& b, const std::string& host) {
  for (const auto& [child, k] : b.ChildrenOf(host)) {
    HostBlobState* st = b.FindHost(child);
    if (st != nullptr && st->Wants(k)) {
      SendParents(b, child, k);
    } else {
      b.ReleaseParents(child, k);
    }
  }
}

}  // namespace shoal
