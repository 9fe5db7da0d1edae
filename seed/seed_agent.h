// shoal-seed's work: take FetchBlob tasks from the scheduler, pull each blob from
// the origin (parallel ranged GETs into the blob store, resumable), cut it into
// segments as the contiguous prefix completes, seed every finished segment with
// libtorrent at once (pipelining), and announce layout, segments and completion
// on the blob's announce stream. Re-announces everything it holds whenever it
// (re)registers, so a scheduler restart loses nothing.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/blob_store.h"
#include "common/daemon_config.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/origin_client.h"
#include "common/scheduler_client.h"
#include "common/torrent_engine.h"

namespace shoal {

class SeedAgent {
 public:
  static absl::StatusOr<std::unique_ptr<SeedAgent>> Create(const DaemonConfig& config);
  ~SeedAgent();
  void Start();
  void Stop();
  int data_port() const { return engine_->listen_port(); }

 private:
  struct SeedBlob;
  explicit SeedAgent(const DaemonConfig& config);
  void OnTask(const v1::Task& task);
  void OnConnected();
  void StartFetch(const v1::FetchBlobTask& fetch);
  void RunFetch(std::shared_ptr<SeedBlob> blob);
  void LoadHeldBlobs();
  // Opens a fresh stream for the blob and replays what is known on it.
  void Reannounce(const std::shared_ptr<SeedBlob>& blob);
  void Send(const std::shared_ptr<SeedBlob>& blob, const v1::AnnounceRequest& req);
  bool StreamOpen(const std::shared_ptr<SeedBlob>& blob);

  DaemonConfig config_;
  RegistryCredentials default_creds_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<TorrentEngine> engine_;
  std::unique_ptr<HostAgent> agent_;
  std::shared_ptr<spdlog::logger> log_;

  std::mutex mu_;
  std::condition_variable slots_cv_;
  uint32_t running_fetches_ = 0;  // guarded by mu_
  absl::flat_hash_map<std::string, std::shared_ptr<SeedBlob>> blobs_;  // guarded by mu_
  std::vector<std::shared_ptr<SeedBlob>> retired_;  // failed attempts replaced by a retry; guarded by mu_
  std::atomic<bool> stopping_{false};
  std::atomic<bool> started_{false};
  std::unique_ptr<MetricsServer> metrics_;
};

}  // namespace shoal
