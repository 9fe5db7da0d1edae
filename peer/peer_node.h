// shoal-peer assembled: blob cache, libtorrent engine, scheduler agent, the
// swarm blob provider and the registry mirror containerd talks to.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/blob_store.h"
#include "common/metrics.h"
#include "common/daemon_config.h"
#include "common/origin_client.h"
#include "common/scheduler_client.h"
#include "common/torrent_engine.h"
#include "peer/manifest_cache.h"
#include "peer/mirror_server.h"
#include "peer/swarm_blob_provider.h"

namespace shoal {

struct PeerConfig {
  DaemonConfig daemon;
  std::string mirror_listen = "127.0.0.1:65001";
  std::string default_registry;
};

class PeerNode {
 public:
  static absl::StatusOr<std::unique_ptr<PeerNode>> Create(const PeerConfig& config);
  ~PeerNode();
  absl::Status Start();
  void Stop();
  int data_port() const { return engine_->listen_port(); }
  int mirror_port() const { return mirror_->port(); }

 private:
  explicit PeerNode(const PeerConfig& config) : config_(config) {}
  void OnTask(const v1::Task& task);

  PeerConfig config_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<SwarmBlobProvider> provider_;
  std::unique_ptr<TorrentEngine> engine_;
  std::unique_ptr<HostAgent> agent_;
  std::unique_ptr<OriginClient> origin_;
  std::unique_ptr<ManifestCache> manifests_;
  std::unique_ptr<MirrorServer> mirror_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  std::unique_ptr<MetricsServer> metrics_;  // last: stopped and destroyed first
};

}  // namespace shoal
