// Tells when every block of a piece is in its file. libtorrent 2.0's mmap storage
// hashes a piece from its store buffer and posts piece_finished while block
// writes may still be queued, so a reader of the segment file (the chain check,
// the peer's check of pieces held from before, the mirror) could see a hole. This wraps libtorrent's disk I/O
// (delegating everything to the real one) and counts each piece's writes in
// flight; a piece is "written" when its last write completed without error.
// Torrents registered in a PieceChainRegistry have their pieces checked against
// the blob's SHA-256 chain instead of SHA-1 (piece_chain_check.h).
#pragma once

#include <functional>
#include <libtorrent/disk_interface.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/sha1_hash.hpp>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace shoal {

class PieceChainRegistry;

class PieceWriteTracker {
 public:
  // Runs on libtorrent's network thread when the last write in flight of a piece
  // completes without error; it must only record and wake.
  using OnWritten = std::function<void(const lt::sha1_hash& info_hash, int piece)>;
  explicit PieceWriteTracker(OnWritten on_written) : on_written_(std::move(on_written)) {}

  // True while a write of the piece is in flight, or after one failed (until
  // libtorrent clears the piece to fetch it again).
  bool Unwritten(const lt::sha1_hash& info_hash, int piece) const;

  enum class WriteState { kWritten, kInFlight, kFailed };
  // Waits up to `timeout` for the piece's writes in flight to complete.
  WriteState AwaitWritten(const lt::sha1_hash& info_hash, int piece, absl::Duration timeout) const;

  // libtorrent's disk I/O made by `inner`, wrapped so writes are counted here and
  // the torrents in `chains` are checked against their chain.
  lt::disk_io_constructor_type Wrap(lt::disk_io_constructor_type inner,
                                    const PieceChainRegistry* chains);

 private:
  friend class TrackingDiskIo;
  struct PieceState {
    int in_flight = 0;
    bool failed = false;
  };
  WriteState StateOf(const lt::sha1_hash& ih, int piece) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteIssued(const lt::sha1_hash& ih, int piece);
  void WriteDone(const lt::sha1_hash& ih, int piece, bool ok);
  void Clear(const lt::sha1_hash& ih, int piece);
  void Forget(const lt::sha1_hash& ih);

  OnWritten on_written_;
  mutable absl::Mutex mu_;
  // Only pieces with writes in flight or a failed write are listed.
  absl::flat_hash_map<lt::sha1_hash, absl::flat_hash_map<int, PieceState>> pieces_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace shoal
