// When and how soon a failed origin request is tried again, and when a running
// transfer counts as failed (DESIGN.md "Timeouts and retries"):
//  - TransferWatchdog cuts a request that moved no byte for stall_timeout, or that
//    outlived its deadline deadline_base + bytes / min_rate. A slow transfer that keeps
//    moving at min_rate or better is never cut, however big it is.
//  - RetryPolicy retries transient failures (429, 5xx, resets, truncation, stalls) with
//    exponential backoff and full jitter, capped at backoff_max, and never sooner than a
//    Retry-After the origin asked for; permanent failures (401, 403, 404, other 4xx)
//    are not retried at all.
// Both take an injected Clock / seed so tests run them in simulated milliseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <random>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/transfer_config.h"

namespace shoal {

// True when trying the same request again may succeed. http_status (0 when the
// request got no HTTP answer) takes precedence over the status code: 408, 425, 429
// and 5xx other than 501/505 are transient, every other 4xx/5xx is permanent.
// Without an HTTP answer, Unavailable, DeadlineExceeded and Aborted are transient.
bool IsRetryable(const absl::Status& status, int http_status = 0);

// An origin's Retry-After travels in a payload of the error status, so calls whose
// result has no field for it (BlobSize, GetManifest) still pass it on.
void SetRetryAfter(absl::Status& status, absl::Duration retry_after);
absl::Duration RetryAfterOf(const absl::Status& status);  // zero when absent

class RetryPolicy {
 public:
  explicit RetryPolicy(const TransferConfig& cfg, uint64_t seed = std::random_device{}());

  struct Decision {
    bool retry = false;
    absl::Duration delay = absl::ZeroDuration();
    bool delay_from_retry_after = false;  // the origin's Retry-After set the delay
  };

  // Call after an attempt failed; retry_after is the larger of the argument and the
  // status's Retry-After payload. failed_attempts counts the consecutive failed
  // attempts so far (>= 1); callers reset it when an attempt made progress, so a
  // big transfer over a flaky link is not given up while it keeps moving.
  Decision OnFailure(const absl::Status& status, int http_status, absl::Duration retry_after,
                     uint32_t failed_attempts);

  // Full-jitter backoff: uniform in [0, min(backoff_max, backoff_initial * 2^(n-1))].
  absl::Duration Backoff(uint32_t failed_attempts);

  uint32_t max_attempts() const { return max_attempts_; }

 private:
  absl::Duration backoff_initial_;
  absl::Duration backoff_max_;
  uint32_t max_attempts_;
  absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

// Decides whether one running request has stalled or passed its deadline. Not
// thread-safe: one watchdog per request, fed from that request's progress callback.
class TransferWatchdog {
 public:
  TransferWatchdog(Clock& clock, absl::Duration stall_timeout, absl::Duration deadline);
  // The watchdog for moving `bytes` under cfg: deadline = cfg.DeadlineFor(bytes).
  static TransferWatchdog ForTransfer(Clock& clock, const TransferConfig& cfg, uint64_t bytes);

  // n more bytes arrived (n may be 0: a progress tick without data).
  void OnBytes(uint64_t n);
  // The transfer's running total; convenient for libcurl's cumulative counters.
  void OnTotal(uint64_t total) { OnBytes(total > total_ ? total - total_ : 0); }

  // DeadlineExceeded saying which limit was hit, or nullopt while the transfer may go on.
  std::optional<absl::Status> Expired();

  uint64_t total() const { return total_; }

 private:
  Clock& clock_;
  absl::Duration stall_timeout_;
  absl::Duration deadline_;
  absl::Time start_;
  absl::Time last_progress_;
  uint64_t total_ = 0;
};

}  // namespace shoal
