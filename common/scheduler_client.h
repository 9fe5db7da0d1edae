// The seed's and peer's side of the scheduler API: a HostAgent that registers
// the host, heartbeats and keeps the task stream open (reconnecting on its own
// when the scheduler restarts), and AnnounceStream, one per blob.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "shoal/v1/scheduler.grpc.pb.h"

namespace shoal {

std::shared_ptr<grpc::Channel> MakeSchedulerChannel(const std::string& address);
// True when the channel connects within timeout.
bool WaitForScheduler(grpc::Channel& channel, absl::Duration timeout);

class HostAgent {
 public:
  using TaskHandler = std::function<void(const v1::Task&)>;
  // Called after every (re)registration, e.g. to re-announce what the host holds.
  using ConnectedHandler = std::function<void()>;

  HostAgent(std::shared_ptr<grpc::Channel> channel, v1::HostInfo host, TaskHandler on_task,
            ConnectedHandler on_connected);
  ~HostAgent();
  void Start();
  void Stop();
  bool registered() const { return registered_.load(); }
  const v1::HostInfo& host() const { return host_; }
  v1::Scheduler::Stub& stub() { return *stub_; }

 private:
  void RegisterLoop();
  void TaskLoop();

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Scheduler::Stub> stub_;
  v1::HostInfo host_;
  TaskHandler on_task_;
  ConnectedHandler on_connected_;
  std::atomic<bool> registered_{false};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<grpc::ClientContext> task_ctx_;  // guarded by mu_
  std::thread register_thread_;
  std::thread task_thread_;
};

// One bidirectional announce stream for one blob. Responses are delivered on a
// reader thread; Send may be called from any thread.
class AnnounceStream {
 public:
  using MessageHandler = std::function<void(const v1::AnnounceResponse&)>;
  using ClosedHandler = std::function<void(const absl::Status&)>;

  static std::unique_ptr<AnnounceStream> Open(v1::Scheduler::Stub& stub, const v1::AnnounceOpen& open,
                                              MessageHandler on_message, ClosedHandler on_closed);
  ~AnnounceStream();
  bool Send(const v1::AnnounceRequest& request);
  void Close();
  bool closed() const { return closed_.load(); }

 private:
  AnnounceStream() = default;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::AnnounceRequest, v1::AnnounceResponse>> rw_;
  std::mutex write_mu_;
  std::atomic<bool> closed_{false};
  std::thread reader_;
};

}  // namespace shoal
