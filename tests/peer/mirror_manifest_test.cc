// The registry mirror's manifest endpoints: tags forwarded every time, manifests
// by digest cached and verified, upstream errors kept.
#include "tests/peer/mirror_test_fixture.h"

namespace shoal::mirror_test {
namespace {

class MirrorManifestTest : public MirrorServerTest {
 protected:
  void SetUp() override {
    MirrorServerTest::SetUp();
    body_ = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("config":{},"layers":[]})";
    digest_ = origin_.AddManifest("test/img", "v1", body_, kOciManifest);
  }
  std::string ManifestPath(const std::string& ref) { return "/v2/test/img/manifests/" + ref + kNs; }
  std::string body_;
  std::string digest_;
};

TEST_F(MirrorManifestTest, TagLookupsAreForwardedEveryTimeWithTheClientsAccept) {
  httplib::Headers accept{
      {"Accept", "application/vnd.oci.image.index.v1+json, " + std::string(kOciManifest)}};
  accept.emplace("Accept-Encoding", "gzip, deflate, br");
  for (int i = 0; i < 2; ++i) {
    auto res = client_->Get(ManifestPath("v1"), accept);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, body_);
    EXPECT_EQ(res->get_header_value("Content-Type"), kOciManifest);
    EXPECT_EQ(res->get_header_value("Docker-Content-Digest"), digest_);
    EXPECT_FALSE(res->has_header("Content-Encoding"));  // the digest covers the exact bytes
  }
  auto calls = origin_.calls();
  ASSERT_EQ(calls.size(), 2u);  // a tag can move: never answered from the cache
  for (const auto& call : calls) {
    EXPECT_EQ(call.repo.registry, kRegistry);
    EXPECT_EQ(call.repo.repository, "test/img");
    EXPECT_EQ(call.reference, "v1");
    EXPECT_FALSE(call.head_only);
    EXPECT_THAT(call.accept, ElementsAre("application/vnd.oci.image.index.v1+json", kOciManifest));
  }
  EXPECT_EQ(mirror_->counters().manifest_requests, 2u);
}

TEST_F(MirrorManifestTest, WithoutAcceptTheStandardManifestTypesAreAsked) {
  ASSERT_TRUE(client_->Get(ManifestPath("v1")));
  ASSERT_EQ(origin_.calls().size(), 1u);
  EXPECT_THAT(
      origin_.calls()[0].accept,
      ::testing::IsSupersetOf({kOciManifest, "application/vnd.oci.image.index.v1+json",
                               "application/vnd.docker.distribution.manifest.v2+json",
                               "application/vnd.docker.distribution.manifest.list.v2+json"}));
}

TEST_F(MirrorManifestTest, ByDigestManifestIsCachedAndThenServedWithoutTheRegistry) {
  auto first = client_->Get(ManifestPath(digest_));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, body_);
  EXPECT_EQ(origin_.calls().size(), 1u);
  EXPECT_TRUE(fs::exists(dir_ + "/manifests/sha256/" + digest_.substr(7)));

  origin_.FailReference(digest_, absl::UnavailableError("registry is down"));
  auto second = client_->Get(ManifestPath(digest_));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body, body_);
  EXPECT_EQ(second->get_header_value("Content-Type"), kOciManifest);
  EXPECT_EQ(second->get_header_value("Docker-Content-Digest"), digest_);
  auto head = client_->Head(ManifestPath(digest_));
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->get_header_value("Content-Length"), std::to_string(body_.size()));
  EXPECT_EQ(origin_.calls().size(), 1u);
}

TEST_F(MirrorManifestTest, TagGetFillsTheCacheForTheFollowUpByDigest) {
  ASSERT_TRUE(client_->Get(ManifestPath("v1")));
  auto by_digest = client_->Get(ManifestPath(digest_));
  ASSERT_TRUE(by_digest);
  EXPECT_EQ(by_digest->body, body_);
  EXPECT_EQ(origin_.calls().size(), 1u);
}

TEST_F(MirrorManifestTest, HeadByTagStaysAHeadUpstreamAndStillGivesTheSize) {
  auto head = client_->Head(ManifestPath("v1"));
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->get_header_value("Docker-Content-Digest"), digest_);
  EXPECT_EQ(head->get_header_value("Content-Length"), std::to_string(body_.size()));
  EXPECT_EQ(head->get_header_value("Content-Type"), kOciManifest);
  // containerd's GET by digest after its HEAD is then answered locally.
  auto get = client_->Get(ManifestPath(digest_));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->body, body_);
  auto calls = origin_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_TRUE(calls[0].head_only);
  EXPECT_EQ(calls[0].reference, "v1");
  EXPECT_FALSE(calls[1].head_only);
  EXPECT_EQ(calls[1].reference, digest_);
}

TEST_F(MirrorManifestTest, HeadByTagOfACachedManifestIsOneHeadUpstream) {
  ASSERT_TRUE(client_->Get(ManifestPath(digest_)));
  auto head = client_->Head(ManifestPath("v1"));
  ASSERT_TRUE(head);
  EXPECT_EQ(head->get_header_value("Content-Length"), std::to_string(body_.size()));
  auto calls = origin_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_TRUE(calls[1].head_only);
}

TEST_F(MirrorManifestTest, UpstreamErrorsKeepTheirStatus) {
  struct Case {
    absl::Status status;
    int http;
    std::string code;
  } cases[] = {
      {absl::NotFoundError("no such tag"), 404, "MANIFEST_UNKNOWN"},
      {absl::UnauthenticatedError("token needed"), 401, "UNAUTHORIZED"},
      {absl::PermissionDeniedError("no pull access"), 403, "DENIED"},
      {absl::ResourceExhaustedError("429 from registry"), 429, "TOOMANYREQUESTS"},
      {absl::UnavailableError("503 from registry"), 503, "UNAVAILABLE"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.status.ToString());
    origin_.FailReference("v1", c.status);
    auto res = client_->Get(ManifestPath("v1"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, c.http);
    EXPECT_EQ(OciCode(res), c.code);
  }
}

TEST_F(MirrorManifestTest, ManifestThatDoesNotMatchItsDigestIsRefusedAndNotCached) {
  origin_.CorruptDigest(digest_);
  auto res = client_->Get(ManifestPath(digest_));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
  EXPECT_NE(res->body, body_ + " ");
  EXPECT_EQ(EntriesUnder("manifests/sha256"), 0u);
}

TEST_F(MirrorManifestTest, DamagedCachedManifestIsDroppedAndFetchedAgain) {
  ASSERT_TRUE(client_->Get(ManifestPath(digest_)));
  {
    std::ofstream damage(dir_ + "/manifests/sha256/" + digest_.substr(7), std::ios::trunc);
    damage << R"({"schemaVersion":2,"layers":["evil"]})";
  }
  auto res = client_->Get(ManifestPath(digest_));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, body_);
  EXPECT_EQ(origin_.calls().size(), 2u);
}

}  // namespace
}  // namespace shoal::mirror_test
