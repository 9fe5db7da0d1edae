#include "common/retry_policy.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shoal {

bool IsRetryable(const absl::Status& status, int http_status) {
  if (status.ok()) return false;
  if (http_status >= 400) {
    if (http_status == 408 || http_status == 425 || http_status == 429) return true;
    if (http_status >= 500) return http_status != 501 && http_status != 505;
    return false;
  }
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
      return true;
    default:
      return false;
  }
}

namespace {
constexpr char kRetryAfterPayload[] = "type.shoal/retry_after_ms";
}  // namespace

void SetRetryAfter(absl::Status& status, absl::Duration retry_after) {
  if (status.ok() || retry_after <= absl::ZeroDuration()) return;
  status.SetPayload(kRetryAfterPayload,
                    absl::Cord(absl::StrCat(absl::ToInt64Milliseconds(retry_after))));
}

absl::Duration RetryAfterOf(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryAfterPayload);
  int64_t ms = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &ms) || ms < 0) {
    return absl::ZeroDuration();
  }
  return absl::Milliseconds(ms);
}

RetryPolicy::RetryPolicy(const TransferConfig& cfg, uint64_t seed)
    : backoff_initial_(std::max(cfg.backoff_initial, absl::Milliseconds(1))),
      backoff_max_(std::max(cfg.backoff_max, cfg.backoff_initial)),
      max_attempts_(cfg.max_attempts),
      rng_(seed) {}

absl::Duration RetryPolicy::Backoff(uint32_t failed_attempts) {
  // Doubling stops once past the cap, so huge attempt counts cannot overflow.
  absl::Duration ceiling = backoff_initial_;
  for (uint32_t i = 1; i < failed_attempts && ceiling < backoff_max_; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, backoff_max_);
  double fraction;
  {
    absl::MutexLock l(&mu_);
    fraction = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }
  return absl::Milliseconds(static_cast<int64_t>(absl::ToDoubleMilliseconds(ceiling) * fraction));
}

RetryPolicy::Decision RetryPolicy::OnFailure(const absl::Status& status, int http_status,
                                             absl::Duration retry_after, uint32_t failed_attempts) {
  Decision d;
  if (!IsRetryable(status, http_status)) return d;
  if (max_attempts_ != 0 && failed_attempts >= max_attempts_) return d;
  d.retry = true;
  d.delay = Backoff(failed_attempts);
  retry_after = std::max(retry_after, RetryAfterOf(status));
  if (retry_after > d.delay) {
    d.delay = retry_after;
    d.delay_from_retry_after = true;
  }
  return d;
}

TransferWatchdog::TransferWatchdog(Clock& clock, absl::Duration stall_timeout,
                                   absl::Duration deadline)
    : clock_(clock),
      stall_timeout_(stall_timeout),
      deadline_(deadline),
      start_(clock.Now()),
      last_progress_(start_) {}

TransferWatchdog TransferWatchdog::ForTransfer(Clock& clock, const TransferConfig& cfg,
                                               uint64_t bytes) {
  return TransferWatchdog(clock, cfg.stall_timeout, cfg.DeadlineFor(bytes));
}

void TransferWatchdog::OnBytes(uint64_t n) {
  if (n == 0) return;
  total_ += n;
  last_progress_ = clock_.Now();
}

std::optional<absl::Status> TransferWatchdog::Expired() {
  absl::Time now = clock_.Now();
  if (now - last_progress_ >= stall_timeout_) {
    return absl::DeadlineExceededError(absl::StrCat(
        "no byte arrived for ", absl::FormatDuration(now - last_progress_), " (stall_timeout ",
        absl::FormatDuration(stall_timeout_), ") after ", total_, " bytes"));
  }
  if (now - start_ >= deadline_) {
    return absl::DeadlineExceededError(
        absl::StrCat("transfer did not finish within its deadline of ",
                     absl::FormatDuration(deadline_), " (deadline_base + bytes / min_rate) after ",
                     total_, " bytes; lower min_rate if the origin is legitimately this slow"));
  }
  return std::nullopt;
}

}  // namespace shoal
