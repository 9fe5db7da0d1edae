// The real parts the integration tests stand on: docker-registry (push, pull,
// auth, pull-through), its access accounting, and containerd pulling through a
// hosts.toml mirror without silently falling back to the registry.
#include <gtest/gtest.h>

#include <csignal>

#include "absl/strings/match.h"
#include "common/hashing.h"
#include "testkit/containerd_process.h"
#include "testkit/image_builder.h"
#include "testkit/image_pusher.h"
#include "testkit/net_util.h"
#include "testkit/registry_process.h"
#include "testkit/subprocess.h"
#include "testkit/temp_dir.h"

namespace shoal::testkit {
namespace {

class TestkitProcessesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("tk");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<TempDir>(std::move(*dir));
  }

  BuiltImage Build(const ImageSpec& spec) {
    auto image = BuildImage(spec, dir_->path() + "/image");
    EXPECT_TRUE(image.ok()) << image.status();
    return *image;
  }

  std::unique_ptr<TempDir> dir_;
};

TEST_F(TestkitProcessesTest, SubprocessWaitsForLogLineAndReportsEarlyExit) {
  SubprocessOptions o;
  o.argv = {"sh", "-c", "echo starting; echo 'demo ready' >&2; sleep 30"};
  o.log_path = dir_->File("a.log");
  auto p = Subprocess::Start(o);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE((*p)->WaitForLogLine("demo ready", absl::Seconds(10)).ok());
  EXPECT_TRUE((*p)->Running());
  (*p)->Kill(SIGKILL);
  auto code = (*p)->Wait(absl::Seconds(10));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 128 + SIGKILL);

  o.argv = {"sh", "-c", "echo boom; exit 3"};
  auto q = Subprocess::Start(o);
  ASSERT_TRUE(q.ok());
  absl::Status s = (*q)->WaitForLogLine("never", absl::Seconds(10));
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "exited with code 3")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "boom")) << s;
  // The second process's log view does not include the first one's lines.
  EXPECT_FALSE(absl::StrContains((*q)->ReadLog(), "demo ready"));
}

TEST_F(TestkitProcessesTest, RunCommandCapturesOutputAndExitCode) {
  auto r = RunCommand({"sh", "-c", "echo out; echo err >&2; exit 5"}, absl::Seconds(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 5);
  EXPECT_TRUE(absl::StrContains(r->output, "out"));
  EXPECT_TRUE(absl::StrContains(r->output, "err"));
}

TEST_F(TestkitProcessesTest, PushedImageIsServedAndEachBlobGetIsCounted) {
  auto reg = RegistryProcess::Start({});
  ASSERT_TRUE(reg.ok()) << reg.status();
  ImageSpec spec;
  spec.layer_sizes = {UnalignedSize(2 << 20), 777};
  BuiltImage image = Build(spec);
  ASSERT_TRUE(PushImage(image, {(*reg)->url()}).ok());
  (*reg)->MarkAccessLog();
  EXPECT_TRUE((*reg)->ReadAccessLog().requests.empty());

  HttpCall get;
  get.url = (*reg)->url() + "/v2/test/img/manifests/v1";
  get.headers = {"Accept: " + image.top().media_type};
  auto m = HttpFetch(get);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(m->Header("docker-content-digest"), image.top().digest);
  for (const BlobFile& blob : image.PlatformBlobs()) {
    get.url = (*reg)->url() + "/v2/test/img/blobs/" + blob.digest;
    auto b = HttpFetch(get);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->status, 200);
    EXPECT_EQ("sha256:" + Sha256Hex(b->body), blob.digest);
  }
  RegistryAccessLog log = (*reg)->ReadAccessLog();
  for (const BlobFile& blob : image.PlatformBlobs()) {
    EXPECT_EQ(log.Blob(blob.digest).get, 1) << blob.digest;
    EXPECT_EQ(log.Blob(blob.digest).bytes_served, blob.size) << blob.digest;
  }
  EXPECT_EQ(log.TotalBlobBytesServed(), image.PlatformBlobBytes());
  EXPECT_EQ(log.manifests.at("v1").get, 1);
}

TEST_F(TestkitProcessesTest, MultiPlatformImagePushes) {
  auto reg = RegistryProcess::Start({});
  ASSERT_TRUE(reg.ok()) << reg.status();
  ImageSpec spec;
  spec.layer_sizes = {5001};
  spec.multi_platform = true;
  BuiltImage image = Build(spec);
  ASSERT_TRUE(PushImage(image, {(*reg)->url()}).ok());
  HttpCall get;
  get.method = "HEAD";
  get.url = (*reg)->url() + "/v2/test/img/manifests/v1";
  get.headers = {"Accept: " + image.index->media_type};
  auto m = HttpFetch(get);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->Header("docker-content-digest"), image.index->digest);
}

TEST_F(TestkitProcessesTest, BasicAuthRegistryRejectsAnonymousAndAcceptsCredentials) {
  RegistryOptions o;
  o.username = "alice";
  o.password = "s3cret pass";
  auto reg = RegistryProcess::Start(o);
  ASSERT_TRUE(reg.ok()) << reg.status();
  HttpCall anon;
  anon.url = (*reg)->url() + "/v2/";
  EXPECT_EQ(HttpFetch(anon)->status, 401);

  ImageSpec spec;
  spec.layer_sizes = {1001};
  BuiltImage image = Build(spec);
  EXPECT_FALSE(PushImage(image, {(*reg)->url()}).ok());
  EXPECT_FALSE(PushImage(image, {(*reg)->url(), "alice", "wrong"}).ok());
  ASSERT_TRUE(PushImage(image, {(*reg)->url(), "alice", "s3cret pass"}).ok());
}

TEST_F(TestkitProcessesTest, PullThroughCacheServesUpstreamContent) {
  auto upstream = RegistryProcess::Start({});
  ASSERT_TRUE(upstream.ok()) << upstream.status();
  ImageSpec spec;
  spec.layer_sizes = {UnalignedSize(1 << 20)};
  BuiltImage image = Build(spec);
  ASSERT_TRUE(PushImage(image, {(*upstream)->url()}).ok());
  (*upstream)->MarkAccessLog();

  RegistryOptions o;
  o.proxy_remote_url = (*upstream)->url();
  auto cache = RegistryProcess::Start(o);
  ASSERT_TRUE(cache.ok()) << cache.status();
  const BlobFile& layer = image.platforms[0].layers[0];
  for (int i = 0; i < 3; ++i) {
    HttpCall get;
    get.url = (*cache)->url() + "/v2/test/img/blobs/" + layer.digest;
    auto b = HttpFetch(get);
    ASSERT_TRUE(b.ok());
    ASSERT_EQ(b->status, 200);
    EXPECT_EQ("sha256:" + Sha256Hex(b->body), layer.digest);
  }
  EXPECT_EQ((*cache)->ReadAccessLog().Blob(layer.digest).get, 3);
  // docker-registry 2.8's cache may fetch a blob again while its first copy is
  // still being committed, so "once" is not guaranteed; it must go upstream.
  RequestCounts upstream_served = (*upstream)->ReadAccessLog().Blob(layer.digest);
  EXPECT_GE(upstream_served.bytes_served, layer.size);
  EXPECT_EQ(upstream_served.bytes_served % layer.size, 0u);
}

TEST_F(TestkitProcessesTest, ContainerdFetchesDirectlyAndContentMatches) {
  auto reg = RegistryProcess::Start({});
  ASSERT_TRUE(reg.ok()) << reg.status();
  ImageSpec spec;
  spec.layer_sizes = {UnalignedSize(1 << 20), 12345};
  BuiltImage image = Build(spec);
  ASSERT_TRUE(PushImage(image, {(*reg)->url()}).ok());
  auto ctrd = ContainerdProcess::Start();
  ASSERT_TRUE(ctrd.ok()) << ctrd.status();

  auto r = (*ctrd)->Fetch(image.Reference((*reg)->host_port()), "");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << r->output;
  auto content = (*ctrd)->ListContent();
  ASSERT_TRUE(content.ok());
  for (const BlobFile& blob : image.PlatformBlobs()) {
    bool found = false;
    for (const ContentEntry& e : *content) {
      if (e.digest == blob.digest) {
        found = true;
        EXPECT_EQ(e.size, blob.size);
      }
    }
    EXPECT_TRUE(found) << blob.digest << " missing after fetch:\n" << r->output;
  }
  ASSERT_TRUE((*ctrd)->RemoveAllContent().ok());
  EXPECT_TRUE((*ctrd)->ListContent()->empty());
}

TEST_F(TestkitProcessesTest, ContainerdDoesNotBypassABrokenMirror) {
  // If containerd fell back to the registry when the mirror fails, every
  // integration test through a shoal peer would pass without the peer working.
  auto reg = RegistryProcess::Start({});
  ASSERT_TRUE(reg.ok()) << reg.status();
  ImageSpec spec;
  spec.layer_sizes = {1001};
  BuiltImage image = Build(spec);
  ASSERT_TRUE(PushImage(image, {(*reg)->url()}).ok());
  (*reg)->MarkAccessLog();
  auto ctrd = ContainerdProcess::Start();
  ASSERT_TRUE(ctrd.ok()) << ctrd.status();
  auto dead_port = FreePort();
  ASSERT_TRUE(dead_port.ok());
  auto hosts = (*ctrd)->WriteHostsToml((*reg)->host_port(), HostPort("127.0.0.1", *dead_port));
  ASSERT_TRUE(hosts.ok());
  auto r = (*ctrd)->Fetch(image.Reference((*reg)->host_port()), *hosts, {}, absl::Seconds(60));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->exit_code, 0) << r->output;
  EXPECT_TRUE((*reg)->ReadAccessLog().requests.empty());

  // With the registry itself as the mirror (under another name, so containerd
  // treats it as a mirror), the same hosts setup pulls.
  std::string mirror = (*reg)->host_port();
  mirror.replace(0, mirror.find(':'), "localhost");
  auto via = (*ctrd)->WriteHostsToml((*reg)->host_port(), mirror);
  ASSERT_TRUE(via.ok());
  r = (*ctrd)->Fetch(image.Reference((*reg)->host_port()), *via);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0) << r->output;
  RegistryAccessLog log = (*reg)->ReadAccessLog();
  EXPECT_EQ(log.TotalBlobBytesServed(), image.PlatformBlobBytes()) << log.Summary();
  // containerd tells the mirror which registry it stands in for.
  bool saw_ns = false;
  for (const RegistryRequest& req : log.requests) saw_ns |= absl::StrContains(req.uri, "ns=");
  EXPECT_TRUE(saw_ns);
}

}  // namespace
}  // namespace shoal::testkit
