// shoal-bench: an emulated cluster on one machine (network namespaces, links
// shaped by tc), on which shoal and the systems users run today distribute the same
// image over the same links; reports each against the physical lower bound.
//
//   sudo build/bin/shoal-bench --nodes 8 --layers 8x128MiB --node-rate 400mbit
//        --origin-rate 200mbit --output /tmp/bench-8
//
// Writes DIR/report.json, DIR/completion_cdf.png, DIR/origin_bytes.png, daemon logs
// under DIR/logs/; prints Markdown tables on stdout and progress on stderr.
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "bench/bench_run.h"
#include "bench/plots.h"
#include "bench/progress.h"
#include "bench/report.h"
#include "bench/scenario.h"
#include "testkit/subprocess.h"

namespace shoal::bench {
namespace {

std::atomic<bool> g_interrupted{false};

// SIGINT/SIGTERM are blocked in every thread and taken by this one, which only
// raises the flag and stops the children so blocking waits end; the main thread
// then unwinds and the destructors tear the testbed down.
void StartSignalThread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    while (true) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (!g_interrupted.exchange(true)) {
        ProgressLine(absl::StrCat(sig == SIGINT ? "SIGINT" : "SIGTERM",
                                  ": stopping; the testbed is being removed"));
      }
      testkit::SignalAllSubprocesses(SIGTERM);
    }
  }).detach();
}

int Main(int argc, char** argv) {
  auto parsed = ParseScenarioArgs(argc, argv);
  if (!parsed.ok()) {
    std::fprintf(stderr, "shoal-bench: %s\n", std::string(parsed.status().message()).c_str());
    return 2;
  }
  if (parsed->help_printed) return 0;
  const Scenario& scenario = parsed->scenario;
  StartSignalThread();

  auto report = RunBench(scenario, g_interrupted);
  if (!report.ok()) {
    std::fprintf(stderr, "shoal-bench: %s\n", std::string(report.status().message()).c_str());
    return g_interrupted.load() ? 130 : 1;
  }
  nlohmann::json json = ReportToJson(*report);
  const std::string path = scenario.output_dir + "/report.json";
  std::ofstream(path) << json.dump(2) << "\n";
  ProgressLine(absl::StrCat("report: ", path));
  if (auto st = RenderPlots(json, scenario.output_dir); !st.ok()) {
    ProgressLine(absl::StrCat("plots: ", st.message()));
  } else {
    ProgressLine(absl::StrCat("plots: ", scenario.output_dir, "/completion_cdf.png, ",
                              scenario.output_dir, "/origin_bytes.png"));
  }
  std::printf("## shoal-bench: %s\n\n%s\n", json["scenario"].value("description", "").c_str(),
              MarkdownTables(json).c_str());
  for (const auto& [name, s] : json["systems"].items()) {
    for (const auto& note : s["notes"]) {
      std::fprintf(stderr, "\n%s: %s\n", name.c_str(), note.get<std::string>().c_str());
    }
  }
  std::vector<std::string> violations = CheckReportInvariants(json);
  for (const std::string& v : violations) std::fprintf(stderr, "invariant broken: %s\n", v.c_str());
  if (scenario.check && !violations.empty()) return 3;
  return 0;
}

}  // namespace
}  // namespace shoal::bench

int main(int argc, char** argv) { return shoal::bench::Main(argc, argv); }
