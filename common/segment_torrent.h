// Segment metadata: a single-file BitTorrent v1 torrent per blob segment, built
// from piece hashes computed while the bytes streamed in (never re-read to hash).
// The same bytes always give the same info-hash: name, piece size and piece
// hashes are the only inputs, and no creation date or creator is recorded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace shoal {

struct SegmentTorrent {
  std::string bencoded;       // the .torrent file
  std::string info_hash_hex;  // sha1 of the info dict, 40 hex chars
};

// piece_sha1_raw: 20-byte SHA-1 per piece, in order; the last piece may be short.
absl::StatusOr<SegmentTorrent> MakeSegmentTorrent(const std::string& name, uint64_t length,
                                                  uint32_t piece_size,
                                                  const std::vector<std::string>& piece_sha1_raw);

// The 20-byte SHA-1 of every piece, in order.
absl::StatusOr<std::vector<std::string>> SegmentTorrentPieceHashes(const std::string& bencoded);

// Parses a .torrent and returns its v1 info-hash (hex), checking it is single-file.
absl::StatusOr<std::string> SegmentTorrentInfoHash(const std::string& bencoded);

}  // namespace shoal
