// A BlobProvider for mirror tests whose transfers hand out bytes only when the
// test releases them, so a test can prove the mirror streams (the client holds
// early bytes while the rest is still "in the swarm") and can fail or stall a
// transfer at a chosen byte.
#pragma once

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "peer/blob_provider.h"

namespace shoal::fakes {

// Waits end when the test changes something (each change stands for "time passed"),
// or when the test marks the transfer stalled: then a wait advances the simulated
// clock by its timeout and returns at once, as a provider making no progress would.
// A real-time cap (the wait's own timeout) keeps a broken test from hanging forever.
class FakeBlobTransfer : public BlobTransfer {
 public:
  explicit FakeBlobTransfer(std::string data) : data_(std::move(data)) {}

  void PublishSize() {
    absl::MutexLock l(&mu_);
    size_known_ = true;
    ++generation_;
  }
  // Bytes [0, end) become readable.
  void Release(uint64_t end) {
    absl::MutexLock l(&mu_);
    released_ = std::min<uint64_t>(std::max(released_, end), data_.size());
    size_known_ = true;
    ++generation_;
  }
  void ReleaseAll() { Release(data_.size()); }
  void Fail(absl::Status status) {
    absl::MutexLock l(&mu_);
    status_ = std::move(status);
    ++generation_;
  }
  void StallOn(SimulatedClock* clock) {
    absl::MutexLock l(&mu_);
    stall_clock_ = clock;
    ++generation_;
  }
  // Blocks until a reader waits for bytes that are not released yet (or 10 s pass).
  bool AwaitBlockedReader() {
    absl::MutexLock l(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(
                                    +[](int* n) { return *n > 0; }, &blocked_readers_),
                                absl::Seconds(10));
  }
  uint64_t released() const {
    absl::MutexLock l(&mu_);
    return released_;
  }
  // Reads that asked for bytes the fake had not released (must stay 0).
  int premature_reads() const {
    absl::MutexLock l(&mu_);
    return premature_reads_;
  }

  absl::StatusOr<uint64_t> WaitForSize(absl::Duration timeout) override {
    absl::MutexLock l(&mu_);
    uint64_t generation = generation_;
    auto done = [&] {
      return size_known_ || !status_.ok() || stall_clock_ || generation != generation_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
    if (!status_.ok()) return status_;
    if (size_known_) return data_.size();
    if (stall_clock_) stall_clock_->Advance(timeout);
    return absl::DeadlineExceededError("fake: size not known yet");
  }

  absl::StatusOr<uint64_t> WaitReadable(uint64_t want_end, absl::Duration timeout) override {
    absl::MutexLock l(&mu_);
    uint64_t generation = generation_;
    auto done = [&] {
      return released_ >= want_end || !status_.ok() || stall_clock_ || generation != generation_;
    };
    ++blocked_readers_;
    mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
    --blocked_readers_;
    if (!status_.ok()) return status_;
    if (released_ < want_end && stall_clock_) stall_clock_->Advance(timeout);
    return released_;
  }

  absl::StatusOr<size_t> Read(uint64_t offset, char* buf, size_t len) override {
    absl::MutexLock l(&mu_);
    if (offset + len > released_) {
      ++premature_reads_;
      return absl::FailedPreconditionError("fake: read of bytes not released yet");
    }
    std::memcpy(buf, data_.data() + offset, len);
    return len;
  }

 private:
  const std::string data_;
  mutable absl::Mutex mu_;
  bool size_known_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t released_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  SimulatedClock* stall_clock_ ABSL_GUARDED_BY(mu_) = nullptr;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  int blocked_readers_ ABSL_GUARDED_BY(mu_) = 0;
  int premature_reads_ ABSL_GUARDED_BY(mu_) = 0;
};

class FakeBlobProvider : public BlobProvider {
 public:
  // The transfer Acquire returns for this digest; the test drives it.
  std::shared_ptr<FakeBlobTransfer> Add(const BlobDigest& digest, std::string data) {
    auto transfer = std::make_shared<FakeBlobTransfer>(std::move(data));
    absl::MutexLock l(&mu_);
    transfers_[digest.str()] = transfer;
    return transfer;
  }
  std::vector<BlobRequest> requests() const {
    absl::MutexLock l(&mu_);
    return requests_;
  }

  absl::StatusOr<std::shared_ptr<BlobTransfer>> Acquire(const BlobRequest& request) override {
    absl::MutexLock l(&mu_);
    requests_.push_back(request);
    auto it = transfers_.find(request.digest.str());
    if (it == transfers_.end()) {
      return absl::NotFoundError("fake: blob " + request.digest.str() + " is unknown upstream");
    }
    return std::shared_ptr<BlobTransfer>(it->second);
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<FakeBlobTransfer>> transfers_ ABSL_GUARDED_BY(mu_);
  std::vector<BlobRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shoal::fakes
