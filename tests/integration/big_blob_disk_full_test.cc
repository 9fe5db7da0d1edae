// Issue 4 acceptance, disk full: the seed's data dir is a small tmpfs that fills up
// while the seed fetches a blob. The failure reaches whoever wants the blob with
// a clear reason (which host, how many bytes were needed), the cache holds no
// verified entry for the blob, the chunks already fetched stay on disk, and once
// space is freed a new request resumes from them instead of starting over.
#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/chunk_journal.h"
#include "common/file_util.h"
#include "common/scheduler_client.h"
#include "testkit/fault_proxy.h"
#include "testkit/subprocess.h"
#include "tests/integration/big_blob_test_util.h"

namespace shoal::testkit {
namespace {

// A tmpfs of `size` mounted on dir for the test's lifetime.
class SmallFilesystem {
 public:
  static absl::StatusOr<std::unique_ptr<SmallFilesystem>> Mount(const std::string& dir,
                                                                uint64_t size) {
    auto r =
        RunCommand({"mount", "-t", "tmpfs", "-o", absl::StrCat("size=", size), "shoal-test", dir},
                   absl::Seconds(30));
    if (!r.ok()) return r.status();
    if (r->exit_code != 0) {
      return absl::FailedPreconditionError(absl::StrCat("mount tmpfs on ", dir, ": ", r->output));
    }
    return std::unique_ptr<SmallFilesystem>(new SmallFilesystem(dir));
  }
  ~SmallFilesystem() { (void)RunCommand({"umount", "-l", dir_}, absl::Seconds(30)); }
  absl::Status Grow(uint64_t size) {
    auto r =
        RunCommand({"mount", "-o", absl::StrCat("remount,size=", size), dir_}, absl::Seconds(30));
    if (!r.ok()) return r.status();
    return r->exit_code == 0 ? absl::OkStatus()
                             : absl::FailedPreconditionError("remount: " + r->output);
  }

 private:
  explicit SmallFilesystem(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// Stands in for a node that wants the blob: registers with the scheduler and
// keeps an announce stream open, recording what the scheduler tells it. Unlike a
// real peer it never goes to the origin itself, so the seed's behaviour is all
// that moves bytes.
class WantingHost {
 public:
  WantingHost(const std::string& scheduler, v1::BlobRef blob) : blob_(std::move(blob)) {
    channel_ = MakeSchedulerChannel(scheduler);
    v1::HostInfo host;
    host.set_id("watcher");
    host.set_ip("127.0.0.1");
    host.set_data_port(9);
    host.set_role(v1::HOST_ROLE_PEER);
    agent_ = std::make_unique<HostAgent>(channel_, host, nullptr, nullptr);
    agent_->Start();
  }
  ~WantingHost() {
    stream_.reset();
    agent_->Stop();
  }

  bool WaitRegistered() {
    return WaitUntil([&] { return agent_->registered(); }, absl::Seconds(20));
  }
  void Want() {
    v1::AnnounceOpen open;
    open.set_host_id("watcher");
    *open.mutable_blob() = blob_;
    open.set_want(true);
    stream_.reset();
    stream_ = AnnounceStream::Open(
        agent_->stub(), open,
        [this](const v1::AnnounceResponse& r) {
          if (r.has_upstream_failed()) {
            std::lock_guard<std::mutex> l(mu_);
            failures_.push_back(r.upstream_failed().reason());
          }
        },
        nullptr);
  }
  std::vector<std::string> failures() {
    std::lock_guard<std::mutex> l(mu_);
    return std::vector<std::string>(failures_.begin(), failures_.end());
  }

 private:
  v1::BlobRef blob_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<HostAgent> agent_;
  std::unique_ptr<AnnounceStream> stream_;
  std::mutex mu_;
  std::deque<std::string> failures_;
};

TEST(BigBlobDiskFullTest, SeedSaysWhereAndHowMuchKeepsChunksAndResumesAfterSpaceIsFreed) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to mount a small tmpfs as the seed's data dir (CI runs as root)";
  }
  const uint64_t size = UnalignedSize(192 * kMiB);
  const uint64_t chunk = 8 * kMiB, concurrency = 4;
  auto origin = BigBlobOrigin::Create(size, 5150);
  ASSERT_TRUE(origin.ok()) << origin.status();
  const std::string digest = (*origin)->blob.digest;
  FaultProxy::Options po;
  po.upstream = (*origin)->registry->host_port();
  po.rate_total = 32 * kMiB;  // ~6 s for the blob: room to fill the disk midway
  auto proxy = FaultProxy::Start(po);
  ASSERT_TRUE(proxy.ok()) << proxy.status();

  auto work = TempDir::Create("bigblob-diskfull");
  ASSERT_TRUE(work.ok()) << work.status();
  const std::string seed_dir = work->path() + "/seed-1";  // ShoalCluster's name for it
  ASSERT_TRUE(work->Subdir("seed-1").ok());
  auto fs = SmallFilesystem::Mount(seed_dir, 256 * kMiB);
  ASSERT_TRUE(fs.ok()) << fs.status();

  ClusterOptions co = BigBlobClusterOptions((*proxy)->address(), 0);
  co.work_dir = work->path();
  co.scheduler_flags = {"--upstream-failure-ttl", "1s"};
  auto cluster = ShoalCluster::Start(co);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ShoalCluster& c = **cluster;
  ASSERT_EQ(WaitForSeeds(c), absl::OkStatus());
  Daemon& seed = c.seed(0);

  v1::BlobRef ref;
  ref.set_digest(digest);
  ref.set_registry((*proxy)->address());
  ref.set_repository((*origin)->repository);
  WantingHost node(c.scheduler_address(), ref);
  ASSERT_TRUE(node.WaitRegistered());
  node.Want();

  // A third of the way in, something else takes the disk: ~16 MiB stay free.
  ASSERT_TRUE(
      WaitUntil([&] { return MetricOf(seed, "shoal_bytes_from_origin_total") >= size / 3.0; },
                absl::Minutes(2), absl::Milliseconds(20)))
      << c.LogTails();
  const std::string filler = seed_dir + "/filler";
  {
    auto free_bytes = FreeDiskBytes(seed_dir);
    ASSERT_TRUE(free_bytes.ok()) << free_bytes.status();
    std::ofstream out(filler, std::ios::binary);
    std::vector<char> mib(kMiB, 'x');
    for (uint64_t n = 0; n + 16 * kMiB < *free_bytes; n += kMiB) out.write(mib.data(), kMiB);
  }

  ASSERT_TRUE(WaitUntil([&] { return !node.failures().empty(); }, absl::Minutes(2)))
      << "nobody heard that the seed failed\n"
      << c.LogTails();
  const std::string reason = node.failures().front();
  std::printf("what the node wanting the blob was told: %s\n", reason.c_str());
  EXPECT_TRUE(absl::StrContains(reason, "seed-1")) << "which host: " << reason;
  EXPECT_TRUE(absl::StrContains(reason, "disk full")) << reason;
  EXPECT_TRUE(absl::StrContains(reason, "more bytes")) << "how much was needed: " << reason;
  EXPECT_TRUE(absl::StrContains(reason, "bytes free")) << reason;
  EXPECT_EQ(MetricOf(seed, "shoal_blobs_failed_total"), 1);

  // No corrupt entry: nothing verified, nothing listed in the cache; the chunks
  // fetched so far are on disk and in the journal.
  StoredBlob kept = ReadStoredBlob(seed.data_dir, digest, false);
  EXPECT_TRUE(kept.exists);
  EXPECT_FALSE(kept.verified);
  EXPECT_EQ(MetricOf(seed, "shoal_cache_entries"), 0);
  uint64_t journaled = 0;
  {
    auto journal = ChunkJournal::Open(
        absl::StrCat(seed.data_dir, "/blobs/sha256/", digest.substr(7), "/chunks.journal"), size,
        chunk);
    ASSERT_TRUE(journal.ok()) << journal.status();
    journaled = uint64_t{(*journal)->completed_count()} * chunk;
  }
  EXPECT_GE(journaled, size / 4) << "fetched chunks were not kept";

  // Space comes back; the next request resumes from the kept chunks.
  ASSERT_EQ(::unlink(filler.c_str()), 0);
  absl::SleepFor(absl::Milliseconds(1100));  // past the scheduler's upstream-failure TTL
  node.Want();
  ASSERT_TRUE(WaitUntil([&] { return MetricOf(seed, "shoal_blobs_verified_total") >= 1; },
                        absl::Minutes(3)))
      << c.LogTails();
  StoredBlob done = ReadStoredBlob(seed.data_dir, digest, /*hash=*/true);
  EXPECT_TRUE(done.verified);
  EXPECT_EQ(done.sha256, digest);
  EXPECT_EQ(MetricOf(seed, "shoal_cache_entries"), 1);
  const double from_origin = MetricOf(seed, "shoal_bytes_from_origin_total");
  const uint64_t proxy_bytes =
      (*proxy)->Counts(absl::StrCat("/v2/", (*origin)->repository, "/blobs/", digest)).body_bytes;
  std::printf(
      "disk full at ~%s of %s with %s journaled; after space was freed the seed finished it: "
      "%s received from the origin in all, proxy sent %s (bound: one copy + %llu chunks in "
      "flight x %s)\n",
      Bytes(size / 3).c_str(), Bytes(size).c_str(), Bytes(journaled).c_str(),
      Bytes(static_cast<uint64_t>(from_origin)).c_str(), Bytes(proxy_bytes).c_str(),
      static_cast<unsigned long long>(concurrency), Bytes(chunk).c_str());
  EXPECT_LE(from_origin, static_cast<double>(size + concurrency * chunk))
      << "the retry fetched the kept chunks again";
  EXPECT_LE(proxy_bytes, size + concurrency * chunk);
}

// The same on a peer: libtorrent's writes fail (not the process), the blob fails
// with the host and the bytes it still needs, and after the disk grows a new pull
// finishes from what was kept.
TEST(BigBlobDiskFullTest, PeerSaysWhereAndHowMuchAndFinishesAfterTheDiskGrows) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to mount a small tmpfs as the peer's data dir (CI runs as root)";
  }
  const uint64_t size = UnalignedSize(192 * kMiB);
  auto origin = BigBlobOrigin::Create(size, 6160);
  ASSERT_TRUE(origin.ok()) << origin.status();
  const std::string digest = (*origin)->blob.digest;
  const std::string registry = (*origin)->registry->host_port();
  auto work = TempDir::Create("bigblob-diskfull");
  ASSERT_TRUE(work.ok()) << work.status();
  const std::string peer_dir = work->path() + "/peer-1";
  ASSERT_TRUE(work->Subdir("peer-1").ok());
  auto fs = SmallFilesystem::Mount(peer_dir, 96 * kMiB);
  ASSERT_TRUE(fs.ok()) << fs.status();

  ClusterOptions co = BigBlobClusterOptions(registry, 1);
  co.work_dir = work->path();
  auto cluster = ShoalCluster::Start(co);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ShoalCluster& c = **cluster;
  ASSERT_EQ(WaitForSeeds(c), absl::OkStatus());
  Daemon& peer = c.peer(0);

  MirrorStream first =
      StreamFromMirror(c.mirror(0), (*origin)->repository, digest, registry, absl::Minutes(3));
  EXPECT_NE(first.sha256, digest) << "a 192 MiB blob fit on a 96 MiB disk?";
  EXPECT_LT(first.bytes, size) << "the mirror must not pass off a partial blob as whole";
  ASSERT_TRUE(peer.running()) << "the peer died when its disk filled\n" << c.LogTails();
  ASSERT_TRUE(
      WaitUntil([&] { return MetricOf(peer, "shoal_blobs_failed_total") >= 1; }, absl::Minutes(1)))
      << c.LogTails();
  std::string said;
  for (absl::string_view line : absl::StrSplit(ReadFileOrEmpty(peer.log_path), '\n')) {
    if (absl::StrContains(line, "failed: storing")) said = std::string(line);
  }
  std::printf("the peer's error: %s\n", said.c_str());
  EXPECT_TRUE(absl::StrContains(said, "peer-1")) << said;
  EXPECT_TRUE(absl::StrContains(said, "more bytes")) << said;
  EXPECT_FALSE(ReadStoredBlob(peer.data_dir, digest, false).verified);
  EXPECT_EQ(MetricOf(peer, "shoal_cache_entries"), 0);

  ASSERT_EQ(fs->get()->Grow(512 * kMiB), absl::OkStatus());
  MirrorStream second =
      StreamFromMirror(c.mirror(0), (*origin)->repository, digest, registry, absl::Minutes(3));
  ASSERT_EQ(second.status, 200) << second.error << "\n" << c.LogTails();
  EXPECT_EQ(second.sha256, digest);
  EXPECT_TRUE(ReadStoredBlob(peer.data_dir, digest, false).verified);
  // What was on disk is kept; lost is what libtorrent had received but not yet
  // written when the writes began to fail: its disk queue (max_queued_disk_bytes,
  // 32 MiB) and the blocks of pieces in flight.
  const double received = MetricOf(peer, "shoal_bytes_from_peers_total");
  const uint64_t slack = 64 * kMiB;
  std::printf(
      "peer disk full: after the disk grew the peer finished; it received %s from peers in "
      "all for the %s blob (%s lost when writes failed; bound %s)\n",
      Bytes(static_cast<uint64_t>(received)).c_str(), Bytes(size).c_str(),
      Bytes(static_cast<uint64_t>(std::max(0.0, received - static_cast<double>(size)))).c_str(),
      Bytes(slack).c_str());
  EXPECT_LE(received, static_cast<double>(size + slack))
      << "what was kept on disk was received again";
  EXPECT_EQ(MetricOf(peer, "shoal_bytes_from_origin_total"), 0);
}

}  // namespace
}  // namespace shoal::testkit
