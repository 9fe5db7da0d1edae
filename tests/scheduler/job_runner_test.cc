// The job runner against a scripted swarm and a simulated clock: blobs start
// in parallel within the layer bound, the seed is asked before the peers and
// with the job's credentials, copies finish or fail from what hosts report,
// dead and vanished hosts fail their copies instead of hanging the job, a
// restart re-asks what was in flight, and cancel reaches every host.
#include "scheduler/job_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/logging.h"
#include "job_test_fakes.h"

namespace shoal::testing {
namespace {

using ::testing::HasSubstr;

class JobRunnerTest : public ::testing::Test {
 protected:
  JobRunnerTest() : swarm_(clock_) {
    (void)InitLogging("warn", "text");
    swarm_.AddHost("seed-1", v1::HOST_ROLE_SEED);
    for (const char* p : {"peer-1", "peer-2", "peer-3"}) swarm_.AddHost(p, v1::HOST_ROLE_PEER);
    options_.host_grace = absl::Seconds(20);
    options_.stall_timeout = absl::Minutes(5);
    options_.resend_after = absl::Seconds(30);
    options_.no_seed_timeout = absl::Seconds(60);
    options_.small_blob_bytes = 100;  // the 1000-byte blobs below take slots
  }

  Job MakeJob(int blobs, uint32_t layer_concurrency = 8, uint32_t host_concurrency = 64,
              bool seeds_only = false) {
    Job j;
    j.id = "job-1";
    j.spec.registry = "reg:5000";
    j.spec.repository = "team/app";
    j.spec.scope = seeds_only ? "seeds" : "all-peers";
    j.spec.seeds_only = seeds_only;
    if (!seeds_only) j.spec.target_hosts = {"peer-1", "peer-2", "peer-3"};
    j.spec.layer_concurrency = layer_concurrency;
    j.spec.host_concurrency = host_concurrency;
    j.spec.credentials = {"bob", "pw"};
    j.created_at = clock_.Now();
    for (int i = 1; i <= blobs; ++i) {
      JobBlob b{FakeDigest(i), 1000, "layer", {}};
      for (const auto& h : j.spec.target_hosts) {
        JobTarget t;
        t.host_id = h;
        b.targets.push_back(t);
      }
      j.blobs.push_back(b);
    }
    return j;
  }

  JobChanges Step(Job& job) {
    auto hosts = swarm_.Hosts();
    absl::flat_hash_map<std::string, v1::HostStatus> by_id;
    for (auto& h : hosts) by_id[h.host().id()] = h;
    JobChanges changes;
    runner_->Advance(job, progress_, by_id, changes);
    return changes;
  }

  void StartRunner() { runner_ = std::make_unique<JobRunner>(swarm_, clock_, options_); }

  void AllDone(const Job& job, const std::string& host) {
    for (const auto& b : job.blobs) swarm_.Report(b.digest, host, "done", b.size);
  }

  SimulatedClock clock_;
  FakeJobSwarm swarm_;
  JobRunnerOptions options_;
  std::unique_ptr<JobRunner> runner_;
  JobProgress progress_;
};

TEST_F(JobRunnerTest, AllBlobsStartAtOnceSeedFirstWithCredentials) {
  StartRunner();
  Job job = MakeJob(3);
  JobChanges c = Step(job);
  EXPECT_TRUE(c.job_row);
  EXPECT_EQ(job.state, JobState::kRunning);
  // 3 blobs x (seed + 3 peers), each blob's seed asked before its peers.
  ASSERT_EQ(swarm_.requests.size(), 12u);
  for (size_t i = 0; i < 12; i += 4) {
    EXPECT_EQ(swarm_.requests[i].first, "seed-1");
    EXPECT_EQ(swarm_.requests[i + 1].first, "peer-1");
  }
  const v1::FetchBlobTask& task = swarm_.requests[0].second;
  EXPECT_EQ(task.job_id(), "job-1");
  EXPECT_EQ(task.blob().registry(), "reg:5000");
  EXPECT_EQ(task.blob().repository(), "team/app");
  EXPECT_EQ(task.auth().username(), "bob");
  EXPECT_EQ(task.auth().password(), "pw");
  ASSERT_EQ(job.blobs[0].targets.size(), 4u);
  EXPECT_EQ(job.blobs[0].targets[0].role, TargetRole::kSeed);
  EXPECT_FALSE(job.blobs[0].targets[0].goal);  // a source, not a goal, for a peers job
  for (const auto& b : job.blobs) {
    for (const auto& t : b.targets) {
      EXPECT_EQ(t.state, JobState::kRunning);
      EXPECT_EQ(t.requested_at, clock_.Now());
    }
  }
  // Nothing new is asked on the next pass.
  Step(job);
  EXPECT_EQ(swarm_.requests.size(), 12u);
}

TEST_F(JobRunnerTest, LayerAndHostConcurrencyAreBounds) {
  StartRunner();
  Job job = MakeJob(3, /*layer_concurrency=*/2, /*host_concurrency=*/2);
  Step(job);
  EXPECT_EQ(swarm_.RequestsFor("seed-1", FakeDigest(3)), 0);
  EXPECT_EQ(swarm_.RequestsFor("peer-3", FakeDigest(1)), 0);  // 2 peers at a time
  EXPECT_EQ(swarm_.RequestsFor("peer-2", FakeDigest(1)), 1);
  swarm_.Report(FakeDigest(1), "peer-1", "done", 1000);
  clock_.Advance(absl::Seconds(1));
  Step(job);
  EXPECT_EQ(swarm_.RequestsFor("peer-3", FakeDigest(1)), 1);  // a slot freed
  EXPECT_EQ(swarm_.RequestsFor("seed-1", FakeDigest(3)), 0);  // blob 1 not settled yet
  for (const char* p : {"peer-2", "peer-3"}) swarm_.Report(FakeDigest(1), p, "done", 1000);
  clock_.Advance(absl::Seconds(1));
  Step(job);
  EXPECT_EQ(swarm_.RequestsFor("seed-1", FakeDigest(3)), 1);
}

// The image config (and any tiny layer) must not queue behind the big layers:
// it would keep the whole job waiting after every layer is done.
TEST_F(JobRunnerTest, SmallBlobsStartAtOnceWithoutTakingASlot) {
  StartRunner();
  Job job = MakeJob(3, /*layer_concurrency=*/1);
  job.blobs[2].size = 50;  // a config blob, sorted last (largest first)
  Step(job);
  EXPECT_EQ(swarm_.RequestsFor("seed-1", FakeDigest(1)), 1);
  EXPECT_EQ(swarm_.RequestsFor("seed-1", FakeDigest(2)), 0);  // the one slot is taken
  EXPECT_EQ(swarm_.RequestsFor("seed-1", FakeDigest(3)), 1);  // small: started anyway
  for (const char* h : {"seed-1", "peer-1", "peer-2", "peer-3"}) {
    swarm_.Report(FakeDigest(3), h, "done", 50);
  }
  clock_.Advance(absl::Seconds(1));
  Step(job);
  EXPECT_EQ(swarm_.RequestsFor("seed-1", FakeDigest(2)), 0);  // its settling freed no slot
}

TEST_F(JobRunnerTest, SucceedsWhenEveryPeerHasEveryBlob) {
  StartRunner();
  Job job = MakeJob(2);
  Step(job);
  swarm_.Report(FakeDigest(1), "peer-1", "downloading", 400);
  clock_.Advance(absl::Seconds(1));
  Step(job);
  EXPECT_EQ(job.blobs[0].FindTarget("peer-1")->bytes_done, 400u);
  EXPECT_EQ(job.blobs[0].FindTarget("peer-1")->started_at, clock_.Now());
  EXPECT_EQ(JobRunner::Totals(job), std::make_pair(uint64_t{6000}, uint64_t{400}));
  for (const char* p : {"peer-1", "peer-2", "peer-3"}) AllDone(job, p);
  clock_.Advance(absl::Seconds(1));
  JobChanges c = Step(job);
  EXPECT_EQ(job.state, JobState::kSucceeded);
  EXPECT_TRUE(c.job_row);
  EXPECT_EQ(job.finished_at, clock_.Now());
  EXPECT_EQ(JobRunner::Totals(job).second, 6000u);
  // The seed never reported: it is a source, the job does not wait for it.
  EXPECT_EQ(job.blobs[0].targets[0].state, JobState::kRunning);
}

TEST_F(JobRunnerTest, FailuresCarryTheHostsReason) {
  StartRunner();
  Job job = MakeJob(1);
  Step(job);
  clock_.Advance(absl::Seconds(1));
  swarm_.Report(FakeDigest(1), "peer-2", "failed", 0, "no space left on device");
  for (const char* p : {"peer-1", "peer-3"}) swarm_.Report(FakeDigest(1), p, "done", 1000);
  Step(job);
  EXPECT_EQ(job.state, JobState::kFailed);
  EXPECT_THAT(job.error, HasSubstr("1 of 3 blob copies failed"));
  EXPECT_THAT(job.error, HasSubstr("peer-2: no space left on device"));
  EXPECT_EQ(job.blobs[0].FindTarget("peer-2")->error, "no space left on device");
}

TEST_F(JobRunnerTest, AFailureFromBeforeTheRequestDoesNotCount) {
  swarm_.Report(FakeDigest(1), "peer-1", "failed", 0, "cancelled");  // an earlier job
  clock_.Advance(absl::Seconds(5));
  StartRunner();
  Job job = MakeJob(1);
  Step(job);
  EXPECT_EQ(job.blobs[0].FindTarget("peer-1")->state, JobState::kRunning);
  // An old "done" counts while the host still announces it (it holds the blob).
  swarm_.Report(FakeDigest(1), "peer-2", "done", 1000);
  Step(job);
  EXPECT_EQ(job.blobs[0].FindTarget("peer-2")->state, JobState::kSucceeded);
}

TEST_F(JobRunnerTest, AHostThatDiesFailsItsCopiesAndTheJobEnds) {
  StartRunner();
  Job job = MakeJob(2);
  Step(job);
  for (const char* p : {"peer-1", "peer-2"}) AllDone(job, p);
  swarm_.SetAlive("peer-3", false);
  clock_.Advance(absl::Seconds(1));
  Step(job);
  EXPECT_EQ(job.state, JobState::kFailed);
  EXPECT_THAT(job.blobs[0].FindTarget("peer-3")->error, HasSubstr("peer-3 stopped heartbeating"));
  EXPECT_THAT(job.error, HasSubstr("2 of 6"));
}

TEST_F(JobRunnerTest, AfterARestartHostsGetAGraceAndTasksAreSentAgain) {
  StartRunner();
  Job job = MakeJob(1);
  Step(job);
  swarm_.Report(FakeDigest(1), "peer-1", "downloading", 300);
  Step(job);

  // The scheduler restarts: memory is gone, the swarm knows nobody yet.
  swarm_.ForgetAllBlobs();
  swarm_.requests.clear();
  swarm_.RemoveHost("peer-2");
  progress_ = JobProgress();
  clock_.Advance(absl::Seconds(3));
  StartRunner();
  Step(job);
  EXPECT_EQ(swarm_.RequestsFor("peer-1", FakeDigest(1)), 1);  // asked again
  EXPECT_EQ(swarm_.RequestsFor("peer-2", FakeDigest(1)), 0);  // not back yet
  EXPECT_EQ(job.blobs[0].FindTarget("peer-2")->state, JobState::kRunning);
  clock_.Advance(absl::Seconds(10));
  swarm_.AddHost("peer-2", v1::HOST_ROLE_PEER);
  Step(job);
  EXPECT_EQ(swarm_.RequestsFor("peer-2", FakeDigest(1)), 1);
  // The requested_at of the first ask survives (it is the job's history).
  EXPECT_LT(job.blobs[0].FindTarget("peer-1")->requested_at, clock_.Now() - absl::Seconds(10));

  swarm_.RemoveHost("peer-3");
  clock_.Advance(absl::Seconds(21));
  Step(job);
  EXPECT_THAT(job.blobs[0].FindTarget("peer-3")->error, HasSubstr("not registered"));
}

TEST_F(JobRunnerTest, ALostTaskIsSentAgainAndAStalledCopyFails) {
  StartRunner();
  Job job = MakeJob(1);
  Step(job);
  EXPECT_EQ(swarm_.RequestsFor("peer-1", FakeDigest(1)), 1);
  clock_.Advance(absl::Seconds(31));  // the swarm never heard of peer-1 for this blob
  Step(job);
  Step(job);
  EXPECT_EQ(swarm_.RequestsFor("peer-1", FakeDigest(1)), 2);
  swarm_.Report(FakeDigest(1), "peer-1", "downloading", 10);
  Step(job);
  clock_.Advance(absl::Minutes(5));
  Step(job);
  EXPECT_EQ(job.blobs[0].FindTarget("peer-1")->state, JobState::kFailed);
  EXPECT_THAT(job.blobs[0].FindTarget("peer-1")->error, HasSubstr("no progress for 5m"));
}

TEST_F(JobRunnerTest, WaitsForSeedsAfterARestartThenUsesTheSwarmsChoice) {
  swarm_.choice_override = SeedChoice{SeedChoice::Kind::kWait, ""};
  StartRunner();
  Job job = MakeJob(1);
  Step(job);
  EXPECT_TRUE(swarm_.requests.empty()) << "nothing may start before the seeds are back";
  swarm_.choice_override = SeedChoice{SeedChoice::Kind::kNotNeeded, ""};
  Step(job);
  EXPECT_EQ(swarm_.requests.size(), 3u);  // peers only: the swarm already holds it
  EXPECT_EQ(job.blobs[0].targets.size(), 3u);
}

TEST_F(JobRunnerTest, SeedsOnlyJobsTargetTheSeedAndFailWithoutOne) {
  StartRunner();
  Job job = MakeJob(1, 8, 64, /*seeds_only=*/true);
  Step(job);
  ASSERT_EQ(job.blobs[0].targets.size(), 1u);
  EXPECT_TRUE(job.blobs[0].targets[0].goal);
  swarm_.Report(FakeDigest(1), "seed-1", "done", 1000);
  Step(job);
  EXPECT_EQ(job.state, JobState::kSucceeded);

  Job lonely = MakeJob(1, 8, 64, true);
  lonely.id = "job-2";
  swarm_.RemoveHost("seed-1");
  JobProgress p2;
  progress_ = p2;
  Step(lonely);
  EXPECT_EQ(lonely.state, JobState::kRunning);
  clock_.Advance(absl::Seconds(61));
  Step(lonely);
  EXPECT_EQ(lonely.state, JobState::kFailed);
  EXPECT_THAT(lonely.error, HasSubstr("no live seed"));
}

TEST_F(JobRunnerTest, CancelReachesPeersBeforeTheSeedAndSparesWhatOthersNeed) {
  StartRunner();
  Job job = MakeJob(2);
  Step(job);
  swarm_.Report(FakeDigest(1), "peer-1", "done", 1000);
  Step(job);
  JobChanges c;
  // Another job still needs blob 2 on peer-3 (and so its seed fetch).
  runner_->Cancel(
      job,
      [](const std::string& host, const std::string& digest, TargetRole role) {
        return digest == FakeDigest(2) && (host == "peer-3" || role == TargetRole::kSeed);
      },
      c);
  EXPECT_EQ(job.state, JobState::kCancelled);
  EXPECT_TRUE(c.job_row);
  std::vector<std::pair<std::string, std::string>> want = {{"peer-2", FakeDigest(1)},
                                                           {"peer-3", FakeDigest(1)},
                                                           {"peer-1", FakeDigest(2)},
                                                           {"peer-2", FakeDigest(2)},
                                                           {"seed-1", FakeDigest(1)}};
  EXPECT_EQ(swarm_.cancels, want);
  EXPECT_EQ(job.blobs[0].FindTarget("peer-1")->state, JobState::kSucceeded);
  EXPECT_EQ(job.blobs[1].FindTarget("peer-3")->state, JobState::kCancelled);
  // A cancelled job is left alone by later passes.
  size_t asked = swarm_.requests.size();
  Step(job);
  EXPECT_EQ(swarm_.requests.size(), asked);
}

}  // namespace
}  // namespace shoal::testing
