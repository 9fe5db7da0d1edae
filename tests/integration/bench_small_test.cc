// shoal-bench end to end, as root, with the CI scenario of issue 5: 4 nodes pull
// a 4 x 32 MiB image over 200 Mbit/s links from a 100 Mbit/s origin, directly,
// through a pull-through cache and through shoal. The report must show what is
// physically true of a correct run: every node got every blob intact, shoal took
// exactly one copy from the origin and direct N copies, nobody beat the bound; and
// the testbed must be gone afterwards, also when the run is interrupted.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "testkit/subprocess.h"
#include "testkit/temp_dir.h"

namespace shoal::testkit {
namespace {

const std::string kBench = std::string(SHOAL_BIN_DIR) + "/shoal-bench";

void RequireRootAndBinary() {
  if (geteuid() != 0) GTEST_SKIP() << "shoal-bench needs root (network namespaces, tc)";
  ASSERT_EQ(access(kBench.c_str(), X_OK), 0)
      << kBench << " is missing; build it: cmake --build <dir> --target shoal-bench "
      << "shoal-scheduler shoal-seed shoal-peer";
}

// Namespaces and links whose names carry the run's tag.
std::string Leftovers(const std::string& tag) {
  std::string out;
  for (const auto& argv : {std::vector<std::string>{"ip", "netns", "list"},
                           std::vector<std::string>{"ip", "-o", "link", "show"}}) {
    auto r = RunCommand(argv, absl::Seconds(10));
    if (!r.ok()) return std::string(r.status().message());
    for (absl::string_view line : absl::StrSplit(r->output, '\n')) {
      if (absl::StrContains(line, tag)) absl::StrAppend(&out, line, "\n");
    }
  }
  return out;
}

std::string TagFromLog(const std::string& log) {
  std::smatch m;
  std::regex re("testbed (sb[0-9a-z]{7}):");
  return std::regex_search(log, m, re) ? m[1].str() : "";
}

TEST(BenchSmall, LongEndToEnd) {
  RequireRootAndBinary();
  if (HasFatalFailure() || IsSkipped()) return;
  auto dir = TempDir::Create("bench-small");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string out = dir->path() + "/out";
  auto run = RunCommand(
      {kBench, "--nodes", "4", "--layers", "4x32MiB", "--node-rate", "200mbit", "--origin-rate",
       "100mbit", "--systems", "direct,central-cache,shoal", "--output", out, "--check"},
      absl::Minutes(14));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_code, 0) << run->output;

  nlohmann::json r = nlohmann::json::parse(ReadFileOrEmpty(out + "/report.json"), nullptr, false);
  ASSERT_TRUE(r.is_object()) << "no report.json; output:\n" << run->output;
  const double bound = r["bound_seconds"].get<double>();
  const uint64_t f = r["image"]["bytes"].get<uint64_t>();
  const size_t blobs = r["image"]["blobs"].size();
  EXPECT_EQ(blobs, 5u) << "config + 4 layers";
  EXPECT_GT(f, 4u * 32 * 1000 * 1000);
  // 128 MiB over the 100 Mbit/s origin: ~10.7 s.
  EXPECT_NEAR(bound, static_cast<double>(f) * 8 / 100e6, 0.01);

  for (const std::string name : {"direct", "central-cache", "shoal-mirror", "shoal-preheat"}) {
    SCOPED_TRACE(name);
    const nlohmann::json& s = r["systems"][name];
    if (name == "shoal-preheat" && !s.value("ran", false)) {
      // Allowed only until the scheduler serves the job API.
      EXPECT_TRUE(absl::StrContains(s.value("skipped", ""), "job API")) << s.dump(2);
      continue;
    }
    ASSERT_TRUE(s.value("ran", false)) << s.dump(2);
    ASSERT_EQ(s["nodes"].size(), 4u);
    for (const auto& node : s["nodes"]) {
      EXPECT_EQ(node["blobs_verified"], blobs) << node.dump();
      EXPECT_EQ(node["bytes"], f) << node.dump();
      EXPECT_TRUE(node["seconds"].is_number()) << node.dump();
    }
    ASSERT_TRUE(s["ratio_to_bound"].is_number()) << s.dump(2);
    EXPECT_GE(s["ratio_to_bound"].get<double>(), 1.0) << "nothing beats the physical bound";
    EXPECT_GE(s["last_node_seconds"].get<double>(), bound);
    const uint64_t origin = s["origin_bytes"].get<uint64_t>();
    if (name == "direct") {
      EXPECT_EQ(origin, 4 * f) << "direct: each node fetched its own copy";
    } else if (absl::StartsWith(name, "shoal")) {
      EXPECT_EQ(origin, f) << "shoal: the origin served each byte once";
      EXPECT_EQ(s["origin_copies"], 1.0);
    } else {
      EXPECT_GE(origin, f);
    }
  }
  for (const char* png : {"completion_cdf.png", "origin_bytes.png"}) {
    EXPECT_GT(std::filesystem::file_size(out + "/" + png), 1000u) << png;
  }
  EXPECT_TRUE(absl::StrContains(run->output, "| shoal-mirror |")) << run->output;
  const std::string tag = TagFromLog(run->output);
  ASSERT_FALSE(tag.empty()) << run->output;
  EXPECT_EQ(Leftovers(tag), "") << "the testbed outlived the run";
}

TEST(BenchSmall, InterruptRemovesTheTestbed) {
  RequireRootAndBinary();
  if (HasFatalFailure() || IsSkipped()) return;
  auto dir = TempDir::Create("bench-int");
  ASSERT_TRUE(dir.ok()) << dir.status();
  SubprocessOptions o;
  o.argv = {kBench,
            "--nodes",
            "2",
            "--layers",
            "2x8MiB",
            "--node-rate",
            "50mbit",
            "--origin-rate",
            "20mbit",
            "--systems",
            "direct",
            "--output",
            dir->path() + "/out"};
  o.log_path = dir->path() + "/bench.log";
  auto bench = Subprocess::Start(o);
  ASSERT_TRUE(bench.ok()) << bench.status();
  // Interrupted in the middle of the direct pulls (~7 s at 20 Mbit/s).
  ASSERT_TRUE((*bench)->WaitForLogLine("system direct: starting", absl::Minutes(2)).ok())
      << (*bench)->LogTail();
  const std::string tag = TagFromLog((*bench)->ReadLog());
  ASSERT_FALSE(tag.empty()) << (*bench)->LogTail();
  ASSERT_NE(Leftovers(tag), "") << "the testbed should exist while the run goes on";
  (*bench)->Kill(SIGINT);
  auto code = (*bench)->Wait(absl::Seconds(60));
  ASSERT_TRUE(code.ok()) << "shoal-bench did not stop after SIGINT:\n" << (*bench)->LogTail();
  EXPECT_EQ(*code, 130) << (*bench)->LogTail();
  EXPECT_EQ(Leftovers(tag), "") << (*bench)->LogTail();
}

TEST(BenchSmall, RefusesWithoutRootAndSaysWhy) {
  if (access(kBench.c_str(), X_OK) != 0) GTEST_SKIP() << kBench << " not built";
  std::vector<std::string> argv = {kBench, "--nodes", "2", "--output", "/tmp/never-written"};
  if (geteuid() == 0) {
    argv.insert(argv.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  }
  auto r = RunCommand(argv, absl::Seconds(30));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 1) << r->output;
  EXPECT_TRUE(absl::StrContains(r->output, "shoal-bench needs root")) << r->output;
  EXPECT_FALSE(std::filesystem::exists("/tmp/never-written"));
}

}  // namespace
}  // namespace shoal::testkit
