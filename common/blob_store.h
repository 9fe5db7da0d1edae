// The content-addressed blob cache shared by seed and peer.
//
// Layout under the data dir:
//   blobs/sha256/<hex>/meta.json   format version, layout, verified flag, last use
//   blobs/sha256/<hex>/seg-00000   segment files; a blob is the concatenation of its
//   blobs/sha256/<hex>/seg-00001   segments, so libtorrent writes each segment's single
//                                   file in place and nothing is copied to assemble it
// Only a blob whose meta says verified (sha256 of all bytes matched the digest) is
// ever served from the cache. Entries with another format version are dropped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/digest.h"
#include "common/segment_plan.h"

namespace shoal {

inline constexpr int kBlobMetaFormatVersion = 1;

struct BlobMeta {
  int format_version = kBlobMetaFormatVersion;
  uint64_t size = 0;
  uint64_t segment_size = 0;
  uint32_t piece_size = 0;
  bool verified = false;
  int64_t last_use_unix_ms = 0;
};

class BlobStore {
 public:
  // Creates the directories; drops entries of another format version.
  static absl::StatusOr<std::unique_ptr<BlobStore>> Open(const std::string& root);

  const std::string& root() const { return root_; }
  std::string BlobDir(const BlobDigest& d) const;
  std::string SegmentPath(const BlobDigest& d, SegmentIndex k) const;
  static std::string SegmentFileName(SegmentIndex k);

  absl::StatusOr<BlobMeta> LoadMeta(const BlobDigest& d) const;  // NotFound when absent
  absl::Status SaveMeta(const BlobDigest& d, const BlobMeta& meta) const;

  // Makes the entry for a blob with this layout: directory, meta (unverified) and
  // sparse segment files of their final lengths. Keeps existing data when the
  // recorded layout is the same; resets the entry when it differs.
  // create_segment_files=false leaves file creation to libtorrent (a peer), so
  // libtorrent never re-checks sparse files it did not write.
  absl::Status Prepare(const BlobDigest& d, const SegmentPlan& plan, bool create_segment_files = true) const;
  bool IsVerified(const BlobDigest& d) const;
  absl::Status MarkVerified(const BlobDigest& d) const;
  absl::Status Discard(const BlobDigest& d) const;
  void Touch(const BlobDigest& d) const;

  // Verified entries, for listing and GC.
  std::vector<std::pair<BlobDigest, BlobMeta>> List() const;
  int dropped_incompatible() const { return dropped_incompatible_; }

 private:
  explicit BlobStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
  int dropped_incompatible_ = 0;
};

}  // namespace shoal
