// The libtorrent data plane of a seed or peer: one session, owned by one thread.
// Every call from other threads is queued to the owner thread; libtorrent's
// alert-notify callback only wakes it. No DHT, LSD, UPnP, NAT-PMP or trackers:
// peers come only from the scheduler (ConnectPeers). Disk I/O is posix (pread/
// pwrite), so the page cache does not show up as this process's RSS.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/piece_chain.h"
#include "common/transfer_config.h"

namespace shoal {

struct TorrentEngineOptions {
  std::string listen_ip = "127.0.0.1";
  int listen_port = 0;  // 0: any free port; listen_port() tells which
  // "mmap": libtorrent's default (fast; page cache counts in RSS). "posix": pread/pwrite.
  std::string disk_io = "mmap";
  TransferConfig transfer;
};

// Called on the owner thread; must be short and must not call back into the
// engine synchronously (queue work elsewhere instead).
struct TorrentEvents {
  std::function<void(const std::string& info_hash, int piece)> on_piece_finished;
  std::function<void(const std::string& info_hash)> on_torrent_finished;
  // A parent sent data that failed the piece hash and libtorrent banned it.
  std::function<void(const std::string& info_hash, const std::string& peer_ip, int peer_port)>
      on_peer_banned;
  // Storage failure (e.g. disk full); the torrent is paused.
  std::function<void(const std::string& info_hash, const std::string& error)> on_storage_error;
};

struct SegmentTransferStatus {
  uint64_t bytes_done = 0;
  bool finished = false;
  int peers = 0;
  uint64_t download_rate = 0;
  uint64_t upload_rate = 0;
  uint64_t total_download = 0;  // payload bytes received this session
  uint64_t total_upload = 0;
};

class TorrentEngine {
 public:
  static absl::StatusOr<std::unique_ptr<TorrentEngine>> Create(const TorrentEngineOptions& options,
                                                               TorrentEvents events);
  ~TorrentEngine();  // Stop()

  int listen_port() const { return listen_port_; }

  enum class AddMode {
    kSeed,      // the data is known good: seed it (seed mode, no re-check)
    kDownload,  // fetch every piece from the parents
    // Connect to parents but request nothing until Activate(): the connection
    // set-up (~0.6 s per segment on loopback) is paid before the segment's turn.
    kStandby,
  };
  // Adds a segment torrent whose single file lives in save_dir (idempotent; returns
  // the info-hash). resume_path: libtorrent resume data is read from it when
  // present and written to it periodically and on finish/stop, so a killed daemon
  // resumes.
  // chain: when given, libtorrent's piece check runs SHA-256 from the blob's
  // chaining states (piece_chain.h) instead of SHA-1, so a piece that passed has
  // been checked against the blob's digest.
  absl::StatusOr<std::string> AddSegment(const std::string& torrent_bytes,
                                         const std::string& save_dir, AddMode mode,
                                         const std::string& resume_path,
                                         const SegmentChain* chain = nullptr);
  // The piece matched the chain the segment was added with, in this process (a
  // piece libtorrent took from resume data has not).
  bool PieceMatchedChain(const std::string& info_hash, int piece) const;
  // A kStandby segment starts requesting pieces.
  void Activate(const std::string& info_hash);
  void ConnectPeers(const std::string& info_hash,
                    const std::vector<std::pair<std::string, int>>& endpoints);
  void Remove(const std::string& info_hash);
  std::optional<SegmentTransferStatus> Status(const std::string& info_hash) const;
  // Piece indices the torrent has (for resume accounting); empty when unknown.
  std::vector<bool> HavePieces(const std::string& info_hash);

  // Saves resume data for every torrent and stops the session. Idempotent.
  void Stop();

  class Impl;

 private:
  explicit TorrentEngine(std::unique_ptr<Impl> impl, int port);
  std::unique_ptr<Impl> impl_;
  int listen_port_;
};

}  // namespace shoal
