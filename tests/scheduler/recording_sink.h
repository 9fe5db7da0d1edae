// A StreamSink that records what the coordinator pushes, for unit tests.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "scheduler/stream_sink.h"

namespace shoal::testing {

template <typename Message>
class RecordingSink : public StreamSink<Message> {
 public:
  bool Send(const Message& message) override {
    absl::MutexLock l(&mu_);
    if (closed_) return false;
    messages_.push_back(message);
    return true;
  }
  void Close(const absl::Status& status) override {
    absl::MutexLock l(&mu_);
    if (closed_) return;
    closed_ = true;
    status_ = status;
  }
  // Returns the messages received since the last Take.
  std::vector<Message> Take() {
    absl::MutexLock l(&mu_);
    std::vector<Message> out;
    out.swap(messages_);
    return out;
  }
  bool closed() {
    absl::MutexLock l(&mu_);
    return closed_;
  }
  absl::Status status() {
    absl::MutexLock l(&mu_);
    return status_;
  }

 private:
  absl::Mutex mu_;
  std::vector<Message> messages_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

using AnnounceRecorder = RecordingSink<v1::AnnounceResponse>;
using TaskRecorder = RecordingSink<v1::Task>;

// "sha256:" + 64 hex, distinct per n.
inline std::string TestDigest(int n) { return absl::StrFormat("sha256:%064x", n); }

}  // namespace shoal::testing
