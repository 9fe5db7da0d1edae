#include "scheduler/image_resolver.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "scheduler/api_error.h"
#include "scheduler/image_manifest.h"

namespace shoal {
namespace {

absl::Status InImage(const absl::Status& s, const ImageReference& ref) {
  std::string message(s.message());
  if (absl::IsUnauthenticated(s) && !absl::StrContains(absl::AsciiStrToLower(message), "unauth")) {
    message = absl::StrCat("unauthorized: ", message);
  }
  return absl::Status(s.code(), absl::StrCat("resolving ", ref.String(), ": ", message));
}

}  // namespace

absl::StatusOr<ManifestResponse> ImageResolver::Lookup(OriginClient& client, const OriginRepo& repo,
                                                       const std::string& reference,
                                                       const RegistryCredentials& credentials) {
  bool by_digest = absl::StartsWith(reference, "sha256:");
  return cache_.Get(ManifestLookupCache::Key(repo, reference, credentials), by_digest, [&] {
    return client.GetManifest(repo, reference, ManifestAcceptList(), false);
  });
}

absl::StatusOr<ResolvedImage> ImageResolver::Resolve(const ImageReference& ref,
                                                     const std::string& platform_text,
                                                     const RegistryCredentials& credentials) {
  const bool all = platform_text == kAllPlatforms;
  Platform wanted;
  if (!all) {
    auto p = ParsePlatform(platform_text);
    if (!p.ok())
      return ApiError(absl::StatusCode::kInvalidArgument, "invalid_platform", p.status().message());
    wanted = *p;
  }
  std::unique_ptr<OriginClient> client = make_client_(credentials);
  OriginRepo repo{ref.registry, ref.repository};
  auto top = Lookup(*client, repo, ref.ManifestReference(), credentials);
  if (!top.ok()) return InImage(top.status(), ref);
  if (!ref.digest.empty() && top->digest != ref.digest) {
    return absl::DataLossError(absl::StrCat("resolving ", ref.String(), ": the registry sent ",
                                            top->digest, " for ", ref.digest));
  }
  auto parsed = ParseManifest(top->body, top->media_type);
  if (!parsed.ok()) return InImage(parsed.status(), ref);

  ResolvedImage out;
  out.reference = ref;
  out.digest = top->digest;
  out.media_type = parsed->media_type;
  absl::flat_hash_set<std::string> seen;
  auto add = [&](const Descriptor& d) {
    if (d.foreign || !seen.insert(d.digest).second) return;
    out.blobs.push_back(ImageBlob{d.digest, d.size, d.media_type});
  };
  auto add_image = [&](const ParsedManifest& m) {
    add(m.config);
    for (const Descriptor& layer : m.layers) add(layer);
  };
  if (!parsed->is_index) {
    add_image(*parsed);
    if (!all) out.platforms.push_back(wanted.String());
    return out;
  }

  std::vector<const Descriptor*> chosen;
  std::vector<std::string> offered;
  for (const Descriptor& entry : parsed->manifests) {
    // Attestation manifests (os "unknown") describe an image; they are not one.
    if (entry.platform.os.empty() || entry.platform.os == "unknown") continue;
    offered.push_back(entry.platform.String());
    if (all || (chosen.empty() && wanted.Matches(entry.platform))) chosen.push_back(&entry);
  }
  if (chosen.empty()) {
    return ApiError(absl::StatusCode::kInvalidArgument, "unknown_platform",
                    absl::StrCat("image ", ref.String(), " has no manifest for platform ",
                                 all ? "any" : wanted.String(), "; it offers ",
                                 offered.empty() ? "none" : absl::StrJoin(offered, ", "),
                                 " (pass one of them as platform, or 'all')"));
  }
  for (const Descriptor* entry : chosen) {
    auto m = Lookup(*client, repo, entry->digest, credentials);
    if (!m.ok()) return InImage(m.status(), ref);
    auto image = ParseManifest(m->body, m->media_type.empty() ? entry->media_type : m->media_type);
    if (!image.ok()) return InImage(image.status(), ref);
    if (image->is_index) {
      return absl::FailedPreconditionError(
          absl::StrCat("resolving ", ref.String(), ": the ", entry->platform.String(),
                       " entry is itself an index; nested indexes are not supported"));
    }
    out.platforms.push_back(entry->platform.String());
    add_image(*image);
  }
  return out;
}

}  // namespace shoal
