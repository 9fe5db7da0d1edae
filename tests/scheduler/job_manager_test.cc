// The job service end to end in-process: create (validation, resolution,
// idempotency), status, list, cancel, and resuming from the store after a
// restart. Registry and swarm are fakes; the store is a real SQLite file.
#include "scheduler/job_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/logging.h"
#include "job_test_fakes.h"
#include "scheduler/api_error.h"
#include "testkit/temp_dir.h"

namespace shoal::testing {
namespace {

using ::testing::HasSubstr;

class JobManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)InitLogging("warn", "text");
    auto dir = testkit::TempDir::Create("jobmgr");
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<testkit::TempDir>(std::move(*dir));
    swarm_.AddHost("seed-1", v1::HOST_ROLE_SEED);
    swarm_.AddHost("peer-1", v1::HOST_ROLE_PEER, {{"zone", "a"}});
    swarm_.AddHost("peer-2", v1::HOST_ROLE_PEER, {{"zone", "b"}});
    image_ = registry_.Add(
        "team/app", "v1",
        ImageManifestJson(FakeDigest(1), 10, {{FakeDigest(2), 5000}, {FakeDigest(3), 9000}}),
        kOciManifestType);
    std::string amd =
        registry_.Add("team/multi", "", ImageManifestJson(FakeDigest(4), 10, {}), kOciManifestType);
    registry_.Add("team/multi", "v1", IndexJson({{amd, 100, "linux", "amd64", ""}}), kOciIndexType);
    Open();
  }

  void Open() {
    manager_.reset();
    store_.reset();
    auto store = JobStore::Open(dir_->path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    JobManagerOptions o;
    auto m = JobManager::Create(*store_, resolver_, swarm_, clock_, o);
    ASSERT_TRUE(m.ok()) << m.status();
    manager_ = std::move(*m);
  }

  static v1::CreateJobRequest Request(const std::string& image = "reg:5000/team/app:v1") {
    v1::CreateJobRequest r;
    r.set_image(image);
    return r;
  }

  SimulatedClock clock_;
  FakeJobSwarm swarm_{clock_};
  FakeRegistry registry_;
  ManifestLookupCache cache_{clock_, {}};
  ImageResolver resolver_{[this](const RegistryCredentials& c) {
                            return std::make_unique<FakeRegistryClient>(registry_, c);
                          },
                          cache_};
  std::unique_ptr<testkit::TempDir> dir_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<JobManager> manager_;
  std::string image_;
};

TEST_F(JobManagerTest, CreatesAJobWithLargestBlobsFirst) {
  auto created = manager_->CreateJob(Request());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(created->existing);
  EXPECT_EQ(created->state, JobState::kPending);
  auto s = manager_->GetJob(created->id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->resolved_digest(), image_);
  EXPECT_EQ(s->reference(), "reg:5000/team/app:v1");
  EXPECT_EQ(s->platform(), "linux/amd64");
  EXPECT_EQ(s->scope(), "all-peers");
  ASSERT_EQ(s->blobs_size(), 3);
  EXPECT_EQ(s->blobs(0).digest(), FakeDigest(3));
  EXPECT_EQ(s->blobs(2).digest(), FakeDigest(1));
  EXPECT_EQ(s->total_bytes(), 2u * (9000 + 5000 + 10));
  EXPECT_EQ(s->eta_seconds(), -1);
  manager_->Tick();
  EXPECT_EQ(manager_->GetJob(created->id)->state(), v1::JOB_STATE_RUNNING);
}

TEST_F(JobManagerTest, TheSameRequestTwiceIsOneJob) {
  auto a = manager_->CreateJob(Request());
  auto b = manager_->CreateJob(Request("reg:5000/team/app@" + image_));  // same digest
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->id, b->id);
  EXPECT_TRUE(b->existing);
  auto other_scope = Request();
  other_scope.set_scope("zone=a");
  auto c = manager_->CreateJob(other_scope);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->id, a->id);
  EXPECT_EQ(manager_->ListJobs(std::nullopt).size(), 2u);

  // Without a key a finished job is not "the same request"; with one it is.
  auto keyed = Request();
  keyed.set_idempotency_key("deploy-42");
  auto k1 = manager_->CreateJob(keyed);
  ASSERT_TRUE(k1.ok());
  EXPECT_NE(k1->id, a->id);
  ASSERT_TRUE(manager_->CancelJob(k1->id).ok());
  ASSERT_TRUE(manager_->CancelJob(a->id).ok());
  auto k2 = manager_->CreateJob(keyed);
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(k2->id, k1->id);
  EXPECT_EQ(k2->state, JobState::kCancelled);
  auto fresh = manager_->CreateJob(Request());
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(fresh->id, a->id);
}

TEST_F(JobManagerTest, BadInputIsAnApiErrorAndMakesNoJob) {
  struct Case {
    std::function<void(v1::CreateJobRequest&)> edit;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {[](auto& r) { r.set_image("UPPER/case:v1"); }, "invalid_reference"},
      {[](auto& r) { r.set_platform("linux"); }, "invalid_platform"},
      {[](auto& r) {
         r.set_image("reg:5000/team/multi:v1");
         r.set_platform("linux/s390x");
       },
       "unknown_platform"},
      {[](auto& r) { r.set_scope("everyone"); }, "invalid_scope"},
      {[](auto& r) { r.set_scope("hosts:peer-1,peer-9"); }, "unknown_host"},
      {[](auto& r) { r.set_layer_concurrency(5000); }, "invalid_concurrency"},
  };
  for (const Case& c : cases) {
    auto r = Request();
    c.edit(r);
    SCOPED_TRACE(r.ShortDebugString());
    auto created = manager_->CreateJob(r);
    ASSERT_FALSE(created.ok());
    EXPECT_EQ(ApiErrorReason(created.status()), c.reason);
    EXPECT_EQ(HttpStatusFor(created.status()) / 100, 4);
  }
  EXPECT_TRUE(manager_->ListJobs(std::nullopt).empty());
}

TEST_F(JobManagerTest, ARegistryRefusalIsAFailedJobWithTheReason) {
  auto created = manager_->CreateJob(Request("reg:5000/team/app:nope"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->state, JobState::kFailed);
  EXPECT_THAT(created->error, HasSubstr("404"));
  auto s = manager_->GetJob(created->id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(s->error(), HasSubstr("manifest unknown"));
  EXPECT_NE(s->finished_unix_ms(), 0);
  EXPECT_EQ(manager_->ListJobs(JobState::kFailed).size(), 1u);
  EXPECT_TRUE(manager_->ListJobs(JobState::kRunning).empty());
}

TEST_F(JobManagerTest, JobsResumeAfterARestartAndFinish) {
  auto created = manager_->CreateJob(Request());
  ASSERT_TRUE(created.ok());
  manager_->Tick();
  swarm_.Report(FakeDigest(3), "peer-1", "done", 9000);
  clock_.Advance(absl::Seconds(1));
  manager_->Tick();

  // Restart: the manager, the swarm's memory and its pending tasks are gone.
  swarm_.ForgetAllBlobs();
  swarm_.requests.clear();
  Open();
  auto s = manager_->GetJob(created->id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(s->blobs(0).hosts(1).state(), "succeeded");  // [0] is the seed
  manager_->Tick();
  EXPECT_EQ(swarm_.RequestsFor("peer-1", FakeDigest(3)), 0) << "finished copies are not redone";
  EXPECT_EQ(swarm_.RequestsFor("peer-2", FakeDigest(3)), 1);
  EXPECT_EQ(swarm_.RequestsFor("peer-1", FakeDigest(2)), 1);
  for (const char* p : {"peer-1", "peer-2"}) {
    for (int i : {1, 2, 3}) swarm_.Report(FakeDigest(i), p, "done", 9000);
  }
  clock_.Advance(absl::Seconds(1));
  manager_->Tick();
  s = manager_->GetJob(created->id);
  EXPECT_EQ(s->state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(s->eta_seconds(), 0);
  EXPECT_EQ(s->done_bytes(), s->total_bytes());
}

TEST_F(JobManagerTest, CancelAndItsLimits) {
  auto created = manager_->CreateJob(Request());
  ASSERT_TRUE(created.ok());
  manager_->Tick();
  auto c = manager_->CancelJob(created->id);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->state(), v1::JOB_STATE_CANCELLED);
  EXPECT_FALSE(swarm_.cancels.empty());
  EXPECT_TRUE(manager_->CancelJob(created->id).ok());  // again: still cancelled, no error
  auto missing = manager_->CancelJob("job-nope");
  EXPECT_EQ(ApiErrorReason(missing.status()), "job_not_found");
  EXPECT_EQ(HttpStatusFor(missing.status()), 404);

  auto failed = manager_->CreateJob(Request("reg:5000/team/app:nope"));
  ASSERT_TRUE(failed.ok());
  auto late = manager_->CancelJob(failed->id);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(ApiErrorReason(late.status()), "job_finished");
  EXPECT_EQ(HttpStatusFor(late.status()), 409);
}

}  // namespace
}  // namespace shoal::testing
