// What the scheduler knows about each blob: its origin reference, layout and
// segment metadata (torrents), which seed fetches it, which peers went to the
// origin for it, and per host what it wants, holds and did (the job runner
// reads the latter as per-blob per-host progress). Parent assignments are kept
// here too, with per-segment child counts, so the children bound is O(1) to
// check. Plain data plus bookkeeping; the SwarmCoordinator decides.
// Not thread-safe: the SwarmCoordinator owns it under its mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/time/time.h"
#include "common/segment_plan.h"
#include "scheduler/stream_sink.h"

namespace shoal {

enum class HostBlobPhase {
  kWaiting,         // wants the blob, nothing arrived yet
  kDownloading,     // wants it and reports progress
  kFetchingOrigin,  // the seed fetching it, or a peer told to go to the origin
  kHolding,         // announces what it holds without wanting more
  kDone,            // holds the whole blob, digest verified
  kFailed,          // reported failure (error says why)
  kLeft,            // its stream ended before done or failed
};
const char* HostBlobPhaseName(HostBlobPhase phase);

// One host's relation to one blob. Survives the stream (for job status); only a
// connected state counts as a parent candidate.
struct HostBlobState {
  uint64_t stream_id = 0;  // 0 once the stream ended
  std::shared_ptr<AnnounceSink> sink;
  bool want = false;
  bool verified = false;
  std::string job_id;
  HostBlobPhase phase = HostBlobPhase::kWaiting;
  std::string error;
  absl::flat_hash_set<SegmentIndex> complete;
  absl::flat_hash_map<SegmentIndex, uint64_t> partial;  // bytes of segments in progress
  uint64_t bytes_done = 0;                              // as last reported (blob_progress)
  uint64_t rate_bps = 0;
  absl::Time opened_at;
  absl::Time last_activity;
  // When it last reported done or failed (a job tells a fresh result from an old one).
  absl::Time finished_at = absl::InfinitePast();
  absl::flat_hash_map<std::string, absl::Time> bad_parents;  // parent id -> avoided until
  absl::flat_hash_map<SegmentIndex, std::vector<std::string>> parents;  // current sets

  bool connected() const { return sink != nullptr; }
  bool Holds(SegmentIndex k) const { return verified || complete.contains(k); }
  uint64_t PartialBytes(SegmentIndex k) const;
  // Connected, wants the blob, and does not hold segment k yet.
  bool Wants(SegmentIndex k) const { return connected() && want && !Holds(k); }
  bool WantsBlob() const { return connected() && want && !verified; }
};

struct BlobEntry {
  v1::BlobRef ref;
  std::optional<v1::BlobLayout> layout;
  std::string layout_from;  // host that reported the layout
  std::map<SegmentIndex, v1::SegmentMeta> segments;
  // The seed told to fetch it from the origin (empty: none).
  std::string fetcher;
  absl::Time fetch_started;
  // Peers told to go to the origin, with their last activity (stall detection).
  absl::flat_hash_map<std::string, absl::Time> origin_grants;
  // Granted peers that went silent: not granted again until they re-open.
  absl::flat_hash_set<std::string> origin_stalled;
  std::string upstream_failure;  // last seed failure, empty when none
  absl::Time upstream_failed_at;
  // Credentials a job gave for the origin; handed to whichever seed fetches it.
  // Never logged.
  v1::RegistryAuth auth;
  // The seed whose fetch a job cancelled: its coming "failed" is no upstream failure.
  std::string cancelled_fetcher;
  std::map<std::string, HostBlobState> hosts;  // ordered: deterministic broadcasts
  absl::Time last_activity;

  uint32_t segment_count() const { return layout ? layout->segment_count() : 0; }
  bool AllSegmentsKnown() const { return layout && segments.size() == layout->segment_count(); }
  uint64_t SegmentLength(SegmentIndex k) const;
  HostBlobState* FindHost(const std::string& host_id);

  // Parent bookkeeping: the child's set for segment k and the per-parent counts.
  void AssignParents(const std::string& child, SegmentIndex k, std::vector<std::string> parents);
  void ReleaseParents(const std::string& child, SegmentIndex k);
  void ReleaseAllParents(const std::string& child);
  uint32_t Children(SegmentIndex k, const std::string& parent) const;
  // Children (child id, segment) whose current set includes `parent`.
  std::vector<std::pair<std::string, SegmentIndex>> ChildrenOf(const std::string& parent) const;

 private:
  absl::flat_hash_map<SegmentIndex, absl::flat_hash_map<std::string, uint32_t>> children_;
};

// Progress of one host on one blob, as the job runner and status APIs see it.
struct HostBlobSnapshot {
  std::string host_id;
  std::string state;  // HostBlobPhaseName
  bool connected = false;
  uint64_t bytes_done = 0;
  uint64_t rate_bps = 0;
  std::string error;
  std::string job_id;
  absl::Time finished_at = absl::InfinitePast();  // last done/failed report
};

struct BlobSnapshot {
  v1::BlobRef ref;
  uint64_t size = 0;  // 0 until the layout is known
  uint32_t segment_count = 0;
  uint32_t segments_known = 0;
  std::string fetcher;
  std::string upstream_failure;
  std::vector<HostBlobSnapshot> hosts;
};

class BlobTable {
 public:
  BlobEntry* Find(const std::string& digest);
  BlobEntry& GetOrCreate(const v1::BlobRef& ref, absl::Time now);
  // Entries nobody announces, fetches or went to the origin for since `idle_since`.
  void ForgetIdle(absl::Time idle_since);
  BlobSnapshot Snapshot(const BlobEntry& entry) const;

  template <typename F>
  void ForEach(F&& f) {
    for (auto& [digest, entry] : blobs_) f(digest, entry);
  }
  size_t size() const { return blobs_.size(); }

 private:
  absl::node_hash_map<std::string, BlobEntry> blobs_;  // by digest; stable addresses
};

}  // namespace shoal
