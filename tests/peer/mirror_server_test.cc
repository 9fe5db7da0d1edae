// The registry mirror end to end over loopback HTTP: a real MirrorServer on a free
// port, a real BlobStore in a temp dir, fake swarm (BlobProvider) and fake registry
// (OriginClient). No sleeps: the fakes release bytes and end waits on the test's cue.
#include "peer/mirror_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "common/blob_store.h"
#include "common/hashing.h"
#include "common/segment_plan.h"
#include "peer/manifest_cache.h"
#include "tests/peer/fake_blob_provider.h"
#include "tests/peer/fake_origin_client.h"

namespace shoal {
namespace {

namespace fs = std::filesystem;
using fakes::FakeBlobProvider;
using fakes::FakeBlobTransfer;
using fakes::FakeOriginClient;
using ::testing::ElementsAre;

constexpr char kRegistry[] = "127.0.0.1:5000";
constexpr char kNs[] = "?ns=127.0.0.1%3A5000";
constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
constexpr uint32_t kPieceSize = 16 * 1024;
constexpr uint64_t kSegmentSize = 32 * 1024;  // small, so cached reads cross segment files

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

BlobDigest DigestOf(absl::string_view data) {
  return *BlobDigest::Parse(absl::StrCat("sha256:", Sha256Hex(data)));
}

// Counters move on the server thread just after the client has its last byte, so
// the test spins (yield, no sleep) until they do, for at most 10 s.
bool Eventually(const std::function<bool()>& condition) {
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

std::string OciCode(const httplib::Result& res) {
  if (!res) return "<no response>";
  nlohmann::json j = nlohmann::json::parse(res->body, nullptr, false);
  if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array() || j["errors"].empty() ||
      !j["errors"][0].contains("code") || !j["errors"][0].contains("message")) {
    return "<no OCI error body: " + res->body + ">";
  }
  return j["errors"][0]["code"].get<std::string>();
}

// Runs a GET on its own thread, collecting the body as it arrives, so the test can
// watch bytes land while it drives the fake transfer.
class BackgroundGet {
 public:
  BackgroundGet(httplib::Client& client, std::string path, httplib::Headers headers = {}) {
    thread_ = std::thread([this, &client, path = std::move(path), headers = std::move(headers)] {
      httplib::Result res = client.Get(path, headers, [this](const char* data, size_t len) {
        absl::MutexLock l(&mu_);
        body_.append(data, len);
        return true;
      });
      absl::MutexLock l(&mu_);
      error_ = res.error();
      status_ = res ? res->status : 0;
      done_ = true;
    });
  }
  ~BackgroundGet() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  bool AwaitBytes(size_t n) {
    absl::MutexLock l(&mu_);
    auto enough = [&] { return body_.size() >= n || done_; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10)) && body_.size() >= n;
  }
  std::string body() {
    absl::MutexLock l(&mu_);
    return body_;
  }
  httplib::Error error() {
    absl::MutexLock l(&mu_);
    return error_;
  }
  int status() {
    absl::MutexLock l(&mu_);
    return status_;
  }

 private:
  absl::Mutex mu_;
  std::string body_ ABSL_GUARDED_BY(mu_);
  httplib::Error error_ ABSL_GUARDED_BY(mu_) = httplib::Error::Unknown;
  int status_ ABSL_GUARDED_BY(mu_) = 0;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

class MirrorServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/shoal-mirror-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = BlobStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto manifests = ManifestCache::Open(dir_);
    ASSERT_TRUE(manifests.ok()) << manifests.status();
    manifests_ = std::move(*manifests);
    StartMirror();
  }

  void TearDown() override {
    client_.reset();
    mirror_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void StartMirror(const std::function<void(MirrorOptions&)>& adjust = nullptr) {
    client_.reset();
    mirror_.reset();
    MirrorOptions options;
    options.listen = "127.0.0.1:0";
    options.clock = &clock_;
    // Long real-time slices: the fakes end waits themselves (see FakeBlobTransfer).
    options.wait_slice = absl::Seconds(30);
    options.stall_timeout = absl::Minutes(10);
    if (adjust) adjust(options);
    mirror_ = std::make_unique<MirrorServer>(options, *store_, provider_, origin_, *manifests_);
    absl::Status started = mirror_->Start();
    ASSERT_TRUE(started.ok()) << started;
    ASSERT_GT(mirror_->port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", mirror_->port());
    client_->set_url_encode(false);  // send paths exactly as written, escapes included
    client_->set_read_timeout(30, 0);
  }

  // A verified blob in the store, cut into several segment files.
  BlobDigest PutCachedBlob(const std::string& data) {
    BlobDigest digest = DigestOf(data);
    auto plan = SegmentPlan::Create(data.size(), kSegmentSize, kPieceSize);
    EXPECT_TRUE(plan.ok());
    EXPECT_TRUE(store_->Prepare(digest, *plan).ok());
    for (SegmentIndex k = 0; k < plan->segment_count(); ++k) {
      std::fstream f(store_->SegmentPath(digest, k),
                     std::ios::in | std::ios::out | std::ios::binary);
      f.write(data.data() + plan->SegmentOffset(k),
              static_cast<std::streamsize>(plan->SegmentLength(k)));
      EXPECT_TRUE(f.good());
    }
    EXPECT_TRUE(store_->MarkVerified(digest).ok());
    return digest;
  }

  static std::string BlobPath(const BlobDigest& d, const std::string& query = kNs) {
    return "/v2/test/img/blobs/" + d.str() + query;
  }

  size_t EntriesUnder(const std::string& sub) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(fs::path(dir_) / sub, ec);
         it != fs::recursive_directory_iterator(); ++it) {
      ++n;
    }
    return n;
  }

  std::string dir_;
  SimulatedClock clock_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<ManifestCache> manifests_;
  FakeBlobProvider provider_;
  FakeOriginClient origin_;
  std::unique_ptr<MirrorServer> mirror_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(MirrorServerTest, BaseEndpointAnswersLikeARegistry) {
  auto res = client_->Get("/v2/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "{}");
  EXPECT_EQ(res->get_header_value("Docker-Distribution-API-Version"), "registry/2.0");
}

// ---- blobs from the cache ----

TEST_F(MirrorServerTest, CachedBlobIsServedFromTheStoreWithoutTheSwarm) {
  std::string data = RandomBytes(100 * 1024 + 123, 1);
  BlobDigest digest = PutCachedBlob(data);

  // Layers are compressed already: the bytes must go out as they are, with their length.
  auto res = client_->Get(BlobPath(digest), {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, data);
  EXPECT_EQ(res->get_header_value("Content-Length"), std::to_string(data.size()));
  EXPECT_FALSE(res->has_header("Content-Encoding"));
  EXPECT_EQ(res->get_header_value("Docker-Content-Digest"), digest.str());
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/octet-stream");
  EXPECT_EQ(res->get_header_value("Accept-Ranges"), "bytes");
  EXPECT_TRUE(provider_.requests().empty());
  EXPECT_TRUE(Eventually([&] { return mirror_->counters().blobs_served_from_cache == 1; }));
  EXPECT_EQ(mirror_->counters().blob_bytes_served, data.size());
}

TEST_F(MirrorServerTest, CachedBlobHeadGivesSizeWithoutBody) {
  std::string data = RandomBytes(70 * 1024, 2);
  BlobDigest digest = PutCachedBlob(data);
  auto res = client_->Head(BlobPath(digest));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Length"), std::to_string(data.size()));
  EXPECT_EQ(res->get_header_value("Docker-Content-Digest"), digest.str());
  EXPECT_TRUE(res->body.empty());
}

TEST_F(MirrorServerTest, CachedBlobRangesAreAnsweredWith206) {
  std::string data = RandomBytes(100 * 1024 + 123, 3);
  BlobDigest digest = PutCachedBlob(data);
  const uint64_t size = data.size();
  struct Case {
    std::string range;
    uint64_t first, length;
  } cases[] = {
      {"bytes=10-20", 10, 11},
      {"bytes=30000-70000", 30000, 40001},  // crosses two segment boundaries
      {"bytes=-100", size - 100, 100},
      {"bytes=100000-", 100000, size - 100000},
      {"bytes=" + std::to_string(size - 10) + "-" + std::to_string(size + 5000), size - 10, 10},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.range);
    auto res = client_->Get(BlobPath(digest), {{"Range", c.range}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 206);
    EXPECT_EQ(res->get_header_value("Content-Range"),
              absl::StrCat("bytes ", c.first, "-", c.first + c.length - 1, "/", size));
    EXPECT_EQ(res->body, data.substr(c.first, c.length));
  }
}

TEST_F(MirrorServerTest, MultipleRangesAreAnsweredWithTheWholeBlob) {
  std::string data = RandomBytes(40 * 1024, 14);
  BlobDigest digest = PutCachedBlob(data);
  auto res = client_->Get(BlobPath(digest), {{"Range", "bytes=0-1,5-6"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, data);
}

TEST_F(MirrorServerTest, RangePastTheEndIs416) {
  std::string data = RandomBytes(50 * 1024, 4);
  BlobDigest digest = PutCachedBlob(data);
  auto res = client_->Get(BlobPath(digest), {{"Range", absl::StrCat("bytes=", data.size(), "-")}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 416);
  EXPECT_EQ(res->get_header_value("Content-Range"), absl::StrCat("bytes */", data.size()));
  EXPECT_EQ(OciCode(res), "RANGE_INVALID");
}

TEST_F(MirrorServerTest, CachedBlobNeedsNoRegistry) {
  std::string data = RandomBytes(20 * 1024, 5);
  BlobDigest digest = PutCachedBlob(data);
  auto res = client_->Get(BlobPath(digest, ""));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, data);
}

// ---- blobs still arriving through the swarm ----

TEST_F(MirrorServerTest, StreamsABlobWhileItIsStillArriving) {
  std::string data = RandomBytes(3 << 20, 6);
  BlobDigest digest = DigestOf(data);
  auto transfer = provider_.Add(digest, data);
  transfer->PublishSize();

  BackgroundGet get(*client_, BlobPath(digest));
  ASSERT_TRUE(transfer->AwaitBlockedReader());
  transfer->Release(64 * 1024);
  // The client holds the first bytes while the rest has not arrived on the node.
  ASSERT_TRUE(get.AwaitBytes(64 * 1024));
  EXPECT_EQ(get.body(), data.substr(0, 64 * 1024));
  EXPECT_LT(transfer->released(), data.size());

  transfer->ReleaseAll();
  get.Join();
  EXPECT_EQ(get.error(), httplib::Error::Success);
  EXPECT_EQ(get.status(), 200);
  EXPECT_TRUE(get.body() == data) << "streamed body differs from the blob";
  EXPECT_EQ(transfer->premature_reads(), 0);
  ASSERT_EQ(provider_.requests().size(), 1u);
  EXPECT_EQ(provider_.requests()[0].digest, digest);
  EXPECT_EQ(provider_.requests()[0].origin.registry, kRegistry);
  EXPECT_EQ(provider_.requests()[0].origin.repository, "test/img");
  EXPECT_TRUE(Eventually([&] { return mirror_->counters().blobs_served_streaming == 1; }));
}

TEST_F(MirrorServerTest, HeadOfArrivingBlobAnswersOnceTheSizeIsKnown) {
  std::string data = RandomBytes(200 * 1024, 7);
  BlobDigest digest = DigestOf(data);
  auto transfer = provider_.Add(digest, data);
  transfer->PublishSize();
  auto res = client_->Head(BlobPath(digest));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Length"), std::to_string(data.size()));
  EXPECT_EQ(res->get_header_value("Docker-Content-Digest"), digest.str());
  EXPECT_EQ(transfer->released(), 0u);
}

TEST_F(MirrorServerTest, RangeOfArrivingBlobIs206) {
  std::string data = RandomBytes(2 << 20, 8);
  BlobDigest digest = DigestOf(data);
  auto transfer = provider_.Add(digest, data);
  transfer->PublishSize();
  BackgroundGet get(*client_, BlobPath(digest), {{"Range", "bytes=1500000-1599999"}});
  ASSERT_TRUE(transfer->AwaitBlockedReader());
  transfer->ReleaseAll();
  get.Join();
  EXPECT_EQ(get.status(), 206);
  EXPECT_TRUE(get.body() == data.substr(1500000, 100000));
  EXPECT_EQ(transfer->premature_reads(), 0);
}

TEST_F(MirrorServerTest, TransferFailureMidStreamAbortsTheConnection) {
  std::string data = RandomBytes(2 << 20, 9);
  BlobDigest digest = DigestOf(data);
  auto transfer = provider_.Add(digest, data);
  transfer->PublishSize();

  BackgroundGet get(*client_, BlobPath(digest));
  ASSERT_TRUE(transfer->AwaitBlockedReader());
  transfer->Release(64 * 1024);
  ASSERT_TRUE(get.AwaitBytes(64 * 1024));
  transfer->Fail(absl::DataLossError("segment 0 failed its sha1 check three times"));
  get.Join();
  // The client must see a broken transfer, not a short body passed off as the blob.
  EXPECT_NE(get.error(), httplib::Error::Success);
  EXPECT_LT(get.body().size(), data.size());
  EXPECT_TRUE(Eventually([&] { return mirror_->counters().errors >= 1; }));
  EXPECT_EQ(mirror_->counters().blobs_served_streaming, 0u);
}

TEST_F(MirrorServerTest, StreamWithoutProgressIsCutOffAfterTheStallTimeout) {
  std::string data = RandomBytes(1 << 20, 10);
  BlobDigest digest = DigestOf(data);
  auto transfer = provider_.Add(digest, data);
  transfer->PublishSize();
  transfer->StallOn(&clock_);  // every wait now passes its whole timeout on the simulated clock
  absl::Time before = clock_.Now();
  auto res = client_->Get(BlobPath(digest));
  EXPECT_FALSE(res);
  EXPECT_GE(clock_.Now() - before, absl::Minutes(10));
}

TEST_F(MirrorServerTest, BlobWhoseSizeNeverArrivesIs504) {
  std::string data = RandomBytes(1024, 11);
  BlobDigest digest = DigestOf(data);
  auto transfer = provider_.Add(digest, data);
  transfer->StallOn(&clock_);
  auto res = client_->Get(BlobPath(digest));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 504);
  EXPECT_EQ(OciCode(res), "UNAVAILABLE");
}

TEST_F(MirrorServerTest, StopCutsOffAStreamThatIsWaiting) {
  StartMirror([](MirrorOptions& o) { o.stall_timeout = absl::Hours(1000000); });
  std::string data = RandomBytes(1 << 20, 12);
  BlobDigest digest = DigestOf(data);
  auto transfer = provider_.Add(digest, data);
  transfer->PublishSize();
  BackgroundGet get(*client_, BlobPath(digest));
  ASSERT_TRUE(transfer->AwaitBlockedReader());
  transfer->StallOn(&clock_);  // no bytes will ever come
  mirror_->Stop();
  get.Join();
  EXPECT_NE(get.error(), httplib::Error::Success);
}

TEST_F(MirrorServerTest, BlobUnknownUpstreamIs404) {
  BlobDigest digest = DigestOf("nobody has this");
  auto res = client_->Get(BlobPath(digest));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(OciCode(res), "BLOB_UNKNOWN");
  EXPECT_EQ(EntriesUnder("blobs/sha256"), 0u);
}

TEST_F(MirrorServerTest, UncachedBlobWithoutAnyRegistryIs404AndStartsNothing) {
  BlobDigest digest = DigestOf("somewhere");
  auto res = client_->Get(BlobPath(digest, ""));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(OciCode(res), "BLOB_UNKNOWN");
  EXPECT_TRUE(provider_.requests().empty());
}

TEST_F(MirrorServerTest, DefaultRegistryIsUsedWhenTheRequestNamesNone) {
  StartMirror([](MirrorOptions& o) { o.default_registry = "registry.internal:5000"; });
  std::string data = RandomBytes(10 * 1024, 13);
  BlobDigest digest = DigestOf(data);
  provider_.Add(digest, data)->ReleaseAll();
  auto res = client_->Get(BlobPath(digest, ""));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, data);
  ASSERT_EQ(provider_.requests().size(), 1u);
  EXPECT_EQ(provider_.requests()[0].origin.registry, "registry.internal:5000");
}

// ---- bad input ----

TEST_F(MirrorServerTest, BadInputGetsOciErrorsAndNeverReachesCacheSwarmOrRegistry) {
  const std::string valid = DigestOf("x").str();
  struct Case {
    std::string method, path;
    int status;
    std::string code;
  } cases[] = {
      {"GET", "/v2/test/img/blobs/sha256:abc" + std::string(kNs), 400, "DIGEST_INVALID"},
      {"GET", "/v2/test/img/blobs/md5:0123" + std::string(kNs), 400, "DIGEST_INVALID"},
      {"GET", "/v2/test/img/blobs/" + valid.substr(0, 70) + "G" + std::string(kNs), 400,
       "DIGEST_INVALID"},
      {"GET", "/v2/test/img/manifests/sha256:zz" + std::string(kNs), 400, "DIGEST_INVALID"},
      {"GET", "/v2/test/img/manifests/-bad-tag" + std::string(kNs), 400, "TAG_INVALID"},
      {"GET", "/v2/Test/Img/blobs/" + valid + kNs, 400, "NAME_INVALID"},
      {"GET", "/v2/test/../../etc/blobs/" + valid + kNs, 400, "NAME_INVALID"},
      {"GET", "/v2/test/%2e%2e/%2E%2E/etc/blobs/" + valid + kNs, 400, "NAME_INVALID"},
      {"GET", "/v2/test/%2e%2e%2f%2e%2e%2fetc/blobs/" + valid + kNs, 400, "NAME_INVALID"},
      {"GET", "/v2//etc/blobs/" + valid + kNs, 400, "NAME_INVALID"},
      {"GET", "/v2/test//img/blobs/" + valid + kNs, 400, "NAME_INVALID"},
      {"GET", "/v2/test/img%00/blobs/" + valid + kNs, 400, "NAME_INVALID"},
      {"GET", "/v2/test/img%zz/blobs/" + valid + kNs, 400, "NAME_INVALID"},
      {"GET", "/v2/test/img/blobs/" + valid + "?ns=evil.example%2Fpath", 400, "NAME_INVALID"},
      {"GET", "/v2/test/img/blobs/" + valid + "?ns=", 400, "NAME_INVALID"},
      {"GET", "/v2/test/img/tags/list" + std::string(kNs), 404, "UNSUPPORTED"},
      {"GET", "/v2/_catalog", 404, "UNSUPPORTED"},
      {"GET", "/v1/test/img/blobs/" + valid, 404, "UNSUPPORTED"},
      {"GET", "/etc/passwd", 404, "UNSUPPORTED"},
      {"DELETE", "/v2/test/img/blobs/" + valid + kNs, 405, "UNSUPPORTED"},
      {"PUT", "/v2/test/img/manifests/v1" + std::string(kNs), 405, "UNSUPPORTED"},
      {"POST", "/v2/test/img/blobs/uploads/" + std::string(kNs), 405, "UNSUPPORTED"},
      {"PATCH", "/v2/test/img/blobs/uploads/1" + std::string(kNs), 405, "UNSUPPORTED"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.path);
    httplib::Result res = c.method == "GET"      ? client_->Get(c.path)
                          : c.method == "DELETE" ? client_->Delete(c.path)
                          : c.method == "PUT"    ? client_->Put(c.path, "{}", "application/json")
                          : c.method == "POST"   ? client_->Post(c.path, "x", "application/json")
                                                 : client_->Patch(c.path, "x", "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, c.status);
    EXPECT_EQ(OciCode(res), c.code);
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  }
  auto head = client_->Head("/v2/test/img/blobs/sha256:abc" + std::string(kNs));
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 400);

  EXPECT_EQ(EntriesUnder("blobs/sha256"), 0u);
  EXPECT_EQ(EntriesUnder("manifests/sha256"), 0u);
  EXPECT_TRUE(provider_.requests().empty());
  EXPECT_TRUE(origin_.calls().empty());
  EXPECT_GE(mirror_->counters().errors, std::size(cases));
}

// ---- manifests ----

class MirrorManifestTest : public MirrorServerTest {
 protected:
  void SetUp() override {
    MirrorServerTest::SetUp();
    body_ = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("config":{},"layers":[]})";
    digest_ = origin_.AddManifest("test/img", "v1", body_, kOciManifest);
  }
  std::string ManifestPath(const std::string& ref) { return "/v2/test/img/manifests/" + ref + kNs; }
  std::string body_;
  std::string digest_;
};

TEST_F(MirrorManifestTest, TagLookupsAreForwardedEveryTimeWithTheClientsAccept) {
  httplib::Headers accept{
      {"Accept", "application/vnd.oci.image.index.v1+json, " + std::string(kOciManifest)}};
  accept.emplace("Accept-Encoding", "gzip, deflate, br");
  for (int i = 0; i < 2; ++i) {
    auto res = client_->Get(ManifestPath("v1"), accept);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, body_);
    EXPECT_EQ(res->get_header_value("Content-Type"), kOciManifest);
    EXPECT_EQ(res->get_header_value("Docker-Content-Digest"), digest_);
    EXPECT_FALSE(res->has_header("Content-Encoding"));  // the digest covers the exact bytes
  }
  auto calls = origin_.calls();
  ASSERT_EQ(calls.size(), 2u);  // a tag can move: never answered from the cache
  for (const auto& call : calls) {
    EXPECT_EQ(call.repo.registry, kRegistry);
    EXPECT_EQ(call.repo.repository, "test/img");
    EXPECT_EQ(call.reference, "v1");
    EXPECT_FALSE(call.head_only);
    EXPECT_THAT(call.accept, ElementsAre("application/vnd.oci.image.index.v1+json", kOciManifest));
  }
  EXPECT_EQ(mirror_->counters().manifest_requests, 2u);
}

TEST_F(MirrorManifestTest, WithoutAcceptTheStandardManifestTypesAreAsked) {
  ASSERT_TRUE(client_->Get(ManifestPath("v1")));
  ASSERT_EQ(origin_.calls().size(), 1u);
  EXPECT_THAT(
      origin_.calls()[0].accept,
      ::testing::IsSupersetOf({kOciManifest, "application/vnd.oci.image.index.v1+json",
                               "application/vnd.docker.distribution.manifest.v2+json",
                               "application/vnd.docker.distribution.manifest.list.v2+json"}));
}

TEST_F(MirrorManifestTest, ByDigestManifestIsCachedAndThenServedWithoutTheRegistry) {
  auto first = client_->Get(ManifestPath(digest_));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, body_);
  EXPECT_EQ(origin_.calls().size(), 1u);
  EXPECT_TRUE(fs::exists(dir_ + "/manifests/sha256/" + digest_.substr(7)));

  origin_.FailReference(digest_, absl::UnavailableError("registry is down"));
  auto second = client_->Get(ManifestPath(digest_));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body, body_);
  EXPECT_EQ(second->get_header_value("Content-Type"), kOciManifest);
  EXPECT_EQ(second->get_header_value("Docker-Content-Digest"), digest_);
  auto head = client_->Head(ManifestPath(digest_));
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->get_header_value("Content-Length"), std::to_string(body_.size()));
  EXPECT_EQ(origin_.calls().size(), 1u);
}

TEST_F(MirrorManifestTest, TagGetFillsTheCacheForTheFollowUpByDigest) {
  ASSERT_TRUE(client_->Get(ManifestPath("v1")));
  auto by_digest = client_->Get(ManifestPath(digest_));
  ASSERT_TRUE(by_digest);
  EXPECT_EQ(by_digest->body, body_);
  EXPECT_EQ(origin_.calls().size(), 1u);
}

TEST_F(MirrorManifestTest, HeadByTagStaysAHeadUpstreamAndStillGivesTheSize) {
  auto head = client_->Head(ManifestPath("v1"));
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->get_header_value("Docker-Content-Digest"), digest_);
  EXPECT_EQ(head->get_header_value("Content-Length"), std::to_string(body_.size()));
  EXPECT_EQ(head->get_header_value("Content-Type"), kOciManifest);
  // containerd's GET by digest after its HEAD is then answered locally.
  auto get = client_->Get(ManifestPath(digest_));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->body, body_);
  auto calls = origin_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_TRUE(calls[0].head_only);
  EXPECT_EQ(calls[0].reference, "v1");
  EXPECT_FALSE(calls[1].head_only);
  EXPECT_EQ(calls[1].reference, digest_);
}

TEST_F(MirrorManifestTest, HeadByTagOfACachedManifestIsOneHeadUpstream) {
  ASSERT_TRUE(client_->Get(ManifestPath(digest_)));
  auto head = client_->Head(ManifestPath("v1"));
  ASSERT_TRUE(head);
  EXPECT_EQ(head->get_header_value("Content-Length"), std::to_string(body_.size()));
  auto calls = origin_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_TRUE(calls[1].head_only);
}

TEST_F(MirrorManifestTest, UpstreamErrorsKeepTheirStatus) {
  struct Case {
    absl::Status status;
    int http;
    std::string code;
  } cases[] = {
      {absl::NotFoundError("no such tag"), 404, "MANIFEST_UNKNOWN"},
      {absl::UnauthenticatedError("token needed"), 401, "UNAUTHORIZED"},
      {absl::PermissionDeniedError("no pull access"), 403, "DENIED"},
      {absl::ResourceExhaustedError("429 from registry"), 429, "TOOMANYREQUESTS"},
      {absl::UnavailableError("503 from registry"), 503, "UNAVAILABLE"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.status.ToString());
    origin_.FailReference("v1", c.status);
    auto res = client_->Get(ManifestPath("v1"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, c.http);
    EXPECT_EQ(OciCode(res), c.code);
  }
}

TEST_F(MirrorManifestTest, ManifestThatDoesNotMatchItsDigestIsRefusedAndNotCached) {
  origin_.CorruptDigest(digest_);
  auto res = client_->Get(ManifestPath(digest_));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
  EXPECT_NE(res->body, body_ + " ");
  EXPECT_EQ(EntriesUnder("manifests/sha256"), 0u);
}

TEST_F(MirrorManifestTest, DamagedCachedManifestIsDroppedAndFetchedAgain) {
  ASSERT_TRUE(client_->Get(ManifestPath(digest_)));
  {
    std::ofstream damage(dir_ + "/manifests/sha256/" + digest_.substr(7), std::ios::trunc);
    damage << R"({"schemaVersion":2,"layers":["evil"]})";
  }
  auto res = client_->Get(ManifestPath(digest_));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, body_);
  EXPECT_EQ(origin_.calls().size(), 2u);
}

}  // namespace
}  // namespace shoal
