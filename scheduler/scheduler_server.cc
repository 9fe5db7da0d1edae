#include "scheduler/scheduler_server.h"

#include <algorithm>

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
  if (!options.data_dir.empty()) {
    if (auto s = server->StartJobs(options); !s.ok()) return s;
  }
  server->service_ = std::make_unique<SchedulerService>(*server->coordinator_, server->jobs_.get());

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
  if (server->jobs_ != nullptr) {
    if (!options.http_listen.empty()) {
      auto http = JobHttpApi::Start(options.http_listen, *server->jobs_, *server->job_swarm_);
      if (!http.ok()) return http.status();
      server->http_ = std::move(*http);
    }
    if (options.run_ticker) {
      absl::Duration interval = options.jobs.poll_interval;
      server->job_ticker_ =
          std::thread([s = server.get(), interval] { s->RunJobTicker(interval); });
    }
  }
  return server;
}

absl::Status SchedulerServer::StartJobs(const SchedulerServerOptions& options) {
  Clock& clock = *options.clock;
  auto store = JobStore::Open(options.data_dir);
  if (!store.ok()) return store.status();
  store_ = std::move(*store);
  ManifestLookupCache::Options cache_options;
  cache_options.tag_ttl = options.jobs.tag_cache_ttl;
  manifest_cache_ = std::make_unique<ManifestLookupCache>(clock, cache_options);
  OriginClientFactory factory = options.origin_client_factory;
  if (!factory) {
    OriginClientOptions origin;
    origin.insecure_registries = options.jobs.insecure_registries;
    origin.user_agent = "shoal-scheduler/0.1";
    factory = [origin](const RegistryCredentials& creds) {
      return MakeHttpOriginClient(origin, creds);
    };
  }
  resolver_ = std::make_unique<ImageResolver>(std::move(factory), *manifest_cache_);
  job_swarm_ = std::make_unique<CoordinatorJobSwarm>(*coordinator_);

  const absl::Duration liveness = options.policy.liveness_timeout();
  JobManagerOptions jo;
  jo.runner.host_grace = std::max(2 * liveness, absl::Seconds(10));
  jo.runner.no_seed_timeout = std::max(2 * liveness, absl::Seconds(10));
  jo.runner.stall_timeout = options.jobs.stall_timeout;
  jo.default_layer_concurrency = options.jobs.default_layer_concurrency;
  jo.default_host_concurrency = options.jobs.default_host_concurrency;
  jo.retention = options.jobs.retention;
  auto jobs = JobManager::Create(*store_, *resolver_, *job_swarm_, clock, jo);
  if (!jobs.ok()) return jobs.status();
  jobs_ = std::move(*jobs);

  // Seeds that were alive before a restart may be mid-fetch: give them as long
  // as hosts get to come back before anyone else reads the origin. (A seed was
  // seen taking 5 s to re-register; usually it is back within a heartbeat, and
  // the wait ends as soon as every expected seed is back.)
  auto seeds = store_->SeedsSeenSince(clock.Now() - options.policy.dead_host_retention);
  if (seeds.ok() && !seeds->empty()) {
    coordinator_->ExpectSeeds(*std::move(seeds), clock.Now() + jo.runner.host_grace);
  }
  return absl::OkStatus();
}

void SchedulerServer::RunJobTicker(absl::Duration interval) {
  while (!stop_.WaitForNotificationWithTimeout(interval)) jobs_->Tick();
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
  if (job_ticker_.joinable()) job_ticker_.join();
  if (http_ != nullptr) http_->Stop();
  coordinator_->Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_->Wait();
  service_->StopWorkers();
}

SchedulerServer::~SchedulerServer() {
  if (server_ != nullptr) Shutdown();
}

}  // namespace shoal
