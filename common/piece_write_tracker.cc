#include "common/piece_write_tracker.h"

#include <libtorrent/disk_buffer_holder.hpp>
#include <libtorrent/settings_pack.hpp>
#include <libtorrent/peer_request.hpp>
#include <libtorrent/storage_defs.hpp>
#include <utility>
#include <vector>

#include "common/piece_chain_check.h"

namespace shoal {

// Delegates every call to the real disk I/O. Storage indices are the inner
// ones; the storage_holder handed to libtorrent points here so that removing a
// torrent also drops its entry.
class TrackingDiskIo final : public lt::disk_interface {
 public:
  TrackingDiskIo(std::unique_ptr<lt::disk_interface> inner, PieceWriteTracker* tracker,
                 const PieceChainRegistry* chains, lt::io_context& ios, int hash_threads)
      : inner_(std::move(inner)),
        tracker_(tracker),
        chains_(chains),
        pool_(ios, tracker, hash_threads) {}

  lt::storage_holder new_torrent(lt::storage_params const& p,
                                 std::shared_ptr<void> const& torrent) override {
    lt::storage_holder h = inner_->new_torrent(p, torrent);
    const lt::storage_index_t idx = h;
    absl::MutexLock l(&mu_);
    storages_[idx] = Storage{std::move(h), p.info_hash};
    return lt::storage_holder(idx, *this);
  }

  void remove_torrent(lt::storage_index_t idx) override {
    Storage gone;
    {
      absl::MutexLock l(&mu_);
      auto it = storages_.find(idx);
      if (it == storages_.end()) return;
      gone = std::move(it->second);
      storages_.erase(it);
    }
    tracker_->Forget(gone.info_hash);
    // gone.holder's destructor removes the torrent from the inner disk I/O, outside mu_.
  }

  void async_read(lt::storage_index_t s, lt::peer_request const& r,
                  std::function<void(lt::disk_buffer_holder, lt::storage_error const&)> handler,
                  lt::disk_job_flags_t flags) override {
    inner_->async_read(s, r, std::move(handler), flags);
  }

  bool async_write(lt::storage_index_t s, lt::peer_request const& r, char const* buf,
                   std::shared_ptr<lt::disk_observer> o,
                   std::function<void(lt::storage_error const&)> handler,
                   lt::disk_job_flags_t flags) override {
    const lt::sha1_hash ih = InfoHash(s);
    const int piece = static_cast<int>(r.piece);
    tracker_->WriteIssued(ih, piece);
    PieceWriteTracker* tracker = tracker_;
    return inner_->async_write(
        s, r, buf, std::move(o),
        [tracker, ih, piece, handler = std::move(handler)](lt::storage_error const& e) {
          tracker->WriteDone(ih, piece, !e);
          handler(e);
        },
        flags);
  }

  void async_hash(
      lt::storage_index_t s, lt::piece_index_t p, lt::span<lt::sha256_hash> v2,
      lt::disk_job_flags_t flags,
      std::function<void(lt::piece_index_t, lt::sha1_hash const&, lt::storage_error const&)> h)
      override {
    const lt::sha1_hash ih = InfoHash(s);
    // A v1 torrent (no v2 hashes asked for) with a chain: SHA-256 from the chain.
    if (auto chain = chains_ ? chains_->Find(ih) : nullptr; chain && v2.empty()) {
      pool_.Submit(ih, std::move(chain), p, std::move(h));
      return;
    }
    inner_->async_hash(s, p, v2, flags, std::move(h));
  }
  void async_hash2(
      lt::storage_index_t s, lt::piece_index_t p, int offset, lt::disk_job_flags_t flags,
      std::function<void(lt::piece_index_t, lt::sha256_hash const&, lt::storage_error const&)> h)
      override {
    inner_->async_hash2(s, p, offset, flags, std::move(h));
  }
  void async_move_storage(
      lt::storage_index_t s, std::string p, lt::move_flags_t flags,
      std::function<void(lt::status_t, std::string const&, lt::storage_error const&)> h) override {
    inner_->async_move_storage(s, std::move(p), flags, std::move(h));
  }
  void async_release_files(lt::storage_index_t s, std::function<void()> h) override {
    inner_->async_release_files(s, std::move(h));
  }
  void async_check_files(lt::storage_index_t s, lt::add_torrent_params const* rd,
                         lt::aux::vector<std::string, lt::file_index_t> links,
                         std::function<void(lt::status_t, lt::storage_error const&)> h) override {
    inner_->async_check_files(s, rd, std::move(links), std::move(h));
  }
  void async_stop_torrent(lt::storage_index_t s, std::function<void()> h) override {
    inner_->async_stop_torrent(s, std::move(h));
  }
  void async_rename_file(
      lt::storage_index_t s, lt::file_index_t i, std::string name,
      std::function<void(std::string const&, lt::file_index_t, lt::storage_error const&)> h)
      override {
    inner_->async_rename_file(s, i, std::move(name), std::move(h));
  }
  void async_delete_files(lt::storage_index_t s, lt::remove_flags_t o,
                          std::function<void(lt::storage_error const&)> h) override {
    inner_->async_delete_files(s, o, std::move(h));
  }
  void async_set_file_priority(
      lt::storage_index_t s, lt::aux::vector<lt::download_priority_t, lt::file_index_t> prio,
      std::function<void(lt::storage_error const&,
                         lt::aux::vector<lt::download_priority_t, lt::file_index_t>)>
          h) override {
    inner_->async_set_file_priority(s, std::move(prio), std::move(h));
  }
  void async_clear_piece(lt::storage_index_t s, lt::piece_index_t p,
                         std::function<void(lt::piece_index_t)> h) override {
    // libtorrent fetches a cleared piece again (after a failed hash or write).
    tracker_->Clear(InfoHash(s), static_cast<int>(p));
    inner_->async_clear_piece(s, p, std::move(h));
  }
  void update_stats_counters(lt::counters& c) const override { inner_->update_stats_counters(c); }
  std::vector<lt::open_file_state> get_status(lt::storage_index_t s) const override {
    return inner_->get_status(s);
  }
  void abort(bool wait) override {
    pool_.Stop();
    inner_->abort(wait);
  }
  void submit_jobs() override { inner_->submit_jobs(); }
  void settings_updated() override { inner_->settings_updated(); }

 private:
  struct Storage {
    lt::storage_holder holder;
    lt::sha1_hash info_hash;
  };

  lt::sha1_hash InfoHash(lt::storage_index_t s) {
    absl::MutexLock l(&mu_);
    auto it = storages_.find(s);
    return it == storages_.end() ? lt::sha1_hash() : it->second.info_hash;
  }

  std::unique_ptr<lt::disk_interface> inner_;
  PieceWriteTracker* tracker_;
  const PieceChainRegistry* chains_;
  ChainHashPool pool_;
  absl::Mutex mu_;
  absl::flat_hash_map<lt::storage_index_t, Storage> storages_ ABSL_GUARDED_BY(mu_);
};

// Only pieces with writes in flight or a failed write are listed.
PieceWriteTracker::WriteState PieceWriteTracker::StateOf(const lt::sha1_hash& ih,
                                                         int piece) const {
  auto t = pieces_.find(ih);
  if (t == pieces_.end()) return WriteState::kWritten;
  auto p = t->second.find(piece);
  if (p == t->second.end()) return WriteState::kWritten;
  return p->second.in_flight > 0 ? WriteState::kInFlight : WriteState::kFailed;
}

bool PieceWriteTracker::Unwritten(const lt::sha1_hash& ih, int piece) const {
  absl::MutexLock l(&mu_);
  return StateOf(ih, piece) != WriteState::kWritten;
}

PieceWriteTracker::WriteState PieceWriteTracker::AwaitWritten(const lt::sha1_hash& ih, int piece,
                                                              absl::Duration timeout) const {
  absl::MutexLock l(&mu_);
  auto settled = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return StateOf(ih, piece) != WriteState::kInFlight;
  };
  mu_.AwaitWithTimeout(absl::Condition(&settled), timeout);
  return StateOf(ih, piece);
}

void PieceWriteTracker::WriteIssued(const lt::sha1_hash& ih, int piece) {
  absl::MutexLock l(&mu_);
  pieces_[ih][piece].in_flight++;
}

void PieceWriteTracker::WriteDone(const lt::sha1_hash& ih, int piece, bool ok) {
  {
    absl::MutexLock l(&mu_);
    auto t = pieces_.find(ih);
    if (t == pieces_.end()) return;  // torrent removed meanwhile
    auto p = t->second.find(piece);
    if (p == t->second.end()) return;
    PieceState& st = p->second;
    st.in_flight--;
    if (!ok) st.failed = true;
    if (st.in_flight > 0 || st.failed) return;
    t->second.erase(p);
    if (t->second.empty()) pieces_.erase(t);
  }
  if (on_written_) on_written_(ih, piece);
}

void PieceWriteTracker::Clear(const lt::sha1_hash& ih, int piece) {
  absl::MutexLock l(&mu_);
  auto t = pieces_.find(ih);
  if (t == pieces_.end()) return;
  auto p = t->second.find(piece);
  if (p == t->second.end() || p->second.in_flight > 0) return;
  t->second.erase(p);
  if (t->second.empty()) pieces_.erase(t);
}

void PieceWriteTracker::Forget(const lt::sha1_hash& ih) {
  absl::MutexLock l(&mu_);
  pieces_.erase(ih);
}

lt::disk_io_constructor_type PieceWriteTracker::Wrap(lt::disk_io_constructor_type inner,
                                                     const PieceChainRegistry* chains) {
  return [this, chains, inner = std::move(inner)](
             lt::io_context& ios, lt::settings_interface const& sett,
             lt::counters& cnt) -> std::unique_ptr<lt::disk_interface> {
    return std::make_unique<TrackingDiskIo>(inner(ios, sett, cnt), this, chains, ios,
                                            sett.get_int(lt::settings_pack::hashing_threads));
  };
}

}  // namespace shoal
