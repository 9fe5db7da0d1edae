// Parent sets as hosts see them: handed out with segment metadata, spread as
// a tree, repaired when parents are bad, leave or die.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "swarm_test_util.h"

namespace shoal::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;
using ::testing::UnorderedElementsAre;
using K = v1::AnnounceResponse;

class ParentAssignmentTest : public SwarmTest {};

TEST_F(ParentAssignmentTest, WaitingPeersGetLayoutThenEachSegmentWithItsParents) {
  RegisterSeed("seed");
  Register("p1");
  Register("p2");
  Stream p1 = Open("p1", 1, true);
  Stream p2 = Open("p2", 1, true);
  Stream seed = Open("seed", 1, false);
  Say(seed, LayoutMsg());
  Say(seed, SegmentReadyMsg(0));
  for (Stream* p : {&p1, &p2}) {
    auto got = p->sink->Take();
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].layout().segment_count(), kSegments);
    EXPECT_EQ(got[1].segment().index(), 0u);
    EXPECT_EQ(got[1].segment().info_hash(), SegmentReadyMsg(0).segment_ready().info_hash());
    ASSERT_EQ(got[2].parents().parents_size(), 1);
    EXPECT_EQ(got[2].parents().parents(0).host_id(), "seed");
    EXPECT_EQ(got[2].parents().parents(0).ip(), "10.0.0.1");
    EXPECT_EQ(got[2].parents().parents(0).port(), 6881u);
  }
}

TEST_F(ParentAssignmentTest, PeerHoldingSegmentsOnOpenBecomesAParentAtOnce) {
  RegisterSeed("seed");
  Register("holder");
  Register("child");
  SeedHolding("seed", 1);
  Stream child = Open("child", 1, true);
  child.sink->Take();
  Open("holder", 1, false, /*have=*/{0});
  EXPECT_THAT(*LastParents(child.sink->Take(), 0), ElementsAre("seed", "holder"));
}

// 30 peers want a blob only the seed has: at first all hang on the seed (better
// than stalling), then every peer that completes takes over up to 6 children.
TEST_F(ParentAssignmentTest, SwarmFansOutAsATreeNotAStarOnTheSeed) {
  RegisterSeed("seed");
  SeedHolding("seed", 1);
  const int n = 30;
  std::vector<Stream> peers;
  std::map<std::string, std::vector<std::string>> sets;  // latest set for segment 0
  auto collect = [&] {
    for (int i = 0; i < n; ++i) {
      if (auto p = LastParents(peers[i].sink->Take(), 0)) sets["p" + std::to_string(i)] = *p;
    }
  };
  auto children_of = [&](const std::string& parent) {
    int c = 0;
    for (const auto& [child, set] : sets) c += std::count(set.begin(), set.end(), parent);
    return c;
  };
  for (int i = 0; i < n; ++i) {
    Register("p" + std::to_string(i));
    peers.push_back(Open("p" + std::to_string(i), 1, true));
  }
  collect();
  EXPECT_EQ(children_of("seed"), n);

  for (int done = 0; done < 5; ++done) {
    std::string holder = "p" + std::to_string(done);
    Say(peers[done], HaveMsg(0));
    sets.erase(holder);
    collect();
    for (int j = 0; j < n; ++j) {
      EXPECT_LE(children_of("p" + std::to_string(j)), 6) << "after " << holder << " completed";
    }
  }
  EXPECT_LE(children_of("seed"), 6);
  for (const auto& [child, set] : sets) EXPECT_FALSE(set.empty()) << child;
}

TEST_F(ParentAssignmentTest, FirstBytesOfASegmentMakeAPeerAParentForOthers) {
  RegisterSeed("seed");
  SeedHolding("seed", 1);
  std::vector<Stream> peers;
  for (int i = 0; i < 8; ++i) {
    Register("p" + std::to_string(i));
    peers.push_back(Open("p" + std::to_string(i), 1, true));
    peers.back().sink->Take();
  }
  Say(peers[0], ProgressMsg(0, kPieceSize));
  int moved = 0;
  for (int i = 1; i < 8; ++i) {
    auto set = LastParents(peers[i].sink->Take(), 0);
    if (set && std::count(set->begin(), set->end(), "p0")) ++moved;
  }
  EXPECT_GE(moved, 1);
  EXPECT_LE(moved, 6);
}

TEST_F(ParentAssignmentTest, SameZoneHolderIsPreferred) {
  RegisterSeed("seed");
  SeedHolding("seed", 1);
  Register("far", v1::HOST_ROLE_PEER, "zone-b");
  Register("near", v1::HOST_ROLE_PEER, "zone-a");
  Register("child", v1::HOST_ROLE_PEER, "zone-a");
  Open("far", 1, false, {0});
  Open("near", 1, false, {0});
  Stream child = Open("child", 1, true);
  auto set = *LastParents(child.sink->Take(), 0);
  ASSERT_GE(set.size(), 2u);
  EXPECT_EQ(set[0], "near");
}

TEST_F(ParentAssignmentTest, ReportedBadParentIsAvoidedForAWhile) {
  RegisterSeed("seed");
  Register("good");
  Register("bad");
  Register("child");
  SeedHolding("seed", 1);
  Open("good", 1, false, {0});
  Open("bad", 1, false, {0});
  Stream child = Open("child", 1, true);
  EXPECT_THAT(*LastParents(child.sink->Take(), 0), Contains("bad"));

  Say(child, FailureMsg(0, "bad"));
  EXPECT_THAT(*LastParents(child.sink->Take(), 0), Not(Contains("bad")));
  Say(child, NeedParentsMsg(0));
  EXPECT_THAT(*LastParents(child.sink->Take(), 0), Not(Contains("bad")));

  Pass(policy_.bad_parent_ttl + absl::Seconds(1));
  Say(child, NeedParentsMsg(0));
  EXPECT_THAT(*LastParents(child.sink->Take(), 0), Contains("bad"));
}

TEST_F(ParentAssignmentTest, ParentThatDiesIsReplacedAndItsStreamEnded) {
  RegisterSeed("seed");
  Register("holder");
  Register("child");
  SeedHolding("seed", 1);
  Stream holder = Open("holder", 1, false, {0});
  Stream child = Open("child", 1, true);
  EXPECT_THAT(*LastParents(child.sink->Take(), 0), Contains("holder"));

  Pass(absl::Seconds(7), {"holder"});
  coordinator_->Tick();
  EXPECT_TRUE(holder.sink->closed());
  EXPECT_EQ(holder.sink->status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(*LastParents(child.sink->Take(), 0), ElementsAre("seed"));
}

TEST_F(ParentAssignmentTest, DeadHostIsNeverHandedOutEvenBeforeTheSweep) {
  RegisterSeed("seed");
  Register("holder");
  Register("child");
  SeedHolding("seed", 1);
  Open("holder", 1, false, {0, 1, 2});
  Pass(absl::Seconds(7), {"holder"});  // no Tick yet
  Stream child = Open("child", 1, true);
  EXPECT_THAT(*LastParents(child.sink->Take(), 0), ElementsAre("seed"));
}

TEST_F(ParentAssignmentTest, ParentWhoseStreamEndsIsReplaced) {
  RegisterSeed("seed");
  Register("holder");
  Register("child");
  SeedHolding("seed", 1);
  Stream holder = Open("holder", 1, false, {0});
  Stream child = Open("child", 1, true);
  child.sink->Take();
  coordinator_->CloseAnnounce(holder.id);
  EXPECT_THAT(*LastParents(child.sink->Take(), 0), ElementsAre("seed"));
}

TEST_F(ParentAssignmentTest, ReRegisteredHostIsAdvertisedAtItsNewAddress) {
  RegisterSeed("seed");
  Register("holder", v1::HOST_ROLE_PEER, "", "10.9.9.1");
  Register("child");
  SeedHolding("seed", 1);
  Open("holder", 1, false, {0});
  Register("holder", v1::HOST_ROLE_PEER, "", "10.9.9.2");
  Stream child = Open("child", 1, true);
  auto got = child.sink->Take();
  bool found = false;
  for (const auto& m : got) {
    if (!m.has_parents() || m.parents().segment_index() != 0) continue;
    for (const auto& p : m.parents().parents()) {
      if (p.host_id() == "holder") {
        EXPECT_EQ(p.ip(), "10.9.9.2");
        found = true;
      }
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(ParentAssignmentTest, AHostHoldingASegmentGetsNoParentsForIt) {
  RegisterSeed("seed");
  Register("p1");
  SeedHolding("seed", 1);
  Stream p1 = Open("p1", 1, true, /*have=*/{1});
  auto got = p1.sink->Take();
  EXPECT_TRUE(LastParents(got, 0).has_value());
  EXPECT_FALSE(LastParents(got, 1).has_value());
  EXPECT_EQ(Count(got, K::kSegment), 2);
}

TEST_F(ParentAssignmentTest, HeartbeatFromAnUnknownHostAsksItToRegister) {
  v1::HeartbeatRequest hb;
  hb.set_host_id("ghost");
  EXPECT_TRUE(coordinator_->Heartbeat(hb).reregister());
  Register("ghost");
  EXPECT_FALSE(coordinator_->Heartbeat(hb).reregister());
}

TEST_F(ParentAssignmentTest, RegisterReturnsTheHeartbeatInterval) {
  v1::RegisterHostRequest req;
  req.mutable_host()->set_id("a");
  req.mutable_host()->set_role(v1::HOST_ROLE_PEER);
  req.mutable_host()->set_ip("10.0.0.1");
  req.mutable_host()->set_data_port(1);
  EXPECT_EQ(coordinator_->RegisterHost(req)->heartbeat_interval_ms(), 2000u);
  req.mutable_host()->set_ip("");
  EXPECT_EQ(coordinator_->RegisterHost(req).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shoal::testing
