#include "testkit/shoal_cluster.h"

#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "testkit/net_util.h"

namespace shoal::testkit {
namespace {

std::string RoleName(DaemonRole role) {
  switch (role) {
    case DaemonRole::kScheduler:
      return "scheduler";
    case DaemonRole::kSeed:
      return "seed";
    case DaemonRole::kPeer:
      return "peer";
  }
  return "?";
}

}  // namespace

std::string Daemon::binary_name() const { return "shoal-" + RoleName(role); }
std::string Daemon::address() const { return HostPort(ip, port); }
std::string Daemon::mirror_address() const { return HostPort(ip, http_port); }

absl::StatusOr<std::unique_ptr<ShoalCluster>> ShoalCluster::Start(ClusterOptions options) {
  std::unique_ptr<ShoalCluster> c(new ShoalCluster(std::move(options)));
  if (c->options_.work_dir.empty()) {
    auto dir = TempDir::Create("cluster");
    if (!dir.ok()) return dir.status();
    c->owned_dir_ = std::make_unique<TempDir>(std::move(*dir));
    c->options_.work_dir = c->owned_dir_->path();
  }
  c->work_dir_ = c->options_.work_dir;

  auto sched = c->Plan(DaemonRole::kScheduler, 0);
  if (!sched.ok()) return sched.status();
  c->scheduler_ = std::move(*sched);
  for (int i = 0; i < c->options_.seeds; ++i) {
    auto d = c->Plan(DaemonRole::kSeed, i + 1);
    if (!d.ok()) return d.status();
    c->seeds_.push_back(std::move(*d));
  }
  for (int i = 0; i < c->options_.peers; ++i) {
    auto d = c->Plan(DaemonRole::kPeer, i + 1);
    if (!d.ok()) return d.status();
    c->peers_.push_back(std::move(*d));
  }

  if (c->options_.start_scheduler) {
    if (auto s = c->Launch(*c->scheduler_); !s.ok()) return s;
    if (auto s = c->WaitReady(*c->scheduler_); !s.ok()) return s;
  }
  // Seeds and peers start together and are waited for afterwards: a cluster comes
  // up in about the time of its slowest daemon.
  for (auto* group : {&c->seeds_, &c->peers_}) {
    for (auto& d : *group) {
      if (auto s = c->Launch(*d); !s.ok()) return s;
    }
  }
  for (auto* group : {&c->seeds_, &c->peers_}) {
    for (auto& d : *group) {
      if (auto s = c->WaitReady(*d); !s.ok()) return s;
    }
  }
  return c;
}

ShoalCluster::~ShoalCluster() {
  for (auto* group : {&peers_, &seeds_}) {
    for (auto& d : *group) {
      if (d->process != nullptr) d->process->Stop();
    }
  }
  if (scheduler_ != nullptr && scheduler_->process != nullptr) scheduler_->process->Stop();
}

absl::StatusOr<std::unique_ptr<Daemon>> ShoalCluster::Plan(DaemonRole role, int index) {
  auto d = std::make_unique<Daemon>();
  d->role = role;
  d->name = role == DaemonRole::kScheduler ? "scheduler" : absl::StrCat(RoleName(role), "-", index);
  d->ip = NextLoopbackIp();
  d->data_dir = absl::StrCat(work_dir_, "/", d->name);
  d->log_path = absl::StrCat(work_dir_, "/", d->name, ".log");
  std::error_code ec;
  std::filesystem::create_directories(d->data_dir, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot create ", d->data_dir, ": ", ec.message()));
  auto port = FreePort(d->ip);
  if (!port.ok()) return port.status();
  d->port = *port;
  if (role != DaemonRole::kSeed) {
    auto http = FreePort(d->ip);
    if (!http.ok()) return http.status();
    d->http_port = *http;
  }

  std::string binary = absl::StrCat(options_.bin_dir, "/", d->binary_name());
  d->argv = {binary, "--data-dir", d->data_dir, "--log-level", options_.log_level};
  const std::vector<std::string>* extra = nullptr;
  if (role == DaemonRole::kScheduler) {
    d->argv.insert(d->argv.end(),
                   {"--listen", d->address(), "--http-listen", HostPort(d->ip, d->http_port)});
    extra = &options_.scheduler_flags;
  } else {
    d->argv.insert(d->argv.end(), {"--scheduler", scheduler_->address(), "--ip", d->ip,
                                   "--data-port", std::to_string(d->port), "--host-id", d->name});
    for (const std::string& r : options_.insecure_registries) {
      d->argv.insert(d->argv.end(), {"--insecure-registry", r});
    }
    if (role == DaemonRole::kPeer) {
      d->argv.insert(d->argv.end(), {"--mirror-listen", d->mirror_address()});
      extra = &options_.peer_flags;
    } else {
      extra = &options_.seed_flags;
    }
  }
  d->argv.insert(d->argv.end(), extra->begin(), extra->end());
  return d;
}

absl::Status ShoalCluster::Launch(Daemon& d) {
  if (access(d.argv[0].c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        d.argv[0],
        " is missing; build it first (scripts/build.sh, or cmake --build <dir> --target ",
        d.binary_name(), ")"));
  }
  SubprocessOptions sp;
  sp.argv = d.argv;
  sp.log_path = d.log_path;
  auto proc = Subprocess::Start(std::move(sp));
  if (!proc.ok()) return proc.status();
  d.process = std::move(*proc);
  return absl::OkStatus();
}

absl::Status ShoalCluster::WaitReady(Daemon& d) {
  absl::Status s =
      d.process->WaitForLogLine(absl::StrCat(d.binary_name(), " ready"), options_.ready_timeout);
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat(d.name, " (", d.ip, ") not ready: ", s.message()));
  }
  return absl::OkStatus();
}

std::vector<Daemon*> ShoalCluster::all() {
  std::vector<Daemon*> out;
  if (scheduler_->process != nullptr) out.push_back(scheduler_.get());
  for (auto& d : seeds_) out.push_back(d.get());
  for (auto& d : peers_) out.push_back(d.get());
  return out;
}

std::string ShoalCluster::scheduler_http_url() const {
  return absl::StrCat("http://", HostPort(scheduler_->ip, scheduler_->http_port));
}

absl::Status ShoalCluster::Kill(Daemon& d, int signal) {
  if (d.process == nullptr) return absl::OkStatus();
  d.process->Kill(signal);
  auto code = d.process->Wait(absl::Seconds(30));
  if (!code.ok()) {
    return absl::DeadlineExceededError(
        absl::StrCat(d.name, " did not exit within 30s of signal ", signal));
  }
  return absl::OkStatus();
}

absl::Status ShoalCluster::Restart(Daemon& d) {
  if (d.process != nullptr) d.process->Stop();
  if (auto s = Launch(d); !s.ok()) return s;
  return WaitReady(d);
}

std::string ShoalCluster::LogTails(size_t lines_each) const {
  std::string out;
  auto append = [&](const Daemon& d) {
    absl::StrAppend(&out, "---- ", d.name, " (", d.log_path, ") ----\n",
                    TailLines(ReadFileOrEmpty(d.log_path), lines_each), "\n");
  };
  append(*scheduler_);
  for (const auto& d : seeds_) append(*d);
  for (const auto& d : peers_) append(*d);
  return out;
}

}  // namespace shoal::testkit
