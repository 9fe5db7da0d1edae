// shoal on the testbed: shoal-scheduler on the scheduler host, shoal-seed on each
// seed host, shoal-peer (with its registry mirror) on every node, each started with
// `ip netns exec <host ns>` so it binds its host's address and its traffic crosses
// its host's shaped link. Fresh data dirs per deployment; logs kept for the report.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/bench_context.h"
#include "bench/daemon_sampler.h"
#include "testkit/subprocess.h"

namespace shoal::bench {

class ShoalDeployment {
 public:
  // data_dir: daemons' data dirs (removed on destruction); log_dir: their logs.
  static absl::StatusOr<std::unique_ptr<ShoalDeployment>> Start(const BenchContext& ctx,
                                                                const std::string& data_dir,
                                                                const std::string& log_dir);
  ~ShoalDeployment();  // peers, then seeds, then the scheduler; then data dirs go

  void WatchAll(DaemonSampler& sampler) const;
  std::string SchedulerHttpUrl() const;
  // http://<node ip>:<mirror port>
  std::string MirrorUrl(const TestbedHost& node) const;
  // The last lines of each daemon's log, and every warning/error line (capped).
  std::string LogExcerpts(size_t tail_lines, size_t max_problem_lines) const;

 private:
  struct Daemon {
    std::string role;  // "scheduler", "seed", "peer"
    std::string host;
    std::unique_ptr<testkit::Subprocess> process;
  };
  ShoalDeployment() = default;
  absl::Status Launch(const std::string& role, const TestbedHost& host,
                      std::vector<std::string> args);

  const BenchContext* ctx_ = nullptr;
  std::string data_dir_;
  std::string log_dir_;
  std::vector<Daemon> daemons_;  // in start order
};

}  // namespace shoal::bench
