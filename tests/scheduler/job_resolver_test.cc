// Image resolution against an in-memory registry: index -> platform manifest ->
// config + layers, errors named, and the coalescing cache that makes N
// concurrent jobs for one tag cost one upstream request.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "job_test_fakes.h"
#include "scheduler/api_error.h"
#include "scheduler/image_resolver.h"

namespace shoal::testing {
namespace {

using ::testing::HasSubstr;

class ResolverTest : public ::testing::Test {
 protected:
  ResolverTest()
      : cache_(clock_, {absl::Seconds(30), absl::Minutes(30), 4096}),
        resolver_(
            [this](const RegistryCredentials& c) {
              return std::make_unique<FakeRegistryClient>(registry_, c);
            },
            cache_) {}

  // A two-platform image: amd64 (config 1, layers 2,3) and arm64 (config 4, layer 5).
  void AddMultiPlatform() {
    amd_ = registry_.Add(
        "team/app", "",
        ImageManifestJson(FakeDigest(1), 100, {{FakeDigest(2), 2000}, {FakeDigest(3), 3000}}),
        kOciManifestType);
    arm_ = registry_.Add("team/app", "",
                         ImageManifestJson(FakeDigest(4), 100, {{FakeDigest(5), 5000}}),
                         kOciManifestType);
    index_ = registry_.Add("team/app", "v1",
                           IndexJson({{amd_, 300, "linux", "amd64", ""},
                                      {arm_, 300, "linux", "arm64", "v8"},
                                      {FakeDigest(99), 10, "unknown", "unknown", ""}}),
                           kOciIndexType);
  }

  absl::StatusOr<ResolvedImage> Resolve(const std::string& ref, const std::string& platform,
                                        RegistryCredentials creds = {}) {
    auto r = ParseImageReference(ref);
    if (!r.ok()) return r.status();
    return resolver_.Resolve(*r, platform, creds);
  }

  static std::vector<std::string> Digests(const ResolvedImage& img) {
    std::vector<std::string> out;
    for (const auto& b : img.blobs) out.push_back(b.digest);
    return out;
  }

  SimulatedClock clock_;
  FakeRegistry registry_;
  ManifestLookupCache cache_;
  ImageResolver resolver_;
  std::string amd_, arm_, index_;
};

TEST_F(ResolverTest, IndexResolvesToTheRequestedPlatformsBlobsOnly) {
  AddMultiPlatform();
  auto amd = Resolve("reg:5000/team/app:v1", "linux/amd64");
  ASSERT_TRUE(amd.ok()) << amd.status();
  EXPECT_EQ(amd->digest, index_);
  EXPECT_EQ(Digests(*amd), (std::vector<std::string>{FakeDigest(1), FakeDigest(2), FakeDigest(3)}));
  EXPECT_EQ(amd->blobs[2].size, 3000u);
  EXPECT_EQ(amd->platforms, std::vector<std::string>{"linux/amd64"});

  auto arm = Resolve("reg:5000/team/app:v1", "linux/arm64");
  ASSERT_TRUE(arm.ok()) << arm.status();
  EXPECT_EQ(Digests(*arm), (std::vector<std::string>{FakeDigest(4), FakeDigest(5)}));

  auto all = Resolve("reg:5000/team/app:v1", "all");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->blobs.size(), 5u);  // the attestation entry is not an image
  EXPECT_EQ(all->platforms.size(), 2u);
}

TEST_F(ResolverTest, UnknownPlatformIsAnApiErrorListingWhatExists) {
  AddMultiPlatform();
  auto r = Resolve("reg:5000/team/app:v1", "linux/s390x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ApiErrorReason(r.status()), "unknown_platform");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("linux/amd64, linux/arm64/v8"));
}

TEST_F(ResolverTest, ByDigestAndSingleManifests) {
  std::string m = registry_.Add(
      "team/solo", "v2",
      ImageManifestJson(FakeDigest(7), 10, {{FakeDigest(8), 80}}, kDockerManifestType),
      kDockerManifestType);
  auto by_tag = Resolve("reg:5000/team/solo:v2", "linux/amd64");
  ASSERT_TRUE(by_tag.ok()) << by_tag.status();
  EXPECT_EQ(by_tag->digest, m);
  EXPECT_EQ(Digests(*by_tag), (std::vector<std::string>{FakeDigest(7), FakeDigest(8)}));
  auto by_digest = Resolve("reg:5000/team/solo@" + m, "linux/amd64");
  ASSERT_TRUE(by_digest.ok()) << by_digest.status();
  EXPECT_EQ(by_digest->digest, m);
}

TEST_F(ResolverTest, RegistryErrorsNameTheImage) {
  auto missing = Resolve("reg:5000/team/app:nope", "linux/amd64");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(HasApiErrorReason(missing.status()));
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("reg:5000/team/app:nope"));

  registry_.Fail(absl::UnauthenticatedError("origin reg:5000 answered 401 for manifest v1"));
  auto denied = Resolve("reg:5000/team/app:v1", "linux/amd64");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(denied.status().message()), HasSubstr("unauthorized"));
}

TEST_F(ResolverTest, ConcurrentLookupsOfOneTagCostOneRequest) {
  std::string m =
      registry_.Add("team/solo", "v2", ImageManifestJson(FakeDigest(7), 10, {}), kOciManifestType);
  registry_.Hold();
  constexpr int kJobs = 8;
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<ResolvedImage>> results(kJobs);
  for (int i = 0; i < kJobs; ++i) {
    threads.emplace_back([&, i] { results[i] = Resolve("reg:5000/team/solo:v2", "linux/amd64"); });
  }
  registry_.AwaitInside(1);
  // Every other caller must be waiting on the one lookup in flight.
  while (cache_.stats().waiting < kJobs - 1) std::this_thread::yield();
  registry_.Release();
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->digest, m);
  }
  EXPECT_EQ(registry_.lookups(), 1);
  EXPECT_EQ(cache_.stats().coalesced, static_cast<uint64_t>(kJobs - 1));

  // Within the TTL: no request at all; after it: one more (tags move).
  ASSERT_TRUE(Resolve("reg:5000/team/solo:v2", "linux/amd64").ok());
  EXPECT_EQ(registry_.lookups(), 1);
  clock_.Advance(absl::Seconds(31));
  ASSERT_TRUE(Resolve("reg:5000/team/solo:v2", "linux/amd64").ok());
  EXPECT_EQ(registry_.lookups(), 2);
}

TEST_F(ResolverTest, AnswersAreNotSharedAcrossCredentialsAndErrorsAreNotCached) {
  registry_.Add("team/solo", "v2", ImageManifestJson(FakeDigest(7), 10, {}), kOciManifestType);
  ASSERT_TRUE(Resolve("reg:5000/team/solo:v2", "linux/amd64", {"alice", "secret"}).ok());
  ASSERT_TRUE(Resolve("reg:5000/team/solo:v2", "linux/amd64").ok());
  EXPECT_EQ(registry_.lookups(), 2);  // anonymous caller did not get alice's answer

  EXPECT_FALSE(Resolve("reg:5000/team/solo:v3", "linux/amd64").ok());
  registry_.Add("team/solo", "v3", ImageManifestJson(FakeDigest(9), 10, {}), kOciManifestType);
  EXPECT_TRUE(Resolve("reg:5000/team/solo:v3", "linux/amd64").ok());  // pushed since: found
}

}  // namespace
}  // namespace shoal::testing
