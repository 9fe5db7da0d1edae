#include "testkit/image_builder.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/hashing.h"

namespace shoal::testkit {
namespace {

constexpr size_t kWriteBuffer = 1 << 20;

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

struct MediaTypes {
  std::string manifest, config, layer, index;
};

MediaTypes MediaTypesFor(ManifestFormat format) {
  if (format == ManifestFormat::kDocker) {
    return {"application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.container.image.v1+json",
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "application/vnd.docker.distribution.manifest.list.v2+json"};
  }
  return {"application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.config.v1+json",
          "application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.oci.image.index.v1+json"};
}

std::string BlobPath(const std::string& dir, const std::string& digest) {
  return absl::StrCat(dir, "/blobs/sha256/", digest.substr(7));
}

absl::StatusOr<BlobFile> WriteBytesBlob(const std::string& dir, const std::string& content,
                                        const std::string& media_type) {
  BlobFile blob;
  blob.digest = "sha256:" + Sha256Hex(content);
  blob.size = content.size();
  blob.media_type = media_type;
  blob.path = BlobPath(dir, blob.digest);
  if (auto s = WriteFileAtomically(blob.path, content); !s.ok()) return s;
  return blob;
}

nlohmann::json Descriptor(const std::string& media_type, const std::string& digest, uint64_t size) {
  return {{"mediaType", media_type}, {"digest", digest}, {"size", size}};
}

absl::StatusOr<PlatformImage> BuildPlatform(const ImageSpec& spec, const std::string& dir,
                                            const std::string& arch, uint64_t platform_seed) {
  MediaTypes types = MediaTypesFor(spec.format);
  PlatformImage image;
  image.architecture = arch;
  nlohmann::json diff_ids = nlohmann::json::array();
  for (size_t i = 0; i < spec.layer_sizes.size(); ++i) {
    auto layer =
        WriteRandomBlob(dir, spec.layer_sizes[i], SplitMix(platform_seed + i + 1), types.layer);
    if (!layer.ok()) return layer.status();
    diff_ids.push_back(layer->digest);  // synthetic: the "tar" is its own diff
    image.layers.push_back(std::move(*layer));
  }
  nlohmann::json config = {
      {"architecture", arch},
      {"os", "linux"},
      {"created", "2024-01-01T00:00:00Z"},
      {"config", {{"Labels", {{"shoal.test.seed", std::to_string(spec.seed)}}}}},
      {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  auto config_blob = WriteBytesBlob(dir, config.dump(), types.config);
  if (!config_blob.ok()) return config_blob.status();
  image.config = *config_blob;

  nlohmann::json manifest = {{"schemaVersion", 2}, {"mediaType", types.manifest}};
  manifest["config"] = Descriptor(types.config, image.config.digest, image.config.size);
  manifest["layers"] = nlohmann::json::array();
  for (const BlobFile& layer : image.layers) {
    manifest["layers"].push_back(Descriptor(types.layer, layer.digest, layer.size));
  }
  image.manifest.media_type = types.manifest;
  image.manifest.content = manifest.dump();
  auto manifest_blob = WriteBytesBlob(dir, image.manifest.content, types.manifest);
  if (!manifest_blob.ok()) return manifest_blob.status();
  image.manifest.digest = manifest_blob->digest;
  return image;
}

}  // namespace

uint64_t UnalignedSize(uint64_t approx) { return approx | 1; }

RandomBytes::RandomBytes(uint64_t seed) : state_(SplitMix(seed) | 1) {}

void RandomBytes::Fill(char* buf, size_t len) {
  while (len > 0 && carry_bytes_ > 0) {
    *buf++ = static_cast<char>(carry_ & 0xff);
    carry_ >>= 8;
    --carry_bytes_;
    --len;
  }
  while (len >= 8) {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    uint64_t word = state_ * 0x2545f4914f6cdd1dull;
    memcpy(buf, &word, 8);
    buf += 8;
    len -= 8;
  }
  if (len > 0) {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    carry_ = state_ * 0x2545f4914f6cdd1dull;
    carry_bytes_ = 8;
    while (len > 0) {
      *buf++ = static_cast<char>(carry_ & 0xff);
      carry_ >>= 8;
      --carry_bytes_;
      --len;
    }
  }
}

absl::StatusOr<BlobFile> WriteRandomBlob(const std::string& dir, uint64_t size, uint64_t seed,
                                         const std::string& media_type) {
  std::error_code ec;
  std::filesystem::create_directories(dir + "/blobs/sha256", ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  std::string tmp = absl::StrCat(dir, "/blobs/sha256/.tmp-", seed);
  std::unique_ptr<FILE, int (*)(FILE*)> out(fopen(tmp.c_str(), "wb"), fclose);
  if (out == nullptr) {
    return absl::InternalError(absl::StrCat("cannot write ", tmp, ": ", strerror(errno)));
  }
  RandomBytes random(seed);
  Hasher hasher(Hasher::Kind::kSha256);
  std::vector<char> buf(kWriteBuffer);
  for (uint64_t left = size; left > 0;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
    random.Fill(buf.data(), n);
    hasher.Update(buf.data(), n);
    if (fwrite(buf.data(), 1, n, out.get()) != n) {
      return absl::ResourceExhaustedError(absl::StrCat("writing ", size, " bytes to ", tmp,
                                                       " failed: ", strerror(errno),
                                                       "; is the disk full?"));
    }
    left -= n;
  }
  if (fclose(out.release()) != 0) {
    return absl::InternalError(absl::StrCat("closing ", tmp, ": ", strerror(errno)));
  }
  BlobFile blob;
  blob.digest = "sha256:" + hasher.FinalHex();
  blob.size = size;
  blob.media_type = media_type;
  blob.path = BlobPath(dir, blob.digest);
  std::filesystem::rename(tmp, blob.path, ec);
  if (ec) return absl::InternalError(absl::StrCat("rename to ", blob.path, ": ", ec.message()));
  return blob;
}

absl::StatusOr<BuiltImage> BuildImage(const ImageSpec& spec, const std::string& dir) {
  BuiltImage built;
  built.spec = spec;
  std::vector<std::string> arches = {"amd64"};
  if (spec.multi_platform) arches.push_back("arm64");
  for (size_t p = 0; p < arches.size(); ++p) {
    auto platform = BuildPlatform(spec, dir, arches[p], SplitMix(spec.seed * 1000003 + p * 7919));
    if (!platform.ok()) return platform.status();
    built.platforms.push_back(std::move(*platform));
  }
  MediaTypes types = MediaTypesFor(spec.format);
  if (spec.multi_platform) {
    nlohmann::json index = {{"schemaVersion", 2}, {"mediaType", types.index}};
    index["manifests"] = nlohmann::json::array();
    for (const PlatformImage& p : built.platforms) {
      nlohmann::json d =
          Descriptor(p.manifest.media_type, p.manifest.digest, p.manifest.content.size());
      d["platform"] = {{"architecture", p.architecture}, {"os", p.os}};
      index["manifests"].push_back(d);
    }
    ManifestDoc doc;
    doc.media_type = types.index;
    doc.content = index.dump();
    auto blob = WriteBytesBlob(dir, doc.content, types.index);
    if (!blob.ok()) return blob.status();
    doc.digest = blob->digest;
    built.index = std::move(doc);
  }
  // OCI image layout, so other tools (skopeo) can read what we generated.
  const ManifestDoc& top = built.top();
  nlohmann::json layout_index = {{"schemaVersion", 2}};
  nlohmann::json d = Descriptor(top.media_type, top.digest, top.content.size());
  d["annotations"] = {{"org.opencontainers.image.ref.name", spec.tag}};
  layout_index["manifests"] = nlohmann::json::array({d});
  if (auto s = WriteFileAtomically(dir + "/index.json", layout_index.dump()); !s.ok()) return s;
  if (auto s = WriteFileAtomically(dir + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
      !s.ok()) {
    return s;
  }
  return built;
}

std::string BuiltImage::Reference(const std::string& registry_host_port) const {
  return absl::StrCat(registry_host_port, "/", spec.repository, ":", spec.tag);
}

std::vector<BlobFile> BuiltImage::PlatformBlobs(size_t platform) const {
  const PlatformImage& p = platforms.at(platform);
  std::vector<BlobFile> blobs = {p.config};
  blobs.insert(blobs.end(), p.layers.begin(), p.layers.end());
  return blobs;
}

std::vector<BlobFile> BuiltImage::AllBlobs() const {
  std::vector<BlobFile> all;
  for (size_t p = 0; p < platforms.size(); ++p) {
    for (BlobFile& b : PlatformBlobs(p)) {
      bool seen = false;
      for (const BlobFile& a : all) seen = seen || a.digest == b.digest;
      if (!seen) all.push_back(std::move(b));
    }
  }
  return all;
}

uint64_t BuiltImage::PlatformBlobBytes(size_t platform) const {
  uint64_t total = 0;
  for (const BlobFile& b : PlatformBlobs(platform)) total += b.size;
  return total;
}

}  // namespace shoal::testkit
