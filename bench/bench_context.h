// What every system's run shares: the scenario, the testbed, the origin registry
// holding the image, the image's blobs, and the Ctrl-C flag. Systems only read it.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "bench/node_pulls.h"
#include "bench/origin_ledger.h"
#include "bench/report.h"
#include "bench/scenario.h"
#include "bench/testbed.h"
#include "testkit/registry_process.h"

namespace shoal::bench {

// Fixed ports: every host has its own namespace, so nothing else can hold them.
inline constexpr int kRegistryPort = 5000;
inline constexpr int kSchedulerGrpcPort = 65003;
inline constexpr int kSchedulerHttpPort = 65002;
inline constexpr int kMirrorPort = 65001;
inline constexpr int kDataPort = 6881;

struct BenchContext {
  const Scenario* scenario = nullptr;
  Testbed* testbed = nullptr;
  testkit::RegistryProcess* origin = nullptr;
  OriginLedger* origin_ledger = nullptr;
  pid_t origin_pid = -1;  // for CPU/RSS sampling
  ImageInfo image;
  std::string repository;  // "bench/img"
  std::string work_dir;    // this run's scratch dir
  const std::atomic<bool>* interrupted = nullptr;
  absl::Duration timeout;  // per system

  std::vector<const TestbedHost*> Nodes() const;
  std::string OriginHostPort() const;  // "10.a.b.201:5000"
  // Pull options with the run's deadline, Ctrl-C flag and a meter.
  PullOptions Pulls(TransferMeter* meter) const;
  // Starts counting what the origin serves.
  void MarkOrigin() const;
  // Fills origin bytes, requests and clients from the origin's log since MarkOrigin().
  // `started`: the system's common start, for origin_done_seconds.
  void CountOrigin(SystemResult& result, absl::Time started) const;
  std::string BlobPath(const std::string& digest) const;  // "/v2/<repo>/blobs/<digest>"
};

}  // namespace shoal::bench
