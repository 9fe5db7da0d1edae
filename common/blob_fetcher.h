// Fetches one blob from the origin registry into a BlobStore entry: parallel ranged
// GETs of chunk_size written in place into the segment files, each chunk made
// durable and then recorded in the ChunkJournal, so a restart fetches only what is
// missing. The contiguous prefix is hashed as it grows (SHA-256 of the blob, SHA-1
// of each piece), so the digest is known the moment the last byte lands and each
// segment's piece hashes are ready as soon as the prefix passes its end - which is
// what lets the seed start a segment's torrent while later segments still stream in.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/blob_hasher.h"
#include "common/blob_store.h"
#include "common/clock.h"
#include "common/digest.h"
#include "common/origin_client.h"
#include "common/segment_plan.h"
#include "common/transfer_config.h"

namespace shoal {

// All events are called on the thread that called Fetch, one at a time, in order.
struct BlobFetchEvents {
  // The size is known and the store entry is prepared (segment files exist).
  std::function<void(const SegmentPlan&)> on_layout;
  // Segment k's bytes are all durable and hashed: called in segment order as the
  // contiguous prefix passes the end of segment k, with the SHA-1 of each piece of
  // that segment (the last piece may be short). The last segment is reported only
  // after the whole blob's sha256 matched its digest.
  std::function<void(const HashedSegment& segment)> on_segment;
  // Bytes received from the origin in this Fetch so far, and the contiguous durable prefix.
  std::function<void(uint64_t bytes_from_origin_total, uint64_t contiguous_bytes)> on_progress;
};

class BlobFetcher {
 public:
  BlobFetcher(OriginClient& origin, BlobStore& store, const TransferConfig& cfg, Clock& clock);

  // Fetches digest from repo (size from BlobSize unless known_size is given) with up to
  // cfg.origin_concurrency parallel ranged GETs; retries per RetryPolicy, resuming a cut
  // chunk at the exact byte. Chunks already in the journal are not fetched again, only
  // re-read once to rebuild the hashes. Returns:
  //  - OK once the blob's sha256 matched and the entry is marked verified;
  //  - DataLoss (entry discarded) when the bytes hash to another digest;
  //  - ResourceExhausted naming path, bytes needed and bytes free when the disk is full
  //    (partial data and journal are kept for a retry);
  //  - Cancelled when *cancel became true (partial data kept);
  //  - the origin's error (NotFound, PermissionDenied, ...) when it is permanent or the
  //    retries ran out, naming the chunk and the attempts.
  // Thread-safe; stats() then tells about the most recent Fetch that finished. Callers
  // coalesce: one Fetch per digest and store at a time (they would share the journal).
  absl::Status Fetch(const BlobDigest& digest, const OriginRepo& repo,
                     const BlobFetchEvents& events, const std::atomic<bool>* cancel,
                     std::optional<uint64_t> known_size = std::nullopt);

  // Figures for tests and the bench.
  struct Stats {
    uint64_t origin_bytes = 0;   // bytes received from the origin in this Fetch
    uint64_t resumed_bytes = 0;  // bytes of chunks found in the journal, not fetched again
    uint32_t retries = 0;        // failed origin requests that were retried
    absl::Duration last_byte_to_verified = absl::ZeroDuration();
  };
  Stats stats() const;

  // Where free disk space is read from; tests replace it to simulate a full disk.
  using FreeSpaceProbe = std::function<absl::StatusOr<uint64_t>(const std::string& path)>;
  void set_free_space_probe(FreeSpaceProbe probe) { free_space_ = std::move(probe); }

 private:
  friend class BlobFetchRun;
  OriginClient& origin_;
  BlobStore& store_;
  const TransferConfig cfg_;
  Clock& clock_;
  FreeSpaceProbe free_space_;
  mutable absl::Mutex mu_;
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shoal
