#include "common/scheduler_client.h"

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace shoal {

std::shared_ptr<grpc::Channel> MakeSchedulerChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

bool WaitForScheduler(grpc::Channel& channel, absl::Duration timeout) {
  return channel.WaitForConnected(absl::ToChronoTime(absl::Now() + timeout));
}

HostAgent::HostAgent(std::shared_ptr<grpc::Channel> channel, v1::HostInfo host, TaskHandler on_task,
                     ConnectedHandler on_connected)
    : channel_(std::move(channel)),
      stub_(v1::Scheduler::NewStub(channel_)),
      host_(std::move(host)),
      on_task_(std::move(on_task)),
      on_connected_(std::move(on_connected)) {}

HostAgent::~HostAgent() { Stop(); }

void HostAgent::Start() {
  register_thread_ = std::thread([this] { RegisterLoop(); });
  task_thread_ = std::thread([this] { TaskLoop(); });
}

void HostAgent::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_.exchange(true)) return;
    if (task_ctx_) task_ctx_->TryCancel();
    cv_.notify_all();
  }
  if (register_thread_.joinable()) register_thread_.join();
  if (task_thread_.joinable()) task_thread_.join();
}

// Registers, then heartbeats; re-registers when the scheduler does not know us
// (it restarted) or was unreachable.
void HostAgent::RegisterLoop() {
  auto log = Logger("agent");
  uint32_t interval_ms = 2000;
  bool was_registered = false;
  while (!stop_) {
    if (!registered_) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      v1::RegisterHostRequest req;
      *req.mutable_host() = host_;
      v1::RegisterHostResponse resp;
      grpc::Status s = stub_->RegisterHost(&ctx, req, &resp);
      if (s.ok()) {
        interval_ms = resp.heartbeat_interval_ms() > 0 ? resp.heartbeat_interval_ms() : 2000;
        registered_ = true;
        log->info("registered with the scheduler as {} ({}:{})", host_.id(), host_.ip(), host_.data_port());
        cv_.notify_all();
        if (on_connected_) on_connected_();
        was_registered = true;
      } else if (was_registered) {
        log->warn("scheduler unreachable ({}); retrying registration", s.error_message());
        was_registered = false;
      }
    } else {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      v1::HeartbeatRequest req;
      req.set_host_id(host_.id());
      v1::HeartbeatResponse resp;
      grpc::Status s = stub_->Heartbeat(&ctx, req, &resp);
      if (!s.ok() || resp.reregister()) {
        if (!s.ok()) log->warn("heartbeat failed: {}; will re-register", s.error_message());
        registered_ = false;
        std::lock_guard<std::mutex> l(mu_);
        if (task_ctx_) task_ctx_->TryCancel();
        continue;
      }
    }
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::milliseconds(registered_ ? interval_ms : 500), [this] { return stop_.load(); });
  }
}

void HostAgent::TaskLoop() {
  auto log = Logger("agent");
  while (!stop_) {
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::milliseconds(500), [this] { return stop_ || registered_; });
      if (stop_) return;
      if (!registered_) continue;
      task_ctx_ = std::make_shared<grpc::ClientContext>();
    }
    auto ctx = task_ctx_;
    v1::WatchTasksRequest req;
    req.set_host_id(host_.id());
    auto reader = stub_->WatchTasks(ctx.get(), req);
    v1::Task task;
    while (reader->Read(&task)) {
      if (on_task_) on_task_(task);
    }
    grpc::Status s = reader->Finish();
    if (!stop_ && s.error_code() != grpc::StatusCode::CANCELLED) {
      log->debug("task stream ended: {}", s.error_message());
    }
    std::unique_lock<std::mutex> l(mu_);
    task_ctx_.reset();
    cv_.wait_for(l, std::chrono::milliseconds(300), [this] { return stop_.load(); });
  }
}

std::unique_ptr<AnnounceStream> AnnounceStream::Open(v1::Scheduler::Stub& stub, const v1::AnnounceOpen& open,
                                                     MessageHandler on_message, ClosedHandler on_closed) {
  std::unique_ptr<AnnounceStream> s(new AnnounceStream());
  s->rw_ = stub.Announce(&s->ctx_);
  v1::AnnounceRequest first;
  *first.mutable_open() = open;
  if (!s->rw_->Write(first)) {
    s->closed_ = true;
    grpc::Status st = s->rw_->Finish();
    if (on_closed) on_closed(absl::UnavailableError(absl::StrCat("announce stream failed: ", st.error_message())));
    return s;
  }
  AnnounceStream* self = s.get();
  s->reader_ = std::thread([self, on_message = std::move(on_message), on_closed = std::move(on_closed)] {
    v1::AnnounceResponse resp;
    while (self->rw_->Read(&resp)) {
      if (on_message) on_message(resp);
    }
    self->closed_ = true;
    grpc::Status st = self->rw_->Finish();
    if (on_closed) {
      on_closed(st.ok() ? absl::OkStatus()
                        : absl::UnavailableError(absl::StrCat("announce stream closed: ", st.error_message())));
    }
  });
  return s;
}

AnnounceStream::~AnnounceStream() { Close(); }

bool AnnounceStream::Send(const v1::AnnounceRequest& request) {
  if (closed_) return false;
  std::lock_guard<std::mutex> l(write_mu_);
  return rw_->Write(request);
}

void AnnounceStream::Close() {
  ctx_.TryCancel();
  if (reader_.joinable()) {
    if (reader_.get_id() == std::this_thread::get_id()) {
      reader_.detach();
    } else {
      reader_.join();
    }
  }
}

}  // namespace shoal
