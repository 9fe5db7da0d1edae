#include "seed/seed_agent.h"

#include "absl/strings/str_cat.h"
#include "common/blob_fetcher.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/segment_files.h"

namespace shoal {

constexpr uint32_t kMaxConcurrentFetches = 16;

struct SeedAgent::SeedBlob {
  BlobDigest digest;
  v1::BlobRef ref;
  RegistryCredentials creds;  // never logged
  std::mutex mu;
  bool has_layout = false;
  v1::BlobLayout layout;
  std::vector<v1::SegmentMeta> segments;
  bool done = false;
  std::string failed;
  std::unique_ptr<AnnounceStream> stream;
  std::atomic<bool> cancel{false};
  std::thread worker;
  explicit SeedBlob(BlobDigest d) : digest(std::move(d)) {}
};

SeedAgent::SeedAgent(const DaemonConfig& config) : config_(config), log_(Logger("seed")) {}

absl::StatusOr<std::unique_ptr<SeedAgent>> SeedAgent::Create(const DaemonConfig& config) {
  std::unique_ptr<SeedAgent> agent(new SeedAgent(config));
  auto creds = LoadDefaultCredentials(config);
  if (!creds.ok()) return creds.status();
  agent->default_creds_ = *creds;
  auto store = BlobStore::Open(config.data_dir);
  if (!store.ok()) return store.status();
  agent->store_ = std::move(*store);
  TorrentEngineOptions eo;
  eo.listen_ip = config.ip;
  eo.listen_port = static_cast<int>(config.data_port);
  eo.transfer = config.transfer;
  eo.disk_io = config.disk_io;
  auto engine = TorrentEngine::Create(eo, TorrentEvents{});
  if (!engine.ok()) return engine.status();
  agent->engine_ = std::move(*engine);
  SeedAgent* self = agent.get();
  agent->agent_ = std::make_unique<HostAgent>(
      MakeSchedulerChannel(config.scheduler),
      MakeHostInfo(config, v1::HOST_ROLE_SEED, agent->engine_->listen_port()),
      [self](const v1::Task& t) { self->OnTask(t); }, [self] { self->OnConnected(); });
  // Ready = registered with the scheduler: before that no fetch task can reach us.
  auto metrics = StartDaemonMetrics(config, agent->store_.get(), [self] {
    return self->started_.load() && !self->stopping_.load() && self->agent_->registered();
  });
  if (!metrics.ok()) return metrics.status();
  agent->metrics_ = std::move(*metrics);
  agent->LoadHeldBlobs();
  return agent;
}

SeedAgent::~SeedAgent() { Stop(); }

void SeedAgent::Start() {
  agent_->Start();
  started_ = true;
}

void SeedAgent::Stop() {
  if (stopping_.exchange(true)) return;
  std::vector<std::shared_ptr<SeedBlob>> blobs;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [_, b] : blobs_) blobs.push_back(b);
    for (auto& b : retired_) blobs.push_back(b);
    slots_cv_.notify_all();
  }
  for (auto& b : blobs) b->cancel = true;
  for (auto& b : blobs) {
    if (b->worker.joinable()) b->worker.join();
    std::unique_ptr<AnnounceStream> s;
    {
      std::lock_guard<std::mutex> l(b->mu);
      s = std::move(b->stream);
    }
  }
  if (agent_) agent_->Stop();
  if (engine_) engine_->Stop();
  if (metrics_) metrics_->Stop();
}

// Blobs verified on disk from an earlier run: seed them again straight away.
void SeedAgent::LoadHeldBlobs() {
  for (const auto& [digest, meta] : store_->List()) {
    auto plan = SegmentPlan::Create(meta.size, meta.segment_size, meta.piece_size);
    if (!plan.ok()) continue;
    auto blob = std::make_shared<SeedBlob>(digest);
    blob->ref.set_digest(digest.str());
    blob->has_layout = true;
    blob->layout = LayoutOf(*plan);
    bool complete = true;
    for (SegmentIndex k = 0; k < plan->segment_count() && plan->blob_size() > 0; ++k) {
      auto seg = LoadSegmentMeta(*store_, digest, k, plan->SegmentLength(k));
      if (!seg.ok()) {
        complete = false;
        break;
      }
      auto added = engine_->AddSegment(seg->torrent(), store_->BlobDir(digest), TorrentEngine::AddMode::kSeed, "");
      if (!added.ok()) {
        complete = false;
        break;
      }
      blob->segments.push_back(*seg);
    }
    if (!complete) continue;  // refetched (from the journal) when asked again
    blob->done = true;
    blobs_[digest.str()] = blob;
  }
  if (!blobs_.empty()) log_->info("seeding {} blobs held from an earlier run", blobs_.size());
}

void SeedAgent::OnConnected() {
  std::vector<std::shared_ptr<SeedBlob>> blobs;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [_, b] : blobs_) blobs.push_back(b);
  }
  for (auto& b : blobs) Reannounce(b);
}

void SeedAgent::Reannounce(const std::shared_ptr<SeedBlob>& blob) {
  std::unique_ptr<AnnounceStream> old;  // closed outside the lock: Close joins its reader
  {
    std::lock_guard<std::mutex> l(blob->mu);
    old = std::move(blob->stream);
    v1::AnnounceOpen open;
    open.set_host_id(config_.host_id);
    *open.mutable_blob() = blob->ref;
    open.set_verified(blob->done);
    for (const auto& s : blob->segments) open.add_have_segments(s.index());
    blob->stream = AnnounceStream::Open(agent_->stub(), open, nullptr, nullptr);
    v1::AnnounceRequest req;
    if (blob->has_layout) {
      *req.mutable_layout() = blob->layout;
      blob->stream->Send(req);
    }
    for (const auto& s : blob->segments) {
      *req.mutable_segment_ready() = s;
      blob->stream->Send(req);
    }
    if (blob->done) {
      req.mutable_done();
      blob->stream->Send(req);
    } else if (!blob->failed.empty()) {
      req.mutable_failed()->set_reason(blob->failed);
      blob->stream->Send(req);
    }
  }
}

bool SeedAgent::StreamOpen(const std::shared_ptr<SeedBlob>& blob) {
  std::lock_guard<std::mutex> l(blob->mu);
  return blob->stream != nullptr && !blob->stream->closed();
}

void SeedAgent::Send(const std::shared_ptr<SeedBlob>& blob, const v1::AnnounceRequest& req) {
  std::lock_guard<std::mutex> l(blob->mu);
  if (blob->stream) blob->stream->Send(req);
}

void SeedAgent::OnTask(const v1::Task& task) {
  if (task.has_fetch()) {
    StartFetch(task.fetch());
  } else if (task.has_cancel()) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = blobs_.find(task.cancel().digest());
    if (it != blobs_.end() && !it->second->done) {
      it->second->cancel = true;
      slots_cv_.notify_all();
    }
  }
}

void SeedAgent::StartFetch(const v1::FetchBlobTask& fetch) {
  auto digest = BlobDigest::Parse(fetch.blob().digest());
  if (!digest.ok()) {
    log_->warn("ignoring fetch task: {}", digest.status().message());
    return;
  }
  std::shared_ptr<SeedBlob> blob;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = blobs_.find(digest->str());
    if (it != blobs_.end()) {
      std::shared_ptr<SeedBlob> existing = it->second;
      bool retry = false;
      {
        std::lock_guard<std::mutex> bl(existing->mu);
        retry = !existing->done && !existing->failed.empty();
      }
      if (!retry) {
        // Already held or in flight: make sure the scheduler hears about it.
        if (!StreamOpen(existing)) Reannounce(existing);
        return;
      }
      retired_.push_back(existing);  // its worker has finished; joined at Stop
    }
    blob = std::make_shared<SeedBlob>(*digest);
    blob->ref = fetch.blob();
    blob->creds = fetch.auth().username().empty() && fetch.auth().password().empty()
                      ? default_creds_
                      : RegistryCredentials{fetch.auth().username(), fetch.auth().password()};
    blobs_[digest->str()] = blob;
  }
  Reannounce(blob);
  blob->worker = std::thread([this, blob] { RunFetch(blob); });
}

void SeedAgent::RunFetch(std::shared_ptr<SeedBlob> blob) {
  {
    std::unique_lock<std::mutex> l(mu_);
    slots_cv_.wait(l, [&] { return running_fetches_ < kMaxConcurrentFetches || blob->cancel || stopping_; });
    if (blob->cancel || stopping_) return;
    running_fetches_++;
  }
  const std::string short_digest = blob->digest.Short();
  OriginRepo repo{blob->ref.registry(), blob->ref.repository()};
  auto origin = MakeHttpOriginClient(MakeOriginClientOptions(config_), blob->creds);
  BlobFetcher fetcher(*origin, *store_, config_.transfer, Clock::Real());
  BlobFetchEvents events;
  events.on_layout = [&](const SegmentPlan& plan) {
    v1::AnnounceRequest req;
    *req.mutable_layout() = LayoutOf(plan);
    {
      std::lock_guard<std::mutex> l(blob->mu);
      blob->has_layout = true;
      blob->layout = req.layout();
    }
    Send(blob, req);
  };
  events.on_segment = [&](const HashedSegment& segment) {
    const SegmentIndex k = segment.index;
    auto plan = PlanOf(blob->layout);
    if (!plan.ok() || plan->SegmentLength(k) == 0) return;
    auto published = SeedCompleteSegment(*store_, *engine_, blob->digest, *plan, segment);
    if (!published.ok()) {
      log_->error("blob {} segment {}: cannot seed it: {}", short_digest, k, published.status().message());
      return;
    }
    const v1::SegmentMeta& meta = *published;
    log_->debug("blob {} segment {} ready ({} bytes, info-hash {})", short_digest, k, meta.length(),
                meta.info_hash().substr(0, 12));
    v1::AnnounceRequest req;
    *req.mutable_segment_ready() = meta;
    {
      std::lock_guard<std::mutex> l(blob->mu);
      blob->segments.push_back(meta);
    }
    Send(blob, req);
  };
  absl::Time start = absl::Now();
  absl::Status st = fetcher.Fetch(blob->digest, repo, events, &blob->cancel);
  v1::AnnounceRequest req;
  if (st.ok()) {
    auto stats = fetcher.stats();
    double secs = absl::ToDoubleSeconds(absl::Now() - start);
    uint64_t size = blob->layout.size();
    log_->info("blob {} fetched from origin {} ({} bytes, {:.1f} MB/s, {} bytes resumed from an earlier run)",
               short_digest, repo.registry, size, secs > 0 ? size / secs / 1e6 : 0.0, stats.resumed_bytes);
    {
      std::lock_guard<std::mutex> l(blob->mu);
      blob->done = true;
    }
    req.mutable_done();
  } else {
    // The scheduler names this host when it passes the reason on.
    std::string reason = std::string(st.message());
    if (blob->cancel && !stopping_) reason = "cancelled";
    if (!blob->cancel) Metrics().blobs_failed_total.Add();
    log_->warn("blob {} from origin {}/{} failed: {}", short_digest, repo.registry, repo.repository, reason);
    {
      std::lock_guard<std::mutex> l(blob->mu);
      blob->failed = reason;
    }
    req.mutable_failed()->set_reason(reason);
  }
  if (!stopping_) Send(blob, req);
  std::lock_guard<std::mutex> l(mu_);
  running_fetches_--;
  slots_cv_.notify_all();
}

}  // namespace shoal
