#include "bench/scenario.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/units.h"
#include "common/options.h"

namespace shoal::bench {
namespace {

constexpr uint32_t kMaxNodes = 200;  // host addresses .1-.200 of the testbed's /24
constexpr uint32_t kMaxSeeds = 8;

// The flag spellings as the user typed them, before they become numbers.
struct RawScenario {
  uint32_t nodes = 4;
  std::string layers = "4x32MiB";
  std::string node_rate = "200mbit";
  std::string origin_rate = "100mbit";
  absl::Duration latency = absl::ZeroDuration();
  uint32_t seeds = 1;
  uint64_t segment_size = 64ull << 20;
  uint64_t piece_size = 4ull << 20;
  uint64_t chunk_size = 8ull << 20;
  std::string systems = "direct,central-cache,shoal";
  std::string output;
  absl::Duration timeout = absl::ZeroDuration();
  std::string bin_dir = SHOAL_BIN_DIR;
  std::string work_dir;
  uint32_t image_seed = 1;
  std::string log_level = "info";
  bool check = false;
};

void Register(OptionSet& o, RawScenario& r) {
  o.AddUint("nodes", &r.nodes, "number of node hosts (each pulls the whole image)");
  o.AddString("layers", &r.layers, "image layers, COUNTxSIZE[,COUNTxSIZE...], e.g. 4x32MiB,1x1GiB");
  o.AddString("node-rate", &r.node_rate, "each node's uplink and downlink, e.g. 200mbit, 1gbit");
  o.AddString("origin-rate", &r.origin_rate, "the registry host's uplink and downlink");
  o.AddDuration("latency", &r.latency, "one-way delay added to every host's egress, e.g. 2ms");
  o.AddUint("seeds", &r.seeds, "shoal seed hosts");
  o.AddBytes("segment-size", &r.segment_size, "shoal segment size (one torrent each)");
  o.AddBytes("piece-size", &r.piece_size, "shoal BitTorrent piece size");
  o.AddBytes("chunk-size", &r.chunk_size, "shoal seed's ranged-GET size from the origin");
  o.AddString("systems", &r.systems,
              "comma-separated: direct, central-cache, shoal (= shoal-mirror,shoal-preheat)");
  o.AddString("output", &r.output, "directory for report.json, plots and logs (required)");
  o.AddDuration("timeout", &r.timeout, "per-system time limit (0: derived from the bound)");
  o.AddString("bin-dir", &r.bin_dir, "directory holding shoal-scheduler, shoal-seed, shoal-peer");
  o.AddString("work-dir", &r.work_dir, "scratch dir for data dirs (default: a temp dir)");
  o.AddUint("image-seed", &r.image_seed, "seed of the synthetic image's bytes");
  o.AddString("log-level", &r.log_level, "log level of the shoal daemons");
  o.AddBool("check", &r.check, "exit 3 when the report breaks an invariant (CI)");
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseSystems(const std::string& text) {
  const std::vector<std::string> order = {kSystemDirect, kSystemCentralCache, kSystemShoalMirror,
                                          kSystemShoalPreheat};
  std::vector<std::string> wanted;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(part));
    if (name == kSystemShoal) {
      wanted.push_back(kSystemShoalMirror);
      wanted.push_back(kSystemShoalPreheat);
    } else if (std::find(order.begin(), order.end(), name) != order.end()) {
      wanted.push_back(name);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("systems: unknown system '", name,
                                                     "'; known: direct, central-cache, ",
                                                     "shoal, shoal-mirror, shoal-preheat"));
    }
  }
  std::vector<std::string> out;
  for (const std::string& s : order) {
    if (std::find(wanted.begin(), wanted.end(), s) != wanted.end()) out.push_back(s);
  }
  if (out.empty()) return absl::InvalidArgumentError("systems: name at least one system");
  return out;
}

absl::Status ValidateScenario(Scenario& s) {
  if (s.nodes < 1 || s.nodes > kMaxNodes) {
    return absl::InvalidArgumentError(absl::StrCat("nodes must be 1..", kMaxNodes));
  }
  if (s.seeds < 1 || s.seeds > kMaxSeeds) {
    return absl::InvalidArgumentError(absl::StrCat("seeds must be 1..", kMaxSeeds));
  }
  if (s.layer_sizes.empty()) return absl::InvalidArgumentError("layers: name at least one layer");
  if (s.node_rate_bps == 0 || s.origin_rate_bps == 0) {
    return absl::InvalidArgumentError("node-rate and origin-rate must be set, e.g. 200mbit");
  }
  if (s.piece_size < (16u << 10) || (s.piece_size & (s.piece_size - 1)) != 0) {
    return absl::InvalidArgumentError("piece-size must be a power of two of at least 16KiB");
  }
  if (s.segment_size == 0 || s.segment_size % s.piece_size != 0) {
    return absl::InvalidArgumentError("segment-size must be a positive multiple of piece-size");
  }
  if (s.chunk_size == 0 || s.segment_size % s.chunk_size != 0) {
    return absl::InvalidArgumentError("chunk-size must divide segment-size");
  }
  if (s.output_dir.empty()) {
    return absl::InvalidArgumentError("output is required: --output DIR (report.json, plots)");
  }
  if (s.systems.empty()) return absl::InvalidArgumentError("systems: name at least one system");
  return absl::OkStatus();
}

absl::StatusOr<ParsedArgs> ParseScenarioArgs(int argc, char** argv) {
  // --scenario FILE is the documented name of OptionSet's --config FILE.
  std::vector<std::string> args(argv, argv + argc);
  for (std::string& a : args) {
    if (a == "--scenario") a = "--config";
    if (a.rfind("--scenario=", 0) == 0) a = "--config=" + a.substr(11);
  }
  std::vector<char*> cargs;
  for (std::string& a : args) cargs.push_back(a.data());

  RawScenario raw;
  OptionSet options("shoal-bench",
                    "an emulated cluster (network namespaces, shaped links) on which shoal and "
                    "the alternatives distribute one image; report against the physical bound. "
                    "--scenario FILE reads the same keys from YAML.");
  Register(options, raw);
  auto outcome = options.Parse(static_cast<int>(cargs.size()), cargs.data());
  if (!outcome.ok()) return outcome.status();
  ParsedArgs parsed;
  if (*outcome == OptionSet::Outcome::kExitOk) {
    parsed.help_printed = true;
    return parsed;
  }
  Scenario& s = parsed.scenario;
  s.nodes = raw.nodes;
  auto layers = ParseLayers(raw.layers);
  if (!layers.ok()) return layers.status();
  s.layer_sizes = *layers;
  auto node_rate = ParseRate(raw.node_rate);
  if (!node_rate.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("node-rate: ", node_rate.status().message()));
  }
  s.node_rate_bps = *node_rate;
  auto origin_rate = ParseRate(raw.origin_rate);
  if (!origin_rate.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("origin-rate: ", origin_rate.status().message()));
  }
  s.origin_rate_bps = *origin_rate;
  s.latency = raw.latency;
  s.seeds = raw.seeds;
  s.segment_size = raw.segment_size;
  s.piece_size = raw.piece_size;
  s.chunk_size = raw.chunk_size;
  auto systems = ParseSystems(raw.systems);
  if (!systems.ok()) return systems.status();
  s.systems = *systems;
  s.output_dir = raw.output;
  s.system_timeout = raw.timeout;
  s.bin_dir = raw.bin_dir;
  s.work_dir = raw.work_dir;
  s.image_seed = raw.image_seed;
  s.log_level = raw.log_level;
  s.check = raw.check;
  if (auto st = ValidateScenario(s); !st.ok()) return st;
  return parsed;
}

std::string DescribeScenario(const Scenario& s) {
  uint64_t total = 0;
  for (uint64_t l : s.layer_sizes) total += l;
  std::string out =
      absl::StrCat("N=", s.nodes, ", layers ", FormatLayers(s.layer_sizes), " (",
                   HumanBytes(static_cast<double>(total)), "), node ", FormatRate(s.node_rate_bps),
                   ", origin ", FormatRate(s.origin_rate_bps));
  if (s.latency > absl::ZeroDuration()) {
    absl::StrAppend(&out, ", latency ", absl::FormatDuration(s.latency));
  }
  absl::StrAppend(&out, ", seeds ", s.seeds, ", segment ", FormatByteSize(s.segment_size));
  return out;
}

}  // namespace shoal::bench
