#include "scheduler/scheduler_server.h"

#include "absl/strings/str_cat.h"

namespace shoal {

absl::StatusOr<std::unique_ptr<SchedulerServer>> SchedulerServer::Start(
    const SchedulerServerOptions& options) {
  if (auto s = ValidateListenAddress("listen", options.listen, /*allow_zero_port=*/true); !s.ok()) {
    return s;
  }
  std::unique_ptr<SchedulerServer> server(new SchedulerServer());
  server->host_ = options.listen.substr(0, options.listen.rfind(':'));
  server->coordinator_ = std::make_unique<SwarmCoordinator>(options.policy, *options.clock);
  server->service_ = std::make_unique<SchedulerService>(*server->coordinator_);

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &server->port_);
  builder.RegisterService(server->service_.get());
  // gRPC sets SO_REUSEPORT by default, so a second scheduler on the same port
  // would silently share the traffic; fail loudly instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Streams live for hours: ping idle connections so a vanished host's streams
  // end, and accept the hosts' own keepalive pings.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     " (address in use, not local, or not permitted); pick another --listen"));
  }
  if (options.run_ticker) {
    absl::Duration interval = options.policy.heartbeat_interval / 2;
    server->ticker_ = std::thread([s = server.get(), interval] { s->RunTicker(interval); });
  }
  return server;
}

std::string SchedulerServer::address() const { return absl::StrCat(host_, ":", port_); }

void SchedulerServer::RunTicker(absl::Duration interval) {
  while (!stop_.WaitForNotificationWithTimeout(interval)) coordinator_->Tick();
}

void SchedulerServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  stop_.Notify();
  if (ticker_.joinable()) ticker_.join();
  coordinator_->Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_->Wait();
}

SchedulerServer::~SchedulerServer() {
  if (server_ != nullptr) Shutdown();
}

}  // namespace shoal
