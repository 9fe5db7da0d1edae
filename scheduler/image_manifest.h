// Reading what a registry answers for an image: OCI image index and Docker
// manifest list v2 (one manifest per platform), OCI image manifest and Docker
// manifest v2 (config + layers). Plain parsing and platform matching, no I/O,
// so every format and odd case is tested directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shoal {

inline constexpr char kOciIndexType[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kOciManifestType[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kDockerListType[] =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr char kDockerManifestType[] =
    "application/vnd.docker.distribution.manifest.v2+json";

// The Accept list for resolving a reference: every format above.
const std::vector<std::string>& ManifestAcceptList();

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;  // optional ("v8", "v7")

  std::string String() const;  // "linux/arm64/v8", "linux/amd64"
  // Does an index entry for `entry` serve a request for this platform? A
  // request without variant takes any variant; arm64 without variant is v8.
  bool Matches(const Platform& entry) const;
};

// "os/arch[/variant]", e.g. "linux/amd64". InvalidArgument for anything else.
absl::StatusOr<Platform> ParsePlatform(absl::string_view text);

struct Descriptor {
  std::string media_type;
  std::string digest;  // validated sha256
  uint64_t size = 0;
  Platform platform;     // index entries only
  bool foreign = false;  // a non-distributable layer the registry does not serve
};

struct ParsedManifest {
  bool is_index = false;
  std::string media_type;
  std::vector<Descriptor> manifests;  // index: one per platform
  Descriptor config;                  // image manifest
  std::vector<Descriptor> layers;     // image manifest
};

// content_type: the registry's Content-Type (may be empty: the body's mediaType
// then decides). FailedPrecondition for schema 1 and other formats shoal does
// not handle; InvalidArgument for a body that is not a well-formed manifest.
absl::StatusOr<ParsedManifest> ParseManifest(absl::string_view body,
                                             absl::string_view content_type);

}  // namespace shoal
