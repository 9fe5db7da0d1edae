// Hashes a blob's bytes in order, in one pass: the SHA-256 of the whole blob (its
// OCI digest), its chaining state at every piece boundary (piece_chain.h) and the
// SHA-1 of every piece of every segment (what each segment's torrent needs). Segment boundaries are piece boundaries (SegmentPlan guarantees
// segment_size % piece_size == 0), so a piece never spans two segments; the last
// piece of a segment may be short.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "common/hashing.h"
#include "common/piece_chain.h"
#include "common/segment_plan.h"

namespace shoal {

struct HashedSegment {
  SegmentIndex index = 0;
  std::vector<std::string> piece_sha1_raw;  // 20 raw bytes each, in piece order
  // SHA-256 state at each piece's start, then at the segment's end unless it is
  // the blob's last (SegmentChain::states).
  std::string piece_states;
};

class BlobHasher {
 public:
  explicit BlobHasher(const SegmentPlan& plan);

  // The next bytes of the blob, in order. Bytes past the blob's size are a caller bug.
  void Update(const char* data, size_t len);
  uint64_t hashed() const { return hashed_; }
  bool done() const { return hashed_ == plan_.blob_size(); }

  // Segments whose last byte has been hashed, oldest first; false when none is waiting.
  bool PopSegment(HashedSegment* out);

  // "sha256:<hex>" of everything hashed; call once, when done().
  std::string Sha256Digest();

 private:
  void ClosePiece();

  SegmentPlan plan_;
  Sha256Chain sha256_;
  Hasher piece_{Hasher::Kind::kSha1};
  uint64_t hashed_ = 0;
  uint64_t piece_filled_ = 0;
  HashedSegment current_;
  std::deque<HashedSegment> ready_;
};

}  // namespace shoal
