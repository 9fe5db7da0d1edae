// The gnuplot inputs shoal-bench writes (gnuplot itself is not run here).
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "bench/plots.h"
#include "testkit/subprocess.h"
#include "testkit/temp_dir.h"

namespace shoal::bench {
namespace {

nlohmann::json TwoSystems() {
  return nlohmann::json::parse(R"({
    "nodes": 4, "bound_seconds": 10.5,
    "system_order": ["direct", "shoal-mirror", "shoal-preheat"],
    "systems": {
      "direct": {"ran": true, "node_seconds": [40, 38, null, 39], "origin_copies": 3.0},
      "shoal-mirror": {"ran": true, "node_seconds": [12, 11, 13, 14], "origin_copies": 1.0},
      "shoal-preheat": {"ran": false, "skipped": "no job API"}}})");
}

TEST(BenchPlots, CdfStepsPerSystemWithTheBoundAndOriginBars) {
  auto dir = testkit::TempDir::Create("bench-plots");
  ASSERT_TRUE(dir.ok());
  auto script = WritePlotInputs(TwoSystems(), dir->path());
  ASSERT_TRUE(script.ok()) << script.status();
  EXPECT_TRUE(absl::StrContains(*script, "set arrow from 10.500, graph 0 to 10.500, graph 1"))
      << *script;
  EXPECT_TRUE(absl::StrContains(*script, "'cdf_shoal-mirror.dat' using 1:2 with steps"));
  EXPECT_FALSE(absl::StrContains(*script, "shoal-preheat")) << "skipped systems are not drawn";
  // Sorted times; the unfinished node keeps the direct line at 3/4.
  EXPECT_EQ(testkit::ReadFileOrEmpty(dir->File("cdf_direct.dat")),
            "0 0\n38.000 0.2500\n39.000 0.5000\n40.000 0.7500\n");
  EXPECT_EQ(testkit::ReadFileOrEmpty(dir->File("origin_copies.dat")),
            "0 \"direct\" 3.000\n1 \"shoal-mirror\" 1.000\n");
}

}  // namespace
}  // namespace shoal::bench
