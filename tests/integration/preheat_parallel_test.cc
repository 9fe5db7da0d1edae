// Issue 3 acceptance: a 5-layer image preheated onto 3 peers. All layers move
// at the same time (proved from the recorded start/finish times), every peer
// ends with every blob (read back through its mirror and hashed), the origin
// serves each blob once, and containerd then pulls through a peer without the
// origin serving a single blob byte.
#include <map>

#include "preheat_test_util.h"
#include "testkit/containerd_process.h"

namespace shoal::testkit {
namespace {

class PreheatParallelTest : public PreheatFixture {};

TEST_F(PreheatParallelTest, FiveLayersOntoThreePeersInParallelThenContainerdPullsFromCache) {
  Setup s;
  s.image.repository = "shoal/five";
  s.image.tag = "v1";
  s.image.seed = 303;
  s.image.layer_sizes = {UnalignedSize(5 * kMiB + 1111), UnalignedSize(3 * kMiB + 2222),
                         UnalignedSize(4 * kMiB + 3333), UnalignedSize(2 * kMiB + 4444),
                         UnalignedSize(6 * kMiB + 5555)};
  s.proxy = true;
  Prepare(s);
  if (HasFatalFailure()) return;
  // Each blob's first origin answer pauses 1.5 s midway: layers fetched one
  // after another would take 6 x 1.5 s and their intervals could not overlap.
  StallBlobsOnce(absl::Milliseconds(1500), 300 * 1024);

  JobApiResult created = Create({{"image", Ref()}, {"scope", "all-peers"}});
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string id = created.body["id"];
  EXPECT_FALSE(created.body["existing"].get<bool>());
  nlohmann::json job = WaitForJob(id);
  ASSERT_EQ(job["state"], "succeeded") << job.dump(2) << "\n" << cluster_->LogTails();

  // Every peer holds every blob; every copy of the job is "succeeded".
  const std::vector<BlobFile> blobs = image_.PlatformBlobs();
  ASSERT_EQ(job["blobs"].size(), blobs.size());
  for (const auto& b : job["blobs"]) {
    int peers_done = 0;
    for (const auto& h : b["hosts"]) {
      if (h["role"] == "peer") {
        EXPECT_EQ(h["state"], "succeeded") << b["digest"] << " on " << h["host_id"];
        EXPECT_EQ(h["bytes_done"], b["size"]);
        ++peers_done;
      }
    }
    EXPECT_EQ(peers_done, 3) << b["digest"];
  }
  EXPECT_EQ(job["done_bytes"], job["total_bytes"]);
  EXPECT_EQ(job["total_bytes"].get<uint64_t>(), 3 * image_.PlatformBlobBytes());

  // All layers progressed at the same time, on the seed and on every peer: the
  // latest start comes before the earliest finish.
  auto timings = TimingsByHost(job);
  ASSERT_EQ(timings.size(), 4u) << job["blob_timings"].dump(2);
  for (const auto& [host, per_blob] : timings) {
    SCOPED_TRACE(host);
    int64_t latest_start = 0, earliest_end = INT64_MAX;
    for (const BlobFile& layer : image_.platforms[0].layers) {
      auto it = per_blob.find(layer.digest);
      ASSERT_NE(it, per_blob.end()) << layer.digest;
      ASSERT_GT(it->second.start, 0);
      ASSERT_GE(it->second.end, it->second.start);
      latest_start = std::max(latest_start, it->second.start);
      earliest_end = std::min(earliest_end, it->second.end);
    }
    EXPECT_LT(latest_start, earliest_end) << "the layers did not all make progress at one time:\n"
                                          << job["blob_timings"].dump(2);
  }
  ExpectOriginServedEachBlobOnce();

  // The bytes are in each peer's cache: read back through its mirror and hashed.
  registry_->MarkAccessLog();
  for (int p = 0; p < 3; ++p) {
    for (const BlobFile& b : blobs) {
      EXPECT_EQ(FetchThroughMirror(p, b), b.digest) << "peer " << p;
    }
  }
  EXPECT_EQ(registry_->ReadAccessLog().TotalBlobBytesServed(), 0u)
      << registry_->ReadAccessLog().Summary();

  // A node's containerd pulls the image through peer 2: the origin serves no blob.
  auto ctrd = ContainerdProcess::Start(dir_->path() + "/containerd");
  ASSERT_TRUE(ctrd.ok()) << ctrd.status();
  auto hosts = (*ctrd)->WriteHostsToml(origin_, cluster_->mirror(2));
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  auto pull = (*ctrd)->Fetch(Ref(), *hosts, {}, absl::Minutes(2));
  ASSERT_TRUE(pull.ok()) << pull.status();
  ASSERT_EQ(pull->exit_code, 0) << pull->output << "\n" << cluster_->LogTails();
  auto content = (*ctrd)->ListContent();
  ASSERT_TRUE(content.ok()) << content.status();
  std::map<std::string, uint64_t> stored;
  for (const ContentEntry& e : *content) stored[e.digest] = e.size;
  for (const BlobFile& b : blobs) EXPECT_EQ(stored[b.digest], b.size) << b.digest;
  RegistryAccessLog after = registry_->ReadAccessLog();
  EXPECT_EQ(after.TotalBlobBytesServed(), 0u) << "the pull reached the origin for blobs\n"
                                              << after.Summary();
}

}  // namespace
}  // namespace shoal::testkit
