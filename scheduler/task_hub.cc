#include "scheduler/task_hub.h"

#include <algorithm>

namespace shoal {
namespace {

v1::Task FetchTask(const v1::FetchBlobTask& fetch) {
  v1::Task t;
  *t.mutable_fetch() = fetch;
  return t;
}

}  // namespace

uint64_t TaskHub::Attach(const std::string& host_id, std::shared_ptr<TaskSink> sink) {
  HostTasks& h = hosts_[host_id];
  if (h.sink) {
    h.sink->Close(absl::AbortedError("replaced by a newer WatchTasks stream from the same host"));
  }
  h.sink = std::move(sink);
  h.stream_id = next_stream_id_++;
  // Re-send in digest order so a reconnecting host sees a stable sequence.
  std::vector<const v1::FetchBlobTask*> pending;
  for (const auto& [digest, task] : h.pending) pending.push_back(&task);
  std::sort(pending.begin(), pending.end(),
            [](auto* a, auto* b) { return a->blob().digest() < b->blob().digest(); });
  for (const auto* task : pending) h.sink->Send(FetchTask(*task));
  return h.stream_id;
}

void TaskHub::Detach(const std::string& host_id, uint64_t stream_id) {
  auto it = hosts_.find(host_id);
  if (it == hosts_.end() || it->second.stream_id != stream_id) return;
  it->second.sink.reset();
  it->second.stream_id = 0;
  if (it->second.pending.empty()) hosts_.erase(it);
}

bool TaskHub::Connected(const std::string& host_id) const {
  auto it = hosts_.find(host_id);
  return it != hosts_.end() && it->second.sink != nullptr;
}

void TaskHub::PushFetch(const std::string& host_id, const v1::FetchBlobTask& task) {
  HostTasks& h = hosts_[host_id];
  h.pending[task.blob().digest()] = task;
  if (h.sink) h.sink->Send(FetchTask(task));
}

bool TaskHub::HasPendingFetch(const std::string& host_id, const std::string& digest) const {
  auto it = hosts_.find(host_id);
  return it != hosts_.end() && it->second.pending.contains(digest);
}

void TaskHub::CompleteFetch(const std::string& host_id, const std::string& digest) {
  auto it = hosts_.find(host_id);
  if (it == hosts_.end()) return;
  it->second.pending.erase(digest);
  if (it->second.pending.empty() && !it->second.sink) hosts_.erase(it);
}

void TaskHub::Cancel(const std::string& host_id, const std::string& digest,
                     const std::string& job_id) {
  auto it = hosts_.find(host_id);
  if (it == hosts_.end()) return;
  if (it->second.sink) {
    v1::Task t;
    t.mutable_cancel()->set_digest(digest);
    t.mutable_cancel()->set_job_id(job_id);
    it->second.sink->Send(t);
  }
  CompleteFetch(host_id, digest);
}

std::vector<v1::FetchBlobTask> TaskHub::DropHost(const std::string& host_id,
                                                 const absl::Status& why) {
  std::vector<v1::FetchBlobTask> out;
  auto it = hosts_.find(host_id);
  if (it == hosts_.end()) return out;
  if (it->second.sink) it->second.sink->Close(why);
  for (auto& [digest, task] : it->second.pending) out.push_back(std::move(task));
  hosts_.erase(it);
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.blob().digest() < b.blob().digest(); });
  return out;
}

void TaskHub::CloseAll(const absl::Status& why) {
  for (auto& [id, h] : hosts_) {
    if (h.sink) h.sink->Close(why);
    h.sink.reset();
    h.stream_id = 0;
  }
}

}  // namespace shoal
