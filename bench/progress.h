// Progress on the terminal while a benchmark runs (stderr; stdout carries the
// report table): timestamped phase lines, and a meter that prints every few
// seconds how far a system's transfer has come.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"

namespace shoal::bench {

// "[ 12.3s] <text>" on stderr, seconds since the program started.
void ProgressLine(const std::string& text);

class TransferMeter {
 public:
  // Prints "<label>: 3/8 nodes done, 1.20 GiB of 8.00 GiB (15%), 12.0 s" every period.
  TransferMeter(std::string label, uint64_t total_bytes, int nodes);
  ~TransferMeter();  // stops printing
  void AddBytes(uint64_t n) { bytes_.fetch_add(n, std::memory_order_relaxed); }
  void NodeDone() { nodes_done_.fetch_add(1, std::memory_order_relaxed); }
  std::string Line() const;

 private:
  std::string label_;
  uint64_t total_;
  int nodes_;
  std::atomic<uint64_t> bytes_{0};
  std::atomic<int> nodes_done_{0};
  double start_;
  absl::Notification stop_;
  std::thread printer_;
};

}  // namespace shoal::bench
