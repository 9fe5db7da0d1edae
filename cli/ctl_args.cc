#include "cli/ctl_args.h"

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shoal::ctl {
namespace {

absl::Status Bad(const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(what, " (see shoalctl --help)"));
}

bool Known(const std::string& cmd) {
  return cmd == "preheat" || cmd == "jobs" || cmd == "job" || cmd == "cancel" || cmd == "hosts";
}

}  // namespace

std::string UsageText() {
  return R"(shoalctl: preheat images onto a shoal cluster and watch the jobs.

Usage:
  shoalctl [--scheduler HOST:PORT] [--output text|json] COMMAND [ARGS]

Commands:
  preheat IMAGE   create a preheat job for IMAGE (registry/repo:tag, repo@sha256:..., or a
                  Docker Hub short name such as alpine:3.19)
      --platform P           os/arch[/variant] (default linux/amd64), or "all"
      --scope S              seeds | all-peers (default) | hosts:ID,ID | KEY=VALUE,...
      --layer-concurrency N  blobs moved at once (default: the scheduler's)
      --host-concurrency N   target hosts per blob at once (default: the scheduler's)
      --idempotency-key K    the same key (and image, platform, scope) gives the same job
      --username U           registry user; the password is read from the first line of
      --password-stdin         stdin, or from $SHOAL_REGISTRY_PASSWORD
      --wait                 follow the job until it ends: live progress bars per layer on a
                             terminal, plain progress lines otherwise, then a summary
      --timeout D            with --wait: give up waiting after D (e.g. 10m); the job goes on
  jobs [--state S]  list jobs, newest first (S: pending|running|succeeded|failed|cancelled)
  job ID            status of one job: per blob, per host state, bytes, rate, errors
  cancel ID         cancel a job: its transfers stop on every host
  hosts             registered seeds and peers with liveness and labels

Global flags:
  --scheduler HOST:PORT  the scheduler's gRPC address (default $SHOAL_SCHEDULER, else
                         127.0.0.1:65003)
  --output text|json     json prints the REST API's JSON (one object) for scripts
  -h, --help             this text

Exit codes:
  0  done; for "preheat --wait" and "job": the job succeeded
  1  the job failed or was cancelled
  2  bad command line
  3  the scheduler could not be reached or refused the request
  4  "job" or "preheat --wait --timeout": the job is still pending or running
)";
}

absl::StatusOr<CtlArgs> ParseCtlArgs(const std::vector<std::string>& args) {
  CtlArgs a;
  const char* env = std::getenv("SHOAL_SCHEDULER");
  a.scheduler = env != nullptr && *env != '\0' ? env : kDefaultScheduler;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool inline_value = false;
    if (absl::StartsWith(arg, "--") && arg.find('=') != std::string::npos) {
      value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
      inline_value = true;
    }
    auto next = [&](const char* flag) -> absl::StatusOr<std::string> {
      if (inline_value) return value;
      if (i + 1 >= args.size()) return Bad(absl::StrCat(flag, " needs a value"));
      return args[++i];
    };
    auto count = [&](const char* flag, uint32_t* out) -> absl::Status {
      auto v = next(flag);
      if (!v.ok()) return v.status();
      int64_t n = 0;
      if (!absl::SimpleAtoi(*v, &n) || n < 0 || n > 1000000) {
        return Bad(absl::StrCat(flag, " wants a whole number >= 0, got '", *v, "'"));
      }
      *out = static_cast<uint32_t>(n);
      return absl::OkStatus();
    };
    auto text = [&](const char* flag, std::string* out) -> absl::Status {
      auto v = next(flag);
      if (!v.ok()) return v.status();
      *out = *v;
      return absl::OkStatus();
    };
    absl::Status s;
    if (arg == "-h" || arg == "--help" || arg == "help") {
      a.help = true;
    } else if (arg == "--scheduler") {
      s = text("--scheduler", &a.scheduler);
    } else if (arg == "--output" || arg == "-o") {
      std::string out;
      s = text("--output", &out);
      if (s.ok() && out != "json" && out != "text") {
        return Bad(absl::StrCat("--output is text or json, not '", out, "'"));
      }
      a.json = out == "json";
    } else if (arg == "--platform") {
      s = text("--platform", &a.platform);
    } else if (arg == "--scope") {
      s = text("--scope", &a.scope);
    } else if (arg == "--layer-concurrency") {
      s = count("--layer-concurrency", &a.layer_concurrency);
    } else if (arg == "--host-concurrency") {
      s = count("--host-concurrency", &a.host_concurrency);
    } else if (arg == "--idempotency-key") {
      s = text("--idempotency-key", &a.idempotency_key);
    } else if (arg == "--username") {
      s = text("--username", &a.username);
    } else if (arg == "--password-stdin") {
      a.password_stdin = true;
    } else if (arg == "--password") {
      return Bad(
          "--password is not accepted (it would show in ps and shell history); use "
          "--password-stdin or $SHOAL_REGISTRY_PASSWORD");
    } else if (arg == "--wait") {
      a.wait = true;
    } else if (arg == "--timeout") {
      std::string d;
      s = text("--timeout", &d);
      if (s.ok() && (!absl::ParseDuration(d, &a.timeout) || a.timeout <= absl::ZeroDuration())) {
        return Bad(absl::StrCat("--timeout wants a duration such as 90s or 10m, got '", d, "'"));
      }
    } else if (arg == "--state") {
      s = text("--state", &a.state);
    } else if (absl::StartsWith(arg, "-") && arg != "-") {
      return Bad(absl::StrCat("unknown flag ", arg));
    } else if (a.command.empty()) {
      if (!Known(arg)) return Bad(absl::StrCat("unknown command '", arg, "'"));
      a.command = arg;
    } else {
      a.positional.push_back(arg);
    }
    if (!s.ok()) return s;
  }
  if (a.help) return a;
  if (a.command.empty()) return Bad("no command given");
  size_t want = (a.command == "preheat" || a.command == "job" || a.command == "cancel") ? 1 : 0;
  if (a.positional.size() != want) {
    return Bad(want == 1 ? absl::StrCat(a.command, " takes exactly one argument")
                         : absl::StrCat(a.command, " takes no arguments"));
  }
  if (a.password_stdin && a.username.empty()) return Bad("--password-stdin needs --username");
  return a;
}

}  // namespace shoal::ctl
