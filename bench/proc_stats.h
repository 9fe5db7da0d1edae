// CPU time and peak RSS of a running process, from /proc, for benchmarks.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace shoal::bench {

struct ProcSample {
  double cpu_seconds = 0;   // utime + stime
  uint64_t peak_rss_bytes = 0;  // VmHWM
  uint64_t rss_bytes = 0;       // VmRSS
};

ProcSample SampleProcess(pid_t pid);
// CPU seconds of reaped children of this process (RUSAGE_CHILDREN).
double ChildrenCpuSeconds();

}  // namespace shoal::bench
