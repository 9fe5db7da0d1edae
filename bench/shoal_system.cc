#include "bench/shoal_system.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/daemon_sampler.h"
#include "bench/netns.h"
#include "bench/preheat_client.h"
#include "bench/progress.h"
#include "bench/shoal_deployment.h"

namespace shoal::bench {
namespace {

constexpr absl::Duration kJobPollInterval = absl::Milliseconds(250);
constexpr size_t kExcerptTail = 15;
constexpr size_t kExcerptProblems = 20;

std::vector<NodePullPlan> MirrorPlans(const BenchContext& ctx, const ShoalDeployment& shoal) {
  std::vector<NodePullPlan> plans;
  for (const TestbedHost* node : ctx.Nodes()) {
    NodePullPlan p{node->name, node->netns, {}};
    for (const auto& blob : ctx.image.blobs) {
      p.urls.push_back(absl::StrCat(shoal.MirrorUrl(*node), ctx.BlobPath(blob.digest),
                                    "?ns=", ctx.OriginHostPort()));
    }
    plans.push_back(std::move(p));
  }
  return plans;
}

// Submits the job and polls it; fills each node's time when the job first shows
// every blob succeeded on it. Runs in the scheduler host's namespace.
absl::Status RunPreheatJob(const BenchContext& ctx, const ShoalDeployment& shoal,
                           std::map<std::string, double>& node_done, std::string& job_summary,
                           absl::Time& started) {
  PreheatClient client(shoal.SchedulerHttpUrl());
  const absl::Time start = absl::Now();
  started = start;
  const int64_t submitted_ms = absl::ToUnixMillis(start);
  auto id = client.Submit(ctx.image.reference, "all-peers", "linux/amd64");
  if (!id.ok()) return id.status();
  const size_t nodes = ctx.Nodes().size();
  TransferMeter meter(kSystemShoalPreheat, ctx.image.bytes * nodes, static_cast<int>(nodes));
  uint64_t reported = 0;
  while (true) {
    auto status = client.Get(*id);
    const double now = absl::ToDoubleSeconds(absl::Now() - start);
    if (!status.ok()) return status.status();
    for (const auto& [host, complete] : status->HostsComplete()) {
      if (complete && host.rfind("node-", 0) == 0 && !node_done.count(host)) {
        // The scheduler's own finish times are exact; polling is the fallback.
        const int64_t finished = status->HostFinishedUnixMs(host);
        node_done[host] = finished > 0
                              ? std::max(0.0, static_cast<double>(finished - submitted_ms) / 1000.0)
                              : now;
        meter.NodeDone();
      }
    }
    const uint64_t done = status->BytesDone();
    if (done > reported) meter.AddBytes(done - reported);
    reported = std::max(reported, done);
    job_summary = absl::StrCat("job ", *id, " ", status->state,
                               status->error.empty() ? "" : ": " + status->error);
    if (node_done.size() == nodes || status->Terminal()) break;
    if (absl::Now() - start > ctx.timeout) {
      return absl::DeadlineExceededError(
          absl::StrCat("preheat job ", *id, " not done after ", absl::FormatDuration(ctx.timeout),
                       " (", status->state, ", ", node_done.size(), "/", nodes, " nodes)"));
    }
    if (ctx.interrupted->load()) return absl::CancelledError("interrupted");
    absl::SleepFor(kJobPollInterval);
  }
  return absl::OkStatus();
}

void Preheat(const BenchContext& ctx, const ShoalDeployment& shoal, SystemResult& r,
             absl::Time& started) {
  std::map<std::string, double> node_done;
  std::string job_summary;
  absl::Status job = RunInNetns(ctx.testbed->host("scheduler").netns, [&] {
    return RunPreheatJob(ctx, shoal, node_done, job_summary, started);
  });
  if (absl::IsUnimplemented(job)) {
    r.ran = false;
    r.skipped_reason = std::string(job.message());
    return;
  }
  if (!job.ok()) r.notes.push_back(absl::StrCat("preheat: ", job.message()));
  if (!job_summary.empty()) r.notes.push_back(job_summary);
  // What the job claims, checked: every node reads every blob from its own mirror.
  ProgressLine("shoal-preheat: verifying every blob on every node through its mirror");
  r.nodes = PullOnAllNodes(MirrorPlans(ctx, shoal), ctx.image.blobs, ctx.Pulls(nullptr));
  for (NodeOutcome& n : r.nodes) {
    auto it = node_done.find(n.name);
    if (it == node_done.end()) {
      n.errors.push_back("the preheat job never reported every blob done on this node");
      n.seconds.reset();
    } else if (n.seconds.has_value()) {
      n.seconds = it->second;
    }
  }
}

}  // namespace

SystemResult RunShoal(const BenchContext& ctx, ShoalMode mode) {
  SystemResult r;
  r.name = mode == ShoalMode::kMirrorPulls ? kSystemShoalMirror : kSystemShoalPreheat;
  r.ran = true;
  ctx.MarkOrigin();
  auto shoal = ShoalDeployment::Start(ctx, absl::StrCat(ctx.work_dir, "/", r.name),
                                      absl::StrCat(ctx.scenario->output_dir, "/logs/", r.name));
  if (!shoal.ok()) {
    r.ran = false;
    r.skipped_reason = absl::StrCat("shoal did not start: ", shoal.status().message());
    return r;
  }
  DaemonSampler sampler;
  sampler.Watch("registry", ctx.origin_pid);
  (*shoal)->WatchAll(sampler);
  sampler.Begin();
  absl::Time started = absl::InfinitePast();
  if (mode == ShoalMode::kMirrorPulls) {
    const size_t nodes = ctx.Nodes().size();
    TransferMeter meter(r.name, ctx.image.bytes * nodes, static_cast<int>(nodes));
    PullOptions pulls = ctx.Pulls(&meter);
    pulls.started = &started;
    r.nodes = PullOnAllNodes(MirrorPlans(ctx, **shoal), ctx.image.blobs, pulls);
    ProgressLine(meter.Line());
  } else {
    Preheat(ctx, **shoal, r, started);
  }
  r.daemons = sampler.Finish();
  r.host_cpu = sampler.host_cpu();
  ctx.CountOrigin(r, started);
  bool complete = r.ran;
  for (const NodeOutcome& n : r.nodes) complete = complete && n.seconds.has_value();
  if (r.ran && !complete) {
    r.notes.push_back(absl::StrCat("not every node finished; daemon log excerpts:\n",
                                   (*shoal)->LogExcerpts(kExcerptTail, kExcerptProblems)));
  }
  return r;
}

}  // namespace shoal::bench
