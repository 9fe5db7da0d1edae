// Per-segment files kept beside a blob's data in the BlobStore: the segment's
// .torrent (so a restarted daemon can seed/resume without the scheduler) and
// libtorrent's resume data.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/blob_hasher.h"
#include "common/blob_store.h"
#include "common/torrent_engine.h"
#include "shoal/v1/scheduler.pb.h"

namespace shoal {

std::string SegmentTorrentPath(const BlobStore& store, const BlobDigest& d, SegmentIndex k);
std::string SegmentResumePath(const BlobStore& store, const BlobDigest& d, SegmentIndex k);
absl::Status SaveSegmentMeta(const BlobStore& store, const BlobDigest& d, const v1::SegmentMeta& meta);
// NotFound when the segment's torrent was never saved.
absl::StatusOr<v1::SegmentMeta> LoadSegmentMeta(const BlobStore& store, const BlobDigest& d, SegmentIndex k,
                                                 uint64_t length);
// A complete segment this host holds (the seed fetched it, or a peer fetched it
// from the origin): builds its torrent from the piece hashes, saves it beside
// the data and starts seeding it. Same bytes give the same torrent everywhere.
absl::StatusOr<v1::SegmentMeta> SeedCompleteSegment(const BlobStore& store, TorrentEngine& engine,
                                                    const BlobDigest& d, const SegmentPlan& plan,
                                                    const HashedSegment& segment);

v1::BlobLayout LayoutOf(const SegmentPlan& plan);
absl::StatusOr<SegmentPlan> PlanOf(const v1::BlobLayout& layout);

}  // namespace shoal
