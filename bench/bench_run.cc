#include "bench/bench_run.h"

#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/baseline_systems.h"
#include "bench/bench_context.h"
#include "bench/daemon_sampler.h"
#include "bench/netns.h"
#include "bench/progress.h"
#include "bench/shoal_system.h"
#include "bench/testbed.h"
#include "bench/units.h"
#include "testkit/image_builder.h"
#include "testkit/image_pusher.h"
#include "testkit/temp_dir.h"

namespace shoal::bench {
namespace {

constexpr char kRepository[] = "bench/img";
constexpr char kTag[] = "v1";

nlohmann::json ScenarioJson(const Scenario& s) {
  return {{"description", DescribeScenario(s)},
          {"nodes", s.nodes},
          {"layers", FormatLayers(s.layer_sizes)},
          {"node_rate_bps", s.node_rate_bps},
          {"origin_rate_bps", s.origin_rate_bps},
          {"latency_ms", absl::ToDoubleMilliseconds(s.latency)},
          {"seeds", s.seeds},
          {"segment_size", s.segment_size},
          {"piece_size", s.piece_size},
          {"chunk_size", s.chunk_size}};
}

absl::StatusOr<testkit::BuiltImage> BuildAndPush(const Scenario& s, const std::string& work_dir,
                                                 const TestbedHost& registry_host,
                                                 const std::string& registry_url) {
  testkit::ImageSpec spec;
  spec.repository = kRepository;
  spec.tag = kTag;
  spec.seed = s.image_seed;
  // Odd sizes near the requested ones, so no layer lines up with a piece, chunk or
  // segment boundary (as real layers do not).
  for (uint64_t size : s.layer_sizes) spec.layer_sizes.push_back(testkit::UnalignedSize(size));
  const std::string dir = work_dir + "/image";
  auto image = testkit::BuildImage(spec, dir);
  if (!image.ok()) return image.status();
  // Pushed from inside the registry host before shaping: setup is not measured.
  absl::Status pushed =
      RunInNetns(registry_host.netns, [&] { return testkit::PushImage(*image, {registry_url}); });
  if (!pushed.ok()) return pushed;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);  // the registry holds the bytes now
  return image;
}

SystemResult RunSystem(const std::string& name, const BenchContext& ctx) {
  if (name == kSystemDirect) return RunDirect(ctx);
  if (name == kSystemCentralCache) return RunCentralCache(ctx);
  if (name == kSystemShoalMirror) return RunShoal(ctx, ShoalMode::kMirrorPulls);
  return RunShoal(ctx, ShoalMode::kPreheat);
}

}  // namespace

absl::Duration DefaultSystemTimeout(const PhysicalBound& bound, uint32_t nodes) {
  return absl::Seconds(3.0 * bound.origin_seconds * nodes + 120.0);
}

absl::StatusOr<Report> RunBench(const Scenario& s, const std::atomic<bool>& interrupted) {
  if (auto st = RequireRoot(); !st.ok()) return st;
  if (int stale = RemoveStaleTestbeds(); stale > 0) {
    ProgressLine(absl::StrCat("removed ", stale, " namespaces/bridges left by earlier runs"));
  }
  std::error_code ec;
  std::filesystem::create_directories(s.output_dir, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("output: cannot create ", s.output_dir, ": ", ec.message()));
  }
  std::unique_ptr<testkit::TempDir> owned_work;
  std::string work_dir = s.work_dir;
  if (work_dir.empty()) {
    auto dir = testkit::TempDir::Create("bench");
    if (!dir.ok()) return dir.status();
    owned_work = std::make_unique<testkit::TempDir>(std::move(*dir));
    work_dir = owned_work->path();
  }

  ProgressLine(absl::StrCat("scenario: ", DescribeScenario(s)));
  TestbedOptions topts;
  topts.hosts = PlanHosts(s.nodes, s.seeds, s.node_rate_bps, s.origin_rate_bps);
  topts.latency = s.latency;
  auto testbed = Testbed::Create(topts);
  if (!testbed.ok()) return testbed.status();
  ProgressLine(absl::StrCat("testbed ", (*testbed)->tag(), ": ", topts.hosts.size(), " hosts on ",
                            (*testbed)->subnet()));

  const TestbedHost& reg_host = (*testbed)->host("registry");
  testkit::RegistryOptions ropts;
  ropts.ip = reg_host.ip;
  ropts.port = kRegistryPort;
  ropts.work_dir = work_dir + "/origin";
  std::unique_ptr<testkit::RegistryProcess> origin;
  absl::Status started = RunInNetns(reg_host.netns, [&]() -> absl::Status {
    auto r = testkit::RegistryProcess::Start(ropts);
    if (!r.ok()) return r.status();
    origin = std::move(*r);
    return absl::OkStatus();
  });
  if (!started.ok()) return started;

  ProgressLine(absl::StrCat("image: generating ", FormatLayers(s.layer_sizes),
                            " and pushing it to the origin ", origin->host_port()));
  auto image = BuildAndPush(s, work_dir, reg_host, origin->url());
  if (!image.ok()) return image.status();
  if (interrupted.load()) return absl::CancelledError("interrupted");
  if (auto st = (*testbed)->ApplyShaping(); !st.ok()) return st;
  ProgressLine("links shaped (tbf egress in each namespace, tbf ingress on the bridge side)");

  BenchContext ctx;
  ctx.scenario = &s;
  ctx.testbed = testbed->get();
  ctx.origin = origin.get();
  ctx.origin_pid = FindProcessByArg(ropts.work_dir + "/registry.yml");
  ctx.repository = kRepository;
  ctx.work_dir = work_dir;
  ctx.interrupted = &interrupted;
  ctx.image.reference = image->Reference(origin->host_port());
  for (const testkit::BlobFile& b : image->PlatformBlobs()) {
    ctx.image.blobs.push_back({b.digest, b.size});
    ctx.image.bytes += b.size;
  }

  std::map<std::string, std::string> ip_to_host;
  for (const TestbedHost& h : (*testbed)->hosts()) ip_to_host[h.ip] = h.name;
  std::map<std::string, uint64_t> blob_sizes;
  for (const auto& b : ctx.image.blobs) blob_sizes[b.digest] = b.size;
  OriginLedger ledger(origin.get(), ip_to_host, blob_sizes);
  ctx.origin_ledger = &ledger;

  Report report;
  report.scenario = ScenarioJson(s);
  report.image = ctx.image;
  report.nodes = s.nodes;
  report.bound =
      ComputeBound({ctx.image.bytes, s.nodes, s.origin_rate_bps, s.node_rate_bps, s.node_rate_bps});
  ctx.timeout = s.system_timeout > absl::ZeroDuration()
                    ? s.system_timeout
                    : DefaultSystemTimeout(report.bound, s.nodes);
  ProgressLine(absl::StrFormat("physical bound %.1f s (%s); per-system limit %s",
                               report.bound.seconds, report.bound.binding,
                               absl::FormatDuration(ctx.timeout)));

  for (const std::string& name : s.systems) {
    if (interrupted.load()) return absl::CancelledError("interrupted");
    ProgressLine(absl::StrCat("system ", name, ": starting"));
    SystemResult r = RunSystem(name, ctx);
    if (interrupted.load()) return absl::CancelledError("interrupted");
    if (!r.ran) {
      ProgressLine(absl::StrCat("system ", name, ": skipped: ", r.skipped_reason));
    } else {
      int done = 0;
      for (const NodeOutcome& n : r.nodes) done += n.seconds.has_value() ? 1 : 0;
      ProgressLine(absl::StrFormat(
          "system %s: %d/%d nodes complete; origin served %.2f x F", name, done, r.nodes.size(),
          static_cast<double>(r.origin_bytes) / static_cast<double>(ctx.image.bytes)));
    }
    report.systems.push_back(std::move(r));
  }
  ProgressLine("tearing down the testbed");
  return report;
}

}  // namespace shoal::bench
