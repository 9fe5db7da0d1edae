#include "common/digest.h"

#include "common/segment_plan.h"
#include "gtest/gtest.h"

namespace shoal {
namespace {

const char kHex[] = "a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4";

TEST(BlobDigest, ParsesValid) {
  auto d = BlobDigest::Parse(std::string("sha256:") + kHex);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->hex(), kHex);
  EXPECT_EQ(d->Short(), "a3ed95caeb02");
}

TEST(BlobDigest, RejectsMalformed) {
  for (const std::string bad :
       {std::string("sha256:") + std::string(kHex).substr(1), std::string("sha512:") + kHex, std::string(kHex),
        std::string("sha256:") + std::string(kHex).substr(0, 63) + "G", std::string("sha256:../../etc/passwd"),
        std::string("sha256:") + std::string(kHex).substr(0, 63) + "A", std::string("")}) {
    EXPECT_FALSE(BlobDigest::Parse(bad).ok()) << bad;
  }
}

TEST(RepositoryName, AcceptsOciNames) {
  for (const char* ok : {"alpine", "library/alpine", "a/b/c", "my-repo/x_y", "a__b", "a.b/c--d", "test/img"}) {
    EXPECT_TRUE(ValidateRepositoryName(ok).ok()) << ok;
  }
}

TEST(RepositoryName, RejectsTraversalAndJunk) {
  for (const char* bad : {"", "../etc", "a/../b", "a//b", "/abs", "a/", "UPPER", "a b", "a/./b", ".hidden", "-x",
                          "a%2e%2e", "a\\b"}) {
    EXPECT_FALSE(ValidateRepositoryName(bad).ok()) << bad;
  }
}

TEST(Tag, Validates) {
  EXPECT_TRUE(ValidateTag("v1.2-rc_3").ok());
  EXPECT_FALSE(ValidateTag("-bad").ok());
  EXPECT_FALSE(ValidateTag("a/b").ok());
  EXPECT_FALSE(ValidateTag(std::string(129, 'a')).ok());
}

TEST(RegistryHost, Validates) {
  EXPECT_TRUE(ValidateRegistryHost("127.0.0.1:5000").ok());
  EXPECT_TRUE(ValidateRegistryHost("registry-1.docker.io").ok());
  EXPECT_FALSE(ValidateRegistryHost("http://x").ok());
  EXPECT_FALSE(ValidateRegistryHost("a/b").ok());
  EXPECT_FALSE(ValidateRegistryHost("").ok());
}

TEST(SegmentPlan, CutsOddSizes) {
  auto p = SegmentPlan::Create(10 * 1048576 + 5, 4 * 1048576, 1048576);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->segment_count(), 3u);
  EXPECT_EQ(p->SegmentLength(2), 2u * 1048576 + 5);
  EXPECT_EQ(p->PieceCount(2), 3u);
  EXPECT_EQ(p->SegmentOf(4 * 1048576), 1u);
  EXPECT_FALSE(SegmentPlan::Create(10, 3 * 16384 + 1, 16384).ok());
  EXPECT_FALSE(SegmentPlan::Create(10, 65536, 3000).ok());
}

}  // namespace
}  // namespace shoal
