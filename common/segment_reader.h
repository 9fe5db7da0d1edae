// Reads a blob's bytes from its segment files and keeps each file open between
// reads. A download reads every piece back once to check it, and the mirror reads
// every chunk it sends: opening the segment file for each 1-4 MiB read cost a path
// walk, an open and a close per call on the hottest path of a peer.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/blob_store.h"

namespace shoal {

// Safe to share between threads: each read holds a reference to the file it uses,
// so Reset() never closes a descriptor under a read in flight.
class SegmentReader {
 public:
  SegmentReader(const BlobStore& store, BlobDigest digest, BlobMeta meta);

  // Reads [offset, offset+len) of the blob; short only at the blob's end.
  // DataLoss when a segment file is missing or shorter than the layout says.
  absl::StatusOr<size_t> ReadAt(uint64_t offset, char* buf, size_t len);

  // Forgets the open files: the next read opens them again (the entry was
  // discarded and re-created, so the old files are gone).
  void Reset();

 private:
  class File;
  absl::StatusOr<std::shared_ptr<File>> Open(SegmentIndex k);

  const BlobStore& store_;
  const BlobDigest digest_;
  const BlobMeta meta_;
  absl::Mutex mu_;
  std::vector<std::shared_ptr<File>> files_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shoal
