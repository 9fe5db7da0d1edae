#include "scheduler/human_units.h"

#include "absl/strings/str_format.h"

namespace shoal {

std::string HumanBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return absl::StrFormat("%d B", bytes);
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  return absl::StrFormat(v >= 100 ? "%.0f %s" : "%.1f %s", v, kUnits[u]);
}

std::string HumanRate(double bps) {
  if (bps < 1) return "0 B/s";
  return HumanBytes(static_cast<uint64_t>(bps)) + "/s";
}

std::string HumanSeconds(int64_t s) {
  if (s < 0) return "?";
  if (s < 60) return absl::StrFormat("%ds", s);
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
}

}  // namespace shoal
