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
  auto server = shoal::SchedulerServer::Start(server_options);
  if (!server.ok()) {
    log->error("{}", server.status().message());
    return 1;
  }
  log->info(
      "shoal-scheduler ready: gRPC on {} (heartbeat {}, {} parents per segment, {} children "
      "per parent, {} origin fallbacks per blob)",
      (*server)->address(), absl::FormatDuration(config.swarm.heartbeat_interval),
      config.swarm.parents_per_segment, config.swarm.max_children_per_parent,
      config.swarm.max_origin_fallbacks);

  int sig = WaitForShutdownSignal(signals);
  log->info("{} received; shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*server)->Shutdown();
  log->info("shoal-scheduler stopped");
  return 0;
}
