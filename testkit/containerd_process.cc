#include "testkit/containerd_process.h"

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "testkit/net_util.h"

namespace shoal::testkit {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(30);

// Plugins a content-only containerd does not need; some of them probe the host
// (btrfs, zfs, devmapper) or write outside the root (opt -> /opt/containerd).
constexpr const char* kDisabledPlugins[] = {
    "io.containerd.grpc.v1.cri",
    "io.containerd.snapshotter.v1.aufs",
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.zfs",
    "io.containerd.internal.v1.opt",
    "io.containerd.tracing.processor.v1.otlp",
    "io.containerd.internal.v1.tracing",
};

// A loopback port nothing listens on: hosts.toml's server for MirrorFallback::kNone.
constexpr const char* kClosedServer = "http://127.0.0.1:9";

}  // namespace

absl::StatusOr<std::unique_ptr<ContainerdProcess>> ContainerdProcess::Start(std::string work_dir) {
  std::unique_ptr<ContainerdProcess> c(new ContainerdProcess());
  if (work_dir.empty()) {
    auto dir = TempDir::Create("containerd");
    if (!dir.ok()) return dir.status();
    c->owned_dir_ = std::make_unique<TempDir>(std::move(*dir));
    work_dir = c->owned_dir_->path();
  }
  c->work_dir_ = work_dir;
  std::error_code ec;
  std::filesystem::create_directories(work_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", work_dir, ": ", ec.message()));
  c->socket_ = work_dir + "/containerd.sock";
  c->log_path_ = work_dir + "/containerd.log";
  std::vector<std::string> quoted;
  for (const char* p : kDisabledPlugins) quoted.push_back(absl::StrCat("\"", p, "\""));
  std::string config = absl::StrCat(
      "version = 2\n", "root = \"", work_dir, "/root\"\n", "state = \"", work_dir, "/state\"\n",
      "disabled_plugins = [", absl::StrJoin(quoted, ", "), "]\n", "[grpc]\n  address = \"",
      c->socket_, "\"\n", "[ttrpc]\n  address = \"", c->socket_, ".ttrpc\"\n",
      "[debug]\n  address = \"\"\n", "[metrics]\n  address = \"\"\n");
  std::string config_path = work_dir + "/config.toml";
  if (auto s = WriteFileAtomically(config_path, config); !s.ok()) return s;

  SubprocessOptions sp;
  sp.argv = {"containerd", "--config", config_path};
  sp.log_path = c->log_path_;
  auto proc = Subprocess::Start(std::move(sp));
  if (!proc.ok()) return proc.status();
  c->process_ = std::move(*proc);
  if (auto s = c->process_->WaitForLogLine("containerd successfully booted", kStartTimeout);
      !s.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "containerd did not start (installed? scripts/install-deps.sh): ", s.message()));
  }
  if (auto s = WaitForUnixSocket(c->socket_, kStartTimeout); !s.ok()) return s;
  return c;
}

ContainerdProcess::~ContainerdProcess() {
  if (process_ != nullptr) process_->Stop();
}

absl::StatusOr<std::string> ContainerdProcess::WriteHostsToml(const std::string& registry_host_port,
                                                              const std::string& mirror_host_port,
                                                              MirrorFallback fallback) {
  std::string hosts_dir =
      absl::StrCat(work_dir_, "/hosts-", absl::StrReplaceAll(mirror_host_port, {{":", "_"}}));
  std::string server = fallback == MirrorFallback::kNone
                           ? std::string(kClosedServer)
                           : absl::StrCat("http://", registry_host_port);
  std::string toml = absl::StrCat("server = \"", server, "\"\n\n[host.\"http://", mirror_host_port,
                                  "\"]\n  capabilities = [\"pull\", \"resolve\"]\n");
  std::string dir = absl::StrCat(hosts_dir, "/", registry_host_port);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  if (auto s = WriteFileAtomically(dir + "/hosts.toml", toml); !s.ok()) return s;
  return hosts_dir;
}

absl::StatusOr<CommandResult> ContainerdProcess::Ctr(const std::vector<std::string>& args,
                                                     absl::Duration timeout) {
  std::vector<std::string> argv = {"ctr", "-a", socket_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, timeout);
}

std::vector<std::string> ContainerdProcess::FetchArgv(
    const std::string& image_ref, const std::string& hosts_dir,
    const std::vector<std::string>& extra_args) const {
  std::vector<std::string> argv = {"ctr", "-a", socket_, "content", "fetch"};
  if (hosts_dir.empty()) {
    argv.push_back("--plain-http");
  } else {
    argv.push_back("--hosts-dir");
    argv.push_back(hosts_dir);
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  argv.push_back(image_ref);
  return argv;
}

std::string ContainerdProcess::content_dir() const {
  return work_dir_ + "/root/io.containerd.content.v1.content";
}

absl::StatusOr<CommandResult> ContainerdProcess::Fetch(const std::string& image_ref,
                                                       const std::string& hosts_dir,
                                                       const std::vector<std::string>& extra_args,
                                                       absl::Duration timeout) {
  return RunCommand(FetchArgv(image_ref, hosts_dir, extra_args), timeout);
}

absl::StatusOr<std::vector<ContentEntry>> ContainerdProcess::ListContent() {
  auto r = Ctr({"content", "ls", "-q"});
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::InternalError(absl::StrCat("ctr content ls failed: ", r->output));
  }
  std::vector<ContentEntry> entries;
  for (absl::string_view digest : absl::StrSplit(r->output, '\n', absl::SkipWhitespace())) {
    ContentEntry e;
    e.digest = std::string(absl::StripAsciiWhitespace(digest));
    // Size from the content file itself, so it is what containerd really stored.
    std::error_code ec;
    std::string path =
        absl::StrCat(content_dir(), "/blobs/", absl::StrReplaceAll(e.digest, {{":", "/"}}));
    e.size = std::filesystem::file_size(path, ec);
    entries.push_back(std::move(e));
  }
  return entries;
}

absl::Status ContainerdProcess::RemoveAllContent() {
  auto images = Ctr({"images", "ls", "-q"});
  if (!images.ok()) return images.status();
  for (absl::string_view ref : absl::StrSplit(images->output, '\n', absl::SkipWhitespace())) {
    auto r = Ctr({"images", "rm", "--sync", std::string(absl::StripAsciiWhitespace(ref))});
    if (!r.ok()) return r.status();
  }
  auto content = ListContent();
  if (!content.ok()) return content.status();
  if (content->empty()) return absl::OkStatus();
  std::vector<std::string> args = {"content", "rm"};
  for (const ContentEntry& e : *content) args.push_back(e.digest);
  auto r = Ctr(args);
  if (!r.ok()) return r.status();
  auto left = ListContent();
  if (!left.ok()) return left.status();
  if (!left->empty()) {
    return absl::InternalError(
        absl::StrCat("containerd still holds ", left->size(), " blobs after removal: ", r->output));
  }
  return absl::OkStatus();
}

}  // namespace shoal::testkit
