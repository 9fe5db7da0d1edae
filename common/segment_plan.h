// How a blob is cut: fixed-size segments (each one torrent), each cut into
// fixed-size pieces. Pure arithmetic shared by seed, peer and scheduler.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"

namespace shoal {

using SegmentIndex = uint32_t;

class SegmentPlan {
 public:
  // segment_size must be a positive multiple of piece_size; size may be 0.
  static absl::StatusOr<SegmentPlan> Create(uint64_t blob_size, uint64_t segment_size,
                                            uint32_t piece_size);

  uint64_t blob_size() const { return blob_size_; }
  uint64_t segment_size() const { return segment_size_; }
  uint32_t piece_size() const { return piece_size_; }
  // An empty blob has one empty segment so every blob has at least one torrent-less unit.
  SegmentIndex segment_count() const {
    return blob_size_ == 0 ? 1 : static_cast<SegmentIndex>((blob_size_ + segment_size_ - 1) / segment_size_);
  }
  uint64_t SegmentOffset(SegmentIndex k) const { return uint64_t{k} * segment_size_; }
  uint64_t SegmentLength(SegmentIndex k) const {
    uint64_t off = SegmentOffset(k);
    if (off >= blob_size_) return 0;
    uint64_t rest = blob_size_ - off;
    return rest < segment_size_ ? rest : segment_size_;
  }
  SegmentIndex SegmentOf(uint64_t offset) const {
    return static_cast<SegmentIndex>(offset / segment_size_);
  }
  uint32_t PieceCount(SegmentIndex k) const {
    uint64_t len = SegmentLength(k);
    return static_cast<uint32_t>((len + piece_size_ - 1) / piece_size_);
  }

 private:
  SegmentPlan(uint64_t size, uint64_t seg, uint32_t piece)
      : blob_size_(size), segment_size_(seg), piece_size_(piece) {}
  uint64_t blob_size_;
  uint64_t segment_size_;
  uint32_t piece_size_;
};

inline absl::StatusOr<SegmentPlan> SegmentPlan::Create(uint64_t blob_size, uint64_t segment_size,
                                                       uint32_t piece_size) {
  if (piece_size < 16 * 1024 || (piece_size & (piece_size - 1)) != 0) {
    return absl::InvalidArgumentError("piece size must be a power of two >= 16 KiB");
  }
  if (segment_size == 0 || segment_size % piece_size != 0) {
    return absl::InvalidArgumentError("segment size must be a positive multiple of the piece size");
  }
  return SegmentPlan(blob_size, segment_size, piece_size);
}

}  // namespace shoal
