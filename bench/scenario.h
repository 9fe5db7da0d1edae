// A benchmark scenario: the cluster (node count, link rates, latency), the image
// shape, how shoal is cut (segment/piece/chunk sizes, seed count), which systems
// run, and where the report goes. Read from flags or from a YAML file with the same
// keys (`--scenario FILE`; flags override the file), then validated in one place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shoal::bench {

// The systems shoal-bench knows, in the order they run.
inline constexpr const char* kSystemDirect = "direct";
inline constexpr const char* kSystemCentralCache = "central-cache";
inline constexpr const char* kSystemShoal = "shoal";  // mirror pulls, then preheat
inline constexpr const char* kSystemShoalMirror = "shoal-mirror";
inline constexpr const char* kSystemShoalPreheat = "shoal-preheat";

struct Scenario {
  uint32_t nodes = 4;
  std::vector<uint64_t> layer_sizes;  // approximate; the image uses odd sizes near these
  uint64_t node_rate_bps = 0;         // each node's uplink and downlink, bits/s
  uint64_t origin_rate_bps = 0;       // the registry host's uplink and downlink
  absl::Duration latency = absl::ZeroDuration();  // one-way delay on every host's egress
  uint32_t seeds = 1;
  uint64_t segment_size = 64ull << 20;
  uint64_t piece_size = 4ull << 20;
  uint64_t chunk_size = 8ull << 20;
  // Expanded: "shoal" becomes shoal-mirror and shoal-preheat.
  std::vector<std::string> systems;
  std::string output_dir;
  absl::Duration system_timeout = absl::ZeroDuration();  // 0: derived from the bound
  std::string bin_dir;                                   // where shoal-scheduler/-seed/-peer are
  std::string work_dir;  // data dirs and logs; a temp dir when empty
  bool keep_logs = true;
  uint64_t image_seed = 1;
  std::string log_level = "info";  // of the shoal daemons
  bool check = false;              // exit non-zero when the report breaks an invariant
};

// Parses argv (argv[0] skipped). After --help / --print-config (printed to stdout)
// `help_printed` is set and the scenario is not filled.
struct ParsedArgs {
  Scenario scenario;
  bool help_printed = false;
};
absl::StatusOr<ParsedArgs> ParseScenarioArgs(int argc, char** argv);

// Checks ranges and fills derived values; messages name the key.
absl::Status ValidateScenario(Scenario& scenario);

// "direct,central-cache,shoal" -> the system list (shoal expands to its two modes).
absl::StatusOr<std::vector<std::string>> ParseSystems(const std::string& text);

// One line for the terminal and the report: "N=8, 8x128MiB, node 400mbit, origin 200mbit".
std::string DescribeScenario(const Scenario& scenario);

}  // namespace shoal::bench
