#include "bench/units.h"

#include <cmath>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/options.h"

namespace shoal::bench {
namespace {

struct RateUnit {
  const char* name;
  uint64_t multiplier;
};
// Longest names first so "kbit" is not read as "bit".
constexpr RateUnit kRateUnits[] = {
    {"tbit", 1000ull * 1000 * 1000 * 1000},
    {"gbit", 1000ull * 1000 * 1000},
    {"mbit", 1000ull * 1000},
    {"kbit", 1000ull},
    {"bit", 1},
};

constexpr uint64_t kMaxLayers = 10000;

}  // namespace

absl::StatusOr<uint64_t> ParseRate(absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  absl::string_view s = lower;
  if (s.empty()) return absl::InvalidArgumentError("empty rate; write e.g. 200mbit or 1gbit");
  if (absl::EndsWith(s, "bps") || absl::EndsWith(s, "b/s")) {
    return absl::InvalidArgumentError(
        absl::StrCat("rate '", text,
                     "': byte units are ambiguous (tc reads mbps as megabytes/s); write bits, "
                     "e.g. 200mbit"));
  }
  if (!absl::ConsumeSuffix(&s, "/s")) absl::ConsumeSuffix(&s, "ps");
  for (const RateUnit& unit : kRateUnits) {
    absl::string_view number = s;
    if (!absl::ConsumeSuffix(&number, unit.name)) continue;
    double value = 0;
    if (!absl::SimpleAtod(number, &value) || !std::isfinite(value) || value <= 0) {
      break;
    }
    double bits = value * static_cast<double>(unit.multiplier);
    if (bits < 1000 || bits > 1e13) {
      return absl::InvalidArgumentError(
          absl::StrCat("rate '", text, "' is out of range (1kbit .. 10tbit)"));
    }
    return static_cast<uint64_t>(std::llround(bits));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("rate '", text,
                   "' is not a number with a unit bit/kbit/mbit/gbit (decimal, as tc reads "
                   "them), e.g. 200mbit or 1gbit"));
}

std::string FormatRate(uint64_t bps) {
  for (const RateUnit& unit : kRateUnits) {
    if (bps >= unit.multiplier && bps % unit.multiplier == 0) {
      return absl::StrCat(bps / unit.multiplier, unit.name);
    }
  }
  return absl::StrCat(bps, "bit");
}

absl::StatusOr<std::vector<uint64_t>> ParseLayers(absl::string_view text) {
  std::vector<uint64_t> sizes;
  for (absl::string_view group : absl::StrSplit(text, ',')) {
    group = absl::StripAsciiWhitespace(group);
    if (group.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("layers '", text, "': empty entry; write e.g. 4x32MiB,1x1GiB"));
    }
    uint64_t count = 1;
    absl::string_view size_text = group;
    size_t x = group.find_first_of("xX");
    if (x != absl::string_view::npos) {
      if (!absl::SimpleAtoi(group.substr(0, x), &count) || count == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "layers '", text, "': '", group, "' needs a positive layer count before 'x'"));
      }
      size_text = group.substr(x + 1);
    }
    auto size = ParseByteSize(absl::StripAsciiWhitespace(size_text));
    if (!size.ok() || *size == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "layers '", text, "': '", size_text, "' is not a positive size like 32MiB or 1GiB",
          size.ok() ? "" : absl::StrCat(" (", size.status().message(), ")")));
    }
    if (sizes.size() + count > kMaxLayers) {
      return absl::InvalidArgumentError(
          absl::StrCat("layers '", text, "': more than ", kMaxLayers, " layers"));
    }
    sizes.insert(sizes.end(), count, *size);
  }
  return sizes;
}

std::string FormatLayers(const std::vector<uint64_t>& sizes) {
  std::string out;
  for (size_t i = 0; i < sizes.size();) {
    size_t j = i;
    while (j < sizes.size() && sizes[j] == sizes[i]) ++j;
    absl::StrAppend(&out, out.empty() ? "" : ",", j - i, "x", FormatByteSize(sizes[i]));
    i = j;
  }
  return out;
}

std::string HumanBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  return absl::StrFormat(u == 0 ? "%.0f %s" : "%.2f %s", bytes, units[u]);
}

}  // namespace shoal::bench
