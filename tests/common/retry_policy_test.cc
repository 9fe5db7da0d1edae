#include "common/retry_policy.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/transfer_config.h"

namespace shoal {
namespace {

TransferConfig Config() {
  TransferConfig cfg;
  cfg.stall_timeout = absl::Seconds(30);
  cfg.deadline_base = absl::Seconds(30);
  cfg.min_rate = 1 << 20;  // 1 MiB/s
  cfg.backoff_initial = absl::Milliseconds(500);
  cfg.backoff_max = absl::Seconds(30);
  cfg.max_attempts = 10;
  return cfg;
}

TEST(TransferWatchdogTest, SlowButMovingTransferIsNeverCut) {
  SimulatedClock clock;
  TransferConfig cfg = Config();
  // 1 GiB at exactly min_rate takes 1024 s; its deadline is 30 s + 1024 s.
  const uint64_t size = 1ull << 30;
  TransferWatchdog dog = TransferWatchdog::ForTransfer(clock, cfg, size);
  for (uint64_t moved = 0; moved < size; moved += cfg.min_rate) {
    clock.Advance(absl::Seconds(1));
    dog.OnBytes(cfg.min_rate);
    ASSERT_EQ(dog.Expired(), std::nullopt) << "cut after " << moved << " bytes";
  }
  EXPECT_EQ(dog.total(), size);
}

// The case: a 20 GB blob from an origin that gives each connection 5 MB/s,
// with the shipped defaults. Every ranged chunk request keeps moving, so none is
// ever cut - not even with a pause just under the stall timeout in each chunk.
TEST(TransferWatchdogTest, DefaultsCarryA20GBBlobThroughA5MBpsPerConnectionOrigin) {
  SimulatedClock clock;
  const TransferConfig cfg;  // the defaults a user gets
  const uint64_t blob = 20'000'000'000ull;
  const uint64_t rate = 5'000'000;  // bytes/s per connection
  const absl::Duration tick = absl::Milliseconds(100);
  const absl::Time start = clock.Now();
  uint64_t chunks = 0;
  for (uint64_t off = 0; off < blob; off += cfg.chunk_size, ++chunks) {
    const uint64_t len = std::min<uint64_t>(cfg.chunk_size, blob - off);
    TransferWatchdog dog = TransferWatchdog::ForTransfer(clock, cfg, len);
    if (chunks % 97 == 0) {  // now and then the CDN hiccups, just under stall_timeout
      clock.Advance(cfg.stall_timeout - absl::Seconds(1));
      ASSERT_EQ(dog.Expired(), std::nullopt) << "chunk " << chunks << " cut during a hiccup";
    }
    for (uint64_t moved = 0; moved < len;) {
      clock.Advance(tick);
      uint64_t n = std::min<uint64_t>(len - moved, rate / 10);
      dog.OnBytes(n);
      moved += n;
      ASSERT_EQ(dog.Expired(), std::nullopt) << "chunk " << chunks << " cut at byte " << moved;
    }
  }
  EXPECT_EQ(chunks, (blob + cfg.chunk_size - 1) / cfg.chunk_size);
  // One stream's worth of time (the fetcher runs origin_concurrency of them at once).
  EXPECT_GT(clock.Now() - start, absl::Seconds(4000));
  // A single 20 GB stream at 5 MB/s would not hit its deadline either.
  EXPECT_GT(cfg.DeadlineFor(blob), absl::Seconds(blob / rate));
}

TEST(TransferWatchdogTest, StallDeepIntoABigTransferIsCutAtExactlyTheStallTimeout) {
  SimulatedClock clock;
  const TransferConfig cfg;
  const uint64_t big = 20'000'000'000ull;
  TransferWatchdog dog = TransferWatchdog::ForTransfer(clock, cfg, big);
  for (int s = 0; s < 2000; ++s) {  // 10 GB in at 5 MB/s
    clock.Advance(absl::Seconds(1));
    dog.OnBytes(5'000'000);
  }
  ASSERT_EQ(dog.Expired(), std::nullopt);
  clock.Advance(cfg.stall_timeout - absl::Milliseconds(1));
  EXPECT_EQ(dog.Expired(), std::nullopt) << "cut before stall_timeout";
  clock.Advance(absl::Milliseconds(1));
  auto expired = dog.Expired();
  ASSERT_TRUE(expired.has_value()) << "a stalled transfer must be cut at stall_timeout";
  EXPECT_NE(expired->message().find("stall_timeout"), absl::string_view::npos);
  EXPECT_TRUE(IsRetryable(*expired)) << "a stall is retried (resuming at the exact byte)";
}

// libtorrent's request/piece timeouts derive from the same model: a request for a
// whole piece is allowed the time that piece takes at min_rate plus the stall budget.
TEST(TransferConfigTest, PeerTimeoutsAllowAWholePieceAtMinRate) {
  for (uint32_t piece : {4u << 20, 16u << 20, 64u << 20}) {
    TransferConfig cfg;
    cfg.piece_size = piece;
    const double piece_seconds = static_cast<double>(piece) / static_cast<double>(cfg.min_rate);
    EXPECT_GE(cfg.PeerRequestTimeoutSeconds(),
              piece_seconds + absl::ToDoubleSeconds(cfg.stall_timeout))
        << piece;
    EXPECT_GE(cfg.PeerInactivityTimeoutSeconds(), absl::ToInt64Seconds(cfg.stall_timeout));
  }
}

TEST(TransferWatchdogTest, TricklingJustUnderStallTimeoutIsNotAStall) {
  SimulatedClock clock;
  TransferWatchdog dog(clock, absl::Seconds(30), absl::Hours(10));
  for (int i = 0; i < 100; ++i) {
    clock.Advance(absl::Seconds(29));
    EXPECT_EQ(dog.Expired(), std::nullopt);
    dog.OnBytes(1);
  }
}

TEST(TransferWatchdogTest, StalledTransferIsCutAtStallTimeout) {
  SimulatedClock clock;
  TransferWatchdog dog = TransferWatchdog::ForTransfer(clock, Config(), 8 << 20);
  clock.Advance(absl::Seconds(2));
  dog.OnBytes(4096);
  clock.Advance(absl::Seconds(29));
  EXPECT_EQ(dog.Expired(), std::nullopt);
  dog.OnBytes(0);  // a progress tick without data is not progress
  clock.Advance(absl::Seconds(1));
  auto expired = dog.Expired();
  ASSERT_TRUE(expired.has_value());
  EXPECT_EQ(expired->code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(expired->message().find("stall_timeout"), absl::string_view::npos)
      << expired->message();
  EXPECT_TRUE(IsRetryable(*expired));
}

TEST(TransferWatchdogTest, TransferSlowerThanMinRateHitsItsDeadline) {
  SimulatedClock clock;
  TransferConfig cfg = Config();
  TransferWatchdog dog = TransferWatchdog::ForTransfer(clock, cfg, 64 << 20);  // 30 s + 64 s
  // Half of min_rate: moving, so never a stall, but 128 s for 64 MiB.
  int seconds = 0;
  while (!dog.Expired().has_value()) {
    clock.Advance(absl::Seconds(1));
    ++seconds;
    dog.OnTotal(uint64_t{static_cast<uint64_t>(seconds)} * (cfg.min_rate / 2));
    ASSERT_LT(seconds, 200);
  }
  EXPECT_EQ(seconds, 94);
  EXPECT_NE(dog.Expired()->message().find("deadline"), absl::string_view::npos);
}

TEST(RetryPolicyTest, PermanentErrorsAreNotRetried) {
  RetryPolicy policy(Config(), 1);
  EXPECT_FALSE(policy.OnFailure(absl::UnauthenticatedError("401"), 401, {}, 1).retry);
  EXPECT_FALSE(policy.OnFailure(absl::PermissionDeniedError("403"), 403, {}, 1).retry);
  EXPECT_FALSE(policy.OnFailure(absl::NotFoundError("404"), 404, {}, 1).retry);
  EXPECT_FALSE(policy.OnFailure(absl::OutOfRangeError("416"), 416, {}, 1).retry);
  EXPECT_FALSE(policy.OnFailure(absl::UnimplementedError("501"), 501, {}, 1).retry);
  // Without an HTTP answer the status code decides.
  EXPECT_FALSE(policy.OnFailure(absl::NotFoundError("gone"), 0, {}, 1).retry);
  EXPECT_FALSE(policy.OnFailure(absl::FailedPreconditionError("tls"), 0, {}, 1).retry);
  EXPECT_FALSE(policy.OnFailure(absl::CancelledError("stop"), 0, {}, 1).retry);
}

TEST(RetryPolicyTest, TransientErrorsAreRetried) {
  RetryPolicy policy(Config(), 1);
  EXPECT_TRUE(policy.OnFailure(absl::UnavailableError("429"), 429, {}, 1).retry);
  EXPECT_TRUE(policy.OnFailure(absl::UnavailableError("500"), 500, {}, 1).retry);
  EXPECT_TRUE(policy.OnFailure(absl::UnavailableError("503"), 503, {}, 1).retry);
  EXPECT_TRUE(policy.OnFailure(absl::UnavailableError("reset"), 0, {}, 1).retry);
  EXPECT_TRUE(policy.OnFailure(absl::UnavailableError("truncated"), 206, {}, 1).retry);
  EXPECT_TRUE(policy.OnFailure(absl::DeadlineExceededError("stall"), 0, {}, 1).retry);
}

TEST(RetryPolicyTest, GivesUpAfterMaxAttempts) {
  RetryPolicy policy(Config(), 1);
  for (uint32_t n = 1; n < 10; ++n) {
    EXPECT_TRUE(policy.OnFailure(absl::UnavailableError("x"), 503, {}, n).retry) << n;
  }
  EXPECT_FALSE(policy.OnFailure(absl::UnavailableError("x"), 503, {}, 10).retry);
}

TEST(RetryPolicyTest, ZeroMaxAttemptsRetriesForever) {
  TransferConfig cfg = Config();
  cfg.max_attempts = 0;
  RetryPolicy policy(cfg, 1);
  EXPECT_TRUE(policy.OnFailure(absl::UnavailableError("x"), 0, {}, 1000000).retry);
}

TEST(RetryPolicyTest, BackoffGrowsWithJitterAndStaysUnderTheCap) {
  RetryPolicy policy(Config(), 42);
  absl::Duration max_seen_early = absl::ZeroDuration();
  absl::Duration max_seen_late = absl::ZeroDuration();
  absl::Duration min_seen_late = absl::InfiniteDuration();
  for (int trial = 0; trial < 2000; ++trial) {
    absl::Duration first = policy.Backoff(1);
    EXPECT_GE(first, absl::ZeroDuration());
    EXPECT_LE(first, absl::Milliseconds(500));
    max_seen_early = std::max(max_seen_early, first);
    for (uint32_t n : {7u, 20u, 64u, 100000u}) {
      absl::Duration d = policy.Backoff(n);
      EXPECT_LE(d, absl::Seconds(30)) << "attempt " << n;
      max_seen_late = std::max(max_seen_late, d);
      min_seen_late = std::min(min_seen_late, d);
    }
  }
  // Late attempts spread over most of [0, cap]: jitter, and growth up to the cap.
  EXPECT_GT(max_seen_late, absl::Seconds(28));
  EXPECT_LT(min_seen_late, absl::Seconds(2));
  EXPECT_GT(max_seen_early, absl::Milliseconds(450));
}

TEST(RetryPolicyTest, RetryAfterIsNeverUndercut) {
  RetryPolicy policy(Config(), 7);
  for (uint32_t n = 1; n < 10; ++n) {
    auto d = policy.OnFailure(absl::UnavailableError("429"), 429, absl::Seconds(8), n);
    ASSERT_TRUE(d.retry);
    EXPECT_GE(d.delay, absl::Seconds(8));
  }
  // A Retry-After beyond the backoff cap is still honoured.
  auto d = policy.OnFailure(absl::UnavailableError("503"), 503, absl::Seconds(120), 1);
  EXPECT_EQ(d.delay, absl::Seconds(120));
  EXPECT_TRUE(d.delay_from_retry_after);
}

TEST(RetryPolicyTest, RetryAfterCarriedInTheStatusIsHonoured) {
  absl::Status st = absl::UnavailableError("origin answered 429");
  EXPECT_EQ(RetryAfterOf(st), absl::ZeroDuration());
  SetRetryAfter(st, absl::Seconds(9));
  EXPECT_EQ(RetryAfterOf(st), absl::Seconds(9));
  RetryPolicy policy(Config(), 5);
  auto d = policy.OnFailure(st, 0, absl::ZeroDuration(), 1);
  ASSERT_TRUE(d.retry);
  EXPECT_GE(d.delay, absl::Seconds(9));
  EXPECT_TRUE(d.delay_from_retry_after);
}

TEST(RetryPolicyTest, RetryLoopOnSimulatedClockWaitsAtLeastRetryAfter) {
  SimulatedClock clock;
  RetryPolicy policy(Config(), 3);
  absl::Time start = clock.Now();
  // The origin answers 429 (Retry-After 5 s) twice, then succeeds.
  int answers_429 = 2;
  uint32_t failures = 0;
  std::vector<absl::Time> attempt_times;
  while (true) {
    attempt_times.push_back(clock.Now());
    if (answers_429-- > 0) {
      auto d = policy.OnFailure(absl::UnavailableError("429"), 429, absl::Seconds(5), ++failures);
      ASSERT_TRUE(d.retry);
      clock.SleepFor(d.delay);
      continue;
    }
    break;
  }
  ASSERT_EQ(attempt_times.size(), 3u);
  EXPECT_GE(attempt_times[1] - attempt_times[0], absl::Seconds(5));
  EXPECT_GE(attempt_times[2] - attempt_times[1], absl::Seconds(5));
  EXPECT_GE(clock.Now() - start, absl::Seconds(10));
}

}  // namespace
}  // namespace shoal
