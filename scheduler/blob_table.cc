#include "scheduler/blob_table.h"

#include <algorithm>

namespace shoal {

const char* HostBlobPhaseName(HostBlobPhase phase) {
  switch (phase) {
    case HostBlobPhase::kWaiting:
      return "waiting";
    case HostBlobPhase::kDownloading:
      return "downloading";
    case HostBlobPhase::kFetchingOrigin:
      return "fetching-origin";
    case HostBlobPhase::kHolding:
      return "holding";
    case HostBlobPhase::kDone:
      return "done";
    case HostBlobPhase::kFailed:
      return "failed";
    case HostBlobPhase::kLeft:
      return "left";
  }
  return "unknown";
}

uint64_t HostBlobState::PartialBytes(SegmentIndex k) const {
  auto it = partial.find(k);
  return it == partial.end() ? 0 : it->second;
}

uint64_t BlobEntry::SegmentLength(SegmentIndex k) const {
  if (auto it = segments.find(k); it != segments.end()) return it->second.length();
  if (!layout || layout->segment_size() == 0) return 0;
  uint64_t offset = uint64_t{k} * layout->segment_size();
  if (offset >= layout->size()) return 0;
  return std::min<uint64_t>(layout->segment_size(), layout->size() - offset);
}

HostBlobState* BlobEntry::FindHost(const std::string& host_id) {
  auto it = hosts.find(host_id);
  return it == hosts.end() ? nullptr : &it->second;
}

void BlobEntry::AssignParents(const std::string& child, SegmentIndex k,
                              std::vector<std::string> parents) {
  ReleaseParents(child, k);
  HostBlobState* st = FindHost(child);
  if (st == nullptr) return;
  auto& counts = children_[k];
  for (const auto& p : parents) ++counts[p];
  st->parents[k] = std::move(parents);
}

void BlobEntry::ReleaseParents(const std::string& child, SegmentIndex k) {
  HostBlobState* st = FindHost(child);
  if (st == nullptr) return;
  auto it = st->parents.find(k);
  if (it == st->parents.end()) return;
  auto counts = children_.find(k);
  if (counts != children_.end()) {
    for (const auto& p : it->second) {
      auto c = counts->second.find(p);
      if (c != counts->second.end() && --c->second == 0) counts->second.erase(c);
    }
    if (counts->second.empty()) children_.erase(counts);
  }
  st->parents.erase(it);
}

void BlobEntry::ReleaseAllParents(const std::string& child) {
  HostBlobState* st = FindHost(child);
  if (st == nullptr) return;
  std::vector<SegmentIndex> ks;
  for (const auto& [k, set] : st->parents) ks.push_back(k);
  for (SegmentIndex k : ks) ReleaseParents(child, k);
}

uint32_t BlobEntry::Children(SegmentIndex k, const std::string& parent) const {
  auto counts = children_.find(k);
  if (counts == children_.end()) return 0;
  auto c = counts->second.find(parent);
  return c == counts->second.end() ? 0 : c->second;
}

std::vector<std::pair<std::string, SegmentIndex>> BlobEntry::ChildrenOf(
    const std::string& parent) const {
  std::vector<std::pair<std::string, SegmentIndex>> out;
  for (const auto& [child, st] : hosts) {
    for (const auto& [k, set] : st.parents) {
      if (std::find(set.begin(), set.end(), parent) != set.end()) out.emplace_back(child, k);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

BlobEntry* BlobTable::Find(const std::string& digest) {
  auto it = blobs_.find(digest);
  return it == blobs_.end() ? nullptr : &it->second;
}

BlobEntry& BlobTable::GetOrCreate(const v1::BlobRef& ref, absl::Time now) {
  auto [it, inserted] = blobs_.try_emplace(ref.digest());
  if (inserted) {
    it->second.ref = ref;
    it->second.last_activity = now;
  }
  return it->second;
}

void BlobTable::ForgetIdle(absl::Time idle_since) {
  absl::erase_if(blobs_, [&](const auto& kv) {
    const BlobEntry& b = kv.second;
    if (!b.fetcher.empty() || !b.origin_grants.empty() || b.last_activity > idle_since)
      return false;
    for (const auto& [id, st] : b.hosts) {
      if (st.connected()) return false;
    }
    return true;
  });
}

BlobSnapshot BlobTable::Snapshot(const BlobEntry& b) const {
  BlobSnapshot s;
  s.ref = b.ref;
  if (b.layout) {
    s.size = b.layout->size();
    s.segment_count = b.layout->segment_count();
  }
  s.segments_known = static_cast<uint32_t>(b.segments.size());
  s.fetcher = b.fetcher;
  s.upstream_failure = b.upstream_failure;
  for (const auto& [id, st] : b.hosts) {
    HostBlobSnapshot h;
    h.host_id = id;
    h.state = HostBlobPhaseName(st.phase);
    h.connected = st.connected();
    // Segment reports and blob_progress can each run ahead; show the larger.
    uint64_t from_segments = 0;
    if (st.verified) {
      from_segments = s.size;
    } else {
      for (SegmentIndex k : st.complete) from_segments += b.SegmentLength(k);
      for (const auto& [k, bytes] : st.partial) from_segments += bytes;
    }
    h.bytes_done = std::max(st.bytes_done, from_segments);
    h.rate_bps = st.rate_bps;
    h.error = st.error;
    h.job_id = st.job_id;
    h.finished_at = st.finished_at;
    s.hosts.push_back(std::move(h));
  }
  return s;
}

}  // namespace shoal
