#include "peer/manifest_cache.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/hashing.h"
#include "common/logging.h"

namespace shoal {
namespace fs = std::filesystem;

// Manifests are small (registries cap them at a few MiB); anything bigger on disk is damage.
constexpr uint64_t kMaxManifestBytes = 16ull << 20;

absl::StatusOr<std::unique_ptr<ManifestCache>> ManifestCache::Open(const std::string& data_dir) {
  std::string dir = absl::StrCat(data_dir, "/manifests/sha256");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat("cannot create manifest cache dir ", dir,
                                                      ": ", ec.message(), " (check --data-dir)"));
  }
  return std::unique_ptr<ManifestCache>(new ManifestCache(std::move(dir)));
}

std::string ManifestCache::BodyPath(const BlobDigest& d) const {
  return absl::StrCat(dir_, "/", d.hex());
}

std::string ManifestCache::MediaTypePath(const BlobDigest& d) const {
  return absl::StrCat(dir_, "/", d.hex(), ".media-type");
}

absl::StatusOr<CachedManifest> ManifestCache::Get(const BlobDigest& digest) const {
  std::error_code ec;
  uint64_t size = fs::file_size(BodyPath(digest), ec);
  if (ec) return absl::NotFoundError(absl::StrCat("manifest ", digest.str(), " is not cached"));
  CachedManifest out;
  absl::StatusOr<std::string> body =
      size <= kMaxManifestBytes ? ReadFile(BodyPath(digest))
                                : absl::StatusOr<std::string>(absl::DataLossError("too big"));
  absl::StatusOr<std::string> media_type = ReadFile(MediaTypePath(digest));
  if (body.ok() && media_type.ok() && absl::StrCat("sha256:", Sha256Hex(*body)) == digest.str()) {
    out.body = std::move(*body);
    out.media_type = std::move(*media_type);
    return out;
  }
  Logger("mirror")->warn("cached manifest {} under {} is damaged or incomplete; dropping it",
                         digest.Short(), dir_);
  fs::remove(BodyPath(digest), ec);
  fs::remove(MediaTypePath(digest), ec);
  dropped_corrupt_.fetch_add(1);
  return absl::NotFoundError(absl::StrCat("manifest ", digest.str(), " is not cached"));
}

absl::Status ManifestCache::Put(const BlobDigest& digest, absl::string_view body,
                                absl::string_view media_type) const {
  std::string actual = absl::StrCat("sha256:", Sha256Hex(body));
  if (actual != digest.str()) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest bytes hash to ", actual, ", not ", digest.str(), "; not caching"));
  }
  absl::MutexLock lock(&put_mu_);
  // Media type first: the body's presence is what makes an entry exist.
  if (absl::Status s = WriteFileAtomically(MediaTypePath(digest), std::string(media_type));
      !s.ok()) {
    return s;
  }
  return WriteFileAtomically(BodyPath(digest), std::string(body));
}

}  // namespace shoal
