// The peer's BlobProvider: one BlobDownload per digest, shared by every mirror
// request and preheat task for that blob; routes libtorrent events to the
// download that owns the segment.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "peer/blob_download.h"
#include "peer/blob_provider.h"

namespace shoal {

class SwarmBlobProvider : public BlobProvider {
 public:
  explicit SwarmBlobProvider(PeerContext context);
  ~SwarmBlobProvider() override;

  // Must be set before the first Acquire (the engine needs our events first).
  void Attach(TorrentEngine* engine, v1::Scheduler::Stub* stub);
  TorrentEvents MakeEvents();

  absl::StatusOr<std::shared_ptr<BlobTransfer>> Acquire(const BlobRequest& request) override;
  // Preheat: get the blob into the cache (a FetchBlobTask sent to this peer).
  void Prefetch(const v1::FetchBlobTask& task);
  void Cancel(const std::string& digest, const std::string& reason);
  // The scheduler is (back) up: every download re-announces.
  void Reconnect();
  // Starts seeding every verified blob in the cache (after a restart).
  void LoadHeld();
  void Stop();

 private:
  std::shared_ptr<BlobDownload> GetOrStart(const BlobRequest& request, const std::string& job_id,
                                           const RegistryCredentials& creds);
  std::shared_ptr<BlobDownload> ForInfoHash(const std::string& info_hash);

  PeerContext ctx_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<BlobDownload>> downloads_;  // by digest
  absl::flat_hash_map<std::string, std::string> segment_owner_;                // info-hash -> digest
  bool stopped_ = false;
};

}  // namespace shoal
