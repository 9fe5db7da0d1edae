// The fault proxy in front of a plain cpp-httplib upstream on 127.0.0.1, driven by
// the real origin client (and, last, the BlobFetcher) as its client.
#include "testkit/fault_proxy.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/blob_fetcher.h"
#include "common/hashing.h"
#include "common/origin_client.h"
#include "common/retry_policy.h"

namespace shoal {
namespace {

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class Upstream {
 public:
  explicit Upstream(std::string blob) : blob_(std::move(blob)) {
    digest_ = "sha256:" + Sha256Hex(blob_);
    path_ = "/v2/test/img/blobs/" + digest_;
    svr_.Get(path_, [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(blob_, "application/octet-stream");  // cpp-httplib answers Range with 206
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::yield();
  }
  ~Upstream() {
    svr_.stop();
    thread_.join();
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  const std::string& blob() const { return blob_; }
  const std::string& digest() const { return digest_; }
  const std::string& path() const { return path_; }

 private:
  std::string blob_, digest_, path_;
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
};

class FaultProxyTest : public ::testing::Test {
 protected:
  FaultProxyTest() : upstream_(RandomBytes((1 << 20) + 333, 3)) {
    proxy_ = *FaultProxy::Start({upstream_.address(), 42});
    OriginClientOptions opts;
    opts.insecure_registries = {proxy_->address()};
    opts.stall_timeout = absl::Milliseconds(500);
    client_ = MakeHttpOriginClient(opts);
  }

  OriginClient::RangeResult Fetch(uint64_t offset, uint64_t length, std::string* got) {
    got->clear();
    return client_->FetchRange(
        {proxy_->address(), "test/img"}, upstream_.digest(), offset, length,
        [got](uint64_t, const char* d, size_t n) {
          got->append(d, n);
          return true;
        },
        nullptr);
  }
  const std::string& blob() { return upstream_.blob(); }

  Upstream upstream_;
  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<OriginClient> client_;
};

TEST_F(FaultProxyTest, PassesBytesThroughAndCountsThem) {
  std::string got;
  auto r = Fetch(0, blob().size(), &got);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(got == blob());
  r = Fetch(300000, 5000, &got);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.http_status, 206);
  EXPECT_TRUE(got == blob().substr(300000, 5000)) << "range applied twice or not at all";
  auto size = client_->BlobSize({proxy_->address(), "test/img"}, upstream_.digest());
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, blob().size());
  FaultProxy::PathCounts c = proxy_->Counts(upstream_.path());
  EXPECT_EQ(c.requests, 3u);
  EXPECT_EQ(c.body_bytes, blob().size() + 5000);
  EXPECT_EQ(proxy_->faults_injected(), 0u);
}

TEST_F(FaultProxyTest, TooManyRequestsWithRetryAfterThenRecovers) {
  FaultRule rule;
  rule.action = FaultRule::Action::kStatus;
  rule.status = 429;
  rule.retry_after = absl::Seconds(3);
  rule.times = 1;
  rule.path_regex = "/blobs/";
  proxy_->AddRule(rule);
  std::string got;
  auto r = Fetch(0, 1000, &got);
  EXPECT_EQ(r.http_status, 429);
  EXPECT_EQ(r.retry_after, absl::Seconds(3));
  EXPECT_TRUE(IsRetryable(r.status, r.http_status));
  EXPECT_TRUE(got.empty());
  r = Fetch(0, 1000, &got);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(got == blob().substr(0, 1000));
  EXPECT_EQ(proxy_->faults_injected(), 1u);
}

// An injected error answers a ranged request as it is, wherever the range starts
// (the range must not be applied to the short error body: that would be a 416,
// which clients rightly treat as permanent).
TEST_F(FaultProxyTest, InjectedStatusAnswersARangeFarIntoTheBlob) {
  FaultRule rule;
  rule.action = FaultRule::Action::kStatus;
  rule.status = 503;
  rule.retry_after = absl::Seconds(2);
  rule.times = 1;
  proxy_->AddRule(rule);
  std::string got;
  auto r = Fetch(700000, 5000, &got);
  EXPECT_EQ(r.http_status, 503);
  EXPECT_EQ(r.retry_after, absl::Seconds(2));
  EXPECT_TRUE(IsRetryable(r.status, r.http_status)) << r.status;
}

TEST_F(FaultProxyTest, ServerErrorOnScheduledRequestIndexOnly) {
  FaultRule rule;
  rule.action = FaultRule::Action::kStatus;
  rule.status = 500;
  rule.request_indexes = {1};
  proxy_->AddRule(rule);
  std::string got;
  EXPECT_TRUE(Fetch(0, 10, &got).status.ok());
  auto r = Fetch(0, 10, &got);
  EXPECT_EQ(r.http_status, 500);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(Fetch(0, 10, &got).status.ok());
}

TEST_F(FaultProxyTest, PathRegexSelectsRequests) {
  FaultRule rule;
  rule.action = FaultRule::Action::kStatus;
  rule.status = 503;
  rule.path_regex = "/manifests/";
  proxy_->AddRule(rule);
  std::string got;
  EXPECT_TRUE(Fetch(0, 10, &got).status.ok());
  auto m = client_->GetManifest({proxy_->address(), "test/img"}, "v1", {}, false);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kUnavailable) << m.status();
}

TEST_F(FaultProxyTest, ResetMidBodyDeliversExactlyThePrefix) {
  FaultRule rule;
  rule.action = FaultRule::Action::kResetMidBody;
  rule.after_bytes = 100000;
  proxy_->AddRule(rule);
  std::string got;
  auto r = Fetch(1000, 500000, &got);
  EXPECT_FALSE(r.status.ok());
  EXPECT_TRUE(IsRetryable(r.status, r.http_status)) << r.status;
  EXPECT_EQ(r.bytes, 100000u);
  EXPECT_TRUE(got == blob().substr(1000, 100000));
  EXPECT_EQ(proxy_->Counts(upstream_.path()).body_bytes, 100000u);
}

TEST_F(FaultProxyTest, TruncatedBodyIsNoticedByTheClient) {
  FaultRule rule;
  rule.action = FaultRule::Action::kTruncateBody;
  rule.after_bytes = 50000;
  proxy_->AddRule(rule);
  std::string got;
  auto r = Fetch(0, 400000, &got);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
  EXPECT_EQ(r.bytes, 50000u);
  EXPECT_TRUE(got == blob().substr(0, 50000));
}

TEST_F(FaultProxyTest, StallMidBodyIsCutByTheClientsStallTimeout) {
  FaultRule rule;
  rule.action = FaultRule::Action::kStallMidBody;
  rule.after_bytes = 70000;
  rule.delay = absl::Seconds(20);
  proxy_->AddRule(rule);
  std::string got;
  absl::Time start = absl::Now();
  auto r = Fetch(0, 400000, &got);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDeadlineExceeded) << r.status;
  EXPECT_EQ(r.bytes, 70000u);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  absl::Time stop_start = absl::Now();
  proxy_->Stop();
  EXPECT_LT(absl::Now() - stop_start, absl::Seconds(3)) << "a stall held up Stop()";
}

TEST_F(FaultProxyTest, DelayHoldsTheAnswer) {
  FaultRule rule;
  rule.action = FaultRule::Action::kDelay;
  rule.delay = absl::Milliseconds(300);
  proxy_->AddRule(rule);
  std::string got;
  absl::Time start = absl::Now();
  auto r = Fetch(0, 1000, &got);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  EXPECT_TRUE(got == blob().substr(0, 1000));
}

TEST_F(FaultProxyTest, ProbabilityIsSeededAndRepeatable) {
  auto count_failures = [&](FaultProxy& proxy) {
    FaultRule rule;
    rule.action = FaultRule::Action::kStatus;
    rule.probability = 0.5;
    proxy.AddRule(rule);
    OriginClientOptions opts;
    opts.insecure_registries = {proxy.address()};
    auto client = MakeHttpOriginClient(opts);
    std::string pattern;
    for (int i = 0; i < 30; ++i) {
      auto r = client->FetchRange(
          {proxy.address(), "test/img"}, upstream_.digest(), 0, 10,
          [](uint64_t, const char*, size_t) { return true; }, nullptr);
      pattern.push_back(r.status.ok() ? '.' : 'x');
    }
    return pattern;
  };
  std::string first = count_failures(*proxy_);
  auto again = *FaultProxy::Start({upstream_.address(), 42});
  EXPECT_EQ(count_failures(*again), first);
  auto failures = std::count(first.begin(), first.end(), 'x');
  EXPECT_GT(failures, 5) << first;
  EXPECT_LT(failures, 25) << first;
}

TEST_F(FaultProxyTest, FetcherThroughFaultsGetsTheBlobAndOriginServesEachByteOnce) {
  // 429s, resets and truncations: the fetcher retries and resumes at the exact byte,
  // so the proxy passes every byte of the blob exactly once.
  FaultRule busy;
  busy.action = FaultRule::Action::kStatus;
  busy.status = 429;
  busy.times = 2;
  proxy_->AddRule(busy);
  FaultRule reset;
  reset.action = FaultRule::Action::kResetMidBody;
  reset.after_bytes = 12345;
  reset.times = 3;
  proxy_->AddRule(reset);
  FaultRule truncate;
  truncate.action = FaultRule::Action::kTruncateBody;
  truncate.after_bytes = 777;
  truncate.times = 2;
  proxy_->AddRule(truncate);

  std::string root = absl::StrCat(::testing::TempDir(), "/fault_proxy_fetch_", ::getpid());
  std::filesystem::remove_all(root);
  auto store = *BlobStore::Open(root);
  TransferConfig cfg;
  cfg.chunk_size = 128 << 10;
  cfg.segment_size = 512 << 10;
  cfg.piece_size = 16 << 10;
  cfg.origin_concurrency = 3;
  cfg.backoff_initial = absl::Milliseconds(5);
  cfg.backoff_max = absl::Milliseconds(20);
  BlobFetcher fetcher(*client_, *store, cfg, Clock::Real());
  BlobDigest digest = *BlobDigest::Parse(upstream_.digest());
  absl::Status st = fetcher.Fetch(digest, {proxy_->address(), "test/img"}, {}, nullptr);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_TRUE(store->IsVerified(digest));
  EXPECT_EQ(proxy_->faults_injected(), 7u);
  EXPECT_EQ(fetcher.stats().retries, 7u);
  EXPECT_EQ(proxy_->Counts(upstream_.path()).body_bytes, blob().size());
  std::filesystem::remove_all(root);
}

// Shaping: one connection is held to its per-connection rate, and parallel
// connections together to the total - what the big-blob benchmark relies on to
// compare ranged parallel GETs with a single stream.
TEST_F(FaultProxyTest, ShapesEachConnectionAndTheTotal) {
  const uint64_t mib = blob().size();  // ~1 MiB
  proxy_->SetRateLimits(/*per_connection=*/4 << 20, /*total=*/0);
  std::string got;
  absl::Time start = absl::Now();
  auto r = Fetch(0, mib, &got);
  absl::Duration one = absl::Now() - start;
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(got == blob());
  EXPECT_GE(one, absl::Milliseconds(220)) << "1 MiB at 4 MiB/s per connection";
  EXPECT_LT(one, absl::Seconds(3));

  // Four connections at once: per-connection shaping lets them add up...
  auto parallel = [&](int n) {
    std::vector<std::thread> threads;
    absl::Time t0 = absl::Now();
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&] {
        std::string body;
        auto rr = client_->FetchRange(
            {proxy_->address(), "test/img"}, upstream_.digest(), 0, mib,
            [&body](uint64_t, const char* d, size_t len) {
              body.append(d, len);
              return true;
            },
            nullptr);
        EXPECT_TRUE(rr.status.ok()) << rr.status;
        EXPECT_EQ(body.size(), mib);
      });
    }
    for (auto& t : threads) t.join();
    return absl::Now() - t0;
  };
  absl::Duration four = parallel(4);
  EXPECT_LT(four, one * 2.5) << "four shaped connections should run side by side";
  // ...while a total limit holds them together to it: 4 MiB at 8 MiB/s.
  proxy_->SetRateLimits(/*per_connection=*/0, /*total=*/8 << 20);
  absl::Duration total = parallel(4);
  EXPECT_GE(total, absl::Milliseconds(450)) << "4 MiB at 8 MiB/s in total";
}

}  // namespace
}  // namespace shoal
