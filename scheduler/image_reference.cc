#include "scheduler/image_reference.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"

namespace shoal {
namespace {

constexpr char kExample[] =
    " (want [REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. 127.0.0.1:5000/team/app:v1 "
    "or alpine)";

absl::Status Malformed(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed image reference '", text.substr(0, 200), "': ", why, kExample));
}

// docker's rule: the first path component is a registry when it looks like a
// host (has a dot or a port, or is localhost); otherwise the image is on Docker Hub.
bool LooksLikeRegistry(absl::string_view component) {
  return absl::StrContains(component, '.') || absl::StrContains(component, ':') ||
         component == "localhost";
}

}  // namespace

std::string ImageReference::String() const {
  std::string out = absl::StrCat(registry, "/", repository);
  if (!tag.empty()) absl::StrAppend(&out, ":", tag);
  if (!digest.empty()) absl::StrAppend(&out, "@", digest);
  return out;
}

absl::StatusOr<ImageReference> ParseImageReference(absl::string_view text) {
  if (text.empty()) return Malformed(text, "it is empty");
  if (text.size() > 1024) return Malformed(text, "it is longer than 1024 characters");
  for (char c : text) {
    if (absl::ascii_isspace(c) || absl::ascii_iscntrl(c)) {
      return Malformed(text, "it contains whitespace or control characters");
    }
  }
  if (absl::StartsWith(text, "http://") || absl::StartsWith(text, "https://")) {
    return Malformed(text, "leave out the scheme (http:// or https://)");
  }
  ImageReference ref;
  absl::string_view rest = text;
  if (size_t at = rest.find('@'); at != absl::string_view::npos) {
    auto digest = BlobDigest::Parse(rest.substr(at + 1));
    if (!digest.ok()) return Malformed(text, digest.status().message());
    ref.digest = digest->str();
    rest = rest.substr(0, at);
  }
  // The registry is the part before the first '/', if it looks like a host.
  absl::string_view name = rest;
  if (size_t slash = rest.find('/');
      slash != absl::string_view::npos && LooksLikeRegistry(rest.substr(0, slash))) {
    ref.registry = std::string(rest.substr(0, slash));
    name = rest.substr(slash + 1);
  }
  // A tag is after the last ':' of the last path component (a ':' before a '/'
  // was a port, handled above).
  size_t last_slash = name.rfind('/');
  size_t colon = name.rfind(':');
  if (colon != absl::string_view::npos &&
      (last_slash == absl::string_view::npos || colon > last_slash)) {
    ref.tag = std::string(name.substr(colon + 1));
    name = name.substr(0, colon);
    if (ref.tag.empty()) return Malformed(text, "the tag after ':' is empty");
    if (auto s = ValidateTag(ref.tag); !s.ok()) return Malformed(text, s.message());
  }
  if (ref.registry.empty() || ref.registry == "docker.io" || ref.registry == "index.docker.io") {
    ref.registry = kDockerHubRegistry;
  }
  if (auto s = ValidateRegistryHost(ref.registry); !s.ok()) return Malformed(text, s.message());
  ref.repository = std::string(name);
  if (ref.repository.empty()) return Malformed(text, "the repository name is empty");
  if (ref.registry == kDockerHubRegistry && !absl::StrContains(ref.repository, '/')) {
    ref.repository = absl::StrCat("library/", ref.repository);
  }
  if (auto s = ValidateRepositoryName(ref.repository); !s.ok()) {
    return Malformed(text, s.message());
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

}  // namespace shoal
