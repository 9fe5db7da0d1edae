// The report's figures as PNGs, drawn by gnuplot (Debian's gnuplot-nox):
//   completion_cdf.png — fraction of nodes done over time, one step line per
//                        system, the physical bound as a dashed vertical line;
//   origin_bytes.png   — blob bytes the origin served per system, in copies of the
//                        image (1.0 is the minimum; direct pays N).
// The data files and the gnuplot script stay next to them, so a figure can be
// restyled without rerunning the benchmark.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"

namespace shoal::bench {

// The gnuplot script for the report; data files are named relative to `dir`.
// Also writes those data files. Split from RenderPlots so it is testable without gnuplot.
absl::StatusOr<std::string> WritePlotInputs(const nlohmann::json& report, const std::string& dir);
// Writes inputs and runs gnuplot in `dir`. FailedPrecondition when gnuplot is missing.
absl::Status RenderPlots(const nlohmann::json& report, const std::string& dir);

}  // namespace shoal::bench
