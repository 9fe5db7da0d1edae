// Issue 3 acceptance: a two-platform index (linux/amd64 + linux/arm64). The
// default preheat moves only amd64's blobs; `shoalctl preheat --platform
// linux/arm64 --wait` then moves only arm64's, and exits 0 when it succeeded.
#include "absl/strings/match.h"
#include "preheat_test_util.h"

namespace shoal::testkit {
namespace {

class PreheatPlatformTest : public PreheatFixture {};

TEST_F(PreheatPlatformTest, OnlyTheChosenPlatformsBlobsMove) {
  Setup s;
  s.image.repository = "shoal/multi";
  s.image.tag = "v2";
  s.image.seed = 404;
  s.image.multi_platform = true;
  s.image.layer_sizes = {UnalignedSize(3 * kMiB + 99), UnalignedSize(1 * kMiB + 77)};
  s.peers = 2;
  Prepare(s);
  if (HasFatalFailure()) return;
  ASSERT_EQ(image_.platforms.size(), 2u);
  ASSERT_EQ(image_.platforms[1].architecture, "arm64");

  JobApiResult created = Create({{"image", Ref()}});
  ASSERT_EQ(created.status, 201) << created.raw;
  nlohmann::json job = WaitForJob(created.body["id"]);
  ASSERT_EQ(job["state"], "succeeded") << job.dump(2);
  EXPECT_EQ(job["platform"], "linux/amd64");
  EXPECT_EQ(job["resolved_digest"], image_.index->digest);
  EXPECT_EQ(job["blobs"].size(), image_.PlatformBlobs(0).size());

  RegistryAccessLog log = registry_->ReadAccessLog();
  for (const BlobFile& b : image_.PlatformBlobs(0)) {
    EXPECT_EQ(log.Blob(b.digest).bytes_served, b.size) << "amd64 " << b.digest;
  }
  for (const BlobFile& b : image_.PlatformBlobs(1)) {
    EXPECT_EQ(log.Blob(b.digest).get, 0) << "arm64 blob " << b.digest << " moved for amd64";
  }

  // The CLI, waiting, without a terminal: plain progress lines, then a summary.
  registry_->MarkAccessLog();
  auto ctl = Shoalctl({"preheat", Ref(), "--platform", "linux/arm64", "--wait"});
  ASSERT_TRUE(ctl.ok()) << ctl.status();
  EXPECT_EQ(ctl->exit_code, 0) << ctl->output << "\n" << cluster_->LogTails();
  EXPECT_TRUE(absl::StrContains(ctl->output, "succeeded in")) << ctl->output;
  EXPECT_FALSE(absl::StrContains(ctl->output, "\x1b[")) << "no cursor movement without a terminal";
  log = registry_->ReadAccessLog();
  for (const BlobFile& b : image_.PlatformBlobs(1)) {
    EXPECT_EQ(log.Blob(b.digest).bytes_served, b.size) << "arm64 " << b.digest;
  }
  for (const BlobFile& b : image_.PlatformBlobs(0)) {
    EXPECT_EQ(log.Blob(b.digest).get, 0) << "amd64 blob " << b.digest << " moved again";
  }
  for (int p = 0; p < 2; ++p) {
    for (const BlobFile& b : image_.PlatformBlobs(1)) {
      EXPECT_EQ(FetchThroughMirror(p, b), b.digest) << "peer " << p;
    }
  }

  // Scripts: JSON status, and `job` exits 0 for a job that succeeded.
  auto list = Shoalctl({"--output", "json", "jobs", "--state", "succeeded"});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->exit_code, 0) << list->output;
  auto jobs = nlohmann::json::parse(list->output, nullptr, false);
  ASSERT_TRUE(jobs.is_object()) << list->output;
  ASSERT_EQ(jobs["jobs"].size(), 2u);
  EXPECT_EQ(jobs["jobs"][0]["platform"], "linux/arm64");  // newest first
  auto one = Shoalctl({"job", jobs["jobs"][0]["id"]});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->exit_code, 0) << one->output;
  EXPECT_TRUE(absl::StrContains(one->output, "succeeded")) << one->output;
}

}  // namespace
}  // namespace shoal::testkit
