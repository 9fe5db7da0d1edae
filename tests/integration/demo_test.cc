// The README's first command runs shoal-demo: it must work end to end (real
// registry, scheduler, seed, peers, shoalctl and containerd) and say what it
// promises: the preheat succeeded on every peer, every digest verified, and the
// origin served the image once for all nodes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testkit/subprocess.h"

namespace shoal::testkit {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kDemo = std::string(SHOAL_BIN_DIR) + "/shoal-demo";

TEST(DemoTest, PreheatsThenEveryNodePullsFromItsCacheWithOneOriginCopy) {
  auto r = RunCommand({kDemo, "--layer-size", "6MiB", "--layer-size", "3MiB", "--peers", "2"},
                      absl::Minutes(5));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << r->output;
  EXPECT_THAT(r->output, HasSubstr("job succeeded on every peer")) << r->output;
  // Per node: 2 layers, the config and the manifest.
  EXPECT_THAT(r->output, HasSubstr("verified (4/4)")) << r->output;
  EXPECT_THAT(r->output, Not(HasSubstr("FAILED"))) << r->output;
  EXPECT_THAT(r->output, HasSubstr("1.00 copies of the image for 2 nodes")) << r->output;
}

TEST(DemoTest, WithoutPreheatThePullsGoColdThroughTheMirrorsAndStillCostOneCopy) {
  auto r = RunCommand({kDemo, "--layer-size", "6MiB", "--peers", "2", "--skip-preheat"},
                      absl::Minutes(5));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << r->output;
  EXPECT_THAT(r->output, Not(HasSubstr("(preheat)"))) << r->output;
  EXPECT_THAT(r->output, HasSubstr("1.00 copies of the image for 2 nodes")) << r->output;
}

}  // namespace
}  // namespace shoal::testkit
