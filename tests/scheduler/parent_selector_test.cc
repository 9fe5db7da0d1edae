#include "scheduler/parent_selector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace shoal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

ParentCandidate Complete(std::string id, uint32_t children = 0) {
  ParentCandidate c;
  c.host_id = std::move(id);
  c.complete = true;
  c.bytes = 1000;
  c.children = children;
  return c;
}

ParentCandidate Partial(std::string id, uint64_t bytes) {
  ParentCandidate c;
  c.host_id = std::move(id);
  c.bytes = bytes;
  return c;
}

ParentCandidate Seed(std::string id, uint32_t children) {
  ParentCandidate c = Complete(std::move(id), children);
  c.is_seed = true;
  return c;
}

ParentQuery Child(std::string id, std::string zone = "", std::string rack = "") {
  ParentQuery q;
  q.child_id = std::move(id);
  q.zone = std::move(zone);
  q.rack = std::move(rack);
  return q;
}

TEST(ParentSelectorTest, CompleteHoldersBeforePartialOnesAndMoreBytesFirst) {
  auto parents = SelectParents(
      Child("c"), {Partial("p10", 10), Complete("full"), Partial("p50", 50)}, ParentLimits{6, 4});
  EXPECT_THAT(parents, ElementsAre("full", "p50", "p10"));
}

TEST(ParentSelectorTest, PrefersSameRackThenSameZoneAmongEqualHolders) {
  ParentCandidate far = Complete("far");
  far.zone = "z2";
  far.rack = "r1";
  ParentCandidate zone = Complete("zone");
  zone.zone = "z1";
  zone.rack = "r9";
  ParentCandidate rack = Complete("rack");
  rack.zone = "z1";
  rack.rack = "r1";
  auto parents = SelectParents(Child("c", "z1", "r1"), {far, zone, rack}, ParentLimits{6, 4});
  EXPECT_THAT(parents, ElementsAre("rack", "zone", "far"));
}

TEST(ParentSelectorTest, LessLoadedParentFirstAmongEquals) {
  auto parents =
      SelectParents(Child("c"), {Complete("busy", 5), Complete("idle", 0), Complete("some", 2)},
                    ParentLimits{6, 4});
  EXPECT_THAT(parents, ElementsAre("idle", "some", "busy"));
}

TEST(ParentSelectorTest, ParentAtTheChildrenBoundIsSkippedWhileOthersHaveRoom) {
  // "full" ranks first by locality but already serves 6 children.
  ParentCandidate full = Complete("full", 6);
  full.zone = "z1";
  auto parents = SelectParents(Child("c", "z1"), {full, Partial("half", 500), Complete("other", 5)},
                               ParentLimits{6, 4});
  EXPECT_THAT(parents, ElementsAre("other", "half"));
}

TEST(ParentSelectorTest, ReturnsAtMostParentsPerSegment) {
  std::vector<ParentCandidate> many;
  for (int i = 0; i < 10; ++i) many.push_back(Complete("h" + std::to_string(i)));
  EXPECT_EQ(SelectParents(Child("c"), many, ParentLimits{6, 4}).size(), 4u);
  EXPECT_EQ(SelectParents(Child("c"), many, ParentLimits{6, 2}).size(), 2u);
}

TEST(ParentSelectorTest, NeverTheChildItselfDeadHostsBadParentsOrHostsWithNothing) {
  ParentCandidate dead = Complete("dead");
  dead.alive = false;
  ParentQuery q = Child("me");
  q.bad_parents.insert("bad");
  auto parents = SelectParents(
      q, {Complete("me"), dead, Complete("bad"), Partial("empty", 0), Partial("good", 1)},
      ParentLimits{6, 4});
  EXPECT_THAT(parents, ElementsAre("good"));
}

TEST(ParentSelectorTest, OverloadedSeedIsTheLastResortWhenNobodyElseHasRoom) {
  auto parents =
      SelectParents(Child("c"), {Seed("seed", 40), Complete("peer-full", 6)}, ParentLimits{6, 4});
  EXPECT_THAT(parents, ElementsAre("seed"));
}

TEST(ParentSelectorTest, LeastLoadedSeedsFirstWhenAllAreOverloaded) {
  auto parents = SelectParents(Child("c"), {Seed("s1", 40), Seed("s2", 9)}, ParentLimits{6, 1});
  EXPECT_THAT(parents, ElementsAre("s2"));
}

TEST(ParentSelectorTest, SeedWithRoomRanksLikeAnyHolder) {
  auto parents =
      SelectParents(Child("c"), {Seed("seed", 1), Complete("peer", 0)}, ParentLimits{6, 4});
  EXPECT_THAT(parents, ElementsAre("peer", "seed"));
}

TEST(ParentSelectorTest, OverloadedPeerRatherThanNothingWhenNoSeedHoldsIt) {
  auto parents = SelectParents(Child("c"), {Complete("only", 6)}, ParentLimits{6, 4});
  EXPECT_THAT(parents, ElementsAre("only"));
}

TEST(ParentSelectorTest, ABadSeedIsNotUsedEvenAsLastResort) {
  ParentQuery q = Child("c");
  q.bad_parents.insert("seed");
  EXPECT_THAT(SelectParents(q, {Seed("seed", 0)}, ParentLimits{6, 4}), IsEmpty());
}

}  // namespace
}  // namespace shoal
