// Task streams: each seed and peer keeps one WatchTasks stream open and the
// scheduler pushes work down it (FetchBlobTask: "get this blob"; a seed gets it
// from the origin, a peer through the swarm; CancelBlobTask). A fetch stays
// pending until the host reports the blob done or failed, so it is re-sent when
// the host's task stream reconnects, and handed back for failover when the host
// dies. Not thread-safe: the SwarmCoordinator owns it under its mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "scheduler/stream_sink.h"

namespace shoal {

class TaskHub {
 public:
  // Makes `sink` the host's task stream (an older one is closed) and re-sends the
  // host's pending fetches on it. Returns the stream's id.
  uint64_t Attach(const std::string& host_id, std::shared_ptr<TaskSink> sink);
  // Forgets the stream if it is still the host's current one.
  void Detach(const std::string& host_id, uint64_t stream_id);
  bool Connected(const std::string& host_id) const;

  // Sends the fetch now if connected, else on the next Attach. A second fetch
  // of the same digest for the same host replaces the first.
  void PushFetch(const std::string& host_id, const v1::FetchBlobTask& task);
  bool HasPendingFetch(const std::string& host_id, const std::string& digest) const;
  // The host finished (done or failed) the blob: nothing left to re-send.
  void CompleteFetch(const std::string& host_id, const std::string& digest);
  // Sends CancelBlobTask and forgets the pending fetch.
  void Cancel(const std::string& host_id, const std::string& digest, const std::string& job_id);

  // The host is dead: closes its stream and returns its pending fetches.
  std::vector<v1::FetchBlobTask> DropHost(const std::string& host_id, const absl::Status& why);
  // Closes every stream (scheduler shutdown).
  void CloseAll(const absl::Status& why);

 private:
  struct HostTasks {
    std::shared_ptr<TaskSink> sink;
    uint64_t stream_id = 0;
    absl::flat_hash_map<std::string, v1::FetchBlobTask> pending;  // by digest
  };
  uint64_t next_stream_id_ = 1;
  absl::flat_hash_map<std::string, HostTasks> hosts_;
};

}  // namespace shoal
