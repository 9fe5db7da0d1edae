// CPU time and peak RSS of a running process, from /proc, for benchmarks.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>

namespace shoal::bench {

struct ProcSample {
  double cpu_seconds = 0;   // utime + stime
  uint64_t peak_rss_bytes = 0;  // VmHWM
  uint64_t rss_bytes = 0;       // VmRSS
  uint64_t anon_rss_bytes = 0;  // RssAnon: heap and stacks, without file pages (mmap'd data)
};

// Polls a process's RssAnon every 100 ms on a thread until stopped; the peak is
// the daemon's own memory, excluding page cache that mmap disk I/O maps in.
class PeakAnonRss {
 public:
  explicit PeakAnonRss(pid_t pid);
  ~PeakAnonRss();
  uint64_t Stop();  // returns the peak in bytes

 private:
  struct State;
  State* state_;
};

ProcSample SampleProcess(pid_t pid);
// CPU seconds of each thread of a process, by thread id.
std::map<int, double> ThreadCpuSeconds(pid_t pid);
// The most CPU any one thread used between two ThreadCpuSeconds samples: the
// stage a faster machine with more cores could not spread out.
double BusiestThreadSeconds(const std::map<int, double>& before,
                            const std::map<int, double>& after);
// CPU seconds of reaped children of this process (RUSAGE_CHILDREN).
double ChildrenCpuSeconds();

}  // namespace shoal::bench
