#include "peer/swarm_blob_provider.h"

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace shoal {

SwarmBlobProvider::SwarmBlobProvider(PeerContext context) : ctx_(std::move(context)) {
  ctx_.route_segment = [this](const std::string& info_hash, const BlobDigest& digest) {
    std::lock_guard<std::mutex> l(mu_);
    segment_owner_[info_hash] = digest.str();
  };
}

SwarmBlobProvider::~SwarmBlobProvider() { Stop(); }

void SwarmBlobProvider::Attach(TorrentEngine* engine, v1::Scheduler::Stub* stub) {
  ctx_.engine = engine;
  ctx_.stub = stub;
}

std::shared_ptr<BlobDownload> SwarmBlobProvider::ForInfoHash(const std::string& info_hash) {
  std::lock_guard<std::mutex> l(mu_);
  auto owner = segment_owner_.find(info_hash);
  if (owner == segment_owner_.end()) return nullptr;
  auto it = downloads_.find(owner->second);
  return it == downloads_.end() ? nullptr : it->second;
}

TorrentEvents SwarmBlobProvider::MakeEvents() {
  TorrentEvents ev;
  ev.on_piece_finished = [this](const std::string& h, int piece) {
    if (auto d = ForInfoHash(h)) d->OnPieceFinished(h, piece);
  };
  ev.on_torrent_finished = [this](const std::string& h) {
    if (auto d = ForInfoHash(h)) d->OnTorrentFinished(h);
  };
  ev.on_peer_banned = [this](const std::string& h, const std::string& ip, int port) {
    if (auto d = ForInfoHash(h)) d->OnPeerBanned(h, ip, port);
  };
  ev.on_storage_error = [this](const std::string& h, const std::string& err) {
    if (auto d = ForInfoHash(h)) d->OnStorageError(h, err);
  };
  return ev;
}

std::shared_ptr<BlobDownload> SwarmBlobProvider::GetOrStart(const BlobRequest& request, const std::string& job_id,
                                                             const RegistryCredentials& creds) {
  std::lock_guard<std::mutex> l(mu_);
  if (stopped_) return nullptr;
  auto it = downloads_.find(request.digest.str());
  if (it != downloads_.end()) {
    auto& d = it->second;
    // A failed or cancelled attempt is retried by the next request; a verified one
    // is reused only while its cache entry still exists.
    bool reusable = !d->finished() || (d->result().ok() && ctx_.store->IsVerified(request.digest));
    if (reusable) return d;
    d->ReleaseTorrents();
  }
  auto d = std::make_shared<BlobDownload>(&ctx_, request, job_id, creds);
  downloads_[request.digest.str()] = d;
  d->Start();
  return d;
}

absl::StatusOr<std::shared_ptr<BlobTransfer>> SwarmBlobProvider::Acquire(const BlobRequest& request) {
  auto d = GetOrStart(request, "", ctx_.default_creds);
  if (d == nullptr) return absl::UnavailableError("peer is shutting down");
  return std::static_pointer_cast<BlobTransfer>(d);
}

void SwarmBlobProvider::Prefetch(const v1::FetchBlobTask& task) {
  auto digest = BlobDigest::Parse(task.blob().digest());
  if (!digest.ok()) {
    Logger("peer")->warn("ignoring preheat task: {}", digest.status().message());
    return;
  }
  RegistryCredentials creds = task.auth().username().empty() && task.auth().password().empty()
                                  ? ctx_.default_creds
                                  : RegistryCredentials{task.auth().username(), task.auth().password()};
  auto d = GetOrStart(BlobRequest{*digest, OriginRepo{task.blob().registry(), task.blob().repository()}},
                      task.job_id(), creds);
  // Asked for a blob this node already holds: the scheduler lost track of it
  // (e.g. it restarted right after our "done"); announce it again.
  if (d != nullptr && d->finished() && d->result().ok()) d->Reconnect();
}

void SwarmBlobProvider::Cancel(const std::string& digest, const std::string& reason) {
  std::shared_ptr<BlobDownload> d;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = downloads_.find(digest);
    if (it == downloads_.end()) return;
    d = it->second;
  }
  d->Cancel(reason);
}

void SwarmBlobProvider::Reconnect() {
  std::vector<std::shared_ptr<BlobDownload>> all;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [_, d] : downloads_) all.push_back(d);
  }
  for (auto& d : all) d->Reconnect();
}

void SwarmBlobProvider::LoadHeld() {
  for (const auto& [digest, meta] : ctx_.store->List()) {
    GetOrStart(BlobRequest{digest, OriginRepo{}}, "", ctx_.default_creds);
  }
}

void SwarmBlobProvider::Stop() {
  std::vector<std::shared_ptr<BlobDownload>> all;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [_, d] : downloads_) all.push_back(d);
  }
  for (auto& d : all) d->Cancel("shutting down");
  for (auto& d : all) d->Join();
}

}  // namespace shoal
