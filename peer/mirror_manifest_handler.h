// Serves HEAD/GET /v2/<name>/manifests/<reference> for the registry mirror.
// By-digest manifests come from the ManifestCache when present (the registry is
// not contacted: Docker Hub counts every manifest GET as a pull); tags are always
// forwarded because they move. Every manifest body that passes through is cached
// under the sha256 of its bytes, which is how the follow-up by-digest request
// containerd makes after resolving a tag is answered locally.
#pragma once

#include <string>
#include <vector>

#include "common/origin_client.h"
#include "peer/manifest_cache.h"
#include "peer/mirror_options.h"
#include "peer/mirror_request.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace shoal {

class MirrorManifestHandler {
 public:
  MirrorManifestHandler(OriginClient& origin, ManifestCache& cache, MirrorStats& stats)
      : origin_(origin), cache_(cache), stats_(stats) {}

  // route.kind == kManifest; registry as for MirrorBlobHandler::Handle.
  void Handle(const httplib::Request& req, httplib::Response& res, const MirrorRoute& route,
              const std::string& registry);

  // What the client accepts; the OCI and Docker manifest and index types first when
  // it names no type (missing Accept, or only wildcards).
  static std::vector<std::string> AcceptList(const httplib::Request& req);

 private:
  // GETs by digest from the origin, checks the bytes and caches them.
  absl::StatusOr<CachedManifest> FetchByDigest(const OriginRepo& repo, const BlobDigest& digest,
                                               const std::vector<std::string>& accept);
  void CacheBody(absl::string_view body, absl::string_view media_type);

  OriginClient& origin_;
  ManifestCache& cache_;
  MirrorStats& stats_;
};

}  // namespace shoal
