// Issue 4 acceptance: a 2 GiB blob through an origin that shows every failure a
// registry or CDN shows under load - slow answers, stalls shorter and longer than
// the stall timeout, connection resets and truncated bodies mid-chunk, 429 and 503
// with Retry-After, 500 - arrives intact on the seed and on two peers, and the
// origin serves at most one copy plus the chunks that were cut off (a cut chunk
// resumes at its exact byte, so even those should cost next to nothing).
#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "testkit/fault_proxy.h"
#include "tests/integration/big_blob_test_util.h"

namespace shoal::testkit {
namespace {

using Action = FaultRule::Action;

FaultRule Rule(Action action, double probability, int times) {
  FaultRule r;
  r.path_regex = "/blobs/sha256:";
  r.action = action;
  r.probability = probability;
  r.times = times;
  return r;
}

TEST(BigBlobFaultsTest, Long2GiBThroughEveryFaultKindArrivesIntactOnSeedAndTwoPeers) {
  const uint64_t size = UnalignedSize(2 * kGiB);
  const uint64_t chunk = 8 * kMiB;  // the default chunk size
  auto origin = BigBlobOrigin::Create(size, 20260401);
  ASSERT_TRUE(origin.ok()) << origin.status();
  const std::string digest = (*origin)->blob.digest;
  const std::string path = absl::StrCat("/v2/", (*origin)->repository, "/blobs/", digest);

  auto proxy = FaultProxy::Start({(*origin)->registry->host_port(), /*seed=*/7});
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  FaultProxy& p = **proxy;
  // Spread over the first few hundred requests (the seed makes ~260 ranged GETs).
  const double kP = 0.03;
  FaultRule too_many = Rule(Action::kStatus, kP, 3);
  too_many.status = 429;
  too_many.retry_after = absl::Seconds(1);
  p.AddRule(too_many);
  FaultRule unavailable = Rule(Action::kStatus, kP, 2);
  unavailable.status = 503;
  unavailable.retry_after = absl::Seconds(1);
  p.AddRule(unavailable);
  FaultRule server_error = Rule(Action::kStatus, kP, 3);
  server_error.status = 500;
  p.AddRule(server_error);
  FaultRule slow = Rule(Action::kDelay, kP, 3);
  slow.delay = absl::Milliseconds(1500);
  p.AddRule(slow);
  FaultRule hiccup = Rule(Action::kStallMidBody, kP, 3);  // shorter than the stall timeout
  hiccup.after_bytes = 1 * kMiB;
  hiccup.delay = absl::Seconds(1);
  p.AddRule(hiccup);
  FaultRule stall = Rule(Action::kStallMidBody, kP, 2);  // longer: the client cuts it
  stall.after_bytes = 2 * kMiB + 12345;
  stall.delay = absl::Seconds(10);
  p.AddRule(stall);
  FaultRule reset = Rule(Action::kResetMidBody, kP, 3);
  reset.after_bytes = 3 * kMiB + 777;
  p.AddRule(reset);
  FaultRule truncate = Rule(Action::kTruncateBody, kP, 3);
  truncate.after_bytes = 5 * kMiB + 1;
  p.AddRule(truncate);

  const std::vector<std::string> timeouts = {"--stall-timeout", "4s", "--backoff-max", "2s"};
  ClusterOptions co = BigBlobClusterOptions(p.address(), 2, timeouts);
  auto cluster = ShoalCluster::Start(co);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ShoalCluster& c = **cluster;
  ASSERT_EQ(WaitForSeeds(c), absl::OkStatus());

  // Both peers' clients pull at once, as two nodes starting the same container.
  std::vector<MirrorStream> streams(2);
  std::vector<std::thread> clients;
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back([&, i] {
      streams[i] = StreamFromMirror(c.mirror(i), (*origin)->repository, digest, p.address(),
                                    absl::Minutes(8));
    });
  }
  for (auto& t : clients) t.join();

  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(c.peer(i).name);
    ASSERT_EQ(streams[i].status, 200) << streams[i].error << "\n" << c.LogTails();
    EXPECT_EQ(streams[i].bytes, size);
    EXPECT_EQ(streams[i].sha256, digest) << "the mirror served bytes that do not match";
    EXPECT_TRUE(ReadStoredBlob(c.peer(i).data_dir, digest, false).verified);
    EXPECT_EQ(MetricOf(c.peer(i), "shoal_bytes_from_origin_total"), 0)
        << "the peer went to the origin itself; the seed should have served it\n"
        << c.LogTails();
  }
  StoredBlob on_seed = ReadStoredBlob(c.seed(0).data_dir, digest, /*hash=*/true);
  EXPECT_TRUE(on_seed.verified);
  EXPECT_EQ(on_seed.sha256, digest) << "the seed's copy is not the blob";

  // Every kind of fault really happened...
  const uint64_t resets = p.faults_injected(Action::kResetMidBody);
  const uint64_t truncations = p.faults_injected(Action::kTruncateBody);
  const uint64_t stalls = p.faults_injected(Action::kStallMidBody);
  EXPECT_GE(p.faults_injected(Action::kStatus), 3u);
  EXPECT_GE(p.faults_injected(Action::kDelay), 1u);
  EXPECT_GE(stalls, 2u);
  EXPECT_GE(resets, 1u);
  EXPECT_GE(truncations, 1u);
  // ...and the origin served one copy plus at most the chunks that were cut off.
  // Upper bound on cut chunks: every mid-body fault (short stalls are not cuts).
  const uint64_t cut = resets + truncations + stalls;
  const uint64_t proxy_bytes = p.Counts(path).body_bytes;
  const uint64_t registry_bytes = (*origin)->registry->ReadAccessLog().Blob(digest).bytes_served;
  const double seed_retries = MetricOf(c.seed(0), "shoal_origin_retries_total");
  std::printf(
      "2 GiB through faults: %llu faults (%llu status, %llu delays, %llu stalls, %llu resets, "
      "%llu truncations), seed retried %.0f times; origin (proxy) sent %s = one copy + %llu "
      "bytes; registry sent %s = one copy + %llu bytes; bound: one copy + %llu cut chunks x "
      "%s = %s\n",
      static_cast<unsigned long long>(p.faults_injected()),
      static_cast<unsigned long long>(p.faults_injected(Action::kStatus)),
      static_cast<unsigned long long>(p.faults_injected(Action::kDelay)),
      static_cast<unsigned long long>(stalls), static_cast<unsigned long long>(resets),
      static_cast<unsigned long long>(truncations), seed_retries, Bytes(proxy_bytes).c_str(),
      static_cast<unsigned long long>(proxy_bytes - std::min(proxy_bytes, size)),
      Bytes(registry_bytes).c_str(),
      static_cast<unsigned long long>(registry_bytes - std::min(registry_bytes, size)),
      static_cast<unsigned long long>(cut), Bytes(chunk).c_str(),
      Bytes(size + cut * chunk).c_str());
  EXPECT_GE(proxy_bytes, size);
  EXPECT_LE(proxy_bytes, size + cut * chunk);
  EXPECT_LE(registry_bytes, size + cut * chunk) << (*origin)->registry->ReadAccessLog().Summary();
  EXPECT_GE(seed_retries,
            static_cast<double>(p.faults_injected() - p.faults_injected(Action::kDelay) -
                                p.faults_injected(Action::kStallMidBody)))
      << "every status fault, reset and truncation costs one retry";
}

}  // namespace
}  // namespace shoal::testkit
