#include "bench/progress.h"

#include <cstdio>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/units.h"

namespace shoal::bench {
namespace {

const absl::Time g_program_start = absl::Now();
constexpr absl::Duration kMeterPeriod = absl::Seconds(5);

double Seconds() { return absl::ToDoubleSeconds(absl::Now() - g_program_start); }

}  // namespace

void ProgressLine(const std::string& text) {
  std::fprintf(stderr, "[%6.1fs] %s\n", Seconds(), text.c_str());
  std::fflush(stderr);
}

TransferMeter::TransferMeter(std::string label, uint64_t total_bytes, int nodes)
    : label_(std::move(label)), total_(total_bytes), nodes_(nodes), start_(Seconds()) {
  printer_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(kMeterPeriod)) ProgressLine(Line());
  });
}

TransferMeter::~TransferMeter() {
  stop_.Notify();
  printer_.join();
}

std::string TransferMeter::Line() const {
  const uint64_t bytes = bytes_.load(std::memory_order_relaxed);
  return absl::StrFormat(
      "%s: %d/%d nodes done, %s of %s (%.0f%%), %.1f s", label_,
      nodes_done_.load(std::memory_order_relaxed), nodes_, HumanBytes(static_cast<double>(bytes)),
      HumanBytes(static_cast<double>(total_)),
      total_ > 0 ? 100.0 * static_cast<double>(bytes) / static_cast<double>(total_) : 0.0,
      Seconds() - start_);
}

}  // namespace shoal::bench
