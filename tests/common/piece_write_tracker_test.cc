// PieceWriteTracker: a piece counts as written only when every write issued for
// it has completed without error, whatever order libtorrent completes them in.
#include "common/piece_write_tracker.h"

#include <gtest/gtest.h>

#include <libtorrent/disk_buffer_holder.hpp>
#include <libtorrent/error_code.hpp>
#include <libtorrent/file_storage.hpp>
#include <libtorrent/peer_request.hpp>
#include <libtorrent/performance_counters.hpp>
#include <libtorrent/settings_pack.hpp>
#include <libtorrent/storage_defs.hpp>
#include <vector>

namespace shoal {
namespace {

// Records write handlers so the test decides when each write completes.
class FakeDiskIo final : public lt::disk_interface {
 public:
  explicit FakeDiskIo(std::vector<std::function<void(lt::storage_error const&)>>* writes)
      : writes_(writes) {}
  lt::storage_holder new_torrent(lt::storage_params const&, std::shared_ptr<void> const&) override {
    return lt::storage_holder(lt::storage_index_t(7), *this);
  }
  void remove_torrent(lt::storage_index_t) override {}
  void async_read(lt::storage_index_t, lt::peer_request const&,
                  std::function<void(lt::disk_buffer_holder, lt::storage_error const&)>,
                  lt::disk_job_flags_t) override {}
  bool async_write(lt::storage_index_t, lt::peer_request const&, char const*,
                   std::shared_ptr<lt::disk_observer>,
                   std::function<void(lt::storage_error const&)> handler,
                   lt::disk_job_flags_t) override {
    writes_->push_back(std::move(handler));
    return false;
  }
  void async_hash(
      lt::storage_index_t, lt::piece_index_t, lt::span<lt::sha256_hash>, lt::disk_job_flags_t,
      std::function<void(lt::piece_index_t, lt::sha1_hash const&, lt::storage_error const&)>)
      override {}
  void async_hash2(lt::storage_index_t, lt::piece_index_t, int, lt::disk_job_flags_t,
                   std::function<void(lt::piece_index_t, lt::sha256_hash const&,
                                      lt::storage_error const&)>) override {}
  void async_move_storage(
      lt::storage_index_t, std::string, lt::move_flags_t,
      std::function<void(lt::status_t, std::string const&, lt::storage_error const&)>) override {}
  void async_release_files(lt::storage_index_t, std::function<void()>) override {}
  void async_check_files(lt::storage_index_t, lt::add_torrent_params const*,
                         lt::aux::vector<std::string, lt::file_index_t>,
                         std::function<void(lt::status_t, lt::storage_error const&)>) override {}
  void async_stop_torrent(lt::storage_index_t, std::function<void()>) override {}
  void async_rename_file(lt::storage_index_t, lt::file_index_t, std::string,
                         std::function<void(std::string const&, lt::file_index_t,
                                            lt::storage_error const&)>) override {}
  void async_delete_files(lt::storage_index_t, lt::remove_flags_t,
                          std::function<void(lt::storage_error const&)>) override {}
  void async_set_file_priority(
      lt::storage_index_t, lt::aux::vector<lt::download_priority_t, lt::file_index_t>,
      std::function<void(lt::storage_error const&,
                         lt::aux::vector<lt::download_priority_t, lt::file_index_t>)>) override {}
  void async_clear_piece(lt::storage_index_t, lt::piece_index_t,
                         std::function<void(lt::piece_index_t)>) override {}
  void update_stats_counters(lt::counters&) const override {}
  std::vector<lt::open_file_state> get_status(lt::storage_index_t) const override { return {}; }
  void abort(bool) override {}
  void submit_jobs() override {}
  void settings_updated() override {}

 private:
  std::vector<std::function<void(lt::storage_error const&)>>* writes_;
};

struct Fixture {
  std::vector<std::function<void(lt::storage_error const&)>> writes;
  std::vector<int> written;
  PieceWriteTracker tracker{[this](const lt::sha1_hash&, int piece) { written.push_back(piece); }};
  lt::io_context ios;  // before `disk`, which holds on to it
  std::unique_ptr<lt::disk_interface> disk;
  lt::file_storage files;
  std::string path = "/nonexistent";
  lt::aux::vector<lt::download_priority_t, lt::file_index_t> prio;
  lt::sha1_hash ih{"0123456789abcdefghij"};
  lt::storage_holder storage;

  Fixture() {
    lt::counters counters;
    lt::settings_pack settings;
    auto make = tracker.Wrap([this](lt::io_context&, lt::settings_interface const&, lt::counters&) {
      return std::make_unique<FakeDiskIo>(&writes);
    }, /*chains=*/nullptr);
    disk = make(ios, settings, counters);
    storage = disk->new_torrent(
        lt::storage_params(files, nullptr, path, lt::storage_mode_sparse, prio, ih), nullptr);
  }
  ~Fixture() { storage.reset(); }

  void Write(int piece, int block) {
    lt::peer_request r;
    r.piece = lt::piece_index_t(piece);
    r.start = block * 16384;
    r.length = 16384;
    disk->async_write(storage, r, nullptr, nullptr, [](lt::storage_error const&) {}, {});
  }
};

TEST(PieceWriteTrackerTest, PieceIsWrittenWhenItsLastWriteCompletes) {
  Fixture f;
  f.Write(0, 0);
  f.Write(0, 1);
  f.Write(1, 0);
  EXPECT_TRUE(f.tracker.Unwritten(f.ih, 0));
  EXPECT_TRUE(f.tracker.Unwritten(f.ih, 1));
  EXPECT_FALSE(f.tracker.Unwritten(f.ih, 2));  // nothing in flight
  f.writes[0]({});
  EXPECT_TRUE(f.tracker.Unwritten(f.ih, 0));
  EXPECT_TRUE(f.written.empty());
  f.writes[2]({});  // piece 1 completes first
  EXPECT_EQ(f.written, std::vector<int>{1});
  f.writes[1]({});
  EXPECT_FALSE(f.tracker.Unwritten(f.ih, 0));
  EXPECT_EQ(f.written, (std::vector<int>{1, 0}));
}

TEST(PieceWriteTrackerTest, AFailedWriteKeepsThePieceUnwritten) {
  Fixture f;
  f.Write(3, 0);
  f.Write(3, 1);
  lt::storage_error err;
  err.ec = lt::errors::make_error_code(lt::errors::file_too_short);
  f.writes[0](err);
  f.writes[1]({});
  EXPECT_TRUE(f.tracker.Unwritten(f.ih, 3));
  EXPECT_TRUE(f.written.empty());
  // Cleared by libtorrent to fetch it again: a fresh write makes it whole.
  f.disk->async_clear_piece(f.storage, lt::piece_index_t(3), [](lt::piece_index_t) {});
  f.Write(3, 0);
  f.writes[2]({});
  EXPECT_FALSE(f.tracker.Unwritten(f.ih, 3));
  EXPECT_EQ(f.written, std::vector<int>{3});
}

}  // namespace
}  // namespace shoal
