// gRPC callback reactors for the two long-lived streams. They only translate:
// messages read go to the SwarmCoordinator, whose replies come back through the
// reactor's outbox. Both delete themselves in OnDone.
#pragma once

#include <grpcpp/support/server_callback.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "scheduler/reactor_outbox.h"
#include "scheduler/swarm_coordinator.h"
#include "shoal/v1/scheduler.pb.h"

namespace shoal {

// Announce: one per blob per host. The first message must be `open`.
class AnnounceReactor final
    : public grpc::ServerBidiReactor<v1::AnnounceRequest, v1::AnnounceResponse> {
 public:
  explicit AnnounceReactor(SwarmCoordinator& coordinator);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  void End(const absl::Status& status);

  SwarmCoordinator& coordinator_;
  std::shared_ptr<ReactorOutbox<v1::AnnounceResponse>> outbox_;
  v1::AnnounceRequest request_;
  // Set by the first message; read callbacks are serialized and OnDone comes last.
  std::optional<uint64_t> stream_id_;
};

// WatchTasks: one per host; the scheduler pushes Task messages.
class TaskStreamReactor final : public grpc::ServerWriteReactor<v1::Task> {
 public:
  TaskStreamReactor(SwarmCoordinator& coordinator, std::string host_id);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  SwarmCoordinator& coordinator_;
  const std::string host_id_;
  std::shared_ptr<ReactorOutbox<v1::Task>> outbox_;
  std::optional<uint64_t> stream_id_;
};

}  // namespace shoal
