// shoal-seed: fetches blobs from the origin registry and seeds them to peers.
#include <cstdio>

#include "common/daemon_config.h"
#include "common/logging.h"
#include "common/shutdown_signal.h"
#include "seed/seed_agent.h"

int main(int argc, char** argv) {
  shoal::DaemonConfig config;
  config.data_dir = "/var/lib/shoal/seed";
  config.transfer.origin_concurrency = 4;
  shoal::OptionSet options("shoal-seed",
                           "fetches blobs from the origin registry with parallel ranged requests and seeds them");
  shoal::AddDaemonOptions(options, config);
  auto outcome = options.Parse(argc, argv);
  if (!outcome.ok()) {
    std::fprintf(stderr, "shoal-seed: %s\n", std::string(outcome.status().message()).c_str());
    return 2;
  }
  if (*outcome == shoal::OptionSet::Outcome::kExitOk) return 0;
  if (auto s = shoal::FinishDaemonConfig(config, "seed"); !s.ok()) {
    std::fprintf(stderr, "shoal-seed: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  if (auto s = shoal::InitLogging(config.log_level, config.log_format); !s.ok()) {
    std::fprintf(stderr, "shoal-seed: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  shoal::BlockShutdownSignals();
  auto log = shoal::Logger("seed");
  auto agent = shoal::SeedAgent::Create(config);
  if (!agent.ok()) {
    log->error("cannot start: {}", agent.status().message());
    return 1;
  }
  (*agent)->Start();
  log->info("shoal-seed ready: host {} data plane {}:{} scheduler {}", config.host_id, config.ip,
            (*agent)->data_port(), config.scheduler);
  int sig = shoal::WaitForShutdownSignal();
  log->info("signal {} received, shutting down", sig);
  (*agent)->Stop();
  return 0;
}
