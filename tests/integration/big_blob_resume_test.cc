// Issue 4 acceptance, resume after kill -9:
//  - a seed killed at ~50 % of a 2 GiB blob continues from its chunk journal: the
//    origin sends again at most the chunks that were in flight (origin_concurrency x
//    chunk_size), and not one journaled byte;
//  - a peer killed mid-download continues from its resume data and what is on disk:
//    it receives again from peers only what it did not hold complete at the kill.
// Either way the client of the peer's mirror gets exactly the blob's bytes.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/chunk_journal.h"
#include "testkit/fault_proxy.h"
#include "tests/integration/big_blob_test_util.h"

namespace shoal::testkit {
namespace {

constexpr uint64_t kChunk = 8 * kMiB;  // defaults of TransferConfig
constexpr uint64_t kConcurrency = 4;
constexpr uint64_t kSegment = 64 * kMiB;
constexpr uint64_t kPiece = 4 * kMiB;

std::string JournalPath(const Daemon& d, const std::string& digest) {
  return absl::StrCat(d.data_dir, "/blobs/sha256/", digest.substr(7), "/", ChunkJournal::kFileName);
}

TEST(BigBlobResumeTest, LongSeedKilledAtHalfResumesFromItsJournal) {
  const uint64_t size = UnalignedSize(2 * kGiB);
  auto origin = BigBlobOrigin::Create(size, 777);
  ASSERT_TRUE(origin.ok()) << origin.status();
  const std::string digest = (*origin)->blob.digest;
  // Shaped so the kill lands near the middle whatever else the machine is doing.
  FaultProxy::Options po;
  po.upstream = (*origin)->registry->host_port();
  po.rate_total = 96 * kMiB;
  auto proxy = FaultProxy::Start(po);
  ASSERT_TRUE(proxy.ok()) << proxy.status();

  ClusterOptions co = BigBlobClusterOptions((*proxy)->address(), 1);
  auto cluster = ShoalCluster::Start(co);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ShoalCluster& c = **cluster;
  ASSERT_EQ(WaitForSeeds(c), absl::OkStatus());
  Daemon& seed = c.seed(0);

  MirrorStream stream;
  std::thread client([&] {
    stream = StreamFromMirror(c.mirror(0), (*origin)->repository, digest, (*proxy)->address(),
                              absl::Minutes(8));
  });
  double at_kill = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        at_kill = MetricOf(seed, "shoal_bytes_from_origin_total");
        return at_kill >= static_cast<double>(size / 2);
      },
      absl::Minutes(4), absl::Milliseconds(20)))
      << c.LogTails();
  ASSERT_TRUE(c.Kill(seed, SIGKILL).ok());
  // What survived the crash: the journal (chunks durable before the kill).
  uint64_t journaled = 0;
  {
    auto journal = ChunkJournal::Open(JournalPath(seed, digest), size, kChunk);
    ASSERT_TRUE(journal.ok()) << journal.status();
    for (uint32_t i : (*journal)->Completed()) journaled += std::min(kChunk, size - i * kChunk);
  }
  const uint64_t proxy_at_kill =
      (*proxy)->Counts(absl::StrCat("/v2/", (*origin)->repository, "/blobs/", digest)).body_bytes;
  ASSERT_TRUE(c.Restart(seed).ok()) << c.LogTails();
  client.join();

  ASSERT_EQ(stream.status, 200) << stream.error << "\n" << c.LogTails();
  EXPECT_EQ(stream.bytes, size);
  EXPECT_EQ(stream.sha256, digest);
  StoredBlob on_seed = ReadStoredBlob(seed.data_dir, digest, /*hash=*/true);
  EXPECT_TRUE(on_seed.verified);
  EXPECT_EQ(on_seed.sha256, digest);

  const double after_restart = MetricOf(seed, "shoal_bytes_from_origin_total");
  const uint64_t proxy_bytes =
      (*proxy)->Counts(absl::StrCat("/v2/", (*origin)->repository, "/blobs/", digest)).body_bytes;
  const uint64_t registry_bytes = (*origin)->registry->ReadAccessLog().Blob(digest).bytes_served;
  const uint64_t bound = kConcurrency * kChunk;
  std::printf(
      "seed kill -9 at %s of %s (origin had sent %s; %s journaled): after the restart the seed "
      "fetched %s more; origin re-sent %lld bytes in all (proxy), %lld (registry); bound "
      "origin_concurrency x chunk_size = %s\n",
      Bytes(static_cast<uint64_t>(at_kill)).c_str(), Bytes(size).c_str(),
      Bytes(proxy_at_kill).c_str(), Bytes(journaled).c_str(),
      Bytes(static_cast<uint64_t>(after_restart)).c_str(),
      static_cast<long long>(proxy_bytes) - static_cast<long long>(size),
      static_cast<long long>(registry_bytes) - static_cast<long long>(size), Bytes(bound).c_str());
  EXPECT_GE(journaled, size / 3) << "the journal lost chunks that were durable";
  EXPECT_EQ(after_restart, static_cast<double>(size - journaled))
      << "the restarted seed fetched journaled chunks again (or fewer than the rest)";
  EXPECT_LE(proxy_bytes, size + bound);
  EXPECT_LE(registry_bytes, size + bound) << (*origin)->registry->ReadAccessLog().Summary();
  EXPECT_EQ(MetricOf(c.peer(0), "shoal_bytes_from_origin_total"), 0)
      << "the peer went to the origin while the seed restarted";
}

TEST(BigBlobResumeTest, LongPeerKilledMidDownloadResumesFromItsPieces) {
  const uint64_t size = UnalignedSize(2 * kGiB);
  const uint64_t seed_bytes = 9191;
  auto origin = BigBlobOrigin::Create(size, seed_bytes);
  ASSERT_TRUE(origin.ok()) << origin.status();
  const std::string digest = (*origin)->blob.digest;

  ClusterOptions co = BigBlobClusterOptions((*origin)->registry->host_port(), 1);
  auto cluster = ShoalCluster::Start(co);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ShoalCluster& c = **cluster;
  ASSERT_EQ(WaitForSeeds(c), absl::OkStatus());
  Daemon& peer = c.peer(0);
  const std::string registry = (*origin)->registry->host_port();

  MirrorStream first;
  std::thread client([&] {
    first =
        StreamFromMirror(c.mirror(0), (*origin)->repository, digest, registry, absl::Minutes(8));
  });
  double received_before = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        received_before = MetricOf(peer, "shoal_bytes_from_peers_total");
        return received_before >= static_cast<double>(size / 2);
      },
      absl::Minutes(4), absl::Milliseconds(20)))
      << c.LogTails();
  ASSERT_TRUE(c.Kill(peer, SIGKILL).ok());
  client.join();  // its connection broke with the peer
  EXPECT_NE(first.bytes, size) << "the blob finished before the kill; the test proves nothing";

  PiecesOnDisk held =
      ComparePiecesOnDisk(peer.data_dir, digest, size, seed_bytes, kSegment, kPiece);
  ASSERT_TRUE(c.Restart(peer).ok()) << c.LogTails();
  // A client asks again (containerd retries a broken pull); the peer resumes.
  MirrorStream second =
      StreamFromMirror(c.mirror(0), (*origin)->repository, digest, registry, absl::Minutes(8));
  ASSERT_EQ(second.status, 200) << second.error << "\n" << c.LogTails();
  EXPECT_EQ(second.bytes, size);
  EXPECT_EQ(second.sha256, digest) << "the restarted peer served bytes that do not match";
  EXPECT_TRUE(ReadStoredBlob(peer.data_dir, digest, false).verified);

  // Everything complete on disk at the kill was kept: after the restart the peer
  // received at most what it did not hold. What was lost is at most the pieces in
  // flight (received before the kill, but not complete on disk).
  const double received_after = MetricOf(peer, "shoal_bytes_from_peers_total");
  const uint64_t needed = size - held.complete_bytes;
  std::printf(
      "peer kill -9 after receiving ~%s of %s: %d pieces complete on disk (%s), %d partial, %d "
      "missing; after the restart it received %s from peers for the %s it lacked: re-fetched "
      "%lld bytes of pieces it held; in flight at the kill (received, not yet complete on "
      "disk, fetched again) ~%s\n",
      Bytes(static_cast<uint64_t>(received_before)).c_str(), Bytes(size).c_str(), held.complete,
      Bytes(held.complete_bytes).c_str(), held.partial, held.missing,
      Bytes(static_cast<uint64_t>(received_after)).c_str(), Bytes(needed).c_str(),
      // Received beyond what it lacked: what it held and got again (0 when it
      // received exactly the missing bytes or, by a byte's rounding, fewer).
      std::max(0LL, static_cast<long long>(received_after) - static_cast<long long>(needed)),
      Bytes(static_cast<uint64_t>(
                std::max(0.0, received_before - static_cast<double>(held.complete_bytes))))
          .c_str());
  EXPECT_GE(held.complete_bytes, size / 3) << "pieces received before the kill were not on disk";
  EXPECT_LE(received_after, static_cast<double>(needed))
      << "the restarted peer received pieces again that it held complete at the kill";
  EXPECT_EQ(MetricOf(peer, "shoal_bytes_from_origin_total"), 0);
  EXPECT_EQ(MetricOf(c.seed(0), "shoal_bytes_from_origin_total"), static_cast<double>(size))
      << "the seed fetched from the origin more than once";
}

}  // namespace
}  // namespace shoal::testkit
