// Image references, platforms and manifest formats: what an operator types and
// what registries send must turn into exactly the right registry, repository,
// tag/digest and blob list.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "job_test_fakes.h"
#include "scheduler/api_error.h"
#include "scheduler/image_manifest.h"
#include "scheduler/image_reference.h"

namespace shoal::testing {
namespace {

using ::testing::HasSubstr;

struct RefCase {
  std::string text, registry, repository, tag, digest;
};

TEST(ImageReferenceTest, NormalisesLikeDocker) {
  const std::string d = FakeDigest(7);
  const std::vector<RefCase> cases = {
      {"alpine", "registry-1.docker.io", "library/alpine", "latest", ""},
      {"alpine:3.19", "registry-1.docker.io", "library/alpine", "3.19", ""},
      {"docker.io/alpine", "registry-1.docker.io", "library/alpine", "latest", ""},
      {"docker.io/library/alpine:3", "registry-1.docker.io", "library/alpine", "3", ""},
      {"index.docker.io/bitnami/redis:7", "registry-1.docker.io", "bitnami/redis", "7", ""},
      {"bitnami/redis", "registry-1.docker.io", "bitnami/redis", "latest", ""},
      {"127.0.0.1:5000/team/app:v1", "127.0.0.1:5000", "team/app", "v1", ""},
      {"localhost/app", "localhost", "app", "latest", ""},
      {"ghcr.io/org/tool@" + d, "ghcr.io", "org/tool", "", d},
      {"reg.example:8443/a/b/c:1.0@" + d, "reg.example:8443", "a/b/c", "1.0", d},
  };
  for (const RefCase& c : cases) {
    SCOPED_TRACE(c.text);
    auto r = ParseImageReference(c.text);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->registry, c.registry);
    EXPECT_EQ(r->repository, c.repository);
    EXPECT_EQ(r->tag, c.tag);
    EXPECT_EQ(r->digest, c.digest);
    EXPECT_EQ(r->ManifestReference(), c.digest.empty() ? c.tag : c.digest);
  }
  EXPECT_EQ(ParseImageReference("alpine")->String(), "registry-1.docker.io/library/alpine:latest");
}

TEST(ImageReferenceTest, MalformedReferencesSayWhatIsWrong) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {"Alpine", "invalid component"},
      {"has space:1", "whitespace"},
      {"http://reg:5000/app:v1", "scheme"},
      {"reg:5000/app:", "tag after ':' is empty"},
      {"reg:5000/app:-bad", "tag"},
      {"app@sha256:abc", "digest"},
      {"reg:5000/../etc:v1", "invalid component"},
      {"reg:5000/", "repository name is empty"},
  };
  for (const auto& [text, why] : cases) {
    SCOPED_TRACE(text);
    auto r = ParseImageReference(text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("malformed image reference"));
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(why));
  }
}

TEST(PlatformTest, ParsesAndMatchesVariants) {
  auto amd = ParsePlatform("linux/amd64");
  ASSERT_TRUE(amd.ok());
  EXPECT_TRUE(amd->Matches({"linux", "amd64", ""}));
  EXPECT_FALSE(amd->Matches({"linux", "arm64", ""}));
  EXPECT_FALSE(amd->Matches({"windows", "amd64", ""}));
  auto arm = ParsePlatform("linux/arm64/v8");
  ASSERT_TRUE(arm.ok());
  EXPECT_TRUE(arm->Matches({"linux", "arm64", ""}));  // arm64 without variant is v8
  EXPECT_TRUE(arm->Matches({"linux", "arm64", "v8"}));
  auto arm7 = ParsePlatform("linux/arm/v7");
  ASSERT_TRUE(arm7.ok());
  EXPECT_FALSE(arm7->Matches({"linux", "arm", "v6"}));
  EXPECT_TRUE(ParsePlatform("linux/arm")->Matches({"linux", "arm", "v6"}));
  for (const char* bad : {"linux", "linux/", "/amd64", "linux/amd64/v8/x", "linux amd64", ""}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParsePlatform(bad).ok());
  }
}

TEST(ManifestTest, ReadsOciAndDockerManifests) {
  for (const char* type : {kOciManifestType, kDockerManifestType}) {
    SCOPED_TRACE(type);
    std::string body =
        ImageManifestJson(FakeDigest(1), 1234, {{FakeDigest(2), 5000}, {FakeDigest(3), 7}}, type);
    auto m = ParseManifest(body, type);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_FALSE(m->is_index);
    EXPECT_EQ(m->config.digest, FakeDigest(1));
    EXPECT_EQ(m->config.size, 1234u);
    ASSERT_EQ(m->layers.size(), 2u);
    EXPECT_EQ(m->layers[0].digest, FakeDigest(2));
    EXPECT_EQ(m->layers[1].size, 7u);
    // A registry that sends a generic Content-Type: the document says what it is.
    auto generic = ParseManifest(body, "application/json");
    ASSERT_TRUE(generic.ok()) << generic.status();
    EXPECT_EQ(generic->media_type, type);
  }
}

TEST(ManifestTest, ReadsIndexesAndManifestLists) {
  for (const char* type : {kOciIndexType, kDockerListType}) {
    SCOPED_TRACE(type);
    std::string body = IndexJson({{FakeDigest(10), 500, "linux", "amd64", ""},
                                  {FakeDigest(11), 501, "linux", "arm64", "v8"}},
                                 type);
    auto m = ParseManifest(body, type);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_TRUE(m->is_index);
    ASSERT_EQ(m->manifests.size(), 2u);
    EXPECT_EQ(m->manifests[1].platform.String(), "linux/arm64/v8");
  }
}

TEST(ManifestTest, RefusesWhatItCannotRead) {
  auto v1 = ParseManifest(R"({"schemaVersion":1,"fsLayers":[]})",
                          "application/vnd.docker.distribution.manifest.v1+prettyjws");
  ASSERT_FALSE(v1.ok());
  EXPECT_EQ(v1.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(v1.status().message()), HasSubstr("not supported"));
  EXPECT_FALSE(ParseManifest("not json", kOciManifestType).ok());
  std::string bad_digest = ImageManifestJson("sha256:xyz", 1, {});
  auto d = ParseManifest(bad_digest, kOciManifestType);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("config"));
  EXPECT_FALSE(ParseManifest(R"({"mediaType":"application/vnd.oci.image.manifest.v1+json",
      "config":{"digest":")" + FakeDigest(1) +
                                 R"(","size":-4},"layers":[]})",
                             kOciManifestType)
                   .ok());
}

}  // namespace
}  // namespace shoal::testing
