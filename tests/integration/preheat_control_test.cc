// Issue 3 acceptance: creating the same job twice gives one job (also when the
// requests race, and then one upstream manifest request serves them all);
// cancelling mid-job stops the transfers on every host and marks it cancelled.
#include <csignal>
#include <thread>

#include "absl/strings/match.h"
#include "preheat_test_util.h"

namespace shoal::testkit {
namespace {

class PreheatControlTest : public PreheatFixture {
 protected:
  void SetUp() override {
    Setup s;
    s.image.repository = "shoal/ctl";
    s.image.tag = "v3";
    s.image.seed = 505;
    s.image.layer_sizes = {UnalignedSize(6 * kMiB + 1), UnalignedSize(5 * kMiB + 3),
                           UnalignedSize(2 * kMiB + 5)};
    s.proxy = true;
    s.peers = 2;
    Prepare(s);
  }
};

TEST_F(PreheatControlTest, TheSameCreateTwiceIsOneJob) {
  // Racing creates: one job, and the registry is asked for the tag once.
  constexpr int kCallers = 6;
  std::vector<JobApiResult> results(kCallers);
  std::vector<std::thread> threads;
  nlohmann::json body{{"image", Ref()}, {"scope", "all-peers"}, {"idempotency_key", "rollout-7"}};
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] { results[i] = Create(body); });
  }
  for (auto& t : threads) t.join();
  std::string id;
  int fresh = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.raw;
    if (id.empty()) id = r.body["id"];
    EXPECT_EQ(r.body["id"], id);
    fresh += r.body["existing"].get<bool>() ? 0 : 1;
    EXPECT_EQ(r.status, r.body["existing"].get<bool>() ? 200 : 201);
  }
  EXPECT_EQ(fresh, 1);
  RegistryAccessLog log = registry_->ReadAccessLog();
  EXPECT_EQ(log.manifests[image_.spec.tag].get + log.manifests[image_.spec.tag].head, 1)
      << "N creates for one tag should cost one upstream request\n"
      << log.Summary();

  JobApiResult again = Create(body);
  EXPECT_EQ(again.status, 200) << again.raw;
  EXPECT_EQ(again.body["id"], id);
  EXPECT_TRUE(again.body["existing"].get<bool>());
  auto list = Call("GET", "/api/v1/jobs").body;
  EXPECT_EQ(list["jobs"].size(), 1u) << list.dump(2);
  EXPECT_EQ(WaitForJob(id)["state"], "succeeded");
}

TEST_F(PreheatControlTest, CancelMidJobStopsEveryHost) {
  // A slow origin (256 KiB/s per connection): the seed finishes its first
  // segments after a few seconds and the peers start pulling them from it,
  // while the rest is still on its way.
  proxy_->SetRateLimits(256 * 1024, 0);
  JobApiResult created = Create({{"image", Ref()}});
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string id = created.body["id"];

  // Wait until peers hold some bytes (they move peer to peer from now on).
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  nlohmann::json job;
  while (absl::Now() < deadline) {
    job = Get(id);
    const uint64_t peer_bytes = BytesDoneOn(job, "peer");
    std::string state = job["state"];
    if (peer_bytes > 0 || (state != "running" && state != "pending")) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(job["state"], "running") << job.dump(2);

  JobApiResult cancelled = Call("POST", "/api/v1/jobs/" + id + "/cancel");
  ASSERT_EQ(cancelled.status, 200) << cancelled.raw;
  EXPECT_EQ(cancelled.body["state"], "cancelled");
  int cancelled_copies = 0;
  for (const auto& b : cancelled.body["blobs"]) {
    for (const auto& h : b["hosts"]) {
      // A copy that arrived before the cancel stays; every other one is cancelled.
      EXPECT_TRUE(h["state"] == "cancelled" || h["state"] == "succeeded")
          << b["digest"] << " on " << h["host_id"] << ": " << h["state"];
      cancelled_copies += h["role"] == "peer" && h["state"] == "cancelled";
    }
  }
  EXPECT_GT(cancelled_copies, 0) << cancelled.body.dump(2);
  // Give the hosts a moment to act on the cancel, then nothing may move.
  absl::SleepFor(absl::Seconds(2));
  uint64_t disk_before = DataDirBytes();
  uint64_t origin_before = registry_->ReadAccessLog().TotalBlobBytesServed();
  auto proxied_before = proxy_->AllCounts();
  proxy_->SetRateLimits(0, 0);  // a request still open would now finish at once
  absl::SleepFor(absl::Seconds(4));
  EXPECT_EQ(DataDirBytes(), disk_before) << "bytes still land on some host after cancel\n"
                                         << cluster_->LogTails();
  EXPECT_EQ(registry_->ReadAccessLog().TotalBlobBytesServed(), origin_before);
  uint64_t proxied_after = 0, proxied_then = 0;
  for (const auto& [path, c] : proxy_->AllCounts()) proxied_after += c.body_bytes;
  for (const auto& [path, c] : proxied_before) proxied_then += c.body_bytes;
  EXPECT_EQ(proxied_after, proxied_then) << "the origin still sends bytes after cancel";
  EXPECT_EQ(Get(id)["state"], "cancelled");

  // Cancelling again is harmless; cancelling an unknown job is a 404.
  EXPECT_EQ(Call("POST", "/api/v1/jobs/" + id + "/cancel").status, 200);
  JobApiResult unknown = Call("POST", "/api/v1/jobs/job-doesnotexist/cancel");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body["error"]["code"], "job_not_found");
}

TEST_F(PreheatControlTest, APeerThatDiesMidJobFailsItsCopiesAndTheJobEnds) {
  proxy_->SetRateLimits(256 * 1024, 0);
  JobApiResult created = Create({{"image", Ref()}});
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string id = created.body["id"];
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline && Get(id)["state"] == "pending") {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(cluster_->Kill(cluster_->peer(1), SIGKILL).ok());  // peer-2
  proxy_->SetRateLimits(0, 0);

  nlohmann::json job = WaitForJob(id, absl::Seconds(60));
  ASSERT_EQ(job["state"], "failed") << job.dump(2);
  EXPECT_TRUE(absl::StrContains(job["error"].get<std::string>(), "peer-2")) << job["error"];
  for (const auto& b : job["blobs"]) {
    for (const auto& h : b["hosts"]) {
      if (h["host_id"] == "peer-2" && h["state"] != "succeeded") {
        EXPECT_EQ(h["state"], "failed") << b["digest"];
        EXPECT_TRUE(absl::StrContains(h["error"].get<std::string>(), "stopped heartbeating"))
            << h["error"];
      }
      if (h["host_id"] == "peer-1") {
        EXPECT_EQ(h["state"], "succeeded") << b["digest"];
      }
    }
  }
}

}  // namespace
}  // namespace shoal::testkit
