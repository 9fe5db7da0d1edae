// Sizes, rates and durations the way people read them ("12.3 MiB", "8.1 MiB/s",
// "1m05s"), for log lines, error messages and shoalctl.
#pragma once

#include <cstdint>
#include <string>

namespace shoal {

std::string HumanBytes(uint64_t bytes);
std::string HumanRate(double bytes_per_second);
std::string HumanSeconds(int64_t seconds);  // "45s", "3m20s", "2h05m"

}  // namespace shoal
