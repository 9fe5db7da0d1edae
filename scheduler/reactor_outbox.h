// A StreamSink over a gRPC callback reactor: messages queue here and are written
// one at a time (a reactor allows one outstanding write); Close finishes the
// RPC after the queue drains. Send and Close never block and never call back
// into the caller, so the coordinator may use them under its lock.
//
// Lifetime: the coordinator may hold the outbox after the reactor is gone. The
// reactor is only touched while a write is outstanding or before Finish, and
// gRPC calls OnDone (where the reactor deletes itself) only after Finish and
// the last write completed, so a late Send finds `finished_` and drops.
#pragma once

#include <grpcpp/support/status.h>

#include <cstddef>
#include <deque>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "scheduler/stream_sink.h"

namespace shoal {

inline grpc::Status ToGrpcStatus(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

template <typename Message>
class ReactorOutbox : public StreamSink<Message> {
 public:
  // A client that leaves this many messages unread is cut off (it is stuck, and
  // the scheduler must not buffer without bound for it).
  static constexpr size_t kMaxQueued = 8192;

  ReactorOutbox(std::function<void(const Message*)> start_write,
                std::function<void(grpc::Status)> finish)
      : start_write_(std::move(start_write)), finish_(std::move(finish)) {}

  bool Send(const Message& message) override {
    const Message* next = nullptr;
    {
      absl::MutexLock l(&mu_);
      if (closing_) return false;
      if (queue_.size() >= kMaxQueued) {
        // Keep only the write in flight; finish once it completes.
        queue_.resize(1);
        closing_ = true;
        status_ = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                               absl::StrCat("stream reader fell ", kMaxQueued,
                                            " messages behind; reconnect and re-announce"));
        return false;
      }
      queue_.push_back(message);  // deque: the front stays put while we append
      if (!writing_) {
        writing_ = true;
        next = &queue_.front();
      }
    }
    if (next != nullptr) start_write_(next);
    return true;
  }

  void Close(const absl::Status& status) override {
    bool finish_now = false;
    {
      absl::MutexLock l(&mu_);
      if (closing_) return;
      closing_ = true;
      status_ = ToGrpcStatus(status);
      if (!writing_) finish_now = finished_ = true;
    }
    if (finish_now) finish_(status_);
  }

  // The reactor's OnWriteDone.
  void OnWriteDone(bool ok) {
    const Message* next = nullptr;
    bool finish_now = false;
    {
      absl::MutexLock l(&mu_);
      if (!queue_.empty()) queue_.pop_front();
      if (!ok && !closing_) {
        // The client is gone; nothing more can be written.
        closing_ = true;
        status_ = grpc::Status(grpc::StatusCode::CANCELLED, "write failed; client went away");
      }
      if (!ok) queue_.clear();
      if (!queue_.empty()) {
        next = &queue_.front();
      } else {
        writing_ = false;
        if (closing_ && !finished_) finish_now = finished_ = true;
      }
    }
    if (next != nullptr) start_write_(next);
    if (finish_now) finish_(status_);
  }

 private:
  const std::function<void(const Message*)> start_write_;
  const std::function<void(grpc::Status)> finish_;
  absl::Mutex mu_;
  std::deque<Message> queue_ ABSL_GUARDED_BY(mu_);  // front = the write in flight
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_;  // written under mu_ before finished_ is set, read after
};

}  // namespace shoal
