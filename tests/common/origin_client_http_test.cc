// The libcurl origin client against a small registry stand-in (cpp-httplib on
// 127.0.0.1, port chosen by the kernel): ranges, Basic and Bearer auth, 429 with
// Retry-After, a connection cut mid-body, a stalled body, manifests.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/hashing.h"
#include "common/origin_client.h"
#include "common/retry_policy.h"

namespace shoal {
namespace {

constexpr char kBlobPath[] = R"(/v2/(.+)/blobs/(sha256:[0-9a-f]{64}))";

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Compares blobs without printing megabytes of binary on failure.
::testing::AssertionResult SameBytes(const std::string& got, const std::string& want) {
  if (got == want) return ::testing::AssertionSuccess();
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  return ::testing::AssertionFailure() << "got " << got.size() << " bytes, want " << want.size()
                                       << ", first difference at byte " << i;
}

class FakeRegistry {
 public:
  FakeRegistry() : blob_(RandomBytes((3 << 20) + 17, 1)), digest_("sha256:" + Sha256Hex(blob_)) {
    manifest_ = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"})";
    manifest_digest_ = "sha256:" + Sha256Hex(manifest_);
    svr_.Get("/token", [this](const httplib::Request& req, httplib::Response& res) {
      token_requests_++;
      token_request_auth_ = req.get_header_value("Authorization");
      if (token_request_auth_ == "Basic " + absl::Base64Escape("bob:wrong")) {
        res.status = 401;
        return;
      }
      if (req.get_param_value("service") != "fake-registry" ||
          req.get_param_value("scope") != "repository:tok/img:pull") {
        res.status = 400;
        return;
      }
      res.set_content(R"({"token":"good-token","expires_in":300})", "application/json");
    });
    svr_.Get(kBlobPath,
             [this](const httplib::Request& req, httplib::Response& res) { ServeBlob(req, res); });
    svr_.Get(R"(/v2/(.+)/manifests/(.+))", [this](const httplib::Request& req,
                                                  httplib::Response& res) {
      std::string ref = req.matches[2];
      if (ref != "v1" && ref != manifest_digest_ && ref != bogus_digest()) {
        res.status = 404;
        res.set_content(R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})",
                        "application/json");
        return;
      }
      accept_seen_ = req.get_header_value("Accept");
      res.set_header("Docker-Content-Digest", manifest_digest_);
      res.set_content(manifest_, "application/vnd.oci.image.manifest.v1+json");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::yield();
  }
  ~FakeRegistry() {
    {
      std::lock_guard<std::mutex> l(mu_);
      released_ = true;
    }
    cv_.notify_all();
    svr_.stop();
    thread_.join();
  }

  std::string host() const { return absl::StrCat("127.0.0.1:", port_); }
  const std::string& blob() const { return blob_; }
  const std::string& digest() const { return digest_; }
  static std::string bogus_digest() { return "sha256:" + std::string(64, 'b'); }

  std::atomic<int> token_requests_{0};
  std::atomic<int> busy_answers_{0};
  std::string token_request_auth_;
  std::string accept_seen_;
  std::string manifest_;
  std::string manifest_digest_;

 private:
  void ServeBlob(const httplib::Request& req, httplib::Response& res) {
    std::string repo = req.matches[1];
    if (req.matches[2] != digest_) {
      res.status = 404;
      res.set_content(
          R"({"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]})",
          "application/json");
      return;
    }
    std::string auth = req.get_header_value("Authorization");
    if (repo == "private/img" && auth != "Basic " + absl::Base64Escape("alice:s3cret")) {
      res.status = 401;
      res.set_header("WWW-Authenticate", R"(Basic realm="fake")");
      return;
    }
    if (repo == "tok/img" && auth != "Bearer good-token") {
      res.status = 401;
      res.set_header(
          "WWW-Authenticate",
          absl::StrCat(R"(Bearer realm="http://)", host(),
                       R"(/token",service="fake-registry",scope="repository:tok/img:pull")"));
      return;
    }
    if (repo == "busy/img") {
      busy_answers_++;
      res.status = 429;
      res.set_header("Retry-After", "7");
      res.set_content(R"({"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]})",
                      "application/json");
      return;
    }
    if (repo == "norange/img") {
      res.status = 200;  // ignores Range
      res.set_content(blob_, "application/octet-stream");
      return;
    }
    if (repo == "cut/img" || repo == "stall/img") {
      bool stall = repo == "stall/img";
      // The body stops halfway: the connection closes (cut) or goes quiet (stall).
      res.set_content_provider(
          blob_.size(), "application/octet-stream",
          [this, stall](size_t offset, size_t length, httplib::DataSink& sink) {
            sink.write(blob_.data() + offset, length / 2);
            if (stall) {
              std::unique_lock<std::mutex> l(mu_);
              cv_.wait_for(l, std::chrono::seconds(10), [this] { return released_; });
            }
            return false;
          });
      return;
    }
    res.set_content(blob_, "application/octet-stream");  // httplib answers Range with 206
  }

  std::string blob_;
  std::string digest_;
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

class OriginClientHttpTest : public ::testing::Test {
 protected:
  std::unique_ptr<OriginClient> Client(RegistryCredentials creds = {}) {
    OriginClientOptions opts;
    opts.insecure_registries = {reg_.host()};
    opts.stall_timeout = absl::Milliseconds(500);
    return MakeHttpOriginClient(opts, creds);
  }
  OriginRepo Repo(const std::string& name) { return {reg_.host(), name}; }

  // Fetches [offset, offset+length) and checks every byte arrives in order at its offset.
  OriginClient::RangeResult Fetch(OriginClient& c, const std::string& repo, uint64_t offset,
                                  uint64_t length, std::string* got) {
    return c.FetchRange(
        Repo(repo), reg_.digest(), offset, length,
        [&, next = offset](uint64_t at, const char* data, size_t n) mutable {
          EXPECT_EQ(at, next) << "bytes out of order";
          next += n;
          got->append(data, n);
          return true;
        },
        nullptr);
  }

  FakeRegistry reg_;
};

TEST_F(OriginClientHttpTest, BlobSizeFromHead) {
  auto size = Client()->BlobSize(Repo("test/img"), reg_.digest());
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, reg_.blob().size());
}

TEST_F(OriginClientHttpTest, RangeDeliversExactlyTheAskedBytes) {
  auto c = Client();
  std::string got;
  auto r = Fetch(*c, "test/img", (1 << 20) + 5, 700001, &got);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.http_status, 206);
  EXPECT_EQ(r.bytes, 700001u);
  EXPECT_TRUE(SameBytes(got, reg_.blob().substr((1 << 20) + 5, 700001)));
  // The tail, through the last byte.
  got.clear();
  uint64_t tail = reg_.blob().size() - 1000;
  r = Fetch(*c, "test/img", tail, 1000, &got);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(SameBytes(got, reg_.blob().substr(tail)));
}

TEST_F(OriginClientHttpTest, WholeBodyAnswerIsAcceptedOnlyForTheWholeBlob) {
  auto c = Client();
  std::string got;
  auto r = Fetch(*c, "norange/img", 0, reg_.blob().size(), &got);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(SameBytes(got, reg_.blob()));
  got.clear();
  r = Fetch(*c, "norange/img", 4096, 4096, &got);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kFailedPrecondition) << r.status;
  EXPECT_EQ(r.bytes, 0u);
  EXPECT_TRUE(got.empty()) << "bytes from the wrong offset reached the sink";
  EXPECT_FALSE(IsRetryable(r.status, r.http_status));
}

TEST_F(OriginClientHttpTest, NotFoundNamesRegistryRepoDigestAndStatus) {
  std::string missing = FakeRegistry::bogus_digest();
  auto size = Client()->BlobSize(Repo("test/img"), missing);
  EXPECT_EQ(size.status().code(), absl::StatusCode::kNotFound) << size.status();
  std::string got;
  auto r = Client()->FetchRange(
      Repo("test/img"), missing, 0, 10,
      [&](uint64_t, const char* d, size_t n) {
        got.append(d, n);
        return true;
      },
      nullptr);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r.http_status, 404);
  EXPECT_TRUE(got.empty()) << "an error page reached the sink";
  std::string msg(r.status.message());
  EXPECT_TRUE(absl::StrContains(msg, reg_.host())) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "test/img")) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "sha256:bbbbbbbbbbbb")) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "404")) << msg;
}

TEST_F(OriginClientHttpTest, BasicAuthRegistry) {
  auto anonymous = Client()->BlobSize(Repo("private/img"), reg_.digest());
  EXPECT_EQ(anonymous.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(anonymous.status().message(), "needs credentials"));

  auto wrong = Client({"alice", "guess"})->BlobSize(Repo("private/img"), reg_.digest());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_FALSE(absl::StrContains(wrong.status().message(), "guess")) << "password in a message";

  auto c = Client({"alice", "s3cret"});
  auto size = c->BlobSize(Repo("private/img"), reg_.digest());
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, reg_.blob().size());
  std::string got;
  auto r = Fetch(*c, "private/img", 10, 5000, &got);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(SameBytes(got, reg_.blob().substr(10, 5000)));
}

TEST_F(OriginClientHttpTest, BearerTokenIsFetchedOnceAndReused) {
  auto c = Client({"bob", "pw"});
  std::string got;
  auto r = Fetch(*c, "tok/img", 0, 1000, &got);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(SameBytes(got, reg_.blob().substr(0, 1000)));
  got.clear();
  r = Fetch(*c, "tok/img", 1000, 1000, &got);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(SameBytes(got, reg_.blob().substr(1000, 1000)));
  ASSERT_TRUE(c->BlobSize(Repo("tok/img"), reg_.digest()).ok());
  EXPECT_EQ(reg_.token_requests_.load(), 1);
  // The token endpoint got the Basic credentials.
  EXPECT_EQ(reg_.token_request_auth_, "Basic " + absl::Base64Escape("bob:pw"));
}

TEST_F(OriginClientHttpTest, TokenEndpointRefusingCredentialsIsUnauthenticated) {
  auto c = Client({"bob", "wrong"});
  std::string got;
  auto r = Fetch(*c, "tok/img", 0, 100, &got);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnauthenticated) << r.status;
  EXPECT_TRUE(absl::StrContains(r.status.message(), "token endpoint")) << r.status;
  EXPECT_FALSE(absl::StrContains(r.status.message(), "wrong")) << "password in a message";
  EXPECT_FALSE(IsRetryable(r.status, r.http_status));
  EXPECT_TRUE(got.empty());
}

TEST_F(OriginClientHttpTest, AnonymousBearerToken) {
  auto c = Client();
  std::string got;
  auto r = Fetch(*c, "tok/img", 0, 100, &got);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(reg_.token_request_auth_, "");
}

TEST_F(OriginClientHttpTest, TooManyRequestsCarriesRetryAfter) {
  std::string got;
  auto c = Client();
  auto r = Fetch(*c, "busy/img", 0, 100, &got);
  EXPECT_EQ(r.http_status, 429);
  EXPECT_EQ(r.retry_after, absl::Seconds(7));
  EXPECT_TRUE(IsRetryable(r.status, r.http_status));
  EXPECT_TRUE(absl::StrContains(r.status.message(), "429")) << r.status;
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(reg_.busy_answers_.load(), 1) << "the client must not retry by itself";
  // BlobSize has no retry_after field: the status carries it.
  auto size = c->BlobSize(Repo("busy/img"), reg_.digest());
  EXPECT_EQ(size.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(RetryAfterOf(size.status()), absl::Seconds(7));
}

TEST_F(OriginClientHttpTest, CutMidBodyReportsTheBytesThatArrivedAndResumes) {
  auto c = Client();
  const uint64_t offset = 12345, length = 2 << 20;
  std::string got;
  auto r = Fetch(*c, "cut/img", offset, length, &got);
  ASSERT_FALSE(r.status.ok());
  EXPECT_TRUE(IsRetryable(r.status, r.http_status)) << r.status;
  EXPECT_GT(r.bytes, 0u);
  EXPECT_LT(r.bytes, length);
  EXPECT_EQ(got.size(), r.bytes);
  EXPECT_TRUE(SameBytes(got, reg_.blob().substr(offset, r.bytes)));
  // Resume at the exact byte from a healthy path: the pieces join into the right range.
  std::string rest;
  auto r2 = Fetch(*c, "test/img", offset + r.bytes, length - r.bytes, &rest);
  ASSERT_TRUE(r2.status.ok()) << r2.status;
  EXPECT_TRUE(SameBytes(got + rest, reg_.blob().substr(offset, length)));
}

TEST_F(OriginClientHttpTest, StalledBodyIsCutAtStallTimeout) {
  auto c = Client();
  std::string got;
  absl::Time start = absl::Now();
  auto r = Fetch(*c, "stall/img", 0, 1 << 20, &got);
  absl::Duration took = absl::Now() - start;
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDeadlineExceeded) << r.status;
  EXPECT_TRUE(IsRetryable(r.status, r.http_status));
  EXPECT_EQ(r.bytes, uint64_t{1 << 19});
  EXPECT_TRUE(SameBytes(got, reg_.blob().substr(0, 1 << 19)));
  EXPECT_GE(took, absl::Milliseconds(500));
  EXPECT_LT(took, absl::Seconds(5)) << "stall timeout not applied";
}

TEST_F(OriginClientHttpTest, CancelAndRefusingSinkStopTheTransfer) {
  auto c = Client();
  std::atomic<bool> cancel{true};
  auto r = c->FetchRange(
      Repo("test/img"), reg_.digest(), 0, 1 << 20,
      [](uint64_t, const char*, size_t) { return true; }, &cancel);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kCancelled) << r.status;
  r = c->FetchRange(
      Repo("test/img"), reg_.digest(), 0, 1 << 20,
      [](uint64_t, const char*, size_t) { return false; }, nullptr);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kCancelled) << r.status;
  EXPECT_EQ(r.bytes, 0u);
}

TEST_F(OriginClientHttpTest, ManifestByTagAndByDigest) {
  auto c = Client();
  std::vector<std::string> accept = {"application/vnd.oci.image.manifest.v1+json",
                                     "application/vnd.docker.distribution.manifest.v2+json"};
  auto m = c->GetManifest(Repo("test/img"), "v1", accept, false);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->body, reg_.manifest_);
  EXPECT_EQ(m->media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(m->digest, reg_.manifest_digest_);
  EXPECT_TRUE(absl::StrContains(reg_.accept_seen_, accept[1]));

  auto head = c->GetManifest(Repo("test/img"), "v1", accept, true);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->digest, reg_.manifest_digest_);
  EXPECT_TRUE(head->body.empty());

  auto by_digest = c->GetManifest(Repo("test/img"), reg_.manifest_digest_, accept, false);
  ASSERT_TRUE(by_digest.ok()) << by_digest.status();
  // Bytes that do not hash to the digest asked for are never returned.
  auto bad = c->GetManifest(Repo("test/img"), FakeRegistry::bogus_digest(), accept, false);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss) << bad.status();

  auto missing = c->GetManifest(Repo("test/img"), "v2", accept, false);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "manifest unknown"));
}

TEST_F(OriginClientHttpTest, UnreachableOriginIsRetryable) {
  OriginClientOptions opts;
  opts.insecure_registries = {"127.0.0.1:1"};
  auto c = MakeHttpOriginClient(opts);
  auto size = c->BlobSize({"127.0.0.1:1", "test/img"}, reg_.digest());
  EXPECT_EQ(size.status().code(), absl::StatusCode::kUnavailable) << size.status();
  EXPECT_TRUE(IsRetryable(size.status()));
}

}  // namespace
}  // namespace shoal
