// What `shoalctl preheat --wait` shows while a job runs. On a terminal: one
// progress bar per blob (bytes over all its target hosts, rate, ETA, hosts
// done) plus a total line, redrawn in place; otherwise plain timestamped lines
// every few seconds and one line per finished blob, so logs of CI jobs stay
// readable. Finish() prints the summary (and the failed copies with reasons).
#pragma once

#include <cstdio>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "shoal/v1/scheduler.pb.h"

namespace shoal::ctl {

struct BlobProgress {
  uint64_t done = 0;   // bytes over goal copies
  uint64_t total = 0;  // size x goal copies
  int hosts = 0;       // goal copies
  int hosts_done = 0;  // succeeded
  int hosts_failed = 0;
  int hosts_cancelled = 0;
  bool settled = false;  // every goal copy terminal
};
BlobProgress SummarizeBlob(const v1::BlobStatus& blob);

class ProgressView {
 public:
  ProgressView(std::FILE* out, bool terminal, int columns);
  void Update(const v1::JobStatus& status, absl::Time now);
  void Finish(const v1::JobStatus& status);

 private:
  struct BlobRate {
    uint64_t last = 0;
    absl::Time at = absl::InfinitePast();
    double rate = 0;
  };
  void DrawTerminal(const v1::JobStatus& status);
  void PrintPlain(const v1::JobStatus& status, absl::Time now);
  std::string BlobLine(const v1::BlobStatus& blob, size_t index, int bar_width);
  double RateOf(const std::string& digest) const;

  std::FILE* out_;
  const bool terminal_;
  const int columns_;
  int lines_drawn_ = 0;
  absl::Time last_plain_ = absl::InfinitePast();
  std::string last_state_;
  std::map<std::string, BlobRate> rates_;
  std::map<std::string, bool> announced_;  // plain mode: blob settled line printed
};

// "[#####.....]" of `width` cells for fraction in [0,1].
std::string Bar(double fraction, int width);

}  // namespace shoal::ctl
