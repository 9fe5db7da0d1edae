// libtorrent's piece check, done against the blob's SHA-256 chain (piece_chain.h)
// instead of the segment torrent's SHA-1. The disk I/O wrapper
// (piece_write_tracker.cc) hands each async_hash of a registered torrent to a
// ChainHashPool: once the piece's writes are in its file, a pool thread reads
// the piece, runs SHA-256 from its start state and answers libtorrent on its
// network thread with the piece's expected SHA-1 when the piece matched, or a
// different hash when it did not. libtorrent then does what a failed SHA-1
// makes it do: fetch the piece again and ban the parent that sent it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <libtorrent/disk_interface.hpp>
#include <libtorrent/io_context.hpp>
#include <libtorrent/sha1_hash.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/piece_chain.h"

namespace shoal {

class PieceWriteTracker;

// Which torrents are checked against a chain (engine-owned, any thread).
class PieceChainRegistry {
 public:
  struct Entry {
    std::string path;  // the torrent's single file
    SegmentChain chain;
    std::vector<lt::sha1_hash> expected_sha1;  // what libtorrent compares the answer with
    // Pieces that matched their link in this process. libtorrent also reports
    // pieces it took from resume data as finished, so "finished" alone does not
    // say a piece was checked.
    std::unique_ptr<std::atomic<bool>[]> matched;
  };
  void Add(const lt::sha1_hash& info_hash, std::shared_ptr<const Entry> entry);
  void Remove(const lt::sha1_hash& info_hash);
  std::shared_ptr<const Entry> Find(const lt::sha1_hash& info_hash) const;
  bool Matched(const lt::sha1_hash& info_hash, int piece) const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<lt::sha1_hash, std::shared_ptr<const Entry>> entries_ ABSL_GUARDED_BY(mu_);
};

class ChainHashPool {
 public:
  using Handler =
      std::function<void(lt::piece_index_t, lt::sha1_hash const&, lt::storage_error const&)>;
  ChainHashPool(lt::io_context& ios, PieceWriteTracker* writes, int threads);
  ~ChainHashPool();  // Stop()

  void Submit(const lt::sha1_hash& info_hash, std::shared_ptr<const PieceChainRegistry::Entry> e,
              lt::piece_index_t piece, Handler handler);
  // Drops queued checks (their handlers unrun: libtorrent is shutting down) and
  // joins the threads.
  void Stop();

 private:
  struct Job {
    lt::sha1_hash info_hash;
    std::shared_ptr<const PieceChainRegistry::Entry> entry;
    lt::piece_index_t piece;
    Handler handler;
  };
  void Loop();
  bool Check(const Job& job, std::vector<char>& buffer);

  lt::io_context& ios_;
  PieceWriteTracker* writes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace shoal
