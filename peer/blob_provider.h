// What the registry mirror needs to serve a blob that may still be arriving:
// the mirror asks for a blob, and streams it in order as its bytes become
// readable. The real provider gets blobs through the swarm (or the origin as a
// fallback); unit tests use a fake.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "common/origin_client.h"

namespace shoal {

struct BlobRequest {
  BlobDigest digest;
  OriginRepo origin;  // where the blob lives upstream (from ?ns= and the path)
};

// One blob on its way onto this node (or already here).
class BlobTransfer {
 public:
  virtual ~BlobTransfer() = default;
  // The blob's size, once known. DeadlineExceeded when not known within timeout;
  // the transfer's own error (NotFound, Unavailable, ...) when it failed.
  virtual absl::StatusOr<uint64_t> WaitForSize(absl::Duration timeout) = 0;
  // Blocks until bytes [0, want_end) are readable or timeout passes; returns the
  // readable end (which may be < want_end on timeout) or the transfer's error.
  // The final bytes become readable only after the whole blob's sha256 matched.
  virtual absl::StatusOr<uint64_t> WaitReadable(uint64_t want_end, absl::Duration timeout) = 0;
  // Reads readable bytes.
  virtual absl::StatusOr<size_t> Read(uint64_t offset, char* buf, size_t len) = 0;
};

class BlobProvider {
 public:
  virtual ~BlobProvider() = default;
  // Starts, or joins, getting the blob onto this node.
  virtual absl::StatusOr<std::shared_ptr<BlobTransfer>> Acquire(const BlobRequest& request) = 0;
};

}  // namespace shoal
