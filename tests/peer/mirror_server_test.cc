// The registry mirror's blob endpoints: cached reads, Range, streaming while a
// blob arrives, failures and stalls, and bad input answered with OCI errors.
#include "tests/peer/mirror_test_fixture.h"

namespace shoal::mirror_test {
namespace {

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

}  // namespace
}  // namespace shoal::mirror_test
