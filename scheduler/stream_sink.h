// The coordinator's view of an open server stream: it can push a message or end
// the stream. The gRPC reactors implement it with an outbox (reactor_outbox.h);
// tests implement it with a recorder. Both calls return at once and never call
// back into the coordinator, so the coordinator may call them under its lock.
#pragma once

#include "absl/status/status.h"
#include "shoal/v1/scheduler.pb.h"

namespace shoal {

template <typename Message>
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Queues a message; false when the stream is already closing (message dropped).
  virtual bool Send(const Message& message) = 0;
  // Ends the stream with `status` once queued messages are written. Idempotent.
  virtual void Close(const absl::Status& status) = 0;
};

using AnnounceSink = StreamSink<v1::AnnounceResponse>;
using TaskSink = StreamSink<v1::Task>;

}  // namespace shoal
