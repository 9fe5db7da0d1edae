// What the job runner relies on in the SwarmCoordinator: a seed asked for a
// blob becomes its fetcher and carries the job's credentials to any later
// fetch; cancel withdraws the job's hosts without letting their stop look like
// an upstream failure and without stopping a fetch others still need; after a
// restart no origin source is chosen until the seeds known before are back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "swarm_test_util.h"

namespace shoal::testing {
namespace {

class JobSwarmHooksTest : public SwarmTest {
 protected:
  static v1::FetchBlobTask Fetch(int blob, const std::string& user = "",
                                 const std::string& pw = "") {
    v1::FetchBlobTask t;
    t.mutable_blob()->set_digest(TestDigest(blob));
    t.mutable_blob()->set_registry("registry.local:5000");
    t.mutable_blob()->set_repository("library/app");
    t.mutable_auth()->set_username(user);
    t.mutable_auth()->set_password(pw);
    t.set_job_id("job-1");
    return t;
  }
};

TEST_F(JobSwarmHooksTest, ASeedAskedByAJobFetchesWithItsCredentials) {
  RegisterSeed("seed-a");
  RegisterSeed("seed-b");
  Register("p1");
  SeedChoice choice = coordinator_->ChooseSeed(TestDigest(1), /*for_peers=*/true);
  ASSERT_EQ(choice.kind, SeedChoice::Kind::kSeed);
  const std::string other = choice.seed == "seed-a" ? "seed-b" : "seed-a";
  // The job asks the other seed: it becomes the fetcher, and the peer's want
  // does not make the swarm ask a second seed.
  ASSERT_TRUE(coordinator_->RequestFetch(other, Fetch(1, "bob", "pw")).ok());
  ASSERT_TRUE(coordinator_->RequestFetch("p1", Fetch(1, "bob", "pw")).ok());
  Stream p1 = Open("p1", 1, /*want=*/true);
  EXPECT_EQ(FetchDigests(tasks_[choice.seed]->Take()).size(), 0u);
  auto got = tasks_[other]->Take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].fetch().auth().password(), "pw");
  EXPECT_EQ(coordinator_->GetBlob(TestDigest(1))->fetcher, other);
  EXPECT_EQ(coordinator_->ChooseSeed(TestDigest(1), true).seed, other);

  // The seed dies: the swarm's failover fetch carries the job's credentials.
  Pass(policy_.liveness_timeout() + absl::Seconds(1), {other});
  coordinator_->Tick();
  auto failover = tasks_[choice.seed]->Take();
  ASSERT_EQ(FetchDigests(failover), std::vector<std::string>{TestDigest(1)});
  EXPECT_EQ(failover[0].fetch().auth().username(), "bob");
}

TEST_F(JobSwarmHooksTest, NothingIsSentToAHostThatHoldsTheBlob) {
  RegisterSeed("seed");
  Stream seed = SeedHolding("seed", 1);
  tasks_["seed"]->Take();
  ASSERT_TRUE(coordinator_->RequestFetch("seed", Fetch(1)).ok());
  EXPECT_TRUE(tasks_["seed"]->Take().empty());
  EXPECT_EQ(coordinator_->ChooseSeed(TestDigest(1), false).seed, "seed");
}

TEST_F(JobSwarmHooksTest, CancelStopsPeersAndTheSeedButNotWhatOthersWant) {
  RegisterSeed("seed");
  Register("p1");
  Register("p2");
  auto p1_tasks = std::make_shared<TaskRecorder>();
  ASSERT_TRUE(coordinator_->OpenTaskStream("p1", p1_tasks).ok());
  ASSERT_TRUE(coordinator_->RequestFetch("seed", Fetch(1)).ok());
  Stream seed = Open("seed", 1, false);
  Say(seed, LayoutMsg());
  Stream p1 = Open("p1", 1, true);
  Stream p2 = Open("p2", 1, true);  // a pull through p2's mirror, not the job
  p1.sink->Take();

  coordinator_->CancelFetch("p1", TestDigest(1), "job-1");
  auto told = p1.sink->Take();
  EXPECT_EQ(Count(told, v1::AnnounceResponse::kCancel), 1);
  EXPECT_EQ(p1_tasks->Take().back().cancel().digest(), TestDigest(1));
  tasks_["seed"]->Take();
  coordinator_->CancelFetch("seed", TestDigest(1), "job-1");
  EXPECT_TRUE(tasks_["seed"]->Take().empty()) << "p2 still wants the blob: the seed goes on";

  // Without other wanters the seed is stopped, and its "failed: cancelled" is
  // not an upstream failure that would send anyone to the origin.
  coordinator_->CloseAnnounce(p2.id);
  coordinator_->CancelFetch("seed", TestDigest(1), "job-1");
  auto stop = tasks_["seed"]->Take();
  ASSERT_EQ(stop.size(), 1u);
  EXPECT_TRUE(stop[0].has_cancel());
  Say(seed, FailedMsg("cancelled"));
  EXPECT_TRUE(coordinator_->GetBlob(TestDigest(1))->upstream_failure.empty());
  EXPECT_TRUE(tasks_["seed"]->Take().empty()) << "nobody wants it: no new fetch";
  // A later wanter gets a fresh fetch, not a stale failure.
  Register("p3");
  Stream p3 = Open("p3", 1, true);
  EXPECT_EQ(Count(p3.sink->Take(), v1::AnnounceResponse::kUpstreamFailed), 0);
  EXPECT_EQ(FetchDigests(tasks_["seed"]->Take()), std::vector<std::string>{TestDigest(1)});
}

TEST_F(JobSwarmHooksTest, AfterARestartSourcesWaitForTheSeedsKnownBefore) {
  Register("p1");
  coordinator_->ExpectSeeds({"seed"}, clock_.Now() + absl::Seconds(6));
  Stream p1 = Open("p1", 1, true);
  EXPECT_EQ(Count(p1.sink->Take(), v1::AnnounceResponse::kGoToOrigin), 0)
      << "the seed that was fetching may be back any moment";
  EXPECT_EQ(coordinator_->ChooseSeed(TestDigest(1), true).kind, SeedChoice::Kind::kWait);
  RegisterSeed("seed");  // back: it takes the blob
  EXPECT_EQ(FetchDigests(tasks_["seed"]->Take()), std::vector<std::string>{TestDigest(1)});
  EXPECT_EQ(coordinator_->ChooseSeed(TestDigest(2), true).kind, SeedChoice::Kind::kSeed);
}

TEST_F(JobSwarmHooksTest, ASeedThatNeverComesBackOnlyDelaysTheOriginFallback) {
  Register("p1");
  coordinator_->ExpectSeeds({"seed"}, clock_.Now() + absl::Seconds(6));
  Stream p1 = Open("p1", 1, true);
  Pass(absl::Seconds(5));
  coordinator_->Tick();
  EXPECT_EQ(Count(p1.sink->Take(), v1::AnnounceResponse::kGoToOrigin), 0);
  Pass(absl::Seconds(2));
  coordinator_->Tick();
  EXPECT_EQ(Count(p1.sink->Take(), v1::AnnounceResponse::kGoToOrigin), 1);
  EXPECT_EQ(coordinator_->ChooseSeed(TestDigest(2), true).kind, SeedChoice::Kind::kNone);
}

}  // namespace
}  // namespace shoal::testing
