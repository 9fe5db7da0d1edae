// Who fetches a blob from the origin, and how often.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "scheduler/seed_picker.h"
#include "swarm_test_util.h"

namespace shoal::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using K = v1::AnnounceResponse;

class OriginProtectionTest : public SwarmTest {};

TEST_F(OriginProtectionTest, HundredPeersOpeningAnUnknownBlobAtOnceCauseOneFetch) {
  RegisterSeed("seed-a");
  RegisterSeed("seed-b");
  for (int i = 0; i < 100; ++i) Register("peer-" + std::to_string(i));
  std::vector<std::thread> threads;
  std::vector<Stream> streams(100);
  for (int i = 0; i < 100; ++i) {
    threads.emplace_back([&, i] { streams[i] = Open("peer-" + std::to_string(i), 7, true); });
  }
  for (auto& t : threads) t.join();

  auto a = FetchDigests(tasks_["seed-a"]->Take());
  auto b = FetchDigests(tasks_["seed-b"]->Take());
  EXPECT_EQ(a.size() + b.size(), 1u);
  std::string expected = *PickSeed(TestDigest(7), {"seed-a", "seed-b"});
  EXPECT_THAT(expected == "seed-a" ? a : b, ElementsAre(TestDigest(7)));
  for (auto& s : streams) EXPECT_EQ(Count(s.sink->Take(), K::kGoToOrigin), 0);
}

TEST_F(OriginProtectionTest, FetchedOnceAndNeverAgainWhileASeedHoldsIt) {
  RegisterSeed("seed");
  Register("p1");
  Register("p2");
  Stream p1 = Open("p1", 1, true);
  EXPECT_THAT(FetchDigests(tasks_["seed"]->Take()), ElementsAre(TestDigest(1)));
  Stream seed = SeedHolding("seed", 1);
  Say(p1, DoneMsg());
  coordinator_->CloseAnnounce(p1.id);

  Stream p2 = Open("p2", 1, true);
  EXPECT_THAT(FetchDigests(tasks_["seed"]->Take()), IsEmpty());
  auto got = p2.sink->Take();
  EXPECT_EQ(Count(got, K::kLayout), 1);
  EXPECT_EQ(Count(got, K::kSegment), static_cast<int>(kSegments));
  for (uint32_t k = 0; k < kSegments; ++k) EXPECT_THAT(*LastParents(got, k), ElementsAre("seed"));
}

TEST_F(OriginProtectionTest, TheFetchTaskCarriesTheBlobReference) {
  RegisterSeed("seed");
  Register("p1");
  Open("p1", 3, true);
  auto tasks = tasks_["seed"]->Take();
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].fetch().blob().registry(), "registry.local:5000");
  EXPECT_EQ(tasks[0].fetch().blob().repository(), "library/app");
}

TEST_F(OriginProtectionTest, WithoutSeedsOnePeerGoesToTheOriginAndTheOthersGetItFromThatPeer) {
  for (int i = 1; i <= 5; ++i) Register("p" + std::to_string(i));
  std::vector<Stream> peers;
  for (int i = 1; i <= 5; ++i) peers.push_back(Open("p" + std::to_string(i), 1, true));
  auto first = peers[0].sink->Take();
  ASSERT_EQ(Count(first, K::kGoToOrigin), 1);
  EXPECT_THAT(first.back().go_to_origin().reason(), HasSubstr("no live seed"));
  for (int i = 1; i < 5; ++i) EXPECT_EQ(Count(peers[i].sink->Take(), K::kGoToOrigin), 0);

  // The origin peer cuts the blob and announces segments: it becomes the parent.
  Say(peers[0], LayoutMsg());
  Say(peers[0], SegmentReadyMsg(0));
  for (int i = 1; i < 5; ++i) {
    auto got = peers[i].sink->Take();
    EXPECT_EQ(Count(got, K::kSegment), 1);
    EXPECT_THAT(*LastParents(got, 0), ElementsAre("p1"));
    EXPECT_EQ(Count(got, K::kGoToOrigin), 0);
  }
}

TEST_F(OriginProtectionTest, OriginSlotPassesOnWhenTheOriginPeerLeavesWithoutTheBlob) {
  Register("p1");
  Register("p2");
  Stream p1 = Open("p1", 1, true);
  Stream p2 = Open("p2", 1, true);
  EXPECT_EQ(Count(p1.sink->Take(), K::kGoToOrigin), 1);
  EXPECT_EQ(Count(p2.sink->Take(), K::kGoToOrigin), 0);
  coordinator_->CloseAnnounce(p1.id);
  EXPECT_EQ(Count(p2.sink->Take(), K::kGoToOrigin), 1);
}

TEST_F(OriginProtectionTest, OriginBudgetIsConfigurable) {
  policy_.max_origin_fallbacks = 2;
  Reset();
  int told = 0;
  for (int i = 1; i <= 6; ++i) {
    Register("p" + std::to_string(i));
    told += Count(Open("p" + std::to_string(i), 1, true).sink->Take(), K::kGoToOrigin);
  }
  EXPECT_EQ(told, 2);
}

TEST_F(OriginProtectionTest, SilentOriginPeerGivesItsSlotToTheNextWaitingPeer) {
  Register("p1");
  Register("p2");
  Stream p1 = Open("p1", 1, true);
  Stream p2 = Open("p2", 1, true);
  p1.sink->Take();
  Pass(policy_.origin_fallback_stall - absl::Seconds(1));
  coordinator_->Tick();
  EXPECT_EQ(Count(p2.sink->Take(), K::kGoToOrigin), 0);
  Pass(absl::Seconds(2));
  coordinator_->Tick();
  EXPECT_EQ(Count(p2.sink->Take(), K::kGoToOrigin), 1);
  EXPECT_EQ(Count(p1.sink->Take(), K::kGoToOrigin), 0);  // not told twice
}

TEST_F(OriginProtectionTest, ActiveOriginPeerKeepsItsSlot) {
  Register("p1");
  Register("p2");
  Stream p1 = Open("p1", 1, true);
  Stream p2 = Open("p2", 1, true);
  for (int i = 0; i < 5; ++i) {
    Pass(absl::Minutes(1));
    v1::AnnounceRequest progress;
    progress.mutable_blob_progress()->set_bytes_done(i * 1000);
    Say(p1, progress);
    coordinator_->Tick();
  }
  EXPECT_EQ(Count(p2.sink->Take(), K::kGoToOrigin), 0);
}

TEST_F(OriginProtectionTest, SeedFailureReachesWaitingPeersAndIsNotRetriedAtOnce) {
  RegisterSeed("seed");
  Register("p1");
  Register("p2");
  Register("p3");
  Stream p1 = Open("p1", 1, true);
  tasks_["seed"]->Take();
  Stream seed = Open("seed", 1, false);
  Say(seed, FailedMsg("origin answered 404 for the blob"));
  auto got = p1.sink->Take();
  ASSERT_EQ(Count(got, K::kUpstreamFailed), 1);
  EXPECT_THAT(got.back().upstream_failed().reason(), HasSubstr("404"));

  Stream p2 = Open("p2", 1, true);
  EXPECT_EQ(Count(p2.sink->Take(), K::kUpstreamFailed), 1);
  EXPECT_THAT(tasks_["seed"]->Take(), IsEmpty());

  Pass(policy_.upstream_failure_ttl + absl::Seconds(1));
  Open("p3", 1, true);
  EXPECT_THAT(FetchDigests(tasks_["seed"]->Take()), ElementsAre(TestDigest(1)));
}

TEST_F(OriginProtectionTest, DeadSeedsFetchFailsOverToAnotherSeed) {
  RegisterSeed("seed-a");
  RegisterSeed("seed-b");
  Register("p1");
  Open("p1", 1, true);
  std::string first = *PickSeed(TestDigest(1), {"seed-a", "seed-b"});
  std::string other = first == "seed-a" ? "seed-b" : "seed-a";
  EXPECT_EQ(FetchDigests(tasks_[first]->Take()).size(), 1u);

  Pass(absl::Seconds(7), {first});
  coordinator_->Tick();
  EXPECT_TRUE(tasks_[first]->closed());
  EXPECT_EQ(tasks_[first]->status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(FetchDigests(tasks_[other]->Take()), ElementsAre(TestDigest(1)));
}

TEST_F(OriginProtectionTest, SeedThatConnectsLaterFetchesWhatPeersWaitFor) {
  policy_.max_origin_fallbacks = 0;  // peers never go to the origin themselves
  Reset();
  Register("p1");
  Stream p1 = Open("p1", 1, true);
  EXPECT_EQ(Count(p1.sink->Take(), K::kGoToOrigin), 0);
  RegisterSeed("seed");
  EXPECT_THAT(FetchDigests(tasks_["seed"]->Take()), ElementsAre(TestDigest(1)));
}

TEST_F(OriginProtectionTest, PendingFetchIsResentWhenTheSeedsTaskStreamReconnects) {
  RegisterSeed("seed");
  Register("p1");
  Open("p1", 1, true);
  EXPECT_EQ(FetchDigests(tasks_["seed"]->Take()).size(), 1u);

  auto again = std::make_shared<TaskRecorder>();
  ASSERT_TRUE(coordinator_->OpenTaskStream("seed", again).ok());
  EXPECT_TRUE(tasks_["seed"]->closed());  // replaced
  EXPECT_THAT(FetchDigests(again->Take()), ElementsAre(TestDigest(1)));

  SeedHolding("seed", 1);  // done: nothing pending any more
  auto third = std::make_shared<TaskRecorder>();
  ASSERT_TRUE(coordinator_->OpenTaskStream("seed", third).ok());
  EXPECT_THAT(third->Take(), IsEmpty());
}

TEST_F(OriginProtectionTest, SeedOnlyHoldingABlobIsNotAskedToFetchIt) {
  RegisterSeed("seed");
  Register("p1");
  SeedHolding("seed", 1);
  tasks_["seed"]->Take();
  Open("p1", 1, true);
  EXPECT_THAT(tasks_["seed"]->Take(), IsEmpty());
}

}  // namespace
}  // namespace shoal::testing
