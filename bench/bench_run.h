// One shoal-bench run from scenario to report: build the testbed, generate and
// push the image, shape the links, run each system on the same links (fresh state
// each time), and collect the figures. The testbed and every process are gone when
// RunBench returns, whether it succeeded, failed or was interrupted.
#pragma once

#include <atomic>

#include "absl/status/statusor.h"
#include "bench/report.h"
#include "bench/scenario.h"

namespace shoal::bench {

// The per-system time limit when the scenario gives none: generous enough for
// direct, whose origin must send N copies (N × F / u_origin), on a loaded machine.
absl::Duration DefaultSystemTimeout(const PhysicalBound& bound, uint32_t nodes);

// `interrupted` is set by the Ctrl-C handler; the run stops at the next check.
absl::StatusOr<Report> RunBench(const Scenario& scenario, const std::atomic<bool>& interrupted);

}  // namespace shoal::bench
