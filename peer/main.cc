// shoal-peer: the node-local daemon. Serves containerd as a registry mirror and
// gets blobs peer-to-peer.
#include <cstdio>

#include "common/logging.h"
#include "common/shutdown_signal.h"
#include "peer/peer_node.h"

int main(int argc, char** argv) {
  shoal::PeerConfig config;
  config.daemon.data_dir = "/var/lib/shoal/peer";
  shoal::OptionSet options("shoal-peer",
                           "node-local daemon: registry mirror for containerd, peer-to-peer blob downloads");
  shoal::AddDaemonOptions(options, config.daemon);
  options.AddString("mirror-listen", &config.mirror_listen, "registry mirror address containerd pulls from");
  options.AddString("default-registry", &config.default_registry,
                    "registry used for mirror requests that carry no ?ns= parameter");
  auto outcome = options.Parse(argc, argv);
  if (!outcome.ok()) {
    std::fprintf(stderr, "shoal-peer: %s\n", std::string(outcome.status().message()).c_str());
    return 2;
  }
  if (*outcome == shoal::OptionSet::Outcome::kExitOk) return 0;
  if (auto s = shoal::FinishDaemonConfig(config.daemon, "peer"); !s.ok()) {
    std::fprintf(stderr, "shoal-peer: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  if (auto s = shoal::InitLogging(config.daemon.log_level, config.daemon.log_format); !s.ok()) {
    std::fprintf(stderr, "shoal-peer: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  shoal::BlockShutdownSignals();
  auto log = shoal::Logger("peer");
  auto node = shoal::PeerNode::Create(config);
  if (!node.ok()) {
    log->error("cannot start: {}", node.status().message());
    return 1;
  }
  if (auto s = (*node)->Start(); !s.ok()) {
    log->error("cannot start: {}", s.message());
    return 1;
  }
  log->info("shoal-peer ready: host {} mirror {} data plane {}:{} scheduler {}", config.daemon.host_id,
            config.mirror_listen, config.daemon.ip, (*node)->data_port(), config.daemon.scheduler);
  int sig = shoal::WaitForShutdownSignal();
  log->info("signal {} received, shutting down", sig);
  (*node)->Stop();
  return 0;
}
