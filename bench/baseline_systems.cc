#include "bench/baseline_systems.h"

#include "absl/strings/str_cat.h"
#include "bench/daemon_sampler.h"
#include "bench/netns.h"
#include "bench/progress.h"

namespace shoal::bench {
namespace {

std::vector<NodePullPlan> PlansAgainst(const BenchContext& ctx, const std::string& host_port) {
  std::vector<NodePullPlan> plans;
  for (const TestbedHost* node : ctx.Nodes()) {
    NodePullPlan p{node->name, node->netns, {}};
    for (const auto& blob : ctx.image.blobs) {
      p.urls.push_back(absl::StrCat("http://", host_port, ctx.BlobPath(blob.digest)));
    }
    plans.push_back(std::move(p));
  }
  return plans;
}

SystemResult PullThrough(const BenchContext& ctx, const std::string& name,
                         const std::string& host_port, DaemonSampler& sampler) {
  SystemResult r;
  r.name = name;
  r.ran = true;
  auto plans = PlansAgainst(ctx, host_port);
  TransferMeter meter(name, ctx.image.bytes * plans.size(), static_cast<int>(plans.size()));
  sampler.Begin();
  absl::Time started = absl::InfinitePast();
  PullOptions pulls = ctx.Pulls(&meter);
  pulls.started = &started;
  r.nodes = PullOnAllNodes(plans, ctx.image.blobs, pulls);
  r.daemons = sampler.Finish();
  r.host_cpu = sampler.host_cpu();
  ProgressLine(meter.Line());
  ctx.CountOrigin(r, started);
  return r;
}

}  // namespace

SystemResult RunDirect(const BenchContext& ctx) {
  ctx.MarkOrigin();
  DaemonSampler sampler;
  sampler.Watch("registry", ctx.origin_pid);
  return PullThrough(ctx, kSystemDirect, ctx.OriginHostPort(), sampler);
}

SystemResult RunCentralCache(const BenchContext& ctx) {
  ctx.MarkOrigin();
  const TestbedHost& host = ctx.testbed->host("cache");
  testkit::RegistryOptions o;
  o.ip = host.ip;
  o.port = kRegistryPort;
  o.proxy_remote_url = "http://" + ctx.OriginHostPort();
  o.work_dir = absl::StrCat(ctx.work_dir, "/central-cache");
  std::unique_ptr<testkit::RegistryProcess> cache;
  // Started from a thread inside the cache host's namespace, so the process lives there.
  absl::Status started = RunInNetns(host.netns, [&]() -> absl::Status {
    auto c = testkit::RegistryProcess::Start(o);
    if (!c.ok()) return c.status();
    cache = std::move(*c);
    return absl::OkStatus();
  });
  if (!started.ok()) {
    SystemResult r;
    r.name = kSystemCentralCache;
    r.skipped_reason = absl::StrCat("the pull-through cache did not start: ", started.message());
    return r;
  }
  ProgressLine(absl::StrCat("central-cache: docker-registry proxy on ", cache->host_port()));
  ctx.MarkOrigin();
  DaemonSampler sampler;
  sampler.Watch("registry", ctx.origin_pid);
  sampler.Watch("cache", FindProcessByArg(o.work_dir + "/registry.yml"));
  return PullThrough(ctx, kSystemCentralCache, cache->host_port(), sampler);
}

}  // namespace shoal::bench
