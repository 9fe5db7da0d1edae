// Image references as operators type them ("alpine", "docker.io/library/alpine:3.19",
// "127.0.0.1:5000/team/app@sha256:...") parsed and normalised the way docker and
// containerd do, so a job names exactly one registry, repository and tag or
// digest: Docker Hub short names get "registry-1.docker.io" and "library/", a
// missing tag is "latest", and "docker.io" / "index.docker.io" become the host
// that actually serves the API.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shoal {

inline constexpr char kDockerHubRegistry[] = "registry-1.docker.io";

struct ImageReference {
  std::string registry;    // host[:port]
  std::string repository;  // "library/alpine"
  std::string tag;         // empty when the reference names a digest only
  std::string digest;      // "sha256:<hex>", empty when it names a tag only

  // What to ask the registry's manifest endpoint for: the digest when known.
  const std::string& ManifestReference() const { return digest.empty() ? tag : digest; }
  // "registry/repository:tag", "registry/repository@digest" or both.
  std::string String() const;
};

// InvalidArgument naming the bad part (and showing a valid form) when the text
// is not an image reference.
absl::StatusOr<ImageReference> ParseImageReference(absl::string_view text);

}  // namespace shoal
