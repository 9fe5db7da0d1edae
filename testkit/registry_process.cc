#include "testkit/registry_process.h"

#include <sys/stat.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "testkit/net_util.h"

namespace shoal::testkit {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr int kStartAttempts = 3;  // a free port can be taken between probe and bind

std::string YamlQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

absl::StatusOr<std::string> HtpasswdLine(const std::string& user, const std::string& password) {
  auto r = RunCommand({"htpasswd", "-Bbn", user, password}, absl::Seconds(30));
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("htpasswd -Bbn failed (exit ", r->exit_code, "): ", r->output,
                     "; install apache2-utils (scripts/install-deps.sh)"));
  }
  return std::string(absl::StripAsciiWhitespace(r->output)) + "\n";
}

absl::StatusOr<std::unique_ptr<RegistryProcess>> RegistryProcess::Start(RegistryOptions options) {
  std::unique_ptr<RegistryProcess> reg(new RegistryProcess(std::move(options)));
  if (reg->options_.work_dir.empty()) {
    auto dir = TempDir::Create("registry");
    if (!dir.ok()) return dir.status();
    reg->owned_dir_ = std::make_unique<TempDir>(std::move(*dir));
    reg->options_.work_dir = reg->owned_dir_->path();
  }
  std::filesystem::create_directories(reg->options_.work_dir + "/data");
  reg->config_path_ = reg->options_.work_dir + "/registry.yml";
  reg->log_path_ = reg->options_.work_dir + "/registry.log";
  const bool pick_port = reg->options_.port == 0;
  absl::Status status;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    if (pick_port) {
      auto port = FreePort(reg->options_.ip);
      if (!port.ok()) return port.status();
      reg->options_.port = *port;
    }
    if (status = reg->WriteConfig(); !status.ok()) return status;
    status = reg->Launch();
    if (status.ok() || !pick_port) break;
  }
  if (!status.ok()) return status;
  return reg;
}

RegistryProcess::~RegistryProcess() { Stop(); }

std::string RegistryProcess::host_port() const { return HostPort(options_.ip, options_.port); }
std::string RegistryProcess::url() const { return "http://" + host_port(); }

absl::Status RegistryProcess::WriteConfig() {
  const RegistryOptions& o = options_;
  std::string yml = absl::StrCat(
      "version: 0.1\n"
      "log:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: true\n"
      "storage:\n  filesystem:\n    rootdirectory: ",
      YamlQuote(o.work_dir + "/data"),
      "\n  delete:\n    enabled: true\n"
      "http:\n  addr: ",
      host_port(), "\n  secret: shoal-testkit-not-a-secret\n");
  if (!o.username.empty()) {
    auto line = HtpasswdLine(o.username, o.password);
    if (!line.ok()) return line.status();
    std::string htpasswd = o.work_dir + "/htpasswd";
    if (auto s = WriteFileAtomically(htpasswd, *line); !s.ok()) return s;
    absl::StrAppend(
        &yml, "auth:\n  htpasswd:\n    realm: shoal-test\n    path: ", YamlQuote(htpasswd), "\n");
  }
  if (!o.proxy_remote_url.empty()) {
    absl::StrAppend(&yml, "proxy:\n  remoteurl: ", YamlQuote(o.proxy_remote_url), "\n");
    if (!o.proxy_username.empty()) {
      absl::StrAppend(&yml, "  username: ", YamlQuote(o.proxy_username),
                      "\n  password: ", YamlQuote(o.proxy_password), "\n");
    }
  }
  return WriteFileAtomically(config_path_, yml);
}

absl::Status RegistryProcess::Launch() {
  // A new process appends to the same log; accounting continues across restarts.
  SubprocessOptions sp;
  sp.argv = {"docker-registry", "serve", config_path_};
  sp.log_path = log_path_;
  auto proc = Subprocess::Start(std::move(sp));
  if (!proc.ok()) return proc.status();
  process_ = std::move(*proc);
  std::string listening = absl::StrCat("listening on ", host_port());
  if (auto s = process_->WaitForLogLine(listening, kStartTimeout); !s.ok()) {
    process_->Stop();
    return absl::UnavailableError(absl::StrCat("docker-registry did not start on ", host_port(),
                                               " (is docker-registry installed? "
                                               "scripts/install-deps.sh): ",
                                               s.message()));
  }
  auto code = WaitForHttp(url() + "/v2/", kStartTimeout);
  if (!code.ok()) return code.status();
  if (*code != 200 && *code != 401) {
    return absl::UnavailableError(
        absl::StrCat("docker-registry at ", url(), "/v2/ answered ", *code, ", want 200 or 401"));
  }
  return absl::OkStatus();
}

RegistryAccessLog RegistryProcess::ReadAccessLog() const {
  std::string log = ReadFileOrEmpty(log_path_);
  return ParseRegistryLog(absl::string_view(log).substr(std::min(log_mark_, log.size())));
}

void RegistryProcess::MarkAccessLog() {
  struct stat st {};
  log_mark_ = stat(log_path_.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

void RegistryProcess::Stop() {
  if (process_ != nullptr) process_->Stop();
  process_.reset();
}

absl::Status RegistryProcess::Restart() {
  Stop();
  return Launch();
}

}  // namespace shoal::testkit
