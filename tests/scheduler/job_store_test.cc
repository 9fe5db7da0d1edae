// The job store: jobs survive a reopen exactly, credentials live only as long
// as the job can run and never linger in the file, and the file is private.
#include "scheduler/job_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "job_test_fakes.h"
#include "testkit/temp_dir.h"

namespace shoal::testing {
namespace {

using testkit::TempDir;

Job SampleJob() {
  Job j;
  j.id = "job-0001";
  j.spec.image = "reg:5000/team/app:v1";
  j.spec.reference = "reg:5000/team/app:v1";
  j.spec.registry = "reg:5000";
  j.spec.repository = "team/app";
  j.spec.platform = "linux/amd64";
  j.spec.scope = "all-peers";
  j.spec.target_hosts = {"peer-1", "peer-2"};
  j.spec.layer_concurrency = 4;
  j.spec.host_concurrency = 2;
  j.spec.idempotency_key = "key-1";
  j.spec.credentials = {"alice", "s3cret-pa55word"};
  j.resolved_digest = FakeDigest(100);
  j.state = JobState::kRunning;
  j.created_at = absl::FromUnixMillis(1700000000000);
  for (int i = 1; i <= 2; ++i) {
    JobBlob b{FakeDigest(i), uint64_t(1000) * i, "application/vnd.oci.image.layer.v1.tar+gzip", {}};
    JobTarget seed;
    seed.host_id = "seed-1";
    seed.role = TargetRole::kSeed;
    seed.goal = false;
    seed.state = JobState::kSucceeded;
    seed.requested_at = absl::FromUnixMillis(1700000000100);
    seed.finished_at = absl::FromUnixMillis(1700000000900);
    b.targets.push_back(seed);
    for (const char* p : {"peer-1", "peer-2"}) {
      JobTarget t;
      t.host_id = p;
      b.targets.push_back(t);
    }
    j.blobs.push_back(b);
  }
  return j;
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(JobStoreTest, JobsSurviveAReopen) {
  auto dir = TempDir::Create("jobstore");
  ASSERT_TRUE(dir.ok());
  Job job = SampleJob();
  {
    auto store = JobStore::Open(dir->path());
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Insert(job).ok());
    job.blobs[1].targets[2].state = JobState::kFailed;
    job.blobs[1].targets[2].error = "disk full";
    job.blobs[1].targets[2].bytes_done = 77;
    ASSERT_TRUE((*store)->Save(job, {{1, 2}}).ok());
  }
  auto store = JobStore::Open(dir->path());
  ASSERT_TRUE(store.ok()) << store.status();
  auto jobs = (*store)->LoadAll();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 1u);
  const Job& got = (*jobs)[0];
  EXPECT_EQ(got.id, job.id);
  EXPECT_EQ(got.spec.reference, job.spec.reference);
  EXPECT_EQ(got.spec.target_hosts, job.spec.target_hosts);
  EXPECT_EQ(got.spec.layer_concurrency, 4u);
  EXPECT_EQ(got.spec.idempotency_key, "key-1");
  EXPECT_EQ(got.spec.credentials.password, "s3cret-pa55word");  // needed to resume
  EXPECT_EQ(got.resolved_digest, job.resolved_digest);
  EXPECT_EQ(got.state, JobState::kRunning);
  EXPECT_EQ(got.created_at, job.created_at);
  ASSERT_EQ(got.blobs.size(), 2u);
  EXPECT_EQ(got.blobs[1].size, 2000u);
  ASSERT_EQ(got.blobs[1].targets.size(), 3u);
  EXPECT_EQ(got.blobs[1].targets[0].host_id, "seed-1");  // the seed first
  EXPECT_FALSE(got.blobs[1].targets[0].goal);
  EXPECT_EQ(got.blobs[1].targets[0].finished_at, absl::FromUnixMillis(1700000000900));
  EXPECT_EQ(got.blobs[1].targets[2].state, JobState::kFailed);
  EXPECT_EQ(got.blobs[1].targets[2].error, "disk full");
  EXPECT_EQ(got.blobs[1].targets[2].bytes_done, 77u);
  EXPECT_EQ(got.blobs[1].targets[1].requested_at, absl::InfinitePast());
}

TEST(JobStoreTest, CredentialsAreGoneFromTheFileOnceTheJobEnds) {
  auto dir = TempDir::Create("jobstore");
  ASSERT_TRUE(dir.ok());
  auto store = JobStore::Open(dir->path());
  ASSERT_TRUE(store.ok());
  struct stat st {};
  ASSERT_EQ(stat((*store)->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the job store holds credentials: owner only";

  Job job = SampleJob();
  ASSERT_TRUE((*store)->Insert(job).ok());
  job.state = JobState::kSucceeded;
  job.finished_at = job.created_at + absl::Seconds(5);
  ASSERT_TRUE((*store)->Save(job, {}).ok());
  auto jobs = (*store)->LoadAll();
  ASSERT_TRUE(jobs.ok());
  EXPECT_TRUE((*jobs)[0].spec.credentials.empty());
  std::string bytes = FileBytes((*store)->path());
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find("s3cret-pa55word"), std::string::npos)
      << "the password still lies in the database file";
}

TEST(JobStoreTest, OldJobsAreDroppedAndSeedsRemembered) {
  auto dir = TempDir::Create("jobstore");
  ASSERT_TRUE(dir.ok());
  auto store = JobStore::Open(dir->path());
  ASSERT_TRUE(store.ok());
  Job old = SampleJob();
  old.state = JobState::kSucceeded;
  old.finished_at = absl::FromUnixMillis(1700000001000);
  ASSERT_TRUE((*store)->Insert(old).ok());
  Job running = SampleJob();
  running.id = "job-0002";
  ASSERT_TRUE((*store)->Insert(running).ok());
  ASSERT_TRUE((*store)->DeleteFinishedBefore(absl::FromUnixMillis(1800000000000)).ok());
  auto jobs = (*store)->LoadAll();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].id, "job-0002");

  absl::Time t = absl::FromUnixMillis(1700000000000);
  ASSERT_TRUE((*store)->RememberHost("seed-2", TargetRole::kSeed, t).ok());
  ASSERT_TRUE((*store)->RememberHost("seed-1", TargetRole::kSeed, t + absl::Hours(2)).ok());
  ASSERT_TRUE((*store)->RememberHost("peer-1", TargetRole::kPeer, t + absl::Hours(2)).ok());
  auto seeds = (*store)->SeedsSeenSince(t + absl::Hours(1));
  ASSERT_TRUE(seeds.ok());
  EXPECT_EQ(*seeds, std::vector<std::string>{"seed-1"});
}

TEST(JobStoreTest, RefusesAStoreFromANewerVersion) {
  auto dir = TempDir::Create("jobstore");
  ASSERT_TRUE(dir.ok());
  {
    auto store = JobStore::Open(dir->path());
    ASSERT_TRUE(store.ok());
  }
  // Bump the schema version as a future shoal would.
  std::string path = dir->path() + "/" + JobStore::kFileName;
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(60);  // SQLite header: user_version, big-endian
  const char v[4] = {0, 0, 0, 9};
  f.write(v, 4);
  f.close();
  auto store = JobStore::Open(dir->path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), ::testing::HasSubstr("schema version 9"));
}

}  // namespace
}  // namespace shoal::testing
