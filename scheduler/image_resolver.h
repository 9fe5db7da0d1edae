// Turns an image reference and a platform into the blobs a preheat moves: asks
// the origin registry for the reference (Basic or Bearer auth handled by the
// OriginClient), follows an OCI index / Docker manifest list to the platform's
// manifest (or every platform's, for "all"), and collects config + layers.
// Every manifest lookup goes through the coalescing ManifestLookupCache.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/origin_client.h"
#include "scheduler/image_reference.h"
#include "scheduler/manifest_lookup_cache.h"

namespace shoal {

inline constexpr char kDefaultPlatform[] = "linux/amd64";
inline constexpr char kAllPlatforms[] = "all";

struct ImageBlob {
  std::string digest;
  uint64_t size = 0;
  std::string media_type;
};

struct ResolvedImage {
  ImageReference reference;
  std::string digest;      // what the reference resolves to (index or manifest)
  std::string media_type;  // of that document
  // Platforms whose blobs are listed ("linux/amd64"); empty for a single
  // manifest whose platform the registry does not state.
  std::vector<std::string> platforms;
  std::vector<ImageBlob> blobs;  // config first, then layers; each digest once
};

using OriginClientFactory =
    std::function<std::unique_ptr<OriginClient>(const RegistryCredentials& credentials)>;

class ImageResolver {
 public:
  ImageResolver(OriginClientFactory make_client, ManifestLookupCache& cache)
      : make_client_(std::move(make_client)), cache_(cache) {}

  // platform: "os/arch[/variant]" or "all". Errors: what the registry said
  // (NotFound, Unauthenticated, PermissionDenied, Unavailable, ...) with the
  // image named; an ApiError "unknown_platform" when the index has no manifest
  // for the platform; FailedPrecondition for manifest formats shoal cannot read.
  absl::StatusOr<ResolvedImage> Resolve(const ImageReference& reference,
                                        const std::string& platform,
                                        const RegistryCredentials& credentials);

 private:
  absl::StatusOr<ManifestResponse> Lookup(OriginClient& client, const OriginRepo& repo,
                                          const std::string& reference,
                                          const RegistryCredentials& credentials);

  OriginClientFactory make_client_;
  ManifestLookupCache& cache_;
};

}  // namespace shoal
