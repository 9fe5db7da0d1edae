// shoal-scheduler: parses the config, starts the gRPC control plane and waits
// for SIGTERM/SIGINT. Everything else lives in shoal_scheduler_lib.
#include <csignal>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/options.h"
#include "scheduler/scheduler_config.h"
#include "scheduler/scheduler_server.h"

namespace {

// Blocks SIGTERM/SIGINT in every thread (gRPC's included) and waits for one.
int WaitForShutdownSignal(const sigset_t& signals) {
  int sig = 0;
  sigwait(&signals, &sig);
  return sig;
}

}  // namespace

int main(int argc, char** argv) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  shoal::SchedulerConfig config;
  shoal::OptionSet options("shoal-scheduler",
                           "control plane: hosts, blobs, parent sets, origin protection");
  shoal::RegisterSchedulerOptions(options, &config);
  auto outcome = options.Parse(argc, argv);
  if (!outcome.ok()) {
    std::fprintf(stderr, "shoal-scheduler: %s\n", std::string(outcome.status().message()).c_str());
    return 2;
  }
  if (*outcome == shoal::OptionSet::Outcome::kExitOk) return 0;
  if (auto s = shoal::ValidateSchedulerConfig(config); !s.ok()) {
    std::fprintf(stderr, "shoal-scheduler: invalid configuration: %s\n",
                 std::string(s.message()).c_str());
    return 2;
  }
  if (auto s = shoal::InitLogging(config.log_level, config.log_format); !s.ok()) {
    std::fprintf(stderr, "shoal-scheduler: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  auto log = shoal::Logger("scheduler");

  shoal::SchedulerServerOptions server_options;
  server_options.listen = config.listen;
  server_options.policy = config.swarm;
  server_options.data_dir = config.data_dir;
  server_options.http_listen = config.http_listen;
  server_options.jobs = config.jobs;
  server_options.jobs.stall_timeout = config.job_stall_timeout();
  auto server = shoal::SchedulerServer::Start(server_options);
  if (!server.ok()) {
    log->error("{}", server.status().message());
    return 1;
  }
  std::string http = (*server)->http_address();
  log->info(
      "shoal-scheduler ready: gRPC on {}, REST job API on {} (heartbeat {}, {} parents per "
      "segment, {} children per parent, {} origin fallbacks per blob, job store in {})",
      (*server)->address(), http.empty() ? std::string("(off)") : http,
      absl::FormatDuration(config.swarm.heartbeat_interval), config.swarm.parents_per_segment,
      config.swarm.max_children_per_parent, config.swarm.max_origin_fallbacks, config.data_dir);

  int sig = WaitForShutdownSignal(signals);
  log->info("{} received; shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*server)->Shutdown();
  log->info("shoal-scheduler stopped");
  return 0;
}
