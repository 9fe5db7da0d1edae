// shoal-bench scenarios from flags and from a YAML file with the same keys.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "bench/scenario.h"
#include "testkit/temp_dir.h"

namespace shoal::bench {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

absl::StatusOr<ParsedArgs> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "shoal-bench");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return ParseScenarioArgs(static_cast<int>(argv.size()), argv.data());
}

TEST(BenchScenario, FlagsOfTheIssueCommandLine) {
  auto p = Parse({"--nodes", "8", "--layers", "8x128MiB", "--node-rate", "400mbit", "--origin-rate",
                  "200mbit", "--latency", "2ms", "--seeds", "2", "--segment-size", "32MiB",
                  "--systems", "direct,shoal", "--output", "/tmp/x"});
  ASSERT_TRUE(p.ok()) << p.status();
  const Scenario& s = p->scenario;
  EXPECT_EQ(s.nodes, 8u);
  EXPECT_EQ(s.layer_sizes, std::vector<uint64_t>(8, 128 * kMiB));
  EXPECT_EQ(s.node_rate_bps, 400'000'000u);
  EXPECT_EQ(s.origin_rate_bps, 200'000'000u);
  EXPECT_EQ(s.latency, absl::Milliseconds(2));
  EXPECT_EQ(s.seeds, 2u);
  EXPECT_EQ(s.segment_size, 32 * kMiB);
  EXPECT_EQ(s.systems, (std::vector<std::string>{"direct", "shoal-mirror", "shoal-preheat"}));
  EXPECT_EQ(s.output_dir, "/tmp/x");
}

TEST(BenchScenario, YamlFileWithTheSameKeysAndFlagsOverrideIt) {
  auto dir = testkit::TempDir::Create("bench-scenario");
  ASSERT_TRUE(dir.ok());
  const std::string file = dir->File("ci.yaml");
  std::ofstream(file) << "nodes: 4\n"
                         "layers: 4x32MiB,1x1GiB\n"
                         "node-rate: 200mbit\n"
                         "origin-rate: 100mbit\n"
                         "systems: direct,central-cache\n"
                         "output: /tmp/from-file\n";
  auto p = Parse({"--scenario", file, "--nodes", "6"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->scenario.nodes, 6u) << "a flag overrides the file";
  EXPECT_EQ(p->scenario.layer_sizes.size(), 5u);
  EXPECT_EQ(p->scenario.layer_sizes.back(), 1024 * kMiB);
  EXPECT_EQ(p->scenario.origin_rate_bps, 100'000'000u);
  EXPECT_EQ(p->scenario.systems, (std::vector<std::string>{"direct", "central-cache"}));
  EXPECT_EQ(p->scenario.output_dir, "/tmp/from-file");
}

TEST(BenchScenario, UnknownYamlKeyIsNamed) {
  auto dir = testkit::TempDir::Create("bench-scenario");
  ASSERT_TRUE(dir.ok());
  const std::string file = dir->File("bad.yaml");
  std::ofstream(file) << "nodez: 4\noutput: /tmp/x\n";
  auto p = Parse({"--scenario", file});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("nodez"), absl::string_view::npos) << p.status();
}

TEST(BenchScenario, BadValuesSayWhichKeyAndWhatToWrite) {
  struct Case {
    std::vector<std::string> args;
    const char* mentions;
  };
  const std::vector<Case> cases = {
      {{"--node-rate", "200mbps"}, "node-rate"},
      {{"--origin-rate", "lots"}, "origin-rate"},
      {{"--layers", "4x"}, "layers"},
      {{"--nodes", "0"}, "nodes"},
      {{"--nodes", "500"}, "nodes"},
      {{"--systems", "direct,torrent"}, "torrent"},
      {{"--segment-size", "3MiB"}, "segment-size"},
      {{"--chunk-size", "48MiB"}, "chunk-size"},
      {{"--seeds", "0"}, "seeds"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--output", "/tmp/x"});
    auto p = Parse(args);
    ASSERT_FALSE(p.ok()) << c.args[0] << " " << c.args[1];
    EXPECT_NE(p.status().message().find(c.mentions), absl::string_view::npos)
        << c.args[0] << " " << c.args[1] << " -> " << p.status().message();
  }
  auto no_output = Parse({"--nodes", "4"});
  ASSERT_FALSE(no_output.ok());
  EXPECT_NE(no_output.status().message().find("--output"), absl::string_view::npos);
}

TEST(BenchScenario, SystemsKeepRunOrderWhateverTheSpelling) {
  EXPECT_EQ(*ParseSystems("shoal, DIRECT"),
            (std::vector<std::string>{"direct", "shoal-mirror", "shoal-preheat"}));
  EXPECT_EQ(*ParseSystems("shoal-mirror,central-cache,shoal-mirror"),
            (std::vector<std::string>{"central-cache", "shoal-mirror"}));
  EXPECT_FALSE(ParseSystems("").ok());
}

TEST(BenchScenario, DescriptionNamesTheShape) {
  auto p = Parse({"--nodes", "4", "--layers", "4x32MiB", "--output", "/tmp/x"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(DescribeScenario(p->scenario),
            "N=4, layers 4x32MiB (128.00 MiB), node 200mbit, origin 100mbit, seeds 1, "
            "segment 64MiB");
}

}  // namespace
}  // namespace shoal::bench
