// The synthetic images behind every integration test and benchmark: the bytes
// must be reproducible, differ per layer, match their digests, and the manifests
// must describe exactly the blobs that were written.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/hashing.h"
#include "testkit/image_builder.h"
#include "testkit/subprocess.h"
#include "testkit/temp_dir.h"

namespace shoal::testkit {
namespace {

TEST(RandomBytesTest, StreamDoesNotDependOnChunking) {
  std::string whole(1000, '\0');
  RandomBytes a(7);
  a.Fill(whole.data(), whole.size());
  std::string pieces(1000, '\0');
  RandomBytes b(7);
  size_t off = 0;
  for (size_t n : {1, 3, 8, 13, 500, 475}) {
    b.Fill(pieces.data() + off, n);
    off += n;
  }
  ASSERT_EQ(off, whole.size());
  EXPECT_EQ(whole, pieces);

  std::string other(1000, '\0');
  RandomBytes c(8);
  c.Fill(other.data(), other.size());
  EXPECT_NE(whole, other);
}

TEST(ImageBuilderTest, UnalignedSizeIsOdd) {
  EXPECT_EQ(UnalignedSize(4 << 20) % 2, 1u);
  EXPECT_EQ(UnalignedSize(12345), 12345u);
}

TEST(ImageBuilderTest, BlobsMatchTheirDigestsAndManifestListsThem) {
  auto dir = TempDir::Create("imgtest");
  ASSERT_TRUE(dir.ok());
  ImageSpec spec;
  spec.layer_sizes = {UnalignedSize(3 << 20), 1, UnalignedSize(100000)};
  auto image = BuildImage(spec, dir->path());
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_EQ(image->platforms.size(), 1u);
  const PlatformImage& p = image->platforms[0];
  ASSERT_EQ(p.layers.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(p.layers[i].size, spec.layer_sizes[i]);
    auto digest = Sha256File(p.layers[i].path);
    ASSERT_TRUE(digest.ok());
    EXPECT_EQ(*digest, p.layers[i].digest);
    EXPECT_EQ(ReadFileOrEmpty(p.layers[i].path).size(), spec.layer_sizes[i]);
  }
  EXPECT_NE(p.layers[0].digest, p.layers[2].digest);
  EXPECT_EQ(*Sha256File(p.config.path), p.config.digest);
  EXPECT_EQ("sha256:" + Sha256Hex(p.manifest.content), p.manifest.digest);

  auto manifest = nlohmann::json::parse(p.manifest.content);
  EXPECT_EQ(manifest["mediaType"], "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(manifest["config"]["digest"], p.config.digest);
  EXPECT_EQ(manifest["config"]["size"], p.config.size);
  ASSERT_EQ(manifest["layers"].size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(manifest["layers"][i]["digest"], p.layers[i].digest);
    EXPECT_EQ(manifest["layers"][i]["size"], p.layers[i].size);
  }
  EXPECT_EQ(&image->top(), &p.manifest);
  EXPECT_EQ(image->PlatformBlobBytes(),
            p.config.size + spec.layer_sizes[0] + spec.layer_sizes[1] + spec.layer_sizes[2]);
  EXPECT_EQ(image->Reference("127.0.0.1:5000"), "127.0.0.1:5000/test/img:v1");

  // The OCI layout index points at the manifest under the tag.
  auto layout = nlohmann::json::parse(ReadFileOrEmpty(dir->File("index.json")));
  EXPECT_EQ(layout["manifests"][0]["digest"], p.manifest.digest);
}

TEST(ImageBuilderTest, SameSeedSameDigestsOtherSeedOtherDigests) {
  auto dir1 = TempDir::Create("imgtest");
  auto dir2 = TempDir::Create("imgtest");
  ASSERT_TRUE(dir1.ok() && dir2.ok());
  ImageSpec spec;
  spec.layer_sizes = {4097, 8191};
  auto a = BuildImage(spec, dir1->path());
  auto b = BuildImage(spec, dir2->path());
  spec.seed = 2;
  auto c = BuildImage(spec, dir2->path());
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->top().digest, b->top().digest);
  EXPECT_NE(a->top().digest, c->top().digest);
  EXPECT_NE(a->platforms[0].layers[0].digest, c->platforms[0].layers[0].digest);
}

TEST(ImageBuilderTest, MultiPlatformIndexHasDistinctPlatformLayers) {
  auto dir = TempDir::Create("imgtest");
  ASSERT_TRUE(dir.ok());
  ImageSpec spec;
  spec.layer_sizes = {10001, 20001};
  spec.multi_platform = true;
  spec.format = ManifestFormat::kDocker;
  auto image = BuildImage(spec, dir->path());
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_TRUE(image->index.has_value());
  ASSERT_EQ(image->platforms.size(), 2u);
  EXPECT_EQ(image->platforms[1].architecture, "arm64");
  EXPECT_NE(image->platforms[0].layers[0].digest, image->platforms[1].layers[0].digest);
  EXPECT_EQ(image->AllBlobs().size(), 6u);

  auto index = nlohmann::json::parse(image->index->content);
  EXPECT_EQ(index["mediaType"], "application/vnd.docker.distribution.manifest.list.v2+json");
  ASSERT_EQ(index["manifests"].size(), 2u);
  EXPECT_EQ(index["manifests"][0]["digest"], image->platforms[0].manifest.digest);
  EXPECT_EQ(index["manifests"][0]["platform"]["architecture"], "amd64");
  EXPECT_EQ(index["manifests"][1]["platform"]["architecture"], "arm64");
  auto m = nlohmann::json::parse(image->platforms[0].manifest.content);
  EXPECT_EQ(m["mediaType"], "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(m["layers"][0]["mediaType"], "application/vnd.docker.image.rootfs.diff.tar.gzip");
  EXPECT_EQ(image->top().digest, image->index->digest);
}

}  // namespace
}  // namespace shoal::testkit
