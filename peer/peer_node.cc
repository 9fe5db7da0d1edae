#include "peer/peer_node.h"

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace shoal {

absl::StatusOr<std::unique_ptr<PeerNode>> PeerNode::Create(const PeerConfig& config) {
  std::unique_ptr<PeerNode> node(new PeerNode(config));
  const DaemonConfig& dc = config.daemon;
  auto creds = LoadDefaultCredentials(dc);
  if (!creds.ok()) return creds.status();
  auto store = BlobStore::Open(dc.data_dir);
  if (!store.ok()) return store.status();
  node->store_ = std::move(*store);
  if (node->store_->dropped_incompatible() > 0) {
    Logger("peer")->warn("dropped {} cache entries of an older format", node->store_->dropped_incompatible());
  }

  PeerContext ctx;
  ctx.config = dc;
  ctx.store = node->store_.get();
  ctx.channel = MakeSchedulerChannel(dc.scheduler);
  ctx.default_creds = *creds;
  auto channel = ctx.channel;
  node->provider_ = std::make_unique<SwarmBlobProvider>(std::move(ctx));

  TorrentEngineOptions eo;
  eo.listen_ip = dc.ip;
  eo.listen_port = static_cast<int>(dc.data_port);
  eo.transfer = dc.transfer;
  eo.disk_io = dc.disk_io;
  auto engine = TorrentEngine::Create(eo, node->provider_->MakeEvents());
  if (!engine.ok()) return engine.status();
  node->engine_ = std::move(*engine);

  PeerNode* self = node.get();
  node->agent_ = std::make_unique<HostAgent>(
      channel, MakeHostInfo(dc, v1::HOST_ROLE_PEER, node->engine_->listen_port()),
      [self](const v1::Task& t) { self->OnTask(t); }, [self] { self->provider_->Reconnect(); });
  node->provider_->Attach(node->engine_.get(), &node->agent_->stub());

  node->origin_ = MakeHttpOriginClient(MakeOriginClientOptions(dc), *creds);
  auto manifests = ManifestCache::Open(dc.data_dir);
  if (!manifests.ok()) return manifests.status();
  node->manifests_ = std::move(*manifests);
  MirrorOptions mo;
  mo.listen = config.mirror_listen;
  mo.default_registry = config.default_registry;
  node->mirror_ = std::make_unique<MirrorServer>(mo, *node->store_, *node->provider_, *node->origin_,
                                                 *node->manifests_);
  auto metrics = StartDaemonMetrics(dc, node->store_.get(),
                                    [self] { return self->started_.load() && !self->stopped_; });
  if (!metrics.ok()) return metrics.status();
  node->metrics_ = std::move(*metrics);
  return node;
}

PeerNode::~PeerNode() { Stop(); }

absl::Status PeerNode::Start() {
  if (auto s = mirror_->Start(); !s.ok()) return s;
  provider_->LoadHeld();
  agent_->Start();
  started_ = true;
  return absl::OkStatus();
}

void PeerNode::OnTask(const v1::Task& task) {
  if (task.has_fetch()) {
    provider_->Prefetch(task.fetch());
  } else if (task.has_cancel()) {
    provider_->Cancel(task.cancel().digest(), "job cancelled");
  }
}

void PeerNode::Stop() {
  if (stopped_.exchange(true)) return;
  if (mirror_) mirror_->Stop();  // Create() may have failed before building every part
  if (agent_) agent_->Stop();
  if (provider_) provider_->Stop();
  if (engine_) engine_->Stop();
  if (metrics_) metrics_->Stop();
}

}  // namespace shoal
