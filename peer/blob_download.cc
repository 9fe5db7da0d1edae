#include "peer/blob_download.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/blob_fetcher.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/segment_files.h"
#include "common/segment_torrent.h"

namespace shoal {

BlobDownload::BlobDownload(PeerContext* ctx, BlobRequest request, std::string job_id,
                           RegistryCredentials creds)
    : ctx_(ctx),
      request_(std::move(request)),
      job_id_(std::move(job_id)),
      creds_(std::move(creds)),
      log_(Logger("peer")) {}

BlobDownload::~BlobDownload() {
  Cancel("shutting down");
  Join();
}

void BlobDownload::Start() {
  auto self = shared_from_this();
  worker_ = std::thread([self] { self->Run(); });
}

void BlobDownload::Cancel(const std::string& reason) {
  std::lock_guard<std::mutex> l(mu_);
  if (done_) return;
  cancel_ = true;
  if (fallback_reason_.empty()) fallback_reason_ = reason;
  cv_.notify_all();
}

void BlobDownload::Join() {
  if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) worker_.join();
}

bool BlobDownload::finished() const {
  std::lock_guard<std::mutex> l(mu_);
  return done_;
}

absl::Status BlobDownload::result() const {
  std::lock_guard<std::mutex> l(mu_);
  return status_;
}

// ---- BlobTransfer ----

absl::StatusOr<uint64_t> BlobDownload::WaitForSize(absl::Duration timeout) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, absl::ToChronoNanoseconds(timeout), [&] { return plan_.has_value() || done_; });
  if (plan_) return plan_->blob_size();
  if (done_ && !status_.ok()) return status_;
  return absl::DeadlineExceededError(absl::StrCat(
      "size of ", request_.digest.str(), " not known after ", absl::FormatDuration(timeout)));
}

absl::StatusOr<uint64_t> BlobDownload::WaitReadable(uint64_t want_end, absl::Duration timeout) {
  std::unique_lock<std::mutex> l(mu_);
  auto readable = [&]() -> uint64_t {
    if (!plan_) return 0;
    uint64_t size = plan_->blob_size();
    if (verified_) return size;
    // The final bytes wait for the digest check: a reader never gets a whole blob that does not
    // match.
    return std::min(hashed_upto_, size == 0 ? 0 : size - 1);
  };
  cv_.wait_for(l, absl::ToChronoNanoseconds(timeout),
               [&] { return readable() >= want_end || (done_ && !status_.ok()) || verified_; });
  if (done_ && !status_.ok()) return status_;
  return readable();
}

absl::StatusOr<size_t> BlobDownload::Read(uint64_t offset, char* buf, size_t len) {
  std::shared_ptr<SegmentReader> reader;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!plan_ || !reader_) return absl::FailedPreconditionError("blob size not known yet");
    reader = reader_;
  }
  return reader->ReadAt(offset, buf, len);
}

// ---- engine events ----

void BlobDownload::OnPieceFinished(const std::string& info_hash, int piece) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& s : segments_) {
    if (s.info_hash == info_hash && piece >= 0 && static_cast<size_t>(piece) < s.pieces.size()) {
      s.pieces[piece] = true;
      pieces_changed_ = true;
      cv_.notify_all();
      return;
    }
  }
}

void BlobDownload::OnTorrentFinished(const std::string& info_hash) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& s : segments_) {
    if (s.info_hash == info_hash) {
      s.finished = true;
      std::fill(s.pieces.begin(), s.pieces.end(), true);
      pieces_changed_ = true;
      cv_.notify_all();
      return;
    }
  }
}

void BlobDownload::OnPeerBanned(const std::string& info_hash, const std::string& ip, int port) {
  std::lock_guard<std::mutex> l(mu_);
  banned_reports_.push_back(absl::StrCat(info_hash, "|", ip, ":", port));
  cv_.notify_all();
}

void BlobDownload::OnStorageError(const std::string& info_hash, const std::string& error) {
  std::lock_guard<std::mutex> l(mu_);
  storage_error_ = error;
  cv_.notify_all();
}

void BlobDownload::Reconnect() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!done_) {
      reconnect_ = true;  // the worker reopens the stream
      cv_.notify_all();
      return;
    }
    if (!verified_) return;
  }
  OpenStream();  // a held blob: tell the new scheduler we can serve it
}

void BlobDownload::ReleaseTorrents() {
  std::vector<std::string> hashes;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& seg : segments_) {
      if (seg.added) hashes.push_back(seg.info_hash);
      seg.added = false;
    }
  }
  for (const auto& h : hashes) ctx_->engine->Remove(h);
}

// ---- worker ----

void BlobDownload::Run() {
  const BlobDigest& d = request_.digest;
  if (auto meta = ctx_->store->LoadMeta(d); meta.ok() && meta->verified) {
    RunHeld(*meta);
    return;
  }
  LoadFromDisk();
  if (!WaitForScheduler(*ctx_->channel, absl::Seconds(3))) {
    RunOrigin(absl::StrCat("scheduler ", ctx_->config.scheduler, " is unreachable"));
    return;
  }
  if (!RunSwarm()) {
    std::string why;
    bool cancelled = false;
    std::vector<std::string> unfinished;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (cancel_) {
        done_ = true;
        status_ = absl::CancelledError(
            absl::StrCat("download of ", d.str(), " cancelled: ", fallback_reason_));
        cv_.notify_all();
        cancelled = true;
        for (const auto& s : segments_) {
          if (s.added && !s.finished) unfinished.push_back(s.info_hash);
        }
      }
      why = cancelled ? std::string(status_.message()) : fallback_reason_;
    }
    if (cancelled) {
      // libtorrent would go on fetching the segments it was given: drop the
      // unfinished ones (their bytes stay on disk for a retry) and tell the
      // scheduler this host stopped.
      for (const auto& h : unfinished) ctx_->engine->Remove(h);
      v1::AnnounceRequest req;
      req.mutable_failed()->set_reason(why);
      Send(req);
      log_->info("blob {}: {}", d.Short(), why);
      return;
    }
    RunOrigin(why);
  }
}

// A verified blob in the cache: serve it, and seed it to other peers.
void BlobDownload::RunHeld(const BlobMeta& meta) {
  auto plan = SegmentPlan::Create(meta.size, meta.segment_size, meta.piece_size);
  if (!plan.ok()) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    ApplyLayout(LayoutOf(*plan));
    hashed_upto_ = meta.size;
    verified_ = true;
    done_ = true;
    status_ = absl::OkStatus();
    cv_.notify_all();
  }
  for (SegmentIndex k = 0; k < plan->segment_count() && meta.size > 0; ++k) {
    auto seg = LoadSegmentMeta(*ctx_->store, request_.digest, k, plan->SegmentLength(k));
    if (!seg.ok()) return;  // fetched from the origin without torrents: serve only
    ctx_->route_segment(seg->info_hash(), request_.digest);
    auto added =
        ctx_->engine->AddSegment(seg->torrent(), ctx_->store->BlobDir(request_.digest), TorrentEngine::AddMode::kSeed, "");
    if (!added.ok()) return;
    std::lock_guard<std::mutex> l(mu_);
    Segment& s = segments_[k];
    s.info_hash = *added;
    s.added = s.finished = s.have_sent = true;
    std::fill(s.pieces.begin(), s.pieces.end(), true);
  }
  if (WaitForScheduler(*ctx_->channel, absl::Seconds(1))) OpenStream();
}

// A restarted peer picks up the layout and segment torrents it saved before.
void BlobDownload::LoadFromDisk() {
  auto meta = ctx_->store->LoadMeta(request_.digest);
  if (!meta.ok()) return;
  auto plan = SegmentPlan::Create(meta->size, meta->segment_size, meta->piece_size);
  if (!plan.ok()) return;
  std::lock_guard<std::mutex> l(mu_);
  v1::BlobLayout layout = LayoutOf(*plan);
  ApplyLayout(layout);
  for (SegmentIndex k = 0; k < plan->segment_count(); ++k) {
    auto seg = LoadSegmentMeta(*ctx_->store, request_.digest, k, plan->SegmentLength(k));
    if (seg.ok()) pending_metas_.push_back(*seg);
  }
}

void BlobDownload::ApplyLayout(const v1::BlobLayout& layout) {
  if (plan_) return;
  auto plan = PlanOf(layout);
  if (!plan.ok()) {
    fallback_reason_ = absl::StrCat("scheduler sent a bad layout: ", plan.status().message());
    return;
  }
  // The cache entry (meta, unverified) exists before any byte lands; libtorrent
  // creates the segment files itself.
  if (auto st = ctx_->store->Prepare(request_.digest, *plan, /*create_segment_files=*/false);
      !st.ok()) {
    storage_error_ = std::string(st.message());
    return;
  }
  plan_ = *plan;
  BlobMeta meta;
  meta.size = plan_->blob_size();
  meta.segment_size = plan_->segment_size();
  meta.piece_size = plan_->piece_size();
  reader_ = std::make_shared<SegmentReader>(*ctx_->store, request_.digest, meta);
  segments_.resize(plan_->segment_count());
  for (SegmentIndex k = 0; k < plan_->segment_count(); ++k) {
    segments_[k].pieces.assign(plan_->PieceCount(k), false);
    if (plan_->SegmentLength(k) == 0) segments_[k].finished = true;
  }
  cv_.notify_all();
}

void BlobDownload::Send(const v1::AnnounceRequest& req) {
  std::lock_guard<std::mutex> l(stream_mu_);
  if (stream_) stream_->Send(req);
}

// Advances the verified prefix piece by piece. A piece that matched its chain
// link in libtorrent's check (and whose blocks are all in the file: the engine
// holds piece_finished back until its writes complete) is not read again. A piece
// held from before this process (resume data, found on disk; libtorrent reports
// those finished too) is read and checked here. A read that comes up short (a file replaced under us) is retried later.
void BlobDownload::AdvanceHash() {
  hash_backlog_ = false;
  for (int reads = 0;;) {
    if (reads == kHashPiecesPerRound) {
      // More may be checkable: the worker comes back at once, after it has added
      // the segments that the pieces which just landed let into the window.
      hash_backlog_ = true;
      return;
    }
    uint64_t offset, length;
    int piece;
    std::optional<SegmentChain> chain;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!plan_ || hashed_upto_ >= plan_->blob_size()) return;
      SegmentIndex k = plan_->SegmentOf(hashed_upto_);
      uint64_t in_seg = hashed_upto_ - plan_->SegmentOffset(k);
      piece = static_cast<int>(in_seg / plan_->piece_size());
      const Segment& seg = segments_[k];
      if (static_cast<size_t>(piece) >= seg.pieces.size() || !seg.pieces[piece]) return;
      length = std::min<uint64_t>(plan_->piece_size(), plan_->SegmentLength(k) - in_seg);
      if (ctx_->engine->PieceMatchedChain(seg.info_hash, piece)) {
        hashed_upto_ += length;
        cv_.notify_all();
        continue;
      }
      if (!seg.chain) return;  // its metadata has not come yet
      offset = hashed_upto_;
      chain = seg.chain;
    }
    ++reads;
    std::vector<char>& buf = hash_buffer_;
    buf.resize(static_cast<size_t>(length));
    auto n = Read(offset, buf.data(), buf.size());
    if (!n.ok() || *n != buf.size()) {
      recheck_fails_ = recheck_offset_ == offset ? recheck_fails_ + 1 : 1;
      recheck_offset_ = offset;
      return;
    }
    recheck_fails_ = 0;
    if (!PieceMatchesChain(*chain, piece, buf.data(), buf.size())) {
      chain_mismatch_ = absl::StrCat("the piece at byte ", offset,
                                     " held from before does not match the digest");
      return;
    }
    std::lock_guard<std::mutex> l(mu_);
    hashed_upto_ = offset + length;
    cv_.notify_all();
  }
}

absl::Status BlobDownload::ChainIsWhole() const {
  if (!plan_) return absl::FailedPreconditionError("no layout");
  if (plan_->blob_size() == 0) {
    return Sha256Hex("") == request_.digest.hex()
               ? absl::OkStatus()
               : absl::DataLossError("an empty blob does not hash to the digest");
  }
  for (SegmentIndex k = 0; k < segments_.size(); ++k) {
    if (!segments_[k].chain) {
      return absl::DataLossError(absl::StrCat("segment ", k, " has no piece states"));
    }
    if (k > 0 && !ChainsJoin(*segments_[k - 1].chain, *segments_[k].chain)) {
      return absl::DataLossError(
          absl::StrCat("segment ", k, " does not start where segment ", k - 1, " ended"));
    }
  }
  return absl::OkStatus();
}

void BlobDownload::RunOrigin(const std::string& why) {
  const BlobDigest& d = request_.digest;
  log_->warn("blob {}: {}; fetching it from the origin {} directly", d.Short(), why,
             request_.origin.registry);
  std::vector<std::string> hashes;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& s : segments_) {
      if (s.added) hashes.push_back(s.info_hash);
      s = Segment{};
    }
    segments_.clear();
    plan_.reset();
    reader_.reset();
    hashed_upto_ = 0;
    origin_fetch_ = true;
  }
  for (const auto& h : hashes) ctx_->engine->Remove(h);
  if (why.find("did not match") != std::string::npos) (void)ctx_->store->Discard(d);
  auto origin = MakeHttpOriginClient(MakeOriginClientOptions(ctx_->config), creds_);
  BlobFetcher fetcher(*origin, *ctx_->store, ctx_->config.transfer, Clock::Real());
  BlobFetchEvents events;
  events.on_layout = [&](const SegmentPlan& plan) {
    v1::AnnounceRequest req;
    *req.mutable_layout() = LayoutOf(plan);
    {
      std::lock_guard<std::mutex> l(mu_);
      ApplyLayout(req.layout());
    }
    Send(req);
  };
  // What this peer fetched itself it seeds at once, with the same deterministic
  // segment torrents a seed would make, so other peers can use it as a parent.
  events.on_segment = [&](const HashedSegment& segment) {
    const SegmentIndex k = segment.index;
    std::optional<SegmentPlan> plan;
    {
      std::lock_guard<std::mutex> l(mu_);
      plan = plan_;
    }
    if (!plan || k >= plan->segment_count() || plan->SegmentLength(k) == 0) return;
    auto meta = SeedCompleteSegment(*ctx_->store, *ctx_->engine, d, *plan, segment);
    if (!meta.ok()) {
      log_->warn("blob {} segment {}: cannot seed it: {}", d.Short(), k, meta.status().message());
      return;
    }
    ctx_->route_segment(meta->info_hash(), d);
    {
      std::lock_guard<std::mutex> l(mu_);
      Segment& seg = segments_[k];
      seg.info_hash = meta->info_hash();
      seg.added = seg.finished = seg.have_sent = true;
      std::fill(seg.pieces.begin(), seg.pieces.end(), true);
    }
    v1::AnnounceRequest req;
    *req.mutable_segment_ready() = *meta;
    Send(req);
  };
  events.on_progress = [&](uint64_t, uint64_t contiguous) {
    std::lock_guard<std::mutex> l(mu_);
    hashed_upto_ = contiguous;
    cv_.notify_all();
  };
  absl::Status st = fetcher.Fetch(d, request_.origin, events, &cancel_);
  Finish(st);
}

void BlobDownload::Finish(absl::Status status) {
  const BlobDigest& d = request_.digest;
  if (status.ok() && !ctx_->store->IsVerified(d)) {
    status = ctx_->store->MarkVerified(d);
    if (status.ok()) Metrics().blobs_verified_total.Add();  // the origin path counts in the fetcher
  }
  if (!status.ok() && !absl::IsCancelled(status)) Metrics().blobs_failed_total.Add();
  v1::AnnounceRequest req;
  if (status.ok()) {
    log_->info("blob {} verified and cached", d.Short());
    req.mutable_done();
  } else {
    log_->warn("blob {} failed: {}", d.Short(), status.message());
    req.mutable_failed()->set_reason(std::string(status.message()));
  }
  Send(req);
  bool reannounce = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (status.ok() && plan_) hashed_upto_ = plan_->blob_size();
    verified_ = status.ok();
    status_ = status;
    done_ = true;
    cv_.notify_all();
    // The scheduler restarted (or the stream broke) just now: the "done" above
    // went nowhere, and nothing else would tell it this node holds the blob.
    reannounce = verified_ && (stream_closed_ || reconnect_);
  }
  if (reannounce) OpenStream();
}

}  // namespace shoal
