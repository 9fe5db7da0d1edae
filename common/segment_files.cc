#include "common/segment_files.h"

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/segment_torrent.h"

namespace shoal {

std::string SegmentTorrentPath(const BlobStore& store, const BlobDigest& d, SegmentIndex k) {
  return absl::StrCat(store.SegmentPath(d, k), ".torrent");
}

std::string SegmentResumePath(const BlobStore& store, const BlobDigest& d, SegmentIndex k) {
  return absl::StrCat(store.SegmentPath(d, k), ".resume");
}

namespace {
std::string SegmentStatesPath(const BlobStore& store, const BlobDigest& d, SegmentIndex k) {
  return absl::StrCat(store.SegmentPath(d, k), ".states");
}
}  // namespace

// The states first: a .torrent without its .states beside it would load as
// metadata no peer can check piece by piece.
absl::Status SaveSegmentMeta(const BlobStore& store, const BlobDigest& d, const v1::SegmentMeta& meta) {
  if (auto s = WriteFileAtomically(SegmentStatesPath(store, d, meta.index()), meta.piece_states());
      !s.ok()) {
    return s;
  }
  return WriteFileAtomically(SegmentTorrentPath(store, d, meta.index()), meta.torrent());
}

absl::StatusOr<v1::SegmentMeta> LoadSegmentMeta(const BlobStore& store, const BlobDigest& d, SegmentIndex k,
                                                 uint64_t length) {
  auto bytes = ReadFile(SegmentTorrentPath(store, d, k));
  if (!bytes.ok()) return bytes.status();
  auto hash = SegmentTorrentInfoHash(*bytes);
  if (!hash.ok()) return hash.status();
  v1::SegmentMeta meta;
  meta.set_index(k);
  meta.set_torrent(*bytes);
  meta.set_info_hash(*hash);
  meta.set_length(length);
  if (auto states = ReadFile(SegmentStatesPath(store, d, k)); states.ok()) {
    meta.set_piece_states(*states);
  }
  return meta;
}

absl::StatusOr<v1::SegmentMeta> SeedCompleteSegment(const BlobStore& store, TorrentEngine& engine,
                                                    const BlobDigest& d, const SegmentPlan& plan,
                                                    const HashedSegment& segment) {
  const SegmentIndex k = segment.index;
  uint64_t length = plan.SegmentLength(k);
  auto torrent = MakeSegmentTorrent(BlobStore::SegmentFileName(k), length, plan.piece_size(),
                                    segment.piece_sha1_raw);
  if (!torrent.ok()) return torrent.status();
  v1::SegmentMeta meta;
  meta.set_index(k);
  meta.set_torrent(torrent->bencoded);
  meta.set_info_hash(torrent->info_hash_hex);
  meta.set_length(length);
  meta.set_piece_states(segment.piece_states);
  if (auto s = SaveSegmentMeta(store, d, meta); !s.ok()) return s;
  auto added = engine.AddSegment(meta.torrent(), store.BlobDir(d), TorrentEngine::AddMode::kSeed, "");
  if (!added.ok()) return added.status();
  return meta;
}

v1::BlobLayout LayoutOf(const SegmentPlan& plan) {
  v1::BlobLayout l;
  l.set_size(plan.blob_size());
  l.set_segment_size(plan.segment_size());
  l.set_piece_size(plan.piece_size());
  l.set_segment_count(plan.segment_count());
  return l;
}

absl::StatusOr<SegmentPlan> PlanOf(const v1::BlobLayout& l) {
  return SegmentPlan::Create(l.size(), l.segment_size(), l.piece_size());
}

}  // namespace shoal
