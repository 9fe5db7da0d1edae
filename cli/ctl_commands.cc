#include "cli/ctl_commands.h"

#include <grpcpp/grpcpp.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "cli/progress_view.h"
#include "scheduler/human_units.h"
#include "scheduler/job_json.h"
#include "shoal/v1/scheduler.grpc.pb.h"

namespace shoal::ctl {
namespace {

class Rpc {
 public:
  explicit Rpc(const std::string& address)
      : address_(address),
        stub_(v1::Scheduler::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {}

  // Every call has a deadline: a dead scheduler must not hang a script.
  std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout = absl::Seconds(30)) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + absl::ToChronoSeconds(timeout));
    return ctx;
  }
  int Fail(const grpc::Status& s) {
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
        s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      std::fprintf(stderr, "shoalctl: cannot reach the scheduler at %s (%s); check --scheduler\n",
                   address_.c_str(), s.error_message().c_str());
    } else {
      std::fprintf(stderr, "shoalctl: %s\n", s.error_message().c_str());
    }
    return kApiError;
  }
  v1::Scheduler::Stub& stub() { return *stub_; }

 private:
  std::string address_;
  std::unique_ptr<v1::Scheduler::Stub> stub_;
};

void PrintJson(const nlohmann::json& j) { std::cout << j.dump(2) << std::endl; }

int ExitFor(v1::JobState s) {
  switch (s) {
    case v1::JOB_STATE_SUCCEEDED:
      return kOk;
    case v1::JOB_STATE_FAILED:
    case v1::JOB_STATE_CANCELLED:
      return kJobFailed;
    default:
      return kStillRunning;
  }
}

std::string Percent(uint64_t done, uint64_t total) {
  return total == 0 ? std::string("-") : absl::StrCat(done * 100 / total, "%");
}

std::string When(int64_t unix_ms) {
  if (unix_ms == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixMillis(unix_ms),
                          absl::LocalTimeZone());
}

int Columns() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 100;
}

void PrintJob(const v1::JobStatus& s) {
  std::printf("job       %s (%s)\n", s.id().c_str(), JobStateText(s.state()));
  std::printf("image     %s -> %s\n", s.reference().c_str(),
              s.resolved_digest().empty() ? "(not resolved)" : s.resolved_digest().c_str());
  std::printf("platform  %s   scope %s%s\n", s.platform().c_str(), s.scope().c_str(),
              s.target_hosts_size() > 0
                  ? absl::StrCat(" (", absl::StrJoin(s.target_hosts(), ", "), ")").c_str()
                  : "");
  std::printf("progress  %s  %s of %s  %s  ETA %s\n",
              Percent(s.done_bytes(), s.total_bytes()).c_str(), HumanBytes(s.done_bytes()).c_str(),
              HumanBytes(s.total_bytes()).c_str(), HumanRate(s.rate_bps()).c_str(),
              s.eta_seconds() < 0 ? "?" : HumanSeconds(s.eta_seconds()).c_str());
  std::printf("created   %s   finished %s\n", When(s.created_unix_ms()).c_str(),
              When(s.finished_unix_ms()).c_str());
  if (!s.error().empty()) std::printf("error     %s\n", s.error().c_str());
  if (s.blobs_size() == 0) return;
  std::printf("\n%-19s %10s  %-16s %-5s %-10s %10s %12s  %s\n", "BLOB", "SIZE", "HOST", "ROLE",
              "STATE", "BYTES", "RATE", "ERROR");
  for (const v1::BlobStatus& b : s.blobs()) {
    bool first = true;
    for (const v1::HostProgress& h : b.hosts()) {
      std::printf("%-19s %10s  %-16s %-5s %-10s %10s %12s  %s\n",
                  first ? b.digest().substr(0, 19).c_str() : "",
                  first ? HumanBytes(b.size()).c_str() : "", h.host_id().c_str(), h.role().c_str(),
                  h.state().c_str(), HumanBytes(h.bytes_done()).c_str(),
                  h.rate_bps() > 0 ? HumanRate(h.rate_bps()).c_str() : "-", h.error().c_str());
      first = false;
    }
    if (b.hosts_size() == 0) {
      std::printf("%-19s %10s  %s\n", b.digest().substr(0, 19).c_str(),
                  HumanBytes(b.size()).c_str(), "(no host assigned yet)");
    }
  }
}

absl::StatusOr<std::string> ReadPassword(const CtlArgs& a) {
  if (a.password_stdin) {
    std::string line;
    if (!std::getline(std::cin, line)) {
      return absl::InvalidArgumentError("--password-stdin: nothing to read on stdin");
    }
    return std::string(absl::StripSuffix(line, "\r"));
  }
  const char* env = std::getenv("SHOAL_REGISTRY_PASSWORD");
  return std::string(env != nullptr ? env : "");
}

int Wait(Rpc& rpc, const CtlArgs& a, const std::string& id) {
  const bool terminal = !a.json && isatty(STDOUT_FILENO);
  ProgressView view(stdout, terminal, Columns());
  const absl::Time deadline = absl::Now() + a.timeout;
  int unreachable = 0;
  while (true) {
    v1::GetJobRequest req;
    req.set_job_id(id);
    v1::JobStatus status;
    auto ctx = rpc.Context(absl::Seconds(10));
    grpc::Status s = rpc.stub().GetJob(ctx.get(), req, &status);
    if (!s.ok()) {
      // The scheduler may be restarting; the job survives that. Keep trying a while.
      if ((s.error_code() == grpc::StatusCode::UNAVAILABLE ||
           s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) &&
          ++unreachable < 60) {
        absl::SleepFor(absl::Seconds(1));
        continue;
      }
      return rpc.Fail(s);
    }
    unreachable = 0;
    bool done = ExitFor(status.state()) != kStillRunning;
    if (!a.json) view.Update(status, absl::Now());
    if (done) {
      if (a.json) {
        PrintJson(JobStatusJson(status));
      } else {
        view.Finish(status);
      }
      return ExitFor(status.state());
    }
    if (absl::Now() >= deadline) {
      if (a.json) {
        PrintJson(JobStatusJson(status));
      } else {
        std::printf("stopped waiting after %s; job %s goes on (shoalctl job %s)\n",
                    absl::FormatDuration(a.timeout).c_str(), id.c_str(), id.c_str());
      }
      return kStillRunning;
    }
    absl::SleepFor(terminal ? absl::Milliseconds(300) : absl::Milliseconds(500));
  }
}

int Preheat(Rpc& rpc, const CtlArgs& a) {
  v1::CreateJobRequest req;
  req.set_image(a.positional[0]);
  req.set_platform(a.platform);
  req.set_scope(a.scope);
  req.set_layer_concurrency(a.layer_concurrency);
  req.set_host_concurrency(a.host_concurrency);
  req.set_idempotency_key(a.idempotency_key);
  if (!a.username.empty()) {
    auto password = ReadPassword(a);
    if (!password.ok()) {
      std::fprintf(stderr, "shoalctl: %s\n", std::string(password.status().message()).c_str());
      return kUsage;
    }
    req.mutable_auth()->set_username(a.username);
    req.mutable_auth()->set_password(*password);
  }
  v1::CreateJobResponse resp;
  auto ctx = rpc.Context(absl::Minutes(2));  // resolution talks to the registry
  grpc::Status s = rpc.stub().CreateJob(ctx.get(), req, &resp);
  if (!s.ok()) return rpc.Fail(s);
  if (!a.wait || resp.state() == v1::JOB_STATE_FAILED) {
    if (a.json) {
      nlohmann::json j{{"id", resp.job_id()},
                       {"existing", resp.existing()},
                       {"state", JobStateText(resp.state())}};
      if (!resp.error().empty()) j["error"] = resp.error();
      PrintJson(j);
    } else if (resp.state() == v1::JOB_STATE_FAILED) {
      std::printf("job %s failed: %s\n", resp.job_id().c_str(), resp.error().c_str());
    } else {
      std::printf("%s%s\n", resp.job_id().c_str(),
                  resp.existing() ? " (an identical job already existed)" : "");
    }
    return resp.state() == v1::JOB_STATE_FAILED ? kJobFailed : kOk;
  }
  if (!a.json) {
    std::printf("job %s%s\n", resp.job_id().c_str(),
                resp.existing() ? " (an identical job already existed)" : "");
  }
  return Wait(rpc, a, resp.job_id());
}

int Jobs(Rpc& rpc, const CtlArgs& a) {
  v1::ListJobsRequest req;
  if (!a.state.empty()) {
    bool ok = false;
    for (int v = v1::JOB_STATE_PENDING; v <= v1::JOB_STATE_CANCELLED; ++v) {
      if (a.state == JobStateText(static_cast<v1::JobState>(v))) {
        req.set_state(static_cast<v1::JobState>(v));
        ok = true;
      }
    }
    if (!ok) {
      std::fprintf(stderr,
                   "shoalctl: --state '%s' is not pending, running, succeeded, failed "
                   "or cancelled\n",
                   a.state.c_str());
      return kUsage;
    }
  }
  v1::ListJobsResponse resp;
  auto ctx = rpc.Context();
  grpc::Status s = rpc.stub().ListJobs(ctx.get(), req, &resp);
  if (!s.ok()) return rpc.Fail(s);
  if (a.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& j : resp.jobs()) list.push_back(JobStatusJson(j));
    PrintJson(nlohmann::json{{"jobs", list}});
    return kOk;
  }
  std::printf("%-21s %-10s %5s  %-19s %-12s %-16s %s\n", "ID", "STATE", "DONE", "CREATED",
              "PLATFORM", "SCOPE", "IMAGE");
  for (const auto& j : resp.jobs()) {
    std::printf("%-21s %-10s %5s  %-19s %-12s %-16s %s\n", j.id().c_str(), JobStateText(j.state()),
                Percent(j.done_bytes(), j.total_bytes()).c_str(), When(j.created_unix_ms()).c_str(),
                j.platform().c_str(), j.scope().c_str(), j.reference().c_str());
  }
  return kOk;
}

int Job(Rpc& rpc, const CtlArgs& a, bool cancel) {
  v1::JobStatus status;
  auto ctx = rpc.Context();
  grpc::Status s;
  if (cancel) {
    v1::CancelJobRequest req;
    req.set_job_id(a.positional[0]);
    s = rpc.stub().CancelJob(ctx.get(), req, &status);
  } else {
    v1::GetJobRequest req;
    req.set_job_id(a.positional[0]);
    s = rpc.stub().GetJob(ctx.get(), req, &status);
  }
  if (!s.ok()) return rpc.Fail(s);
  if (a.json) {
    PrintJson(JobStatusJson(status));
  } else {
    PrintJob(status);
  }
  return cancel ? kOk : ExitFor(status.state());
}

int Hosts(Rpc& rpc, const CtlArgs& a) {
  v1::ListHostsResponse resp;
  auto ctx = rpc.Context();
  grpc::Status s = rpc.stub().ListHosts(ctx.get(), v1::ListHostsRequest(), &resp);
  if (!s.ok()) return rpc.Fail(s);
  std::vector<v1::HostStatus> hosts(resp.hosts().begin(), resp.hosts().end());
  if (a.json) {
    PrintJson(HostsJson(hosts));
    return kOk;
  }
  std::printf("%-20s %-5s %-22s %-6s %-19s %s\n", "ID", "ROLE", "DATA ADDRESS", "ALIVE",
              "LAST SEEN", "LABELS");
  for (const auto& h : hosts) {
    std::vector<std::string> labels;
    for (const auto& [k, v] : h.host().labels()) labels.push_back(absl::StrCat(k, "=", v));
    std::sort(labels.begin(), labels.end());
    std::printf("%-20s %-5s %-22s %-6s %-19s %s\n", h.host().id().c_str(),
                h.host().role() == v1::HOST_ROLE_SEED ? "seed" : "peer",
                absl::StrCat(h.host().ip(), ":", h.host().data_port()).c_str(),
                h.alive() ? "yes" : "no", When(h.last_seen_unix_ms()).c_str(),
                absl::StrJoin(labels, ",").c_str());
  }
  return kOk;
}

}  // namespace

int RunCommand(const CtlArgs& a) {
  Rpc rpc(a.scheduler);
  if (a.command == "preheat") return Preheat(rpc, a);
  if (a.command == "jobs") return Jobs(rpc, a);
  if (a.command == "job") return Job(rpc, a, /*cancel=*/false);
  if (a.command == "cancel") return Job(rpc, a, /*cancel=*/true);
  if (a.command == "hosts") return Hosts(rpc, a);
  return kUsage;
}

}  // namespace shoal::ctl
