// One blob on its way onto this node. Joins the blob's swarm through the
// scheduler (announce stream: layout, segment metadata, parents), adds each
// segment torrent to the node's libtorrent session as its metadata arrives,
// hashes the blob's contiguous prefix as pieces land (so readers can stream it
// in order), and marks the cache entry verified only when the sha256 matches.
// Each piece is checked against the blob's digest on its own, from the SHA-256
// chaining states in the segment metadata (common/piece_chain.h): libtorrent's
// piece check runs that instead of SHA-1, so bytes are hashed once, as they land. Falls back to the
// origin when the scheduler says so, is unreachable, or the seed failed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/blob_store.h"
#include "common/daemon_config.h"
#include "common/hashing.h"
#include "common/piece_chain.h"
#include "common/logging.h"
#include "common/scheduler_client.h"
#include "common/segment_plan.h"
#include "common/segment_reader.h"
#include "common/torrent_engine.h"
#include "peer/blob_provider.h"

namespace shoal {

// What a download needs from the node; owned by the provider.
struct PeerContext {
  DaemonConfig config;
  BlobStore* store = nullptr;
  TorrentEngine* engine = nullptr;
  std::shared_ptr<grpc::Channel> channel;
  v1::Scheduler::Stub* stub = nullptr;
  RegistryCredentials default_creds;
  // Registers info-hash -> download so engine events reach it.
  std::function<void(const std::string& info_hash, const BlobDigest& digest)> route_segment;
};

class BlobDownload : public BlobTransfer, public std::enable_shared_from_this<BlobDownload> {
 public:
  BlobDownload(PeerContext* ctx, BlobRequest request, std::string job_id,
               RegistryCredentials creds);
  ~BlobDownload() override;

  void Start();
  void Cancel(const std::string& reason);
  void Join();
  bool finished() const;  // verified or failed
  absl::Status result() const;
  const BlobDigest& digest() const { return request_.digest; }

  // BlobTransfer
  absl::StatusOr<uint64_t> WaitForSize(absl::Duration timeout) override;
  absl::StatusOr<uint64_t> WaitReadable(uint64_t want_end, absl::Duration timeout) override;
  absl::StatusOr<size_t> Read(uint64_t offset, char* buf, size_t len) override;

  // Engine events (called on the engine's owner thread; only record and wake).
  void OnPieceFinished(const std::string& info_hash, int piece);
  void OnTorrentFinished(const std::string& info_hash);
  void OnPeerBanned(const std::string& info_hash, const std::string& ip, int port);
  void OnStorageError(const std::string& info_hash, const std::string& error);
  // Drops this blob's segment torrents from the engine (its cache entry was
  // discarded; a fresh download replaces this one).
  void ReleaseTorrents();
  // The scheduler came back: reopen the announce stream.
  void Reconnect();

 private:
  struct Segment {
    std::string info_hash;
    bool added = false;
    bool standby = false;  // added and connected, waiting for a slot in the window
    bool finished = false;
    bool have_sent = false;
    std::vector<bool> pieces;  // held, in the file
    std::optional<SegmentChain> chain;  // from the metadata, once it arrived
  };

  void Run();
  bool RunSwarm();  // false: fall back to the origin (fallback_reason_ says why)
  void RunOrigin(const std::string& why);
  void OpenStream();
  void OnMessage(const v1::AnnounceResponse& resp);
  void ApplyLayout(const v1::BlobLayout& layout);  // mu_ held
  void LoadFromDisk();
  void RunHeld(const BlobMeta& meta);
  void AddPendingSegments();
  void ActivateStandbySegments();
  size_t ActiveSegments() const;  // mu_ held
  void AdvanceHash();
  // Every piece matched its link: do the links make one chain from SHA-256's
  // initial state to the digest? mu_ held.
  absl::Status ChainIsWhole() const;
  void Finish(absl::Status status);
  void Send(const v1::AnnounceRequest& req);
  uint64_t ContiguousEnd() const;  // mu_ held
  uint64_t BytesDone() const;      // mu_ held

  PeerContext* ctx_;
  BlobRequest request_;
  std::string job_id_;
  RegistryCredentials creds_;
  std::shared_ptr<spdlog::logger> log_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<SegmentPlan> plan_;
  // Open segment files for Read(); made with the layout, dropped with it.
  std::shared_ptr<SegmentReader> reader_;
  std::vector<Segment> segments_;
  std::deque<v1::SegmentMeta> pending_metas_;
  std::deque<v1::ParentSet> pending_parents_;
  // Worker only: metadata beyond the active window, parents of segments not added yet.
  std::deque<v1::SegmentMeta> deferred_metas_;
  std::deque<v1::ParentSet> deferred_parents_;
  absl::flat_hash_map<std::string, std::string> endpoint_to_host_;  // "ip:port" -> host id
  std::vector<std::string> banned_reports_;                         // "info_hash|ip:port"
  std::string fallback_reason_;
  std::string storage_error_;
  bool stream_closed_ = false;
  bool reconnect_ = false;
  bool pieces_changed_ = false;  // a piece landed since the worker last looked
  // A reported piece that could not be read in full: where, and how many looks so far (worker
  // only).
  uint64_t recheck_offset_ = 0;
  int recheck_fails_ = 0;
  // AdvanceHash stopped after kHashPiecesPerRound pieces read with more to do (worker only).
  bool hash_backlog_ = false;
  static constexpr int kHashPiecesPerRound = 4;
  bool origin_bytes_readable_ = false;  // origin fallback: contiguous_origin_ is readable
  // Fetching from the origin: the fetcher owns the cache entry's layout; a layout
  // the scheduler relays must not Prepare() the entry concurrently (it would wipe
  // the segment files the fetcher just created).
  bool origin_fetch_ = false;
  uint64_t contiguous_origin_ = 0;
  uint64_t hashed_upto_ = 0;
  bool verified_ = false;
  bool done_ = false;
  absl::Status status_;
  std::atomic<bool> cancel_{false};

  // A piece held from before (resume data, found on disk) failed its chain check.
  std::string chain_mismatch_;     // worker thread only
  std::vector<char> hash_buffer_;  // worker thread only: one piece, reused
  std::unique_ptr<AnnounceStream> stream_;  // worker thread only (Send locks stream_mu_)
  std::mutex stream_mu_;
  std::thread worker_;
};

}  // namespace shoal
