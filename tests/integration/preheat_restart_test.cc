// Issue 3 acceptance: the scheduler is killed with SIGKILL in the middle of a
// preheat and started again. The job resumes from its store and from what the
// seeds and peers re-announce, succeeds, and the origin still served every blob
// exactly once.
#include <csignal>

#include "absl/strings/match.h"
#include "preheat_test_util.h"

namespace shoal::testkit {
namespace {

class PreheatRestartTest : public PreheatFixture {};

TEST_F(PreheatRestartTest, SchedulerKilledMidJobResumesAndOriginServesOnce) {
  Setup s;
  s.image.repository = "shoal/restart";
  s.image.tag = "v4";
  s.image.seed = 606;
  s.image.layer_sizes = {UnalignedSize(9 * kMiB + 7), UnalignedSize(5 * kMiB + 11),
                         UnalignedSize(3 * kMiB + 13)};
  s.proxy = true;
  Prepare(s);
  if (HasFatalFailure()) return;
  // A slow origin (512 KiB/s per connection, 4 connections per blob): the 9 MiB
  // layer takes the seed about 4.5 s, so the kill below (once the first
  // segments are out) lands while the seed is mid-fetch and peers mid-download.
  proxy_->SetRateLimits(512 * 1024, 0);

  JobApiResult created = Create({{"image", Ref()}, {"scope", "all-peers"}});
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string id = created.body["id"];
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  nlohmann::json job;
  while (absl::Now() < deadline) {
    job = Get(id);
    const uint64_t seed_bytes = BytesDoneOn(job, "seed");
    if (seed_bytes > 0) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ(job["state"], "running") << job.dump(2);
  uint64_t origin_at_kill = registry_->ReadAccessLog().TotalBlobBytesServed();
  EXPECT_LT(origin_at_kill, image_.PlatformBlobBytes()) << "the seed was not mid-fetch";

  ASSERT_TRUE(cluster_->Kill(cluster_->scheduler(), SIGKILL).ok());
  absl::SleepFor(absl::Milliseconds(500));
  ASSERT_TRUE(cluster_->Restart(cluster_->scheduler()).ok()) << cluster_->LogTails();

  nlohmann::json after = Get(id);
  ASSERT_EQ(after["id"], id) << "the restarted scheduler does not know the job:\n" << after.dump(2);
  job = WaitForJob(id, absl::Seconds(120));
  ASSERT_EQ(job["state"], "succeeded") << job.dump(2) << "\n" << cluster_->LogTails(60);
  ExpectOriginServedEachBlobOnce();
  RegistryAccessLog log = registry_->ReadAccessLog();
  EXPECT_EQ(log.TotalBlobBytesServed(), image_.PlatformBlobBytes()) << log.Summary();
  for (int p = 0; p < 3; ++p) {
    for (const BlobFile& b : image_.PlatformBlobs()) {
      EXPECT_EQ(FetchThroughMirror(p, b), b.digest) << "peer " << p;
    }
  }
  std::string sched_log = ReadFileOrEmpty(cluster_->scheduler().log_path);
  EXPECT_TRUE(absl::StrContains(sched_log, "1 to resume")) << TailLines(sched_log, 40);
}

}  // namespace
}  // namespace shoal::testkit
