// Issue 4 acceptance, pipelining: with a slow (shaped) origin, a peer has the
// blob's first segment complete - and streams its bytes to its client - while the
// seed is still fetching later segments from the origin, so the time to move a
// blob tends to max(origin time, swarm time) rather than their sum.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "testkit/fault_proxy.h"
#include "tests/integration/big_blob_test_util.h"

namespace shoal::testkit {
namespace {

TEST(BigBlobPipelineTest, PeerCompletesFirstSegmentBeforeSeedHasTheLast) {
  const uint64_t kSegment = 64 * kMiB;                           // the default segment size
  const uint64_t size = UnalignedSize(5 * kSegment + 3 * kMiB);  // 6 segments, the last short
  const uint64_t segments = (size + kSegment - 1) / kSegment;
  auto origin = BigBlobOrigin::Create(size, 4242);
  ASSERT_TRUE(origin.ok()) << origin.status();
  const std::string digest = (*origin)->blob.digest;

  // The origin gives 24 MiB/s in all: ~14 s for the blob, while loopback
  // peer-to-peer moves a segment in well under a second.
  FaultProxy::Options po;
  po.upstream = (*origin)->registry->host_port();
  po.rate_total = 24 * kMiB;
  auto proxy = FaultProxy::Start(po);
  ASSERT_TRUE(proxy.ok()) << proxy.status();

  ClusterOptions co = BigBlobClusterOptions((*proxy)->address(), 1);
  auto cluster = ShoalCluster::Start(co);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ShoalCluster& c = **cluster;
  ASSERT_EQ(WaitForSeeds(c), absl::OkStatus());

  std::atomic<int64_t> client_first_segment_ms{-1};  // since start
  const absl::Time start = absl::Now();
  MirrorStream stream;
  std::thread client([&] {
    stream = StreamFromMirror(c.mirror(0), (*origin)->repository, digest, (*proxy)->address(),
                              absl::Minutes(5), [&](uint64_t total) {
                                if (total >= kSegment && client_first_segment_ms.load() < 0) {
                                  client_first_segment_ms =
                                      absl::ToInt64Milliseconds(absl::Now() - start);
                                }
                              });
  });

  // Watch both daemons: when does the peer hold its first segment, and when does
  // the seed have its last one from the origin?
  double seed_segments_when_peer_had_first = -1;
  double seed_origin_bytes_when_peer_had_first = -1;
  int64_t peer_first_ms = -1, seed_last_ms = -1;
  WaitUntil(
      [&] {
        double seed_segments = MetricOf(c.seed(0), "shoal_segments_ready_total");
        double seed_origin = MetricOf(c.seed(0), "shoal_bytes_from_origin_total");
        double peer_segments = MetricOf(c.peer(0), "shoal_segments_ready_total");
        int64_t now_ms = absl::ToInt64Milliseconds(absl::Now() - start);
        if (peer_first_ms < 0 && peer_segments >= 1) {
          peer_first_ms = now_ms;
          seed_segments_when_peer_had_first = seed_segments;
          seed_origin_bytes_when_peer_had_first = seed_origin;
        }
        if (seed_last_ms < 0 && seed_segments >= static_cast<double>(segments)) {
          seed_last_ms = now_ms;
        }
        return peer_first_ms >= 0 && seed_last_ms >= 0;
      },
      absl::Minutes(4), absl::Milliseconds(50));
  client.join();

  ASSERT_EQ(stream.status, 200) << stream.error << "\n" << c.LogTails();
  EXPECT_EQ(stream.bytes, size);
  EXPECT_EQ(stream.sha256, digest) << "the mirror streamed bytes that do not match the digest";
  ASSERT_GE(peer_first_ms, 0) << "the peer never completed a segment\n" << c.LogTails();
  ASSERT_GE(seed_last_ms, 0) << "the seed never completed the blob\n" << c.LogTails();
  std::printf(
      "pipelining (%s blob, %d segments, origin 24 MiB/s): peer's first segment complete at "
      "%.1f s (seed then had %.0f of %d segments, %s from the origin); client had the first "
      "segment at %.1f s; seed's last segment at %.1f s; client done at %.1f s\n",
      Bytes(size).c_str(), static_cast<int>(segments), peer_first_ms / 1e3,
      seed_segments_when_peer_had_first, static_cast<int>(segments),
      Bytes(static_cast<uint64_t>(std::max(0.0, seed_origin_bytes_when_peer_had_first))).c_str(),
      client_first_segment_ms.load() / 1e3, seed_last_ms / 1e3,
      absl::ToDoubleSeconds(stream.elapsed));
  EXPECT_LT(peer_first_ms, seed_last_ms);
  EXPECT_LT(seed_segments_when_peer_had_first, static_cast<double>(segments))
      << "the seed already had every segment when the peer finished its first";
  ASSERT_GE(client_first_segment_ms.load(), 0);
  EXPECT_LT(client_first_segment_ms.load(), seed_last_ms)
      << "the mirror's client got the first segment only after the seed had the whole blob";
}

}  // namespace
}  // namespace shoal::testkit
