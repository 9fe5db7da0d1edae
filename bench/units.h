// Parsing of the quantities a benchmark scenario names: link rates as tc writes
// them ("200mbit", "1gbit"), image shapes ("4x32MiB,1x1GiB") and their inverse
// for printing. Kept apart from the scenario so each rule has its own test.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shoal::bench {

// "200mbit" -> 200'000'000 bits/s. Units as tc(8) reads them, decimal:
// bit, kbit, mbit, gbit, tbit (case-insensitive), optionally with "/s" or "ps".
// Byte units (tc's "mbps" means megabytes/s) are refused as too easy to misread.
absl::StatusOr<uint64_t> ParseRate(absl::string_view text);
// 200'000'000 -> "200mbit" (exact multiples only; else "<n>bit").
std::string FormatRate(uint64_t bits_per_second);

// "4x32MiB,1x1GiB" -> {32MiB, 32MiB, 32MiB, 32MiB, 1GiB}. A bare size is one layer.
// Sizes as ParseByteSize reads them ("64MiB", "1GiB", "10MB", "4096").
absl::StatusOr<std::vector<uint64_t>> ParseLayers(absl::string_view text);
// Inverse of ParseLayers, grouping runs of equal sizes: "4x32MiB,1x1GiB".
std::string FormatLayers(const std::vector<uint64_t>& sizes);

// 3.5e9 -> "3.26 GiB" for humans.
std::string HumanBytes(double bytes);

}  // namespace shoal::bench
