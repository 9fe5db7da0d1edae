// Synthetic container images for tests, the demo and benchmarks: N layers of
// seeded pseudo-random bytes (incompressible, different per layer, reproducible),
// a config blob, an OCI or Docker v2 manifest, optionally a two-platform index.
// Blobs are streamed to files (a 2 GiB layer is never held in memory) laid out as
// an OCI image layout (<dir>/blobs/sha256/<hex>, index.json, oci-layout), so
// `skopeo copy oci:<dir>:<tag> ...` works on it too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace shoal::testkit {

enum class ManifestFormat { kOci, kDocker };

struct ImageSpec {
  std::string repository = "test/img";
  std::string tag = "v1";
  // Layer sizes in bytes. Use odd sizes (see UnalignedSize) so no layer is a
  // multiple of any piece, chunk or segment size.
  std::vector<uint64_t> layer_sizes;
  uint64_t seed = 1;  // same spec + seed -> same bytes and digests
  ManifestFormat format = ManifestFormat::kOci;
  // An index with linux/amd64 (layer_sizes) and linux/arm64 (same sizes, other bytes).
  bool multi_platform = false;
};

// approx rounded to an odd number: a multiple of no power of two.
uint64_t UnalignedSize(uint64_t approx);

struct BlobFile {
  std::string digest;  // "sha256:<hex>"
  uint64_t size = 0;
  std::string media_type;
  std::string path;  // where the bytes are
};

struct ManifestDoc {
  std::string media_type;
  std::string digest;
  std::string content;  // exact bytes (the digest is over these)
};

struct PlatformImage {
  std::string os = "linux";
  std::string architecture;
  BlobFile config;
  std::vector<BlobFile> layers;
  ManifestDoc manifest;
};

struct BuiltImage {
  ImageSpec spec;
  std::vector<PlatformImage> platforms;  // [0] is linux/amd64
  std::optional<ManifestDoc> index;      // set when spec.multi_platform

  // What the tag resolves to: the index, or the single manifest.
  const ManifestDoc& top() const { return index.has_value() ? *index : platforms[0].manifest; }
  // "<registry>/<repository>:<tag>"
  std::string Reference(const std::string& registry_host_port) const;
  // Config and layers of one platform (what a pull of that platform fetches).
  std::vector<BlobFile> PlatformBlobs(size_t platform = 0) const;
  // Config and layers of every platform.
  std::vector<BlobFile> AllBlobs() const;
  uint64_t PlatformBlobBytes(size_t platform = 0) const;
};

// Writes the image under dir (created if needed).
absl::StatusOr<BuiltImage> BuildImage(const ImageSpec& spec, const std::string& dir);

// Streams `size` pseudo-random bytes from `seed` into dir/blobs/sha256/<digest hex>.
absl::StatusOr<BlobFile> WriteRandomBlob(const std::string& dir, uint64_t size, uint64_t seed,
                                         const std::string& media_type);

// The generator itself (xorshift64*): fills buf; consecutive calls continue the stream.
class RandomBytes {
 public:
  explicit RandomBytes(uint64_t seed);
  void Fill(char* buf, size_t len);

 private:
  uint64_t state_;
  uint64_t carry_ = 0;  // unused bytes of the last word
  int carry_bytes_ = 0;
};

}  // namespace shoal::testkit
