// The scheduler's brain: hosts and their liveness, task streams, and one
// announce stream per blob per host. It decides who fetches a blob from the
// origin (one seed per blob, chosen by rendezvous hashing; peers only within
// the origin budget when no seed is live), relays segment metadata from the
// fetching host to every wanting host, and hands out per-segment parent sets
// that fan out as a tree (ParentSelector) and are repaired when a parent is
// reported bad, leaves or dies.
//
// Thread-safe: one mutex guards all state. Every method returns without
// blocking on the network: pushing to a stream only queues (StreamSink), so the
// gRPC reactors call it straight from their callbacks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "scheduler/blob_table.h"
#include "scheduler/host_registry.h"
#include "scheduler/scheduler_config.h"
#include "scheduler/stream_sink.h"
#include "scheduler/task_hub.h"

namespace spdlog {
class logger;
}

namespace shoal {

// Which seed should hold a blob for a preheat job.
struct SeedChoice {
  enum class Kind {
    kSeed,       // `seed`: it holds the blob, is fetching it, or the digest hashes to it
    kNotNeeded,  // peers already hold every segment; no origin fetch is needed
    kWait,       // seeds known before a restart have not reconnected yet: ask again shortly
    kNone,       // no live seed with an open task stream
  };
  Kind kind = Kind::kNone;
  std::string seed;
};

class SwarmCoordinator {
 public:
  SwarmCoordinator(const SwarmPolicy& policy, Clock& clock);

  // ---- Hosts ----
  absl::StatusOr<v1::RegisterHostResponse> RegisterHost(const v1::RegisterHostRequest& request);
  v1::HeartbeatResponse Heartbeat(const v1::HeartbeatRequest& request);
  v1::ListHostsResponse ListHosts();

  // ---- Task streams (WatchTasks) ----
  // FailedPrecondition when the host is not registered (it must RegisterHost first).
  absl::StatusOr<uint64_t> OpenTaskStream(const std::string& host_id,
                                          std::shared_ptr<TaskSink> sink);
  void CloseTaskStream(const std::string& host_id, uint64_t stream_id);

  // ---- Announce streams ----
  // The stream's first message. Replies (layout, segments, parents, go_to_origin)
  // are pushed to `sink` before this returns. Errors end the stream.
  absl::StatusOr<uint64_t> OpenAnnounce(const v1::AnnounceOpen& open,
                                        std::shared_ptr<AnnounceSink> sink);
  // Every later message. InvalidArgument for a second `open` or a bad index.
  absl::Status OnAnnounce(uint64_t stream_id, const v1::AnnounceRequest& request);
  // The stream ended (either side). Idempotent.
  void CloseAnnounce(uint64_t stream_id);

  // ---- Time and lifecycle ----
  // Run periodically (every heartbeat interval or so): fails over dead hosts,
  // frees stalled origin-fallback slots, forgets idle blobs and long-dead hosts.
  void Tick();
  // Ends every stream with Unavailable (scheduler shutting down).
  void Shutdown();
  absl::Duration heartbeat_interval() const { return policy_.heartbeat_interval; }

  // ---- For the job runner ----
  // Pushes a FetchBlobTask to a host (a peer gets it via the swarm, a seed from
  // the origin); kept pending until the host reports the blob done or failed.
  // A seed asked this way becomes the blob's fetcher, and the task's
  // credentials go with any later fetch of the blob. Nothing is sent to a host
  // that already announces the whole blob verified. NotFound for an unknown host.
  absl::Status RequestFetch(const std::string& host_id, const v1::FetchBlobTask& task);
  // Withdraws a job's fetch: CancelBlobTask to the host, AnnounceCancel on a
  // wanting peer's stream, and the host no longer counts as wanting the blob.
  // A seed's origin fetch that other hosts still want is left running.
  void CancelFetch(const std::string& host_id, const std::string& digest,
                   const std::string& job_id);
  std::optional<BlobSnapshot> GetBlob(const std::string& digest);
  // The seed for a job's blob (see SeedChoice). for_peers: the blob is wanted
  // on peers, so a swarm that already holds it needs no seed.
  SeedChoice ChooseSeed(const std::string& digest, bool for_peers);
  // After a restart: hold back choosing who fetches from the origin (seed or
  // origin fallback) until these seeds have reconnected, or until `until`, so a
  // seed that was mid-fetch is not replaced and the origin not read twice.
  void ExpectSeeds(std::vector<std::string> seed_ids, absl::Time until);

 private:
  struct StreamBinding {
    std::string digest;
    std::string host_id;
  };

  // swarm_announce.cc: one handler per AnnounceRequest kind.
  absl::Status HandleLayout(BlobEntry& b, const std::string& host, const v1::BlobLayout& layout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status HandleSegmentReady(BlobEntry& b, const std::string& host,
                                  const v1::SegmentMeta& meta) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status HandleHave(BlobEntry& b, const std::string& host, SegmentIndex k)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status HandleProgress(BlobEntry& b, const std::string& host,
                              const v1::SegmentProgress& progress)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleFailure(BlobEntry& b, const std::string& host, const v1::SegmentFailure& failure)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleDone(BlobEntry& b, const std::string& host) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleFailed(BlobEntry& b, const std::string& host, const std::string& reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckIndex(const BlobEntry& b, SegmentIndex k, const char* what) const;
  void SendWelcome(BlobEntry& b, const std::string& host) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // swarm_parents.cc: parent sets, fan-out and repair.
  std::vector<std::string> ComputeParents(BlobEntry& b, const std::string& child, SegmentIndex k)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Computes, records and sends the child's set; returns how many parents it got.
  size_t SendParents(BlobEntry& b, const std::string& child, SegmentIndex k)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SendParentSet(BlobEntry& b, const std::string& child, SegmentIndex k)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `holder` just got (some of) segment k: move needy children onto it.
  void FanOut(BlobEntry& b, const std::string& holder, SegmentIndex k)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `host` is no parent any more: re-parent its children.
  void ReparentChildrenOf(BlobEntry& b, const std::string& host) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // swarm_source.cc: origin protection.
  // Makes sure someone is getting the blob when a host wants it and nobody can
  // serve it: a seed by rendezvous hashing, else peers within the origin budget.
  void EnsureSource(BlobEntry& b) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Servable(const BlobEntry& b) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void GrantOriginFallbacks(BlobEntry& b) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseOriginGrant(BlobEntry& b, const std::string& host) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ExpireStalledGrants() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // True while seeds expected back after a restart are still missing.
  bool AwaitingSeeds() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::vector<std::string> ReadySeeds() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // swarm_coordinator.cc
  void DetachStream(BlobEntry& b, const std::string& host, const absl::Status* close_with)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HostGone(const std::string& host_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Broadcast(BlobEntry& b, const v1::AnnounceResponse& message, bool only_wanting,
                 const std::string& except) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Send(BlobEntry& b, const std::string& host, const v1::AnnounceResponse& message)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Touch(BlobEntry& b, HostBlobState& st) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SwarmPolicy policy_;
  Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;

  absl::Mutex mu_;
  HostRegistry hosts_ ABSL_GUARDED_BY(mu_);
  TaskHub tasks_ ABSL_GUARDED_BY(mu_);
  BlobTable blobs_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, StreamBinding> streams_ ABSL_GUARDED_BY(mu_);
  uint64_t next_stream_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::string> expected_seeds_ ABSL_GUARDED_BY(mu_);
  absl::Time expect_seeds_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace shoal
