#include "peer/mirror_manifest_handler.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/hashing.h"
#include "common/logging.h"
#include "peer/mirror_http.h"

namespace shoal {
namespace {

std::string Sha256Digest(absl::string_view body) {
  return absl::StrCat("sha256:", Sha256Hex(body));
}

// Registries always send Content-Type; when one does not, the manifest names its own type.
std::string MediaTypeOf(absl::string_view body, absl::string_view given) {
  if (!given.empty()) return std::string(given);
  nlohmann::json j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_object() && j.contains("mediaType") && j["mediaType"].is_string()) {
    return j["mediaType"].get<std::string>();
  }
  return "application/vnd.oci.image.manifest.v1+json";
}

void ReplyManifest(httplib::Response& res, const std::string& body, const std::string& media_type,
                   const std::string& digest) {
  res.status = 200;
  res.set_header(kDigestHeader, digest);
  res.set_content(body, media_type);  // on HEAD httplib sends Content-Length but not the body
}

}  // namespace

std::vector<std::string> MirrorManifestHandler::AcceptList(const httplib::Request& req) {
  std::vector<std::string> out;
  bool names_a_type = false;
  size_t n = req.get_header_value_count("Accept");
  for (size_t i = 0; i < n; ++i) {
    for (absl::string_view part : absl::StrSplit(req.get_header_value("Accept", i), ',')) {
      part = absl::StripAsciiWhitespace(part);
      if (part.empty()) continue;
      out.emplace_back(part);
      if (!absl::StartsWith(part, "*/*") && !absl::StartsWith(part, "application/*")) {
        names_a_type = true;
      }
    }
  }
  // A client that accepts "anything" (curl, httplib) would get whatever the registry
  // falls back to, which for old registries is the deprecated schema 1; ask for the
  // current formats first.
  if (!names_a_type) {
    out.insert(out.begin(), {"application/vnd.oci.image.index.v1+json",
                             "application/vnd.oci.image.manifest.v1+json",
                             "application/vnd.docker.distribution.manifest.list.v2+json",
                             "application/vnd.docker.distribution.manifest.v2+json"});
  }
  return out;
}

void MirrorManifestHandler::Handle(const httplib::Request& req, httplib::Response& res,
                                   const MirrorRoute& route, const std::string& registry) {
  stats_.manifest_requests.fetch_add(1);
  auto log = Logger("mirror");
  if (route.digest) {
    absl::StatusOr<CachedManifest> cached = cache_.Get(*route.digest);
    if (cached.ok()) {
      log->debug("manifest {}@{} served from cache", route.name, route.digest->Short());
      ReplyManifest(res, cached->body, cached->media_type, route.digest->str());
      return;
    }
  }
  if (registry.empty()) {
    ReplyError(res,
               {404, oci_code::kManifestUnknown,
                absl::StrCat("manifest ", route.name, ":", route.Reference(),
                             " is not cached here and the request names no registry; send "
                             "?ns=<registry host> (containerd does) or set a default registry"),
                ""},
               stats_);
    return;
  }
  OriginRepo repo{registry, route.name};
  std::vector<std::string> accept = AcceptList(req);
  auto fail = [&](const absl::Status& status) {
    log->warn("manifest {}/{}:{}: {}", registry, route.name, route.Reference(), status.ToString());
    ReplyError(res, OciErrorFromStatus(status, oci_code::kManifestUnknown), stats_);
  };

  if (route.digest) {
    // Immutable: one GET fills the cache for every later request, HEADs included,
    // and saves the GET containerd makes after its HEAD.
    absl::StatusOr<CachedManifest> fetched = FetchByDigest(repo, *route.digest, accept);
    if (!fetched.ok()) return fail(fetched.status());
    ReplyManifest(res, fetched->body, fetched->media_type, route.digest->str());
    return;
  }

  // A tag can move: always ask the registry. A HEAD stays a HEAD upstream, because
  // registries that ration pulls (Docker Hub) do not count HEADs.
  absl::StatusOr<ManifestResponse> got = origin_.GetManifest(repo, route.tag, accept, IsHead(req));
  if (!got.ok()) return fail(got.status());
  if (got->body.empty()) {
    // HEAD without a body. The client takes Content-Length as the manifest's size, so
    // find the bytes: in the cache, or with one GET by digest (which then also answers
    // the client's follow-up GET locally).
    absl::StatusOr<BlobDigest> digest = BlobDigest::Parse(got->digest);
    if (digest.ok()) {
      absl::StatusOr<CachedManifest> bytes = cache_.Get(*digest);
      if (!bytes.ok()) bytes = FetchByDigest(repo, *digest, accept);
      if (!bytes.ok()) return fail(bytes.status());
      ReplyManifest(res, bytes->body, got->media_type.empty() ? bytes->media_type : got->media_type,
                    digest->str());
      return;
    }
    // No usable digest header: ask again with a GET and answer from its body.
    got = origin_.GetManifest(repo, route.tag, accept, /*head_only=*/false);
    if (!got.ok()) return fail(got.status());
  }
  std::string media_type = MediaTypeOf(got->body, got->media_type);
  CacheBody(got->body, media_type);
  ReplyManifest(res, got->body, media_type,
                got->digest.empty() ? Sha256Digest(got->body) : got->digest);
}

absl::StatusOr<CachedManifest> MirrorManifestHandler::FetchByDigest(
    const OriginRepo& repo, const BlobDigest& digest, const std::vector<std::string>& accept) {
  absl::StatusOr<ManifestResponse> got =
      origin_.GetManifest(repo, digest.str(), accept, /*head_only=*/false);
  if (!got.ok()) return got.status();
  std::string actual = Sha256Digest(got->body);
  if (actual != digest.str()) {
    return absl::DataLossError(absl::StrCat(
        "registry ", repo.registry, " answered ", repo.repository, "@", digest.str(),
        " with a manifest whose bytes hash to ", actual, "; not serving or caching it"));
  }
  std::string media_type = MediaTypeOf(got->body, got->media_type);
  CachedManifest out{std::move(got->body), std::move(media_type)};
  CacheBody(out.body, out.media_type);
  return out;
}

void MirrorManifestHandler::CacheBody(absl::string_view body, absl::string_view media_type) {
  absl::StatusOr<BlobDigest> digest = BlobDigest::Parse(Sha256Digest(body));
  absl::Status s = cache_.Put(*digest, body, media_type);
  if (!s.ok()) Logger("mirror")->warn("manifest {} not cached: {}", digest->Short(), s.ToString());
}

}  // namespace shoal
