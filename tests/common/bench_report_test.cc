// shoal-bench's report: the figures derived from raw node times, and the invariant
// checker that separates a harness bug from a slow system.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "bench/report.h"

namespace shoal::bench {
namespace {

constexpr uint64_t kBlob = 1000;

SystemResult Ran(const std::string& name, std::vector<double> seconds, uint64_t origin_copies) {
  SystemResult s;
  s.name = name;
  s.ran = true;
  for (size_t i = 0; i < seconds.size(); ++i) {
    s.nodes.push_back({"node-" + std::to_string(i + 1), seconds[i], 2 * kBlob, 2, {}});
  }
  s.origin_bytes = origin_copies * 2 * kBlob;
  s.origin_blob_requests = static_cast<int>(origin_copies * 2);
  s.daemons = {{"registry", 1, 3.0, 50u << 20}};
  return s;
}

// 4 nodes, a 2-blob image of 2000 bytes, bound 10 s.
Report GoodRun() {
  Report r;
  r.nodes = 4;
  r.image.reference = "10.1.2.201:5000/bench/img:v1";
  r.image.blobs = {{"sha256:aa", kBlob}, {"sha256:bb", kBlob}};
  r.image.bytes = 2 * kBlob;
  r.bound.seconds = 10;
  r.bound.origin_seconds = 10;
  r.bound.binding = "origin uplink";
  r.systems.push_back(Ran("direct", {38, 40, 39, 40.5}, 4));
  r.systems.push_back(Ran("central-cache", {20, 21, 22, 23}, 1));
  r.systems.push_back(Ran("shoal-mirror", {12, 11, 13, 14}, 1));
  r.systems.back().origin_done_seconds = 10.5;
  SystemResult skipped;
  skipped.name = "shoal-preheat";
  skipped.skipped_reason = "no job API";
  r.systems.push_back(skipped);
  return r;
}

std::string Joined(const std::vector<std::string>& v) { return absl::StrJoin(v, "\n"); }

TEST(BenchReport, PercentilesAreNearestRank) {
  std::vector<double> ten = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_EQ(Percentile(ten, 0.5), 5);
  EXPECT_EQ(Percentile(ten, 0.9), 9);
  EXPECT_EQ(Percentile(ten, 1.0), 10);
  TimeSummary t = Summarize({14, 11, 13, 12});
  EXPECT_EQ(t.min, 11);
  EXPECT_EQ(t.p50, 12);
  EXPECT_EQ(t.p90, 14);
  EXPECT_EQ(t.max, 14);
}

TEST(BenchReport, JsonCarriesTheKeysCiReads) {
  nlohmann::json j = ReportToJson(GoodRun());
  EXPECT_EQ(j["bound_seconds"], 10.0);
  const auto& shoal = j["systems"]["shoal-mirror"];
  EXPECT_EQ(shoal["last_node_seconds"], 14.0);
  EXPECT_EQ(shoal["ratio_to_bound"], 1.4);
  EXPECT_EQ(shoal["origin_copies"], 1.0);
  EXPECT_EQ(shoal["node_seconds"], nlohmann::json({12.0, 11.0, 13.0, 14.0}));
  EXPECT_EQ(shoal["p50_seconds"], 12.0);
  EXPECT_EQ(j["systems"]["direct"]["origin_copies"], 4.0);
  // 3 CPU-seconds over 4 nodes x 2000 bytes delivered.
  EXPECT_NEAR(j["systems"]["direct"]["daemons"]["registry"]["cpu_seconds_per_gb"].get<double>(),
              3.0 / 8e-6, 1);
  EXPECT_FALSE(j["systems"]["shoal-preheat"]["ran"]);
  EXPECT_EQ(j["system_order"].size(), 4u);
}

TEST(BenchReport, AGoodRunBreaksNoInvariant) {
  EXPECT_EQ(Joined(CheckReportInvariants(ReportToJson(GoodRun()))), "");
}

TEST(BenchReport, BeatingTheBoundMeansTheHarnessIsWrong) {
  Report r = GoodRun();
  r.systems[2] = Ran("shoal-mirror", {8, 9, 9.5, 9.9}, 1);
  auto bad = CheckReportInvariants(ReportToJson(r));
  ASSERT_EQ(bad.size(), 1u) << Joined(bad);
  EXPECT_TRUE(absl::StrContains(bad[0], "harness is wrong")) << bad[0];
}

TEST(BenchReport, ANodeMissingABlobIsReported) {
  Report r = GoodRun();
  NodeOutcome& n = r.systems[1].nodes[2];
  n.blobs_verified = 1;
  n.bytes = kBlob;
  n.seconds.reset();
  n.errors = {"GET ... returned bytes with digest sha256:00"};
  nlohmann::json j = ReportToJson(r);
  EXPECT_TRUE(j["systems"]["central-cache"]["last_node_seconds"].is_null());
  EXPECT_TRUE(j["systems"]["central-cache"]["node_seconds"][2].is_null());
  std::string bad = Joined(CheckReportInvariants(j));
  EXPECT_TRUE(absl::StrContains(bad, "central-cache node-3 got 1 of 2 blobs")) << bad;
  EXPECT_TRUE(absl::StrContains(bad, "central-cache node-3 did not finish")) << bad;
}

TEST(BenchReport, ShoalMustFetchExactlyOneCopyAndDirectExactlyN) {
  Report r = GoodRun();
  r.systems[2].origin_bytes = 2 * kBlob + 500;  // a retried range
  r.systems[0].origin_bytes = 3 * 2 * kBlob;
  std::string bad = Joined(CheckReportInvariants(ReportToJson(r)));
  EXPECT_TRUE(absl::StrContains(bad, "shoal-mirror: the origin served 2500 blob bytes = 1.250"))
      << bad;
  EXPECT_TRUE(absl::StrContains(bad, "direct: the origin served 6000 blob bytes, want N × F"))
      << bad;
}

TEST(BenchReport, LessThanOneOriginCopyMeansBytesWereNotCounted) {
  Report r = GoodRun();
  r.systems[1].origin_bytes = kBlob;
  std::string bad = Joined(CheckReportInvariants(ReportToJson(r)));
  EXPECT_TRUE(absl::StrContains(bad, "central-cache: the origin served 1000 blob bytes, less"))
      << bad;
}

TEST(BenchReport, EditedFiguresThatDisagreeWithTheirInputsAreCaught) {
  nlohmann::json j = ReportToJson(GoodRun());
  j["systems"]["direct"]["last_node_seconds"] = 39.0;
  j["systems"]["shoal-mirror"]["ratio_to_bound"] = 1.1;
  std::string bad = Joined(CheckReportInvariants(j));
  EXPECT_TRUE(absl::StrContains(bad, "direct: last_node_seconds 39")) << bad;
  EXPECT_TRUE(absl::StrContains(bad, "shoal-mirror: ratio_to_bound 1.1")) << bad;
}

TEST(BenchReport, MarkdownNamesWhoMadeShoalFetchABlobTwice) {
  Report r = GoodRun();
  r.systems[2].origin_repeats = {
      {"sha256:e11bd570d86f904b26e1", 2, 1492, {{"seed-1", 1}, {"node-2", 1}}}};
  std::string md = MarkdownTables(ReportToJson(r));
  EXPECT_TRUE(absl::StrContains(md,
                                "- shoal-mirror: sha256:e11bd570d86f… 1492 bytes in 2 GETs, by "
                                "node-2 (1 GETs), seed-1 (1 GETs)"))
      << md;
}

TEST(BenchReport, MarkdownTableShowsEverySystem) {
  std::string md = MarkdownTables(ReportToJson(GoodRun()));
  EXPECT_TRUE(absl::StrContains(
      md, "| shoal-mirror | 14.0 | 1.40 | 11.0 | 12.0 | 14.0 | 1.00 | 2 | 10.5 | 4/4 |"))
      << md;
  EXPECT_TRUE(absl::StrContains(md, "| direct | 40.5 | 4.05 |")) << md;
  EXPECT_TRUE(absl::StrContains(md, "| shoal-preheat | skipped: no job API")) << md;
  EXPECT_TRUE(absl::StrContains(md, "| direct | registry | 1 | 3.0 |")) << md;
  EXPECT_TRUE(absl::StrContains(md, "Physical bound: 10.0 s (origin uplink")) << md;
}

}  // namespace
}  // namespace shoal::bench
