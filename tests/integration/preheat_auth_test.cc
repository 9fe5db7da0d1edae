// Issue 3 acceptance: a registry behind htpasswd Basic auth. With credentials
// the preheat works; without, the job fails fast saying "unauthorized"; the
// password appears in no log and does not stay in the job store.
#include <sys/stat.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "preheat_test_util.h"
#include "scheduler/job_store.h"

namespace shoal::testkit {
namespace {

constexpr char kUser[] = "deployer";
constexpr char kPassword[] = "Zq8-hunter2-7Xw";

class PreheatAuthTest : public PreheatFixture {};

TEST_F(PreheatAuthTest, CredentialsWorkAreRequiredAndNeverLeak) {
  Setup s;
  s.image.repository = "private/app";
  s.image.tag = "v5";
  s.image.seed = 707;
  s.image.layer_sizes = {UnalignedSize(3 * kMiB + 17), UnalignedSize(1 * kMiB + 19)};
  s.registry.username = kUser;
  s.registry.password = kPassword;
  s.peers = 2;
  Prepare(s);
  if (HasFatalFailure()) return;

  absl::Time start = absl::Now();
  JobApiResult anonymous = Create({{"image", Ref()}});
  ASSERT_EQ(anonymous.status, 201) << anonymous.raw;
  EXPECT_EQ(anonymous.body["state"], "failed");
  nlohmann::json failed = Get(anonymous.body["id"]);
  EXPECT_EQ(failed["state"], "failed");
  EXPECT_TRUE(
      absl::StrContains(absl::AsciiStrToLower(failed["error"].get<std::string>()), "unauthorized"))
      << failed["error"];
  EXPECT_TRUE(absl::StrContains(failed["error"].get<std::string>(), Ref())) << failed["error"];
  EXPECT_LT(absl::Now() - start, absl::Seconds(10)) << "failing must be fast";

  JobApiResult created = Create({{"image", Ref()}, {"username", kUser}, {"password", kPassword}});
  ASSERT_EQ(created.status, 201) << created.raw;
  EXPECT_FALSE(absl::StrContains(created.raw, kPassword));
  nlohmann::json job = WaitForJob(created.body["id"]);
  ASSERT_EQ(job["state"], "succeeded") << job.dump(2) << "\n" << cluster_->LogTails();
  EXPECT_FALSE(absl::StrContains(job.dump(), kPassword)) << "status must not return credentials";
  ExpectOriginServedEachBlobOnce();
  for (int p = 0; p < 2; ++p) {
    for (const BlobFile& b : image_.PlatformBlobs()) {
      EXPECT_EQ(FetchThroughMirror(p, b), b.digest) << "peer " << p;
    }
  }

  // No log of any daemon holds the password; the finished job's row no longer does.
  for (Daemon* d : cluster_->all()) {
    std::string log = ReadFileOrEmpty(d->log_path);
    EXPECT_FALSE(log.empty()) << d->name;
    EXPECT_FALSE(absl::StrContains(log, kPassword)) << d->name << "'s log holds the password";
  }
  std::string db = cluster_->scheduler().data_dir + "/" + JobStore::kFileName;
  struct stat st {};
  ASSERT_EQ(stat(db.c_str(), &st), 0) << db;
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(absl::StrContains(ReadFileOrEmpty(db), kPassword))
      << "the job store keeps the password of a finished job";
}

}  // namespace
}  // namespace shoal::testkit
