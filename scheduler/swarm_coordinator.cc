#include "scheduler/swarm_coordinator.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/logging.h"

namespace shoal {

SwarmCoordinator::SwarmCoordinator(const SwarmPolicy& policy, Clock& clock)
    : policy_(policy),
      clock_(clock),
      log_(Logger("scheduler")),
      hosts_(clock, policy.liveness_timeout()) {}

// ---- Hosts ----

absl::StatusOr<v1::RegisterHostResponse> SwarmCoordinator::RegisterHost(
    const v1::RegisterHostRequest& request) {
  const v1::HostInfo& info = request.host();
  if (auto s = HostRegistry::ValidateHostInfo(info); !s.ok()) return s;
  absl::MutexLock l(&mu_);
  bool known = hosts_.Find(info.id()) != nullptr;
  hosts_.Register(info);
  auto label = [&](const char* key) {
    auto it = info.labels().find(key);
    return it == info.labels().end() ? std::string("-") : it->second;
  };
  log_->info("host {} {} ({}, {}:{}, zone={}, rack={})", info.id(),
             known ? "registered again" : "registered",
             info.role() == v1::HOST_ROLE_SEED ? "seed" : "peer", info.ip(), info.data_port(),
             label("zone"), label("rack"));
  v1::RegisterHostResponse response;
  response.set_heartbeat_interval_ms(
      static_cast<uint32_t>(absl::ToInt64Milliseconds(policy_.heartbeat_interval)));
  return response;
}

v1::HeartbeatResponse SwarmCoordinator::Heartbeat(const v1::HeartbeatRequest& request) {
  absl::MutexLock l(&mu_);
  v1::HeartbeatResponse response;
  if (!hosts_.Heartbeat(request.host_id(), request.free_disk_bytes())) {
    log_->debug("heartbeat from unknown host {}: asking it to register again", request.host_id());
    response.set_reregister(true);
  }
  return response;
}

v1::ListHostsResponse SwarmCoordinator::ListHosts() {
  absl::MutexLock l(&mu_);
  v1::ListHostsResponse response;
  for (auto& h : hosts_.List()) *response.add_hosts() = std::move(h);
  return response;
}

// ---- Task streams ----

absl::StatusOr<uint64_t> SwarmCoordinator::OpenTaskStream(const std::string& host_id,
                                                          std::shared_ptr<TaskSink> sink) {
  absl::MutexLock l(&mu_);
  if (shut_down_) return absl::UnavailableError("scheduler is shutting down");
  if (!hosts_.IsAlive(host_id)) {
    return absl::FailedPreconditionError(
        absl::StrCat("WatchTasks: host '", host_id,
                     "' is not registered with this scheduler; call RegisterHost first"));
  }
  uint64_t id = tasks_.Attach(host_id, std::move(sink));
  log_->debug("host {} opened its task stream", host_id);
  // A seed that just connected may be the one a waiting blob needs.
  if (hosts_.IsSeed(host_id)) {
    blobs_.ForEach([&](const std::string&, BlobEntry& b) { EnsureSource(b); });
  }
  return id;
}

void SwarmCoordinator::CloseTaskStream(const std::string& host_id, uint64_t stream_id) {
  absl::MutexLock l(&mu_);
  tasks_.Detach(host_id, stream_id);
}

// ---- Announce streams: open and close ----

absl::StatusOr<uint64_t> SwarmCoordinator::OpenAnnounce(const v1::AnnounceOpen& open,
                                                        std::shared_ptr<AnnounceSink> sink) {
  const std::string& host = open.host_id();
  auto digest = BlobDigest::Parse(open.blob().digest());
  if (!digest.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Announce open from host '", host, "': ", digest.status().message()));
  }
  // The origin may be unknown to a host (it is only needed if someone must
  // fetch the blob), but a given one must be well-formed.
  if (!open.blob().registry().empty()) {
    if (auto s = ValidateRegistryHost(open.blob().registry()); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("Announce open from host '", host, "' for ",
                                                     digest->Short(),
                                                     ": blob.registry: ", s.message()));
    }
  }
  if (!open.blob().repository().empty()) {
    if (auto s = ValidateRepositoryName(open.blob().repository()); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("Announce open from host '", host, "' for ",
                                                     digest->Short(),
                                                     ": blob.repository: ", s.message()));
    }
  }
  absl::MutexLock l(&mu_);
  if (shut_down_) return absl::UnavailableError("scheduler is shutting down");
  if (!hosts_.IsAlive(host)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Announce: host '", host,
        "' is not registered with this scheduler (or missed its heartbeats); call RegisterHost, "
        "then open the announce stream again"));
  }
  absl::Time now = clock_.Now();
  BlobEntry& b = blobs_.GetOrCreate(open.blob(), now);
  for (uint32_t k : open.have_segments()) {
    if (auto s = CheckIndex(b, k, "Announce open have_segments"); !s.ok()) return s;
  }
  // A later wanter's reference is used for the next origin fetch, so a blob
  // first announced without (or with a since-failed) origin can still be fetched.
  if (open.want() && !open.blob().registry().empty() && !open.blob().repository().empty() &&
      b.fetcher.empty()) {
    b.ref = open.blob();
  }

  if (HostBlobState* old = b.FindHost(host); old != nullptr && old->connected()) {
    absl::Status replaced = absl::AbortedError(
        "replaced by a newer announce stream for the same blob from the same host");
    DetachStream(b, host, &replaced);
  }
  HostBlobState& st = b.hosts[host];
  b.ReleaseAllParents(host);
  b.origin_stalled.erase(host);
  uint64_t id = next_stream_id_++;
  streams_[id] = StreamBinding{b.ref.digest(), host};
  st.stream_id = id;
  st.sink = std::move(sink);
  st.want = open.want();
  st.verified = open.verified();
  st.job_id = open.job_id();
  st.error.clear();
  st.complete.clear();
  st.partial.clear();
  st.complete.insert(open.have_segments().begin(), open.have_segments().end());
  if (st.verified) {
    for (SegmentIndex k = 0; k < b.segment_count(); ++k) st.complete.insert(k);
  }
  st.bytes_done = 0;
  st.rate_bps = 0;
  st.opened_at = now;
  Touch(b, st);
  if (st.verified) {
    st.phase = HostBlobPhase::kDone;
    st.finished_at = now;
    tasks_.CompleteFetch(host, b.ref.digest());
  } else if (st.want) {
    st.phase = HostBlobPhase::kWaiting;
  } else {
    st.phase = host == b.fetcher ? HostBlobPhase::kFetchingOrigin : HostBlobPhase::kHolding;
  }
  log_->debug("announce open: blob {} host {} want={} verified={} have={}", digest->Short(), host,
              st.want, st.verified, st.complete.size());

  if (st.WantsBlob()) SendWelcome(b, host);
  for (const auto& [k, meta] : b.segments) {
    if (st.Holds(k)) FanOut(b, host, k);
  }
  EnsureSource(b);
  return id;
}

void SwarmCoordinator::CloseAnnounce(uint64_t stream_id) {
  absl::MutexLock l(&mu_);
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return;
  StreamBinding binding = it->second;
  BlobEntry* b = blobs_.Find(binding.digest);
  if (b == nullptr) {
    streams_.erase(it);
    return;
  }
  HostBlobState* st = b->FindHost(binding.host_id);
  if (st != nullptr && binding.host_id == b->fetcher && st->phase == HostBlobPhase::kDone) {
    // The fetch finished; whether the seed still holds the blob is now only
    // known through its announces.
    b->fetcher.clear();
  }
  DetachStream(*b, binding.host_id, nullptr);
  ReleaseOriginGrant(*b, binding.host_id);
  EnsureSource(*b);
}

void SwarmCoordinator::DetachStream(BlobEntry& b, const std::string& host,
                                    const absl::Status* close_with) {
  HostBlobState* st = b.FindHost(host);
  if (st == nullptr || !st->connected()) return;
  if (close_with != nullptr) st->sink->Close(*close_with);
  streams_.erase(st->stream_id);
  st->sink.reset();
  st->stream_id = 0;
  if (st->phase != HostBlobPhase::kDone && st->phase != HostBlobPhase::kFailed) {
    st->phase = HostBlobPhase::kLeft;
  }
  b.ReleaseAllParents(host);
  ReparentChildrenOf(b, host);
  b.last_activity = clock_.Now();
}

// ---- Announce streams: messages ----

absl::Status SwarmCoordinator::OnAnnounce(uint64_t stream_id, const v1::AnnounceRequest& req) {
  absl::MutexLock l(&mu_);
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) {
    return absl::FailedPreconditionError(
        "announce stream was closed by the scheduler; open a new one");
  }
  const std::string host = it->second.host_id;
  BlobEntry* b = blobs_.Find(it->second.digest);
  HostBlobState* st = b == nullptr ? nullptr : b->FindHost(host);
  if (st == nullptr) return absl::InternalError("announce stream has no blob state");
  Touch(*b, *st);
  switch (req.kind_case()) {
    case v1::AnnounceRequest::kOpen:
      return absl::InvalidArgumentError(
          "Announce: `open` may only be the first message of a stream");
    case v1::AnnounceRequest::kLayout:
      return HandleLayout(*b, host, req.layout());
    case v1::AnnounceRequest::kSegmentReady:
      return HandleSegmentReady(*b, host, req.segment_ready());
    case v1::AnnounceRequest::kHave:
      return HandleHave(*b, host, req.have().index());
    case v1::AnnounceRequest::kProgress:
      return HandleProgress(*b, host, req.progress());
    case v1::AnnounceRequest::kFailure:
      if (auto s = CheckIndex(*b, req.failure().index(), "failure"); !s.ok()) return s;
      HandleFailure(*b, host, req.failure());
      return absl::OkStatus();
    case v1::AnnounceRequest::kNeedParents: {
      SegmentIndex k = req.need_parents().index();
      if (auto s = CheckIndex(*b, k, "need_parents"); !s.ok()) return s;
      if (b->segments.contains(k) && st->Wants(k) && SendParents(*b, host, k) == 0) {
        EnsureSource(*b);
      }
      return absl::OkStatus();
    }
    case v1::AnnounceRequest::kBlobProgress:
      st->bytes_done = req.blob_progress().bytes_done();
      st->rate_bps = req.blob_progress().rate_bps();
      if (st->phase == HostBlobPhase::kWaiting) st->phase = HostBlobPhase::kDownloading;
      return absl::OkStatus();
    case v1::AnnounceRequest::kDone:
      HandleDone(*b, host);
      return absl::OkStatus();
    case v1::AnnounceRequest::kFailed:
      HandleFailed(*b, host, req.failed().reason());
      return absl::OkStatus();
    case v1::AnnounceRequest::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("Announce: empty message (no kind set)");
}

// ---- Hosts dying, time, shutdown ----

void SwarmCoordinator::HostGone(const std::string& host) {
  absl::Status why = absl::UnavailableError(absl::StrCat(
      "host '", host, "' missed its heartbeats for ",
      absl::FormatDuration(policy_.liveness_timeout()), "; register again and re-announce"));
  std::vector<v1::FetchBlobTask> pending = tasks_.DropHost(host, why);
  std::vector<std::pair<std::string, uint64_t>> bound;
  for (const auto& [id, binding] : streams_) {
    if (binding.host_id == host) bound.emplace_back(binding.digest, id);
  }
  size_t failed_over = 0;
  blobs_.ForEach([&](const std::string&, BlobEntry& b) {
    bool affected = false;
    if (b.fetcher == host) {
      b.fetcher.clear();
      affected = true;
      ++failed_over;
    }
    if (HostBlobState* st = b.FindHost(host); st != nullptr && st->connected()) {
      DetachStream(b, host, &why);
      affected = true;
    }
    if (b.origin_grants.erase(host) > 0) affected = true;
    if (affected) EnsureSource(b);
  });
  log_->warn(
      "host {} is dead (no heartbeat for {}): dropped from {} announce streams, {} pending "
      "tasks, {} origin fetches failed over",
      host, absl::FormatDuration(policy_.liveness_timeout()), bound.size(), pending.size(),
      failed_over);
}

void SwarmCoordinator::Tick() {
  absl::MutexLock l(&mu_);
  if (shut_down_) return;
  for (const std::string& host : hosts_.CollectNewlyDead()) HostGone(host);
  if (!expected_seeds_.empty() && !AwaitingSeeds()) {
    // The wait for seeds known before the restart is over: decide the blobs
    // whose source was held back.
    log_->info("no longer waiting for seeds from before the restart; choosing sources");
    expected_seeds_.clear();
    blobs_.ForEach([&](const std::string&, BlobEntry& b) { EnsureSource(b); });
  }
  ExpireStalledGrants();
  blobs_.ForgetIdle(clock_.Now() - policy_.idle_blob_retention);
  hosts_.ForgetDead(policy_.dead_host_retention);
}

void SwarmCoordinator::Shutdown() {
  absl::MutexLock l(&mu_);
  shut_down_ = true;
  absl::Status why = absl::UnavailableError("scheduler is shutting down; reconnect shortly");
  tasks_.CloseAll(why);
  blobs_.ForEach([&](const std::string&, BlobEntry& b) {
    for (auto& [host, st] : b.hosts) {
      if (st.connected()) st.sink->Close(why);
    }
  });
}

// ---- Helpers ----

void SwarmCoordinator::Broadcast(BlobEntry& b, const v1::AnnounceResponse& message,
                                 bool only_wanting, const std::string& except) {
  for (auto& [host, st] : b.hosts) {
    if (host == except || !st.connected()) continue;
    if (only_wanting && !st.WantsBlob()) continue;
    st.sink->Send(message);
  }
}

void SwarmCoordinator::Send(BlobEntry& b, const std::string& host,
                            const v1::AnnounceResponse& message) {
  HostBlobState* st = b.FindHost(host);
  if (st != nullptr && st->connected()) st->sink->Send(message);
}

void SwarmCoordinator::Touch(BlobEntry& b, HostBlobState& st) {
  absl::Time now = clock_.Now();
  st.last_activity = now;
  b.last_activity = now;
}

}  // namespace shoal
