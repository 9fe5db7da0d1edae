// Pushes a synthetic image to a registry over plain HTTP with the distribution
// API (what `docker push` does): blobs by monolithic upload, streamed from their
// files, then manifests. Optional Basic auth.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "testkit/image_builder.h"

namespace shoal::testkit {

struct PushTarget {
  std::string registry_url;  // "http://127.0.0.1:5123"
  std::string username;      // Basic auth when non-empty
  std::string password;
};

// Skips a blob the registry already has (HEAD 200).
absl::Status PushBlob(const PushTarget& target, const std::string& repository,
                      const BlobFile& blob);
absl::Status PushManifest(const PushTarget& target, const std::string& repository,
                          const std::string& reference, const ManifestDoc& manifest);
// Every blob, then platform manifests (by digest, or by tag for a single-platform
// image), then the index by tag.
absl::Status PushImage(const BuiltImage& image, const PushTarget& target);

}  // namespace shoal::testkit
