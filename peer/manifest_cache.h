// Manifests this node has fetched, keyed by their sha256 digest, so a by-digest
// manifest request never reaches the registry twice (Docker Hub counts every
// manifest GET as a pull). Content-addressed, so an entry never goes stale; tags
// are never cached here because they move.
//
// Layout under the data dir:
//   manifests/sha256/<hex>             the manifest bytes exactly as the registry sent them
//   manifests/sha256/<hex>.media-type  its Content-Type
// Bytes are checked against the digest when stored and again when read, so a
// corrupted file is dropped and refetched instead of being served.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/digest.h"

namespace shoal {

struct CachedManifest {
  std::string body;
  std::string media_type;
};

class ManifestCache {
 public:
  // Creates <data_dir>/manifests/sha256.
  static absl::StatusOr<std::unique_ptr<ManifestCache>> Open(const std::string& data_dir);

  // NotFound when absent, or when the stored bytes no longer match the digest
  // (the entry is then removed).
  absl::StatusOr<CachedManifest> Get(const BlobDigest& digest) const;

  // InvalidArgument (nothing stored) when sha256(body) is not the digest.
  absl::Status Put(const BlobDigest& digest, absl::string_view body,
                   absl::string_view media_type) const;

  const std::string& dir() const { return dir_; }
  // Entries dropped because their bytes did not match their digest.
  uint64_t dropped_corrupt() const { return dropped_corrupt_.load(); }

 private:
  explicit ManifestCache(std::string dir) : dir_(std::move(dir)) {}
  std::string BodyPath(const BlobDigest& d) const;
  std::string MediaTypePath(const BlobDigest& d) const;

  std::string dir_;
  // Puts of one digest share a temp file name; serialising them keeps it whole.
  mutable absl::Mutex put_mu_;
  mutable std::atomic<uint64_t> dropped_corrupt_{0};
};

}  // namespace shoal
