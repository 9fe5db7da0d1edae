#include "bench/shoal_deployment.h"

#include <unistd.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/progress.h"
#include "common/options.h"

namespace shoal::bench {
namespace {

constexpr absl::Duration kReadyTimeout = absl::Seconds(60);

// Whether `binary --help` lists --<flag>: the scheduler gains flags (the job API's
// --insecure-registry) while this harness must also run against older builds.
bool HasFlag(const std::string& binary, const std::string& flag) {
  auto r = testkit::RunCommand({binary, "--help"}, absl::Seconds(10));
  return r.ok() && absl::StrContains(r->output, "--" + flag);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ShoalDeployment>> ShoalDeployment::Start(
    const BenchContext& ctx, const std::string& data_dir, const std::string& log_dir) {
  std::unique_ptr<ShoalDeployment> d(new ShoalDeployment());
  d->ctx_ = &ctx;
  d->data_dir_ = data_dir;
  d->log_dir_ = log_dir;
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  std::filesystem::create_directories(log_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", log_dir, ": ", ec.message()));

  const Scenario& s = *ctx.scenario;
  const TestbedHost& sched = ctx.testbed->host("scheduler");
  const std::string sched_grpc = absl::StrCat(sched.ip, ":", kSchedulerGrpcPort);
  std::vector<std::string> sched_args = {"--listen", sched_grpc, "--http-listen",
                                         absl::StrCat(sched.ip, ":", kSchedulerHttpPort)};
  // The scheduler resolves preheat images on the origin itself, over plain HTTP here.
  if (HasFlag(s.bin_dir + "/shoal-scheduler", "insecure-registry")) {
    sched_args.insert(sched_args.end(), {"--insecure-registry", ctx.OriginHostPort()});
  }
  if (auto st = d->Launch("scheduler", sched, sched_args); !st.ok()) return st;
  const std::vector<std::string> transfer = {"--scheduler",         sched_grpc,
                                             "--insecure-registry", ctx.OriginHostPort(),
                                             "--data-port",         std::to_string(kDataPort),
                                             "--segment-size",      FormatByteSize(s.segment_size),
                                             "--piece-size",        FormatByteSize(s.piece_size),
                                             "--chunk-size",        FormatByteSize(s.chunk_size)};
  for (uint32_t i = 1; i <= s.seeds; ++i) {
    const TestbedHost& host = ctx.testbed->host(absl::StrCat("seed-", i));
    std::vector<std::string> args = {"--ip", host.ip};
    args.insert(args.end(), transfer.begin(), transfer.end());
    if (auto st = d->Launch("seed", host, args); !st.ok()) return st;
  }
  for (const TestbedHost* node : ctx.Nodes()) {
    std::vector<std::string> args = {"--ip", node->ip, "--mirror-listen",
                                     absl::StrCat(node->ip, ":", kMirrorPort)};
    args.insert(args.end(), transfer.begin(), transfer.end());
    if (auto st = d->Launch("peer", *node, args); !st.ok()) return st;
  }
  // All started before any is waited for: the deployment is up in the time of its
  // slowest daemon.
  for (Daemon& daemon : d->daemons_) {
    if (auto st = daemon.process->WaitForLogLine(absl::StrCat("shoal-", daemon.role, " ready"),
                                                 kReadyTimeout);
        !st.ok()) {
      return absl::Status(st.code(), absl::StrCat("shoal-", daemon.role, " on ", daemon.host,
                                                  " did not come up: ", st.message()));
    }
  }
  // A running cluster is what is measured, not a cold start: the clock starts once
  // the scheduler knows every seed and peer (otherwise the first requests can find
  // "no live seed" and send peers to the origin).
  for (Daemon& daemon : d->daemons_) {
    if (daemon.role == "scheduler") continue;
    if (auto st = daemon.process->WaitForLogLine("registered with the scheduler", kReadyTimeout);
        !st.ok()) {
      return absl::Status(st.code(),
                          absl::StrCat("shoal-", daemon.role, " on ", daemon.host,
                                       " never registered with the scheduler: ", st.message()));
    }
  }
  ProgressLine(absl::StrCat("shoal: scheduler, ", s.seeds, " seed(s) and ", ctx.Nodes().size(),
                            " peers ready; logs in ", log_dir));
  return d;
}

absl::Status ShoalDeployment::Launch(const std::string& role, const TestbedHost& host,
                                     std::vector<std::string> args) {
  const std::string binary = absl::StrCat(ctx_->scenario->bin_dir, "/shoal-", role);
  if (access(binary.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(binary, " is missing; build it (cmake --build <build dir> --target shoal-",
                     role, ") or pass --bin-dir"));
  }
  const std::string data = absl::StrCat(data_dir_, "/", host.name);
  std::filesystem::create_directories(data);
  std::vector<std::string> argv = {binary, "--data-dir", data, "--log-level",
                                   ctx_->scenario->log_level};
  if (role != "scheduler") argv.insert(argv.end(), {"--host-id", host.name});
  argv.insert(argv.end(), args.begin(), args.end());
  testkit::SubprocessOptions o;
  o.argv = Testbed::InHost(host, argv);
  o.log_path = absl::StrCat(log_dir_, "/", host.name, ".log");
  auto p = testkit::Subprocess::Start(std::move(o));
  if (!p.ok()) return p.status();
  daemons_.push_back({role, host.name, std::move(*p)});
  return absl::OkStatus();
}

ShoalDeployment::~ShoalDeployment() {
  for (auto it = daemons_.rbegin(); it != daemons_.rend(); ++it) it->process->Stop();
  std::error_code ec;
  std::filesystem::remove_all(data_dir_, ec);
}

void ShoalDeployment::WatchAll(DaemonSampler& sampler) const {
  // `ip netns exec` execs the daemon in place, so the child's pid is the daemon's.
  for (const Daemon& d : daemons_) sampler.Watch(d.role, d.process->pid());
}

std::string ShoalDeployment::SchedulerHttpUrl() const {
  return absl::StrCat("http://", ctx_->testbed->host("scheduler").ip, ":", kSchedulerHttpPort);
}

std::string ShoalDeployment::MirrorUrl(const TestbedHost& node) const {
  return absl::StrCat("http://", node.ip, ":", kMirrorPort);
}

std::string ShoalDeployment::LogExcerpts(size_t tail_lines, size_t max_problem_lines) const {
  std::string out;
  for (const Daemon& d : daemons_) {
    const std::string log = d.process->ReadLog();
    std::string problems;
    size_t count = 0;
    for (absl::string_view line : absl::StrSplit(log, '\n')) {
      // spdlog lines read "<time> <level> [<logger>] <message>".
      if ((absl::StrContains(line, " error [") || absl::StrContains(line, " warning [") ||
           absl::StrContains(line, " critical [")) &&
          count++ < max_problem_lines) {
        absl::StrAppend(&problems, line, "\n");
      }
    }
    absl::StrAppend(&out, "---- ", d.host, " (", d.process->log_path(), ") ----\n");
    if (!problems.empty()) {
      absl::StrAppend(&out, "warnings/errors (", count, "):\n", problems);
    }
    absl::StrAppend(&out, "last lines:\n", testkit::TailLines(log, tail_lines), "\n");
  }
  return out;
}

}  // namespace shoal::bench
