// Issue 2 acceptance, end to end with real processes: containerd pulls a
// 3-layer image through shoal peers' registry mirrors; the origin registry serves
// each blob once; without a scheduler the peer falls back to the origin; bad
// requests to the mirror are refused with OCI errors and leave nothing behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <csignal>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/hashing.h"
#include "testkit/containerd_process.h"
#include "testkit/image_builder.h"
#include "testkit/image_pusher.h"
#include "testkit/net_util.h"
#include "testkit/registry_process.h"
#include "testkit/shoal_cluster.h"
#include "testkit/temp_dir.h"

namespace shoal::testkit {
namespace {

constexpr uint64_t kMiB = 1 << 20;
// Small sizes so one layer spans several segments and no size lines up with a
// piece, chunk or segment boundary.
const std::vector<std::string> kTransferFlags = {"--segment-size", "4MiB",         "--piece-size",
                                                 "1MiB",           "--chunk-size", "1MiB"};

class BlobSliceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("slice");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    auto reg = RegistryProcess::Start({});
    ASSERT_TRUE(reg.ok()) << reg.status();
    registry_ = std::move(*reg);

    ImageSpec spec;
    spec.repository = "shoal/slice";
    spec.tag = "v1";
    // ~11 MiB over 3 segments of 4 MiB; one of ~2.3 MiB; one of a few KiB.
    spec.layer_sizes = {UnalignedSize(11 * kMiB + 12345), UnalignedSize(2 * kMiB + 333333),
                        UnalignedSize(7777)};
    spec.seed = 20240601;
    auto image = BuildImage(spec, dir_->path() + "/image");
    ASSERT_TRUE(image.ok()) << image.status();
    image_ = std::move(*image);
    ASSERT_TRUE(PushImage(image_, {registry_->url()}).ok());
    registry_->MarkAccessLog();  // count only what the pulls cost
  }

  ClusterOptions Options() const {
    ClusterOptions o;
    o.insecure_registries = {registry_->host_port()};
    o.seed_flags = kTransferFlags;
    o.peer_flags = kTransferFlags;
    return o;
  }

  std::unique_ptr<ShoalCluster> StartCluster(const ClusterOptions& o) {
    auto cluster = ShoalCluster::Start(o);
    EXPECT_TRUE(cluster.ok()) << cluster.status();
    return cluster.ok() ? std::move(*cluster) : nullptr;
  }

  std::string ImageRef() const { return image_.Reference(registry_->host_port()); }

  // GET of the image's first layer (it spans 3 segments) from peer 0's mirror.
  HttpCall FirstLayerCall(const ShoalCluster& cluster) const {
    HttpCall call;
    call.url = absl::StrCat("http://", cluster.mirror(0), "/v2/", image_.spec.repository,
                            "/blobs/", image_.platforms[0].layers[0].digest,
                            "?ns=", registry_->host_port());
    call.timeout = absl::Seconds(120);
    return call;
  }

  // A fresh containerd (a new node's content store) pulls the image through the
  // peer's mirror; every blob must land with its digest and size.
  void PullThroughMirror(ShoalCluster& cluster, int peer) {
    SCOPED_TRACE(absl::StrCat("pull through ", cluster.peer(peer).name));
    auto ctrd = ContainerdProcess::Start(dir_->path() + "/containerd-" + std::to_string(peer) +
                                         "-" + std::to_string(pulls_++));
    ASSERT_TRUE(ctrd.ok()) << ctrd.status();
    auto hosts = (*ctrd)->WriteHostsToml(registry_->host_port(), cluster.mirror(peer));
    ASSERT_TRUE(hosts.ok()) << hosts.status();
    auto r = (*ctrd)->Fetch(ImageRef(), *hosts, {}, absl::Minutes(2));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->exit_code, 0) << "ctr content fetch through " << cluster.mirror(peer)
                               << " failed:\n"
                               << r->output << "\n"
                               << cluster.LogTails();
    auto content = (*ctrd)->ListContent();
    ASSERT_TRUE(content.ok()) << content.status();
    std::map<std::string, uint64_t> stored;
    for (const ContentEntry& e : *content) stored[e.digest] = e.size;
    EXPECT_TRUE(stored.count(image_.top().digest)) << "manifest missing";
    for (const BlobFile& blob : image_.PlatformBlobs()) {
      ASSERT_TRUE(stored.count(blob.digest)) << blob.digest << " not in containerd after pull";
      EXPECT_EQ(stored[blob.digest], blob.size) << blob.digest;
    }
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<RegistryProcess> registry_;
  BuiltImage image_;
  int pulls_ = 0;
};

TEST_F(BlobSliceTest, ThreePeersPullAndOriginServesEachBlobOnce) {
  auto cluster = StartCluster(Options());
  ASSERT_NE(cluster, nullptr);
  for (int peer = 0; peer < 3; ++peer) {
    PullThroughMirror(*cluster, peer);
    if (HasFatalFailure()) return;
  }
  RegistryAccessLog log = registry_->ReadAccessLog();
  for (const BlobFile& blob : image_.PlatformBlobs()) {
    EXPECT_EQ(log.Blob(blob.digest).bytes_served, blob.size)
        << blob.digest << " (" << blob.size << " bytes): the origin should serve exactly one copy\n"
        << log.Summary();
  }
  EXPECT_EQ(log.TotalBlobBytesServed(), image_.PlatformBlobBytes()) << log.Summary();
  EXPECT_EQ(log.BlobBytesServedTo("containerd"), 0u) << "containerd bypassed the mirror";
}

TEST_F(BlobSliceTest, WithoutSchedulerPeerFallsBackToOriginAndSaysWhy) {
  ClusterOptions o = Options();
  o.start_scheduler = false;
  o.peers = 1;
  auto cluster = StartCluster(o);
  ASSERT_NE(cluster, nullptr);
  PullThroughMirror(*cluster, 0);
  if (HasFatalFailure()) return;

  RegistryAccessLog log = registry_->ReadAccessLog();
  for (const BlobFile& blob : image_.PlatformBlobs()) {
    EXPECT_GE(log.Blob(blob.digest).bytes_served, blob.size) << blob.digest << log.Summary();
  }
  EXPECT_EQ(log.BlobBytesServedTo("containerd"), 0u) << "containerd bypassed the mirror";

  std::string peer_log = ReadFileOrEmpty(cluster->peer(0).log_path);
  bool explained = false;
  for (absl::string_view line : absl::StrSplit(peer_log, '\n')) {
    std::string lower = absl::AsciiStrToLower(line);
    if (absl::StrContains(lower, "ready")) continue;  // the start line names the scheduler
    explained |= absl::StrContains(lower, "scheduler") && absl::StrContains(lower, "origin");
  }
  EXPECT_TRUE(explained) << "no peer log line says the scheduler was away and the origin was "
                            "used instead; peer log ends with:\n"
                         << TailLines(peer_log, 60);
}

// Bad requests must be refused before they reach the cache or the origin.
TEST_F(BlobSliceTest, MirrorRefusesBadRequestsWithOciErrors) {
  ClusterOptions o = Options();
  o.peers = 1;
  auto cluster = StartCluster(o);
  ASSERT_NE(cluster, nullptr);
  const std::string base = "http://" + cluster->mirror(0);
  const std::string ns = "?ns=" + registry_->host_port();
  const std::string unknown =
      "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  const std::string known = image_.platforms[0].layers[2].digest;

  struct Case {
    std::string what;
    std::string path;
    long want_status;
    long also_ok = 0;  // a second acceptable status
  };
  const std::vector<Case> cases = {
      {"unknown digest", "/v2/shoal/slice/blobs/" + unknown + ns, 404},
      {"malformed digest", "/v2/shoal/slice/blobs/sha256:xyz" + ns, 400},
      {"short digest", "/v2/shoal/slice/blobs/sha256:0123abcd" + ns, 400},
      {"unsupported algorithm", "/v2/shoal/slice/blobs/md5:0123456789abcdef" + ns, 400},
      {"malformed name", "/v2/Shoal/SLICE!/blobs/" + known + ns, 400},
      {"traversal in name", "/v2/shoal/../../etc/blobs/" + known + ns, 400},
      {"encoded traversal in digest", "/v2/shoal/slice/blobs/..%2F..%2Fetc%2Fpasswd" + ns, 400,
       404},
      // Not the shape of a blob request at all: "no route" is a fine answer too.
      {"traversal after blobs", "/v2/shoal/slice/blobs/../../../../etc/passwd" + ns, 400, 404},
      {"traversal in manifest name", "/v2/shoal/../slice/manifests/v1" + ns, 400},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what + ": GET " + c.path);
    HttpCall call;
    call.url = base + c.path;
    call.path_as_is = true;
    call.timeout = absl::Seconds(60);
    auto r = HttpFetch(call);
    ASSERT_TRUE(r.ok()) << r.status() << "\n" << cluster->LogTails();
    EXPECT_TRUE(r->status == c.want_status || (c.also_ok != 0 && r->status == c.also_ok))
        << "got " << r->status << ", want " << c.want_status << ": " << r->body;
    auto body = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(body.is_object() && body.contains("errors") && body["errors"].is_array() &&
                !body["errors"].empty())
        << "not an OCI error body: " << r->body;
    EXPECT_TRUE(body["errors"][0]["code"].is_string()) << r->body;
    EXPECT_TRUE(body["errors"][0]["message"].is_string()) << r->body;
    EXPECT_TRUE(absl::StartsWith(r->Header("content-type"), "application/json"))
        << r->Header("content-type");
  }

  // Nothing was cached or half-created for any of them.
  std::string blobs = cluster->peer(0).data_dir + "/blobs";
  std::vector<std::string> left;
  std::error_code ec;
  if (std::filesystem::exists(blobs)) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(blobs, ec)) {
      if (entry.is_regular_file()) left.push_back(entry.path().string());
    }
  }
  EXPECT_TRUE(left.empty()) << "peer data dir holds " << left.size() << " files, first "
                            << left.front();
  // Only the well-formed unknown digest may have been asked of the origin.
  RegistryAccessLog log = registry_->ReadAccessLog();
  for (const RegistryRequest& req : log.requests) {
    EXPECT_TRUE(absl::StrContains(req.uri, unknown) || req.uri == "/v2/" ||
                absl::StartsWith(req.uri, "/v2/?"))
        << "bad input reached the origin: " << req.method << " " << req.uri;
  }
}


}  // namespace
}  // namespace shoal::testkit

namespace shoal::testkit {
namespace {

std::string Sha256Of(const std::string& body) { return "sha256:" + shoal::Sha256Hex(body); }

// Flips the bits of the byte at `offset` in the file at `path`, in place.
void FlipByte(const std::string& path, std::streamoff offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(offset);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(offset);
  f.write(&c, 1);
  ASSERT_TRUE(f.good()) << "cannot change byte " << offset << " of " << path;
}

// A cached blob whose bytes no longer match its digest (disk rot, tampering) is
// never served whole: the mirror cuts the response before the last byte,
// discards the entry, and the next request gets the blob again from the swarm.
TEST_F(BlobSliceTest, CorruptedCacheEntryIsDiscardedAndRefetched) {
  ClusterOptions o = Options();
  o.peers = 2;
  auto cluster = StartCluster(o);
  ASSERT_NE(cluster, nullptr);
  const BlobFile& layer = image_.platforms[0].layers[0];  // spans 3 segments
  HttpCall call = FirstLayerCall(*cluster);
  auto first = HttpFetch(call);
  ASSERT_TRUE(first.ok()) << first.status() << cluster->LogTails();
  ASSERT_EQ(first->status, 200);
  ASSERT_EQ(Sha256Of(first->body), layer.digest);

  // Flip one byte in the middle segment file on the peer's disk.
  std::string seg = absl::StrCat(cluster->peer(0).data_dir, "/blobs/sha256/", layer.digest.substr(7), "/seg-00001");
  ASSERT_TRUE(std::filesystem::exists(seg)) << seg;
  FlipByte(seg, 1000);
  auto second = HttpFetch(call);
  bool whole_and_wrong = second.ok() && second->status == 200 && second->body.size() == layer.size &&
                         Sha256Of(second->body) != layer.digest;
  EXPECT_FALSE(whole_and_wrong) << "the corrupted blob was served whole";
  EXPECT_FALSE(second.ok() && second->status == 200 && Sha256Of(second->body) == layer.digest)
      << "corruption was not noticed";

  auto third = HttpFetch(call);
  ASSERT_TRUE(third.ok()) << third.status() << cluster->LogTails();
  EXPECT_EQ(third->status, 200);
  EXPECT_EQ(Sha256Of(third->body), layer.digest) << "refetched bytes do not match";
  // The refetch came from the swarm (the seed), not the origin.
  RegistryAccessLog log = registry_->ReadAccessLog();
  EXPECT_EQ(log.Blob(layer.digest).bytes_served, layer.size) << log.Summary();
}

// A peer killed mid-download keeps its pieces; after the restart it checks each
// one it held against the blob's piece states before serving it. A piece whose
// bytes changed on disk meanwhile is caught there, and the bytes served still
// match the digest.
TEST_F(BlobSliceTest, APieceHeldFromBeforeThatNoLongerMatchesIsCaught) {
  ClusterOptions o = Options();
  o.peers = 1;
  auto cluster = StartCluster(o);
  ASSERT_NE(cluster, nullptr);
  const BlobFile& layer = image_.platforms[0].layers[0];  // spans 3 segments
  HttpCall call = FirstLayerCall(*cluster);
  auto first = HttpFetch(call);
  ASSERT_TRUE(first.ok()) << first.status() << cluster->LogTails();
  ASSERT_EQ(Sha256Of(first->body), layer.digest);

  // As if the peer had died before its last check: every piece on disk, the
  // entry not verified; and one byte of the middle segment changed meanwhile.
  Daemon& peer = cluster->peer(0);
  ASSERT_TRUE(cluster->Kill(peer, SIGKILL).ok());
  const std::string dir =
      absl::StrCat(peer.data_dir, "/blobs/sha256/", layer.digest.substr(7));
  {
    std::ifstream in(dir + "/meta.json");
    nlohmann::json meta = nlohmann::json::parse(in);
    ASSERT_TRUE(meta["verified"].get<bool>());
    meta["verified"] = false;
    std::ofstream(dir + "/meta.json") << meta.dump();
  }
  FlipByte(dir + "/seg-00001", 5000);
  ASSERT_TRUE(cluster->Restart(peer).ok()) << cluster->LogTails();
  auto second = HttpFetch(call);
  ASSERT_TRUE(second.ok()) << second.status() << cluster->LogTails();
  EXPECT_FALSE(second->status == 200 && second->body.size() == layer.size &&
               Sha256Of(second->body) != layer.digest)
      << "the changed piece was served as part of the blob";
  auto third = HttpFetch(call);  // a client that saw a broken pull asks again
  ASSERT_TRUE(third.ok()) << third.status() << cluster->LogTails();
  EXPECT_EQ(third->status, 200);
  EXPECT_EQ(Sha256Of(third->body), layer.digest) << cluster->LogTails();
  EXPECT_TRUE(absl::StrContains(ReadFileOrEmpty(peer.log_path),
                                "held from before does not match the digest"))
      << cluster->LogTails();
}

}  // namespace
}  // namespace shoal::testkit
