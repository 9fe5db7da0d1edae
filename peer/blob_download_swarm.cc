// BlobDownload's swarm half: the announce stream to the scheduler, adding
// segment torrents and connecting parents as they are assigned, and advancing
// the verified prefix as pieces land (see blob_download.h).
#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/segment_files.h"
#include "common/segment_torrent.h"
#include "peer/blob_download.h"

namespace shoal {
namespace {
constexpr auto kWakeInterval = std::chrono::milliseconds(200);
constexpr absl::Duration kProgressInterval = absl::Seconds(1);
// A piece that could not be read in full is looked at again this soon (the stream
// to the client waits on exactly that piece), backing off while it stays short.
constexpr auto kRecheckInterval = std::chrono::milliseconds(3);
// Segments are fetched a few at a time, lowest index first. The mirror streams
// the blob front to back, so the first segment done early is what lets bytes flow
// to the client while the rest arrive (with every segment at once, the first byte
// went out when nearly all had landed); and each active segment holds a
// connection with its own buffers, so a 20 GB blob (320 segments) must not open
// them all at once.
constexpr size_t kActiveSegments = 3;
// The next segments wait in standby: added and connected to their parents, so a
// slot that frees up is filled at once. Connecting when the slot freed cost
// ~0.6 s per segment on loopback, during which the pair moved nothing.
constexpr size_t kStandbySegments = 2;
}  // namespace

size_t BlobDownload::ActiveSegments() const {
  size_t active = 0;
  for (const Segment& s : segments_) {
    bool all = std::all_of(s.pieces.begin(), s.pieces.end(), [](bool b) { return b; });
    active += s.added && !s.standby && !s.finished && !all ? 1 : 0;
  }
  return active;
}

// Fills free slots of the window with standby segments, lowest index first.
void BlobDownload::ActivateStandbySegments() {
  std::vector<std::string> hashes;
  {
    std::lock_guard<std::mutex> l(mu_);
    size_t active = ActiveSegments();
    for (Segment& s : segments_) {
      if (active >= kActiveSegments) break;
      if (!s.added || !s.standby) continue;
      s.standby = false;
      hashes.push_back(s.info_hash);
      ++active;
    }
  }
  for (const auto& h : hashes) ctx_->engine->Activate(h);
}

void BlobDownload::OnMessage(const v1::AnnounceResponse& resp) {
  std::lock_guard<std::mutex> l(mu_);
  switch (resp.kind_case()) {
    case v1::AnnounceResponse::kLayout:
      if (!origin_fetch_) ApplyLayout(resp.layout());
      break;
    case v1::AnnounceResponse::kSegment:
      pending_metas_.push_back(resp.segment());
      break;
    case v1::AnnounceResponse::kParents:
      for (const auto& p : resp.parents().parents()) {
        endpoint_to_host_[absl::StrCat(p.ip(), ":", p.port())] = p.host_id();
      }
      pending_parents_.push_back(resp.parents());
      break;
    case v1::AnnounceResponse::kGoToOrigin:
      fallback_reason_ =
          absl::StrCat("scheduler said go to origin: ", resp.go_to_origin().reason());
      break;
    case v1::AnnounceResponse::kUpstreamFailed:
      fallback_reason_ =
          absl::StrCat("the seed could not fetch it: ", resp.upstream_failed().reason());
      break;
    case v1::AnnounceResponse::kCancel:
      cancel_ = true;
      fallback_reason_ = absl::StrCat("cancelled by the scheduler: ", resp.cancel().reason());
      break;
    default:
      break;
  }
  cv_.notify_all();
}

void BlobDownload::OpenStream() {
  v1::AnnounceOpen open;
  open.set_host_id(ctx_->config.host_id);
  open.mutable_blob()->set_digest(request_.digest.str());
  open.mutable_blob()->set_registry(request_.origin.registry);
  open.mutable_blob()->set_repository(request_.origin.repository);
  open.set_want(true);
  open.set_job_id(job_id_);
  {
    std::lock_guard<std::mutex> l(mu_);
    open.set_verified(verified_);
    for (SegmentIndex k = 0; k < segments_.size(); ++k) {
      if (segments_[k].finished) open.add_have_segments(k);
    }
    stream_closed_ = false;
    reconnect_ = false;
  }
  std::weak_ptr<BlobDownload> weak = weak_from_this();
  auto next = AnnounceStream::Open(
      *ctx_->stub, open,
      [weak](const v1::AnnounceResponse& r) {
        if (auto self = weak.lock()) self->OnMessage(r);
      },
      [weak](const absl::Status&) {
        if (auto self = weak.lock()) {
          std::lock_guard<std::mutex> l(self->mu_);
          self->stream_closed_ = true;
          self->cv_.notify_all();
        }
      });
  std::unique_ptr<AnnounceStream> old;
  {
    std::lock_guard<std::mutex> l(stream_mu_);
    old = std::move(stream_);
    stream_ = std::move(next);
  }
}

void BlobDownload::AddPendingSegments() {
  std::deque<v1::SegmentMeta> metas;
  std::deque<v1::ParentSet> parents;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!plan_) return;  // metadata is useless until the layout is known
    metas.swap(pending_metas_);
    parents.swap(pending_parents_);
  }
  // What waited for the window or for its metadata goes first; what still cannot
  // be used is set aside again (not back into pending_*, which wakes the worker).
  metas.insert(metas.end(), deferred_metas_.begin(), deferred_metas_.end());
  parents.insert(parents.begin(), deferred_parents_.begin(), deferred_parents_.end());
  deferred_metas_.clear();
  deferred_parents_.clear();
  std::sort(metas.begin(), metas.end(), [](const v1::SegmentMeta& a, const v1::SegmentMeta& b) {
    return a.index() < b.index();
  });
  ActivateStandbySegments();
  // Counted once per round (a 20 GB blob has 320 segments, most of them deferred
  // here on every round) and kept current as segments are added below.
  size_t active, standby;
  {
    std::lock_guard<std::mutex> l(mu_);
    active = ActiveSegments();
    standby = std::count_if(segments_.begin(), segments_.end(),
                            [](const Segment& s) { return s.added && s.standby; });
  }
  for (const auto& m : metas) {
    if (m.index() >= segments_.size()) continue;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (segments_[m.index()].added) continue;
    }
    TorrentEngine::AddMode mode = TorrentEngine::AddMode::kDownload;
    if (active >= kActiveSegments) {
      if (standby >= kStandbySegments) {
        deferred_metas_.push_back(m);  // added when an earlier segment finishes
        continue;
      }
      mode = TorrentEngine::AddMode::kStandby;
    }
    absl::StatusOr<SegmentChain> chain = absl::FailedPreconditionError("no layout");
    {
      std::lock_guard<std::mutex> l(mu_);
      if (plan_) chain = MakeSegmentChain(*plan_, m.index(), m.piece_states(), request_.digest);
      if (!chain.ok()) {
        // Without its states no piece of the segment can be checked on its own.
        fallback_reason_ = absl::StrCat("the scheduler sent unusable metadata for segment ",
                                        m.index(), ": ", chain.status().message());
        cv_.notify_all();
        return;
      }
    }
    if (auto s = SaveSegmentMeta(*ctx_->store, request_.digest, m); !s.ok()) {
      log_->warn("blob {} segment {}: {}", request_.digest.Short(), m.index(), s.message());
    }
    ctx_->route_segment(m.info_hash(), request_.digest);
    auto added =
        ctx_->engine->AddSegment(m.torrent(), ctx_->store->BlobDir(request_.digest), mode,
                                 SegmentResumePath(*ctx_->store, request_.digest, m.index()),
                                 &*chain);
    if (!added.ok()) {
      log_->error("blob {} segment {}: {}", request_.digest.Short(), m.index(),
                  added.status().message());
      continue;
    }
    std::vector<bool> have = ctx_->engine->HavePieces(*added);
    std::lock_guard<std::mutex> l(mu_);
    Segment& seg = segments_[m.index()];
    seg.info_hash = *added;
    seg.added = true;
    seg.chain = std::move(*chain);
    seg.standby = mode == TorrentEngine::AddMode::kStandby;
    for (size_t i = 0; i < have.size() && i < seg.pieces.size(); ++i)
      seg.pieces[i] = seg.pieces[i] || have[i];
    if (seg.standby) {
      ++standby;
    } else if (!std::all_of(seg.pieces.begin(), seg.pieces.end(), [](bool b) { return b; })) {
      ++active;  // a segment found whole on disk takes no slot
    }
  }
  for (const auto& p : parents) {
    std::string hash;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (p.segment_index() >= segments_.size() || !segments_[p.segment_index()].added) {
        deferred_parents_.push_back(p);  // segment not added yet: keep for a later round
        continue;
      }
      hash = segments_[p.segment_index()].info_hash;
    }
    std::vector<std::pair<std::string, int>> eps;
    for (const auto& parent : p.parents()) {
      if (parent.host_id() == ctx_->config.host_id) continue;
      eps.emplace_back(parent.ip(), static_cast<int>(parent.port()));
    }
    log_->debug("blob {} segment {}: {} parents", request_.digest.Short(), p.segment_index(),
                eps.size());
    ctx_->engine->ConnectPeers(hash, eps);
  }
}

uint64_t BlobDownload::ContiguousEnd() const {
  if (!plan_) return 0;
  uint64_t end = 0;
  for (SegmentIndex k = 0; k < segments_.size(); ++k) {
    const Segment& s = segments_[k];
    uint64_t seg_len = plan_->SegmentLength(k);
    uint32_t n = 0;
    while (n < s.pieces.size() && s.pieces[n]) ++n;
    if (n == s.pieces.size()) {
      end += seg_len;
      continue;
    }
    end += uint64_t{n} * plan_->piece_size();
    break;
  }
  return end;
}

uint64_t BlobDownload::BytesDone() const {
  if (!plan_) return 0;
  uint64_t done = 0;
  for (SegmentIndex k = 0; k < segments_.size(); ++k) {
    const Segment& s = segments_[k];
    for (size_t i = 0; i < s.pieces.size(); ++i) {
      if (!s.pieces[i]) continue;
      uint64_t start = uint64_t{i} * plan_->piece_size();
      done += std::min<uint64_t>(plan_->piece_size(), plan_->SegmentLength(k) - start);
    }
  }
  return done;
}

bool BlobDownload::RunSwarm() {
  const BlobDigest& d = request_.digest;
  OpenStream();
  absl::Time last_progress_at = absl::Now();
  absl::Time last_report_at = absl::InfinitePast();
  absl::Time closed_since = absl::InfinitePast();
  uint64_t last_bytes = 0, report_bytes = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> l(mu_);
      auto wake = recheck_fails_ == 0
                      ? kWakeInterval
                      : std::min<std::chrono::milliseconds>(
                            kWakeInterval, kRecheckInterval * (1 << std::min(recheck_fails_, 7)));
      cv_.wait_for(l, wake, [&] {
        return cancel_ || !fallback_reason_.empty() || !storage_error_.empty() ||
               !pending_metas_.empty() || !pending_parents_.empty() || reconnect_ ||
               pieces_changed_ || hash_backlog_;
      });
      pieces_changed_ = false;
      if (cancel_ || !fallback_reason_.empty()) return false;
      if (!storage_error_.empty()) {
        std::string err = storage_error_;
        // How much this blob still needs, so "disk full" says how much to free.
        const uint64_t needed =
            plan_ ? plan_->blob_size() - std::min(plan_->blob_size(), BytesDone()) : 0;
        l.unlock();
        // libtorrent stops the segments that hit the error; drop all of them so
        // nothing keeps writing, and keep their bytes and resume data for a retry.
        std::vector<std::string> hashes;
        {
          std::lock_guard<std::mutex> sl(mu_);
          for (const auto& s : segments_) {
            if (s.added && !s.finished) hashes.push_back(s.info_hash);
          }
        }
        for (const auto& h : hashes) ctx_->engine->Remove(h);
        auto free_bytes = FreeDiskBytes(ctx_->store->BlobDir(d));
        Finish(absl::ResourceExhaustedError(absl::StrCat(
            "storing ", d.str(), " on ", ctx_->config.host_id, " failed: ", err, "; it needs ",
            needed, " more bytes, ", free_bytes.ok() ? absl::StrCat(*free_bytes) : "unknown",
            " bytes are free in ", ctx_->store->root(), " (partial data kept for a retry)")));
        return true;
      }
    }
    AddPendingSegments();
    // Refresh piece bitmaps from libtorrent: covers pieces known from resume data.
    std::vector<std::pair<SegmentIndex, std::string>> unfinished;
    {
      std::lock_guard<std::mutex> l(mu_);
      for (SegmentIndex k = 0; k < segments_.size(); ++k) {
        if (segments_[k].added && !segments_[k].finished)
          unfinished.emplace_back(k, segments_[k].info_hash);
      }
    }
    for (const auto& [k, hash] : unfinished) {
      auto st = ctx_->engine->Status(hash);
      if (st && st->finished) OnTorrentFinished(hash);
    }
    AdvanceHash();
    if (!chain_mismatch_.empty()) {
      log_->error("blob {}: {}; discarding and refetching", d.Short(), chain_mismatch_);
      std::lock_guard<std::mutex> l(mu_);
      fallback_reason_ = "bytes held from before did not match the digest";
      return false;
    }

    std::vector<std::string> banned;
    std::vector<SegmentIndex> newly_have;
    uint64_t bytes_done, size = 0;
    bool all_hashed = false, stream_closed, reconnect;
    {
      std::lock_guard<std::mutex> l(mu_);
      banned.swap(banned_reports_);
      for (SegmentIndex k = 0; k < segments_.size(); ++k) {
        Segment& s = segments_[k];
        if (!s.finished && !s.pieces.empty() &&
            std::all_of(s.pieces.begin(), s.pieces.end(), [](bool b) { return b; })) {
          s.finished = true;
        }
        if (s.finished && !s.have_sent && plan_->SegmentLength(k) > 0) {
          s.have_sent = true;
          newly_have.push_back(k);
        }
      }
      bytes_done = BytesDone();
      if (plan_) {
        size = plan_->blob_size();
        all_hashed = hashed_upto_ == size;
      }
      stream_closed = stream_closed_;
      reconnect = reconnect_;
    }
    for (SegmentIndex k : newly_have) {
      Metrics().segments_ready_total.Add();
      v1::AnnounceRequest req;
      req.mutable_have()->set_index(k);
      Send(req);
    }
    for (const std::string& b : banned) {
      std::string ep = b.substr(b.find('|') + 1);
      v1::AnnounceRequest req;
      req.mutable_failure()->set_reason("piece failed its hash; parent banned");
      std::lock_guard<std::mutex> l(mu_);
      auto it = endpoint_to_host_.find(ep);
      if (it != endpoint_to_host_.end()) req.mutable_failure()->set_parent_host_id(it->second);
      Send(req);
    }
    if (all_hashed) {
      absl::Status whole;
      {
        std::lock_guard<std::mutex> l(mu_);
        whole = ChainIsWhole();
      }
      if (!whole.ok()) {
        log_->error("blob {}: every piece matched its piece states, but {}; discarding and "
                    "refetching",
                    d.Short(), whole.message());
        std::lock_guard<std::mutex> l(mu_);
        fallback_reason_ = "swarm bytes did not match the digest";
        return false;
      }
      Finish(absl::OkStatus());
      return true;
    }
    absl::Time now = absl::Now();
    if (bytes_done != last_bytes) {
      last_bytes = bytes_done;
      last_progress_at = now;
    }
    if (now - last_report_at >= kProgressInterval && !stream_closed) {
      double secs =
          last_report_at == absl::InfinitePast() ? 0 : absl::ToDoubleSeconds(now - last_report_at);
      v1::AnnounceRequest req;
      req.mutable_blob_progress()->set_bytes_done(bytes_done);
      req.mutable_blob_progress()->set_rate_bps(
          secs > 0 ? static_cast<uint64_t>((bytes_done - report_bytes) / secs) : 0);
      Send(req);
      last_report_at = now;
      report_bytes = bytes_done;
    }
    // No progress for the stall timeout: ask for fresh parents for what is missing.
    if (now - last_progress_at >= ctx_->config.transfer.stall_timeout && !stream_closed) {
      std::vector<SegmentIndex> missing;
      {
        std::lock_guard<std::mutex> l(mu_);
        for (SegmentIndex k = 0; k < segments_.size(); ++k) {
          if (segments_[k].added && !segments_[k].finished) missing.push_back(k);
        }
      }
      for (SegmentIndex k : missing) {
        v1::AnnounceRequest req;
        req.mutable_need_parents()->set_index(k);
        Send(req);
      }
      log_->warn("blob {}: no progress for {}; asked the scheduler for new parents", d.Short(),
                 absl::FormatDuration(ctx_->config.transfer.stall_timeout));
      last_progress_at = now;
    }
    // Scheduler gone: transfers already running continue; reconnect when it is back,
    // and go to the origin only if nothing moves meanwhile.
    if (reconnect) {
      OpenStream();
      closed_since = absl::InfinitePast();
    } else if (stream_closed) {
      if (closed_since == absl::InfinitePast()) {
        closed_since = now;
        log_->warn("blob {}: announce stream to scheduler {} lost; data keeps moving, reconnecting",
                   d.Short(), ctx_->config.scheduler);
      }
      if (WaitForScheduler(*ctx_->channel, absl::Milliseconds(200))) {
        OpenStream();
        closed_since = absl::InfinitePast();
      } else if (now - closed_since >= ctx_->config.transfer.stall_timeout &&
                 now - last_progress_at >= absl::Seconds(2)) {
        std::lock_guard<std::mutex> l(mu_);
        fallback_reason_ =
            absl::StrCat("scheduler ", ctx_->config.scheduler, " unreachable for ",
                         absl::FormatDuration(now - closed_since), " and no progress");
        return false;
      }
    }
  }
}

}  // namespace shoal
