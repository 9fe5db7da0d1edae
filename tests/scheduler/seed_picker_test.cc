#include "scheduler/seed_picker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "recording_sink.h"

namespace shoal {
namespace {

using testing::TestDigest;

const std::vector<std::string> kSeeds = {"seed-0", "seed-1", "seed-2", "seed-3"};

TEST(SeedPickerTest, NoSeedNoPick) { EXPECT_FALSE(PickSeed(TestDigest(1), {}).has_value()); }

TEST(SeedPickerTest, SameDigestSameSeedWhateverTheListOrder) {
  std::vector<std::string> reversed(kSeeds.rbegin(), kSeeds.rend());
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(PickSeed(TestDigest(i), kSeeds), PickSeed(TestDigest(i), reversed));
  }
}

TEST(SeedPickerTest, WeightsAreTheSameInEveryProcess) {
  // Replicas and restarts must agree on the owner: the hash is pinned, not seeded.
  EXPECT_EQ(RendezvousWeight("sha256:00", "seed-0"), 0x1974d36bc7f148c6ULL);
  EXPECT_NE(RendezvousWeight("ab", "c"), RendezvousWeight("a", "bc"));
}

TEST(SeedPickerTest, SpreadsBlobsEvenlyOverSeeds) {
  std::map<std::string, int> count;
  const int n = 4000;
  for (int i = 0; i < n; ++i) ++count[*PickSeed(TestDigest(i), kSeeds)];
  ASSERT_EQ(count.size(), kSeeds.size());
  for (const auto& [seed, c] : count) {
    EXPECT_GT(c, n / 4 * 8 / 10) << seed;
    EXPECT_LT(c, n / 4 * 12 / 10) << seed;
  }
}

TEST(SeedPickerTest, OnlyTheLeavingSeedsBlobsMove) {
  std::vector<std::string> without_2 = {"seed-0", "seed-1", "seed-3"};
  int moved = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string before = *PickSeed(TestDigest(i), kSeeds);
    std::string after = *PickSeed(TestDigest(i), without_2);
    if (before != "seed-2") {
      EXPECT_EQ(before, after) << i;
    } else {
      ++moved;
      EXPECT_NE(after, "seed-2");
    }
  }
  EXPECT_GT(moved, 0);
}

}  // namespace
}  // namespace shoal
