#include "common/torrent_engine.h"

#include <condition_variable>
#include <deque>
#include <future>
#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/posix_disk_io.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/session_stats.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>
#include <libtorrent/write_resume_data.hpp>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/piece_chain_check.h"
#include "common/piece_write_tracker.h"
#include "common/pieces_on_disk.h"
#include "common/torrent_settings.h"

namespace shoal {
namespace {

std::string HexOf(const lt::sha1_hash& h) {
  std::ostringstream os;
  os << h;
  return os.str();
}

}  // namespace

class TorrentEngine::Impl {
 public:
  Impl(const TorrentEngineOptions& options, TorrentEvents events)
      : options_(options),
        events_(std::move(events)),
        log_(Logger("torrent")),
        writes_([this](const lt::sha1_hash& ih, int piece) {
          std::lock_guard<std::mutex> l(mu_);
          written_.emplace_back(ih, piece);
          wake_ = true;
          cv_.notify_one();
        }) {}

  absl::Status Start(int* port) {
    lt::session_params params(MakeTorrentSettings(options_));
    params.disk_io_constructor =
        writes_.Wrap(options_.disk_io == "posix" ? lt::posix_disk_io_constructor
                                                 : lt::default_disk_io_constructor,
                     &chains_);
    session_ = std::make_unique<lt::session>(std::move(params));
    session_->set_alert_notify([this] {
      std::lock_guard<std::mutex> l(mu_);
      wake_ = true;
      cv_.notify_one();
    });
    // Wait for the listen socket so the port we advertise is real.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (session_->is_listening() && session_->listen_port() != 0) break;
      session_->wait_for_alert(lt::milliseconds(50));
      std::vector<lt::alert*> alerts;
      session_->pop_alerts(&alerts);
      for (lt::alert* a : alerts) {
        if (auto* f = lt::alert_cast<lt::listen_failed_alert>(a)) {
          return absl::UnavailableError(absl::StrCat(
              "data plane cannot listen on ", options_.listen_ip, ":", options_.listen_port, ": ",
              f->message(), " (check --ip / --data-port)"));
        }
      }
    }
    if (session_->listen_port() == 0) {
      return absl::UnavailableError(
          absl::StrCat("data plane did not start listening on ", options_.listen_ip));
    }
    *port = session_->listen_port();
    owner_ = std::thread([this] { OwnerLoop(); });
    return absl::OkStatus();
  }

  // Runs fn on the owner thread and waits for it (inline when already there).
  template <typename R>
  R RunOnOwner(std::function<R(lt::session&)> fn) {
    if (std::this_thread::get_id() == owner_.get_id()) return fn(*session_);
    auto task = std::make_shared<std::packaged_task<R()>>([this, fn] { return fn(*session_); });
    auto fut = task->get_future();
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopped_) return R();
      queue_.push_back([task] { (*task)(); });
      cv_.notify_one();
    }
    return fut.get();
  }

  void Post(std::function<void(lt::session&)> fn) {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_) return;
    queue_.push_back([this, fn] { fn(*session_); });
    cv_.notify_one();
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopping_) return;
      stopping_ = true;
      cv_.notify_one();
    }
    if (owner_.joinable()) owner_.join();
    session_.reset();
  }

  std::optional<SegmentTransferStatus> Status(const std::string& info_hash) const {
    std::lock_guard<std::mutex> l(status_mu_);
    auto it = status_.find(info_hash);
    if (it == status_.end()) return std::nullopt;
    return it->second;
  }

  absl::StatusOr<std::string> Add(const std::string& bytes, const std::string& save_dir,
                                  TorrentEngine::AddMode mode, const std::string& resume_path,
                                  const SegmentChain* chain) {
    const bool complete = mode == TorrentEngine::AddMode::kSeed;
    const bool standby = mode == TorrentEngine::AddMode::kStandby;
    lt::error_code ec;
    auto ti = std::make_shared<lt::torrent_info>(
        lt::span<char const>(bytes.data(), static_cast<long>(bytes.size())), ec, lt::from_span);
    if (ec)
      return absl::InvalidArgumentError(
          absl::StrCat("segment torrent does not parse: ", ec.message()));
    std::string hash = HexOf(ti->info_hashes().v1);
    // Registered once: adding a known segment again (a standby one for download)
    // must not forget which of its pieces already matched.
    if (chain != nullptr && !chains_.Find(ti->info_hashes().v1)) {
      if (chain->pieces() != ti->num_pieces() ||
          chain->length != static_cast<uint64_t>(ti->total_size())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "segment ", hash.substr(0, 12), ": its piece states cover ", chain->pieces(),
            " pieces, its torrent has ", ti->num_pieces()));
      }
      auto entry = std::make_shared<PieceChainRegistry::Entry>();
      entry->path = absl::StrCat(save_dir, "/", ti->files().file_path(lt::file_index_t{0}));
      entry->chain = *chain;
      entry->matched = std::make_unique<std::atomic<bool>[]>(static_cast<size_t>(chain->pieces()));
      for (lt::piece_index_t p : ti->piece_range()) entry->expected_sha1.push_back(ti->hash_for_piece(p));
      chains_.Add(ti->info_hashes().v1, std::move(entry));
    }
    lt::add_torrent_params atp;
    if (!complete && !resume_path.empty()) {
      auto resume = ReadFile(resume_path);
      if (resume.ok()) {
        lt::error_code rec;
        atp = lt::read_resume_data(
            lt::span<char const>(resume->data(), static_cast<long>(resume->size())), rec);
        if (rec) atp = lt::add_torrent_params();
      }
    }
    if (!complete) {
      const int listed = atp.have_pieces.count();
      const int found = FindPiecesOnDisk(*ti, save_dir, atp.have_pieces);
      // A piece the resume data saw half done may be whole on disk now; left among
      // the unfinished ones, libtorrent would request its missing blocks again.
      for (auto it = atp.unfinished_pieces.begin(); it != atp.unfinished_pieces.end();) {
        bool have = it->first < atp.have_pieces.end_index() && atp.have_pieces.get_bit(it->first);
        it = have ? atp.unfinished_pieces.erase(it) : std::next(it);
      }
      if (found > 0) {
        log_->info(
            "segment {}: {} pieces on disk beyond the {} in its resume data are kept, not fetched "
            "again",
            hash.substr(0, 12), found, listed);
      }
    }
    atp.ti = ti;
    atp.save_path = save_dir;
    atp.flags &= ~(lt::torrent_flags::auto_managed | lt::torrent_flags::paused |
                   lt::torrent_flags::duplicate_is_error);
    if (complete) {
      // Seed mode alone makes libtorrent hash each piece again the first time a
      // peer asks for it. The bytes were hashed as they arrived (the segment's
      // metadata comes from that pass, or the blob was verified whole), and every
      // downloader checks each piece it gets, so that extra pass is skipped.
      atp.flags |= lt::torrent_flags::seed_mode;
      atp.verified_pieces.resize(ti->num_pieces(), true);
    }
    if (standby) {
      // One piece wanted, not none: a torrent that wants nothing counts as finished
      // and libtorrent connects it only on its once-a-second tick.
      atp.piece_priorities.assign(static_cast<size_t>(ti->num_pieces()), lt::dont_download);
      if (!atp.piece_priorities.empty()) atp.piece_priorities[0] = lt::low_priority;
    } else {
      atp.piece_priorities.clear();  // resume data may hold a standby's zeros
    }
    // Rarest first inside a segment, not sequential: peers that all asked for
    // pieces in the same order held the same pieces at the same time and could
    // not feed each other, so the seed uploaded most copies itself (shoal-bench
    // N=8, one run each: 3.1x the bound with sequential, 2.0x without; the seed
    // spent 2.3 CPU-s per GB delivered against 1.5). Order across segments
    // comes from the peer's window of active segments (blob_download_swarm.cc).
    return RunOnOwner<absl::StatusOr<std::string>>(
        [&, hash](lt::session& s) -> absl::StatusOr<std::string> {
          if (auto known = torrents_.find(hash); known != torrents_.end()) {
            // Known already: upgrading to complete needs no action, libtorrent has the pieces.
            if (!standby) Activate(hash);
            return hash;
          }
          lt::error_code aec;
          lt::torrent_handle h = s.add_torrent(std::move(atp), aec);
          if (aec)
            return absl::InternalError(
                absl::StrCat("cannot add segment torrent ", hash, ": ", aec.message()));
          torrents_[hash] = Entry{h, resume_path};
          torrents_[hash].standby = standby;
          {
            std::lock_guard<std::mutex> l(status_mu_);
            status_.try_emplace(hash);
          }
          return hash;
        });
  }

  void Connect(const std::string& hash, const std::vector<std::pair<std::string, int>>& eps) {
    Post([this, hash, eps](lt::session&) {
      auto it = torrents_.find(hash);
      if (it == torrents_.end()) return;
      for (const auto& [ip, port] : eps) {
        lt::error_code ec;
        auto addr = lt::make_address(ip, ec);
        if (ec) continue;
        try {
          it->second.handle.connect_peer(
              lt::tcp::endpoint(addr, static_cast<unsigned short>(port)));
        } catch (const std::exception& e) {
          log_->warn("connect_peer {}:{} for segment {} failed: {}", ip, port, hash.substr(0, 12),
                     e.what());
        }
      }
      if (eps.empty()) return;
      if (it->second.checked) {
        ConnectNow(it->second);
      } else {
        it->second.connect_when_checked = true;
      }
    });
  }

  void Activate(const std::string& hash) {
    Post([this, hash](lt::session&) {
      auto it = torrents_.find(hash);
      if (it == torrents_.end() || !it->second.standby) return;
      it->second.standby = false;
      const int n = it->second.handle.torrent_file()->num_pieces();
      it->second.handle.prioritize_pieces(
          std::vector<lt::download_priority_t>(static_cast<size_t>(n), lt::default_priority));
    });
  }

  bool PieceMatchedChain(const std::string& hash, int piece) const {
    if (hash.size() != 2 * lt::sha1_hash::size()) return false;
    const std::string raw = absl::HexStringToBytes(hash);
    return chains_.Matched(lt::sha1_hash(raw.data()), piece);
  }

  void RemoveTorrent(const std::string& hash) {
    Post([this, hash](lt::session& s) {
      auto it = torrents_.find(hash);
      if (it == torrents_.end()) return;
      chains_.Remove(it->second.handle.info_hashes().v1);
      s.remove_torrent(it->second.handle);
      torrents_.erase(it);
      std::lock_guard<std::mutex> l(status_mu_);
      status_.erase(hash);
    });
  }

  std::vector<bool> Have(const std::string& hash) {
    return RunOnOwner<std::vector<bool>>([this, hash](lt::session&) {
      std::vector<bool> out;
      auto it = torrents_.find(hash);
      if (it == torrents_.end()) return out;
      lt::torrent_status st = it->second.handle.status(lt::torrent_handle::query_pieces);
      for (int i = 0; i < st.pieces.size(); ++i) {
        out.push_back(st.pieces.get_bit(lt::piece_index_t(i)) &&
                      !it->second.unwritten.contains(i) &&
                      !writes_.Unwritten(st.info_hashes.v1, i));
      }
      return out;
    });
  }

  std::thread::id owner_id() const { return owner_.get_id(); }

 private:
  struct Entry {
    lt::torrent_handle handle;
    std::string resume_path;
    bool resume_dirty = true;
    // Pieces that passed their hash but whose blocks are not all in the file yet:
    // reported (on_piece_finished) only once they are, and the torrent finished
    // only when none is left.
    absl::flat_hash_set<int> unwritten;
    bool finish_pending = false;
    // Added with every piece at priority 0: libtorrent calls it "finished" while
    // it has none of them; it is not done until Activate() and every piece.
    bool standby = false;
    bool checked = false;               // torrent_checked_alert seen
    bool connect_when_checked = false;  // peers were given before it was checked
  };

  // libtorrent connects to the peers it was given on its once-a-second peer
  // tick, so a new segment sat idle for up to 1 s. Resuming a torrent connects to
  // its listed peers at once ("connect boost"), so a torrent without connections
  // gets a pause/resume. Only once it is checked: a resume before that is lost.
  void ConnectNow(Entry& e) {
    e.connect_when_checked = false;
    if (e.handle.status({}).num_peers > 0) return;
    e.handle.pause();
    e.handle.resume();
  }

  // A piece that passed its hash: report it now if its bytes are in the file,
  // else when its last write completes (PieceWritten).
  void PieceVerified(const std::string& hash, Entry& e, const lt::sha1_hash& ih, int piece) {
    e.resume_dirty = true;
    if (writes_.Unwritten(ih, piece)) {
      e.unwritten.insert(piece);
      return;
    }
    if (events_.on_piece_finished) events_.on_piece_finished(hash, piece);
  }

  void PieceWritten(const lt::sha1_hash& ih, int piece) {
    std::string hash = HexOf(ih);
    auto it = torrents_.find(hash);
    if (it == torrents_.end() || it->second.unwritten.erase(piece) == 0) return;
    if (events_.on_piece_finished) events_.on_piece_finished(hash, piece);
    if (it->second.finish_pending && it->second.unwritten.empty()) TorrentDone(hash, it->second);
  }

  void TorrentDone(const std::string& hash, Entry& e) {
    e.finish_pending = false;
    {
      std::lock_guard<std::mutex> l(status_mu_);
      status_[hash].finished = true;
    }
    e.resume_dirty = true;
    if (!e.resume_path.empty()) {
      e.handle.save_resume_data(lt::torrent_handle::save_info_dict);
      pending_resume_++;
    }
    if (events_.on_torrent_finished) events_.on_torrent_finished(hash);
  }

  void OwnerLoop() {
    auto next_update = std::chrono::steady_clock::now();
    auto next_resume = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (true) {
      std::deque<std::function<void()>> work;
      std::vector<std::pair<lt::sha1_hash, int>> written;
      bool stopping;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait_until(l, next_update, [this] { return wake_ || !queue_.empty() || stopping_; });
        wake_ = false;
        work.swap(queue_);
        written.swap(written_);
        stopping = stopping_;
      }
      for (auto& w : work) w();
      HandleAlerts();
      // After the alerts: a piece's write may complete before its piece_finished is popped.
      for (const auto& [ih, piece] : written) PieceWritten(ih, piece);
      auto now = std::chrono::steady_clock::now();
      if (now >= next_update) {
        session_->post_torrent_updates();
        session_->post_session_stats();
        next_update = now + std::chrono::milliseconds(250);
      }
      if (now >= next_resume) {
        SaveResume(/*all=*/false);
        next_resume = now + std::chrono::seconds(5);
      }
      if (stopping) break;
    }
    SaveResume(/*all=*/true);
    // Drain the save_resume_data alerts (bounded wait) so journals are flushed.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (pending_resume_ > 0 && std::chrono::steady_clock::now() < until) {
      session_->wait_for_alert(lt::milliseconds(50));
      HandleAlerts();
    }
    std::lock_guard<std::mutex> l(mu_);
    stopped_ = true;
    for (auto& w : queue_) w();  // unblock waiters; they run against a still-live session
    queue_.clear();
  }

  void SaveResume(bool all) {
    for (auto& [hash, e] : torrents_) {
      if (e.resume_path.empty() || (!all && !e.resume_dirty)) continue;
      e.handle.save_resume_data(lt::torrent_handle::save_info_dict |
                                lt::torrent_handle::only_if_modified);
      e.resume_dirty = false;
      pending_resume_++;
    }
  }

  void HandleAlerts() {
    std::vector<lt::alert*> alerts;
    session_->pop_alerts(&alerts);
    for (lt::alert* a : alerts) {
      if (auto* ss = lt::alert_cast<lt::session_stats_alert>(a)) {
        auto counters = ss->counters();
        if (recv_payload_idx_ >= 0)
          Metrics().bytes_from_peers_total.RaiseTo(
              static_cast<uint64_t>(counters[recv_payload_idx_]));
        if (sent_payload_idx_ >= 0) {
          Metrics().bytes_uploaded_to_peers_total.RaiseTo(
              static_cast<uint64_t>(counters[sent_payload_idx_]));
        }
      } else if (auto* su = lt::alert_cast<lt::state_update_alert>(a)) {
        std::lock_guard<std::mutex> l(status_mu_);
        for (const lt::torrent_status& st : su->status) {
          std::string hash = HexOf(st.info_hashes.v1);
          auto& s = status_[hash];
          s.bytes_done = static_cast<uint64_t>(st.total_wanted_done);
          auto e = torrents_.find(hash);
          const bool written =
              e == torrents_.end() || (e->second.unwritten.empty() && !e->second.finish_pending);
          // is_seeding (every piece), not is_finished (every wanted piece): a
          // standby segment wants none.
          s.finished = st.is_seeding && written;
          s.peers = st.num_peers;
          s.download_rate = static_cast<uint64_t>(st.download_payload_rate);
          s.upload_rate = static_cast<uint64_t>(st.upload_payload_rate);
          s.total_download = static_cast<uint64_t>(st.total_payload_download);
          s.total_upload = static_cast<uint64_t>(st.total_payload_upload);
        }
      } else if (auto* tc = lt::alert_cast<lt::torrent_checked_alert>(a)) {
        if (auto it = torrents_.find(HexOf(tc->handle.info_hashes().v1)); it != torrents_.end()) {
          it->second.checked = true;
          if (it->second.connect_when_checked) ConnectNow(it->second);
        }
      } else if (auto* pf = lt::alert_cast<lt::piece_finished_alert>(a)) {
        const lt::sha1_hash ih = pf->handle.info_hashes().v1;
        std::string hash = HexOf(ih);
        if (auto it = torrents_.find(hash); it != torrents_.end()) {
          PieceVerified(hash, it->second, ih, static_cast<int>(pf->piece_index));
        }
      } else if (auto* tf = lt::alert_cast<lt::torrent_finished_alert>(a)) {
        std::string hash = HexOf(tf->handle.info_hashes().v1);
        // "Finished" means every wanted piece. A standby segment posts it when its
        // first piece lands, and the alert may be popped only after Activate() ran:
        // what counts is whether the torrent holds every piece now (seeding), the
        // same test as the status updates below.
        if (auto it = torrents_.find(hash);
            it != torrents_.end() && it->second.handle.status({}).is_seeding) {
          // Every piece passed its hash; it is finished once all are in the file.
          if (it->second.unwritten.empty()) {
            TorrentDone(hash, it->second);
          } else {
            it->second.finish_pending = true;
          }
        }
      } else if (auto* rd = lt::alert_cast<lt::save_resume_data_alert>(a)) {
        pending_resume_--;
        std::string hash = HexOf(rd->handle.info_hashes().v1);
        auto it = torrents_.find(hash);
        if (it != torrents_.end() && !it->second.resume_path.empty()) {
          std::vector<char> buf = lt::write_resume_data_buf(rd->params);
          auto st =
              WriteFileAtomically(it->second.resume_path, std::string(buf.begin(), buf.end()));
          if (!st.ok())
            log_->warn("cannot save resume data for segment {}: {}", hash.substr(0, 12),
                       st.message());
        }
      } else if (lt::alert_cast<lt::save_resume_data_failed_alert>(a)) {
        pending_resume_--;
      } else if (auto* pb = lt::alert_cast<lt::peer_ban_alert>(a)) {
        Metrics().parents_banned_total.Add();
        std::string hash = HexOf(pb->handle.info_hashes().v1);
        log_->warn("segment {}: banned parent {} after a piece failed its hash", hash.substr(0, 12),
                   pb->endpoint.address().to_string());
        if (events_.on_peer_banned) {
          events_.on_peer_banned(hash, pb->endpoint.address().to_string(), pb->endpoint.port());
        }
      } else if (auto* fe = lt::alert_cast<lt::file_error_alert>(a)) {
        std::string hash = HexOf(fe->handle.info_hashes().v1);
        std::string msg = absl::StrCat(fe->filename(), ": ", fe->error.message());
        // A full disk fails every queued block write at once: one line per torrent
        // per 10 s, with how many were folded into it.
        StorageErrorLog& el = storage_errors_[hash];
        auto now = std::chrono::steady_clock::now();
        if (now - el.last_logged >= std::chrono::seconds(10)) {
          log_->error("segment {}: storage error {}{}", hash.substr(0, 12), msg,
                      el.suppressed > 0
                          ? absl::StrCat(" (and ", el.suppressed, " more since the last report)")
                          : "");
          el.last_logged = now;
          el.suppressed = 0;
        } else {
          el.suppressed++;
        }
        if (events_.on_storage_error) events_.on_storage_error(hash, msg);
      } else if (auto* hf = lt::alert_cast<lt::hash_failed_alert>(a)) {
        Metrics().pieces_failed_total.Add();
        log_->warn("segment {}: piece {} failed its hash check",
                   HexOf(hf->handle.info_hashes().v1).substr(0, 12),
                   static_cast<int>(hf->piece_index));
      }
    }
  }

  TorrentEngineOptions options_;
  TorrentEvents events_;
  std::shared_ptr<spdlog::logger> log_;
  // Before session_: the session's disk I/O calls into them until the session is gone.
  PieceWriteTracker writes_;
  PieceChainRegistry chains_;
  std::unique_ptr<lt::session> session_;
  std::thread owner_;
  const int recv_payload_idx_ = lt::find_metric_idx("net.recv_payload_bytes");
  const int sent_payload_idx_ = lt::find_metric_idx("net.sent_payload_bytes");

  std::mutex mu_;
  std::condition_variable cv_;
  bool wake_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  std::deque<std::function<void()>> queue_;
  std::vector<std::pair<lt::sha1_hash, int>> written_;  // pieces whose last write completed

  // Owner thread only.
  absl::flat_hash_map<std::string, Entry> torrents_;
  struct StorageErrorLog {
    std::chrono::steady_clock::time_point last_logged{};
    uint64_t suppressed = 0;
  };
  absl::flat_hash_map<std::string, StorageErrorLog> storage_errors_;
  int pending_resume_ = 0;

  mutable std::mutex status_mu_;
  absl::flat_hash_map<std::string, SegmentTransferStatus> status_;
};

absl::StatusOr<std::unique_ptr<TorrentEngine>> TorrentEngine::Create(
    const TorrentEngineOptions& options, TorrentEvents events) {
  auto impl = std::make_unique<Impl>(options, std::move(events));
  int port = 0;
  if (auto s = impl->Start(&port); !s.ok()) return s;
  return std::unique_ptr<TorrentEngine>(new TorrentEngine(std::move(impl), port));
}

TorrentEngine::TorrentEngine(std::unique_ptr<Impl> impl, int port)
    : impl_(std::move(impl)), listen_port_(port) {}
TorrentEngine::~TorrentEngine() { Stop(); }

absl::StatusOr<std::string> TorrentEngine::AddSegment(const std::string& torrent_bytes,
                                                      const std::string& save_dir, AddMode mode,
                                                      const std::string& resume_path,
                                                      const SegmentChain* chain) {
  return impl_->Add(torrent_bytes, save_dir, mode, resume_path, chain);
}
void TorrentEngine::Activate(const std::string& info_hash) { impl_->Activate(info_hash); }
bool TorrentEngine::PieceMatchedChain(const std::string& info_hash, int piece) const {
  return impl_->PieceMatchedChain(info_hash, piece);
}
void TorrentEngine::ConnectPeers(const std::string& info_hash,
                                 const std::vector<std::pair<std::string, int>>& endpoints) {
  impl_->Connect(info_hash, endpoints);
}
void TorrentEngine::Remove(const std::string& info_hash) { impl_->RemoveTorrent(info_hash); }
std::optional<SegmentTransferStatus> TorrentEngine::Status(const std::string& info_hash) const {
  return impl_->Status(info_hash);
}
std::vector<bool> TorrentEngine::HavePieces(const std::string& info_hash) {
  return impl_->Have(info_hash);
}
void TorrentEngine::Stop() {
  if (impl_) impl_->Stop();
}

}  // namespace shoal
