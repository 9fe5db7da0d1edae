// CPU time and peak memory of the daemons serving one system's run (registry,
// cache, scheduler, seeds, peers), grouped by role. Samples /proc once a second
// (bench/proc_stats) so a daemon that is stopped before Finish() still counts, and
// reports CPU used since Begin().
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "bench/report.h"

namespace shoal::bench {

// The process whose command line has `arg` as one of its arguments (e.g. a
// registry's config path, unique per registry), or -1. For processes started by
// code that does not expose their pid.
pid_t FindProcessByArg(const std::string& arg);

// Machine-wide CPU time from /proc/stat (all processes, ours and anyone else's).
struct CpuTimes {
  uint64_t busy = 0;  // jiffies not idle/iowait
  uint64_t total = 0;
};
CpuTimes ReadHostCpu();
// Fraction of all cores busy between two readings.
double BusyFraction(const CpuTimes& from, const CpuTimes& to);

class DaemonSampler {
 public:
  DaemonSampler() = default;
  ~DaemonSampler();
  // Adds a process; its CPU is counted from now.
  void Watch(const std::string& role, pid_t pid);
  void Begin();  // starts periodic sampling
  // Takes a last sample and returns usage per role, in the order roles were watched.
  std::vector<DaemonUsage> Finish();
  // The whole machine between Begin() and Finish(): on a shared 2-core box this is
  // what tells "the swarm was CPU-bound" from "the swarm was slow".
  HostCpuUsage host_cpu() const;

 private:
  struct Watched {
    std::string role;
    pid_t pid;
    double cpu_start = 0;
    double cpu_last = 0;
    uint64_t peak_rss = 0;
  };
  void SampleAll();
  void SampleHost();

  absl::Mutex mu_;
  std::vector<Watched> watched_ ABSL_GUARDED_BY(mu_);
  CpuTimes host_begin_, host_last_;  // sampling thread, then read after Finish
  int busy_samples_ = 0;
  int saturated_samples_ = 0;
  HostCpuUsage host_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace shoal::bench
