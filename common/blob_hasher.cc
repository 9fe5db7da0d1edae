#include "common/blob_hasher.h"

#include <algorithm>
#include <cassert>

#include "absl/strings/str_cat.h"

namespace shoal {

BlobHasher::BlobHasher(const SegmentPlan& plan) : plan_(plan) {
  // An empty blob still has its one (empty, pieceless) segment.
  if (plan_.blob_size() == 0) ready_.push_back(HashedSegment{0, {}, {}});
}

void BlobHasher::Update(const char* data, size_t len) {
  assert(hashed_ + len <= plan_.blob_size());
  while (len > 0) {
    SegmentIndex k = plan_.SegmentOf(hashed_);
    uint64_t seg_end = plan_.SegmentOffset(k) + plan_.SegmentLength(k);
    uint64_t piece_room = plan_.piece_size() - piece_filled_;
    size_t take = static_cast<size_t>(std::min<uint64_t>({len, piece_room, seg_end - hashed_}));
    if (piece_filled_ == 0) current_.piece_states += sha256_.State();
    sha256_.Update(data, take);
    piece_.Update(data, take);
    data += take;
    len -= take;
    hashed_ += take;
    piece_filled_ += take;
    current_.index = k;
    if (piece_filled_ == plan_.piece_size() || hashed_ == seg_end) ClosePiece();
    if (hashed_ == seg_end) {
      if (hashed_ < plan_.blob_size()) current_.piece_states += sha256_.State();
      ready_.push_back(std::move(current_));
      current_ = HashedSegment{};
    }
  }
}

void BlobHasher::ClosePiece() {
  current_.piece_sha1_raw.push_back(piece_.FinalRaw());
  piece_filled_ = 0;
}

bool BlobHasher::PopSegment(HashedSegment* out) {
  if (ready_.empty()) return false;
  *out = std::move(ready_.front());
  ready_.pop_front();
  return true;
}

std::string BlobHasher::Sha256Digest() {
  return absl::StrCat("sha256:", HexEncode(sha256_.FinalRaw()));
}

}  // namespace shoal
