// The registry log parser is what integration tests trust for "the origin served
// each blob exactly once": it must read real docker-registry lines exactly.
#include <gtest/gtest.h>

#include "testkit/registry_log.h"

namespace shoal::testkit {
namespace {

// Lines as docker-registry 2.8.2 (Debian 12) writes them, shortened ids.
constexpr char kTextLog[] =
    R"(time="2026-11-21T18:04:49.4Z" level=info msg="listening on 127.0.0.1:5999" go.version=go1.19.8 instance.id=dba6
time="2026-11-21T18:04:50.9Z" level=info msg="response completed" go.version=go1.19.8 http.request.host="127.0.0.1:5999" http.request.id=b207 http.request.method=POST http.request.remoteaddr="127.0.0.1:45638" http.request.uri=/v2/t/img/blobs/uploads/ http.request.useragent=curl/7.88.1 http.response.duration=6.2ms http.response.status=202 http.response.written=0
127.0.0.1 - - [21/Nov/2026:18:04:50 +0000] "POST /v2/t/img/blobs/uploads/ HTTP/1.1" 202 0 "" "curl/7.88.1"
time="2026-11-21T18:04:50.99Z" level=info msg="response completed" go.version=go1.19.8 http.request.host="127.0.0.1:5999" http.request.id=cb56 http.request.method=PUT http.request.remoteaddr="127.0.0.1:45640" http.request.uri="/v2/t/img/blobs/uploads/0f24?_state=1sA&digest=sha256:e4aac8b51c105c0c64cfa504e5b0a7c914f5c4fba1970d7d03a0a6f5242a3503" http.request.useragent=curl/7.88.1 http.response.duration=27ms http.response.status=201 http.response.written=0
time="2026-11-21T18:04:51.03Z" level=info msg="response completed" go.version=go1.19.8 http.request.host="127.0.0.1:5999" http.request.id=f541 http.request.method=GET http.request.remoteaddr="127.0.0.1:45648" http.request.uri="/v2/t/img/blobs/sha256:e4aac8b51c105c0c64cfa504e5b0a7c914f5c4fba1970d7d03a0a6f5242a3503" http.request.useragent=shoal/0.1 http.response.contenttype=application/octet-stream http.response.duration=26ms http.response.status=200 http.response.written=3000001
time="2026-11-21T18:04:51.05Z" level=info msg="response completed" go.version=go1.19.8 http.request.host="127.0.0.1:5999" http.request.id=c06c http.request.method=GET http.request.remoteaddr="127.0.0.1:45650" http.request.uri="/v2/t/img/blobs/sha256:e4aac8b51c105c0c64cfa504e5b0a7c914f5c4fba1970d7d03a0a6f5242a3503" http.request.useragent="containerd/1.6.20~ds1" http.response.contenttype=application/octet-stream http.response.duration=18ms http.response.status=206 http.response.written=100
time="2026-11-21T18:04:51.07Z" level=info msg="response completed" go.version=go1.19.8 http.request.host="127.0.0.1:5999" http.request.id=ba25 http.request.method=HEAD http.request.remoteaddr="127.0.0.1:45666" http.request.uri="/v2/t/img/blobs/sha256:e4aac8b51c105c0c64cfa504e5b0a7c914f5c4fba1970d7d03a0a6f5242a3503" http.request.useragent=curl/7.88.1 http.response.duration=2ms http.response.status=200 http.response.written=0
time="2026-11-21T18:04:52Z" level=info msg="response completed" http.request.method=HEAD http.request.uri="/v2/t/img/manifests/v1?ns=127.0.0.1%3A5999" http.response.status=200 http.response.written=0
time="2026-11-21T18:04:52Z" level=info msg="response completed" http.request.method=GET http.request.uri="/v2/t/img/manifests/sha256:1111111111111111111111111111111111111111111111111111111111111111" http.response.status=200 http.response.written=527
time="2026-11-21T18:12:11.5Z" level=error msg="response completed with error" err.code="blob unknown" err.detail="sha256:2222222222222222222222222222222222222222222222222222222222222222" err.message="blob unknown to registry" go.version=go1.19.8 http.request.host="127.0.0.1:5999" http.request.id=9955 http.request.method=GET http.request.remoteaddr="127.0.0.1:35810" http.request.uri="/v2/t/img/blobs/sha256:2222222222222222222222222222222222222222222222222222222222222222" http.request.useragent=curl/7.88.1 http.response.contenttype="application/json; charset=utf-8" http.response.duration=2.1ms http.response.status=404 http.response.written=157 vars.digest="sha256:2222222222222222222222222222222222222222222222222222222222222222" vars.name=t/img
)";

constexpr char kBlob[] = "sha256:e4aac8b51c105c0c64cfa504e5b0a7c914f5c4fba1970d7d03a0a6f5242a3503";
constexpr char kMissing[] =
    "sha256:2222222222222222222222222222222222222222222222222222222222222222";

TEST(RegistryLogTest, CountsBlobBytesAndRequestsFromTextLog) {
  RegistryAccessLog log = ParseRegistryLog(kTextLog);
  // POST, PUT, GET, GET, HEAD, HEAD manifest, GET manifest, GET 404.
  EXPECT_EQ(log.requests.size(), 8u);
  RequestCounts blob = log.Blob(kBlob);
  EXPECT_EQ(blob.get, 2);
  EXPECT_EQ(blob.head, 1);
  EXPECT_EQ(blob.failed, 0);
  EXPECT_EQ(blob.bytes_served, 3000001u + 100u);
  EXPECT_EQ(log.BlobBytesServedTo("shoal/"), 3000001u);
  EXPECT_EQ(log.BlobBytesServedTo("containerd/"), 100u);

  RequestCounts missing = log.Blob(kMissing);
  EXPECT_EQ(missing.get, 1);
  EXPECT_EQ(missing.failed, 1);
  EXPECT_EQ(missing.bytes_served, 0u);  // an error body is not blob content
  EXPECT_EQ(log.TotalBlobBytesServed(), 3000001u + 100u);
}

TEST(RegistryLogTest, UploadsAreNotCountedAsServedBlobs) {
  RegistryAccessLog log = ParseRegistryLog(kTextLog);
  for (const auto& [digest, counts] : log.blobs) {
    EXPECT_TRUE(digest.rfind("sha256:", 0) == 0) << digest;
  }
  EXPECT_EQ(log.blobs.size(), 2u);
}

TEST(RegistryLogTest, CountsManifestRequestsByReference) {
  RegistryAccessLog log = ParseRegistryLog(kTextLog);
  ASSERT_EQ(log.manifests.size(), 2u);
  EXPECT_EQ(log.manifests.at("v1").head, 1);
  EXPECT_EQ(log.manifests.at("v1").get, 0);
  EXPECT_EQ(
      log.manifests.at("sha256:1111111111111111111111111111111111111111111111111111111111111111")
          .get,
      1);
  EXPECT_EQ(log.TotalManifestRequests(), 2);
}

TEST(RegistryLogTest, ReadsJsonFormatterLines) {
  std::string json = std::string(R"({"go.version":"go1.19.8","http.request.method":"GET",)") +
                     R"("http.request.uri":"/v2/a/b/c/blobs/)" + kBlob +
                     R"(","http.request.useragent":"shoal/0.1","http.response.status":200,)" +
                     R"("http.response.written":42,"level":"info","msg":"response completed"})" +
                     "\n";
  RegistryAccessLog log = ParseRegistryLog(json);
  ASSERT_EQ(log.requests.size(), 1u);
  EXPECT_EQ(log.Blob(kBlob).get, 1);
  EXPECT_EQ(log.Blob(kBlob).bytes_served, 42u);
  EXPECT_EQ(log.requests[0].status, 200);
}

TEST(RegistryLogTest, LogfmtHandlesQuotesAndEscapes) {
  auto fields = ParseLogfmt(R"(a=1 msg="say \"hi\" there" b="x=y" c=)");
  EXPECT_EQ(fields["a"], "1");
  EXPECT_EQ(fields["msg"], "say \"hi\" there");
  EXPECT_EQ(fields["b"], "x=y");
  EXPECT_EQ(fields["c"], "");
}

TEST(RegistryLogTest, IgnoresGarbageAndTruncatedLines) {
  RegistryAccessLog log = ParseRegistryLog(
      "not a log line\nmsg=\"response completed\" http.request.method=GET\n"
      "{\"msg\":\"response completed\"\n");
  EXPECT_TRUE(log.requests.empty());
  EXPECT_TRUE(log.blobs.empty());
}

}  // namespace
}  // namespace shoal::testkit
