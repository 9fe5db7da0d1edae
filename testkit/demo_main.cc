// shoal-demo: shows what shoal does on one machine, with real parts. A local
// origin registry (docker-registry) holds a generated 3-layer image; a shoal
// scheduler, one seed and three peers run on their own loopback addresses; a
// preheat job (shoalctl preheat --wait) puts the image onto every peer, then a
// fresh containerd per node pulls the image through that node's peer, one node
// after the other (--skip-preheat: the pulls go cold through the swarm). The
// summary shows the preheat and, per node, how long the pull took, how many bytes
// containerd received, how many bytes the origin served, and whether every digest
// matched: the origin should serve the image once, not once per node.
//
// Ctrl-C stops everything it started and removes its temp files.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/options.h"
#include "testkit/containerd_process.h"
#include "testkit/image_builder.h"
#include "testkit/image_pusher.h"
#include "testkit/registry_process.h"
#include "testkit/shoal_cluster.h"
#include "testkit/subprocess.h"
#include "testkit/temp_dir.h"

namespace shoal::testkit {
namespace {

volatile sig_atomic_t g_interrupted = 0;

void OnSignal(int) {
  g_interrupted = 1;
  // Every blocking wait in the demo ends when its child exits.
  SignalAllSubprocesses(SIGTERM);
}

struct DemoConfig {
  std::vector<std::string> layer_sizes = {"150MiB", "40MiB", "5MiB"};
  uint32_t peers = 3;
  uint32_t seeds = 1;
  std::vector<std::string> daemon_flags;  // passed to seeds and peers
  std::string log_level = "info";
  bool keep = false;
  bool skip_preheat = false;
};

// The preheat job's part, shown above the pulls in the summary.
struct PreheatResult {
  bool ran = false;
  absl::Duration elapsed;
  uint64_t origin_served = 0;
};

struct NodeResult {
  std::string node;
  absl::Duration elapsed;
  uint64_t to_containerd = 0;
  uint64_t origin_served = 0;
  size_t verified = 0;
  size_t expected = 0;
  bool ok = false;
};

std::string MiB(uint64_t bytes) {
  return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
}

void Say(const std::string& line) {
  std::printf("[demo] %s\n", line.c_str());
  std::fflush(stdout);
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) total += it->file_size(size_ec);
  }
  return total;
}

// ctr's output is mostly progress bars; keep the lines that say what went wrong.
std::string CtrErrors(const std::string& output) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (absl::StrContains(line, "ctr:") || absl::StrContains(line, "level=error") ||
        absl::StrContains(line, "level=warn")) {
      absl::StrAppend(&out, line, "\n");
    }
  }
  return out.empty() ? TailLines(output, 5) : out;
}

// Runs `ctr content fetch` through the peer's mirror, printing progress.
absl::StatusOr<NodeResult> PullThrough(ShoalCluster& cluster, int peer, RegistryProcess& registry,
                                       const BuiltImage& image, const std::string& work_dir) {
  NodeResult result;
  result.node = cluster.peer(peer).name;
  auto ctrd = ContainerdProcess::Start(work_dir);
  if (!ctrd.ok()) return ctrd.status();
  auto hosts = (*ctrd)->WriteHostsToml(registry.host_port(), cluster.mirror(peer));
  if (!hosts.ok()) return hosts.status();
  const uint64_t origin_before = registry.ReadAccessLog().TotalBlobBytesServed();
  const uint64_t image_bytes = image.PlatformBlobBytes() + image.top().content.size();

  SubprocessOptions sp;
  sp.argv = (*ctrd)->FetchArgv(image.Reference(registry.host_port()), *hosts);
  sp.log_path = work_dir + "/ctr-fetch.log";
  Say(absl::StrCat(result.node, ": containerd pulls ", image.Reference(registry.host_port()),
                   " through mirror ", cluster.mirror(peer)));
  absl::Time start = absl::Now();
  auto fetch = Subprocess::Start(sp);
  if (!fetch.ok()) return fetch.status();
  const bool tty = isatty(STDOUT_FILENO);
  absl::Time next_line = start + absl::Seconds(2);
  while ((*fetch)->Running()) {
    absl::SleepFor(absl::Milliseconds(200));
    uint64_t have = DirBytes((*ctrd)->content_dir());
    if (tty) {
      std::printf("\r[demo]   %s: %s / %s  ", result.node.c_str(), MiB(have).c_str(),
                  MiB(image_bytes).c_str());
      std::fflush(stdout);
    } else if (absl::Now() >= next_line) {
      Say(absl::StrCat("  ", result.node, ": ", MiB(have), " / ", MiB(image_bytes)));
      next_line += absl::Seconds(2);
    }
  }
  if (tty) std::printf("\n");
  result.elapsed = absl::Now() - start;
  auto code = (*fetch)->Wait();
  if (g_interrupted) return absl::CancelledError("interrupted");
  if (!code.ok() || *code != 0) {
    Say(absl::StrCat(result.node, ": ctr content fetch FAILED (exit ", code.value_or(-1), "):\n",
                     CtrErrors((*fetch)->ReadLog()), "\n", result.node, " log ends with:\n",
                     TailLines(ReadFileOrEmpty(cluster.peer(peer).log_path), 15)));
  } else {
    result.ok = true;
  }

  auto content = (*ctrd)->ListContent();
  if (!content.ok()) return content.status();
  std::map<std::string, uint64_t> stored;
  for (const ContentEntry& e : *content) {
    stored[e.digest] = e.size;
    result.to_containerd += e.size;
  }
  std::vector<std::pair<std::string, uint64_t>> expected = {
      {image.top().digest, image.top().content.size()}};
  for (const BlobFile& b : image.PlatformBlobs()) expected.emplace_back(b.digest, b.size);
  result.expected = expected.size();
  for (const auto& [digest, size] : expected) {
    auto it = stored.find(digest);
    if (it != stored.end() && it->second == size) ++result.verified;
  }
  result.ok = result.ok && result.verified == result.expected;
  result.origin_served = registry.ReadAccessLog().TotalBlobBytesServed() - origin_before;
  Say(absl::StrCat(result.node, ": ", result.ok ? "done" : "FAILED", " in ",
                   absl::FormatDuration(absl::Trunc(result.elapsed, absl::Milliseconds(10))),
                   ", origin served ", MiB(result.origin_served), " for it"));
  return result;
}

// Preheats the image onto every peer the way an operator would, with shoalctl
// (a REST/gRPC job on the scheduler), echoing its progress lines as they come.
absl::Status PreheatWithShoalctl(ShoalCluster& cluster, RegistryProcess& registry,
                                 const BuiltImage& image, const std::string& work_dir) {
  const std::string ref = image.Reference(registry.host_port());
  SubprocessOptions sp;
  sp.argv = {absl::StrCat(SHOAL_BIN_DIR, "/shoalctl"),
             "--scheduler",
             cluster.scheduler_address(),
             "preheat",
             ref,
             "--scope",
             "all-peers",
             "--wait",
             "--timeout",
             "10m"};
  sp.log_path = work_dir + "/shoalctl-preheat.log";
  Say(absl::StrCat("preheating ", ref, " onto every peer: shoalctl --scheduler ",
                   cluster.scheduler_address(), " preheat ", ref, " --scope all-peers --wait"));
  auto ctl = Subprocess::Start(sp);
  if (!ctl.ok()) return ctl.status();
  size_t shown = 0;
  auto echo_new_lines = [&] {
    const std::string log = (*ctl)->ReadLog();
    size_t end = log.rfind('\n');
    if (end == std::string::npos || end + 1 <= shown) return;
    for (absl::string_view line : absl::StrSplit(log.substr(shown, end - shown), '\n')) {
      std::printf("[shoalctl] %s\n", std::string(line).c_str());
    }
    std::fflush(stdout);
    shown = end + 1;
  };
  while ((*ctl)->Running() && !g_interrupted) {
    echo_new_lines();
    absl::SleepFor(absl::Milliseconds(200));
  }
  auto code = (*ctl)->Wait();
  echo_new_lines();
  if (g_interrupted) return absl::CancelledError("interrupted");
  if (!code.ok() || *code != 0) {
    return absl::InternalError(absl::StrCat("the preheat job did not succeed (shoalctl exit ",
                                            code.value_or(-1),
                                            "); its output is above, the "
                                            "scheduler's log is ",
                                            cluster.scheduler().log_path));
  }
  return absl::OkStatus();
}

void PrintSummary(const PreheatResult& preheat, const std::vector<NodeResult>& results,
                  const BuiltImage& image, const RegistryAccessLog& log) {
  const uint64_t image_blob_bytes = image.PlatformBlobBytes();
  std::printf("\n%-10s %10s %16s %16s   %s\n", "node", "pull time", "to containerd",
              "origin served", "digests");
  uint64_t total_to = 0, total_origin = 0;
  if (preheat.ran) {
    std::printf("%-10s %9.2fs %16s %16s   %s\n", "(preheat)",
                absl::ToDoubleSeconds(preheat.elapsed), "-", MiB(preheat.origin_served).c_str(),
                "job succeeded on every peer");
    total_origin += preheat.origin_served;
  }
  for (const NodeResult& r : results) {
    std::printf("%-10s %9.2fs %16s %16s   %s (%zu/%zu)\n", r.node.c_str(),
                absl::ToDoubleSeconds(r.elapsed), MiB(r.to_containerd).c_str(),
                MiB(r.origin_served).c_str(), r.ok ? "verified" : "FAILED", r.verified, r.expected);
    total_to += r.to_containerd;
    total_origin += r.origin_served;
  }
  std::printf("%-10s %10s %16s %16s\n", "total", "", MiB(total_to).c_str(),
              MiB(total_origin).c_str());
  std::printf(
      "\nimage: %zu layers + config = %s of blobs. The origin served %s of blobs in all: "
      "%.2f copies of the image for %zu nodes\n(registry log: %d manifest requests; "
      "%s of blobs went to containerd directly, bypassing shoal).\n",
      image.platforms[0].layers.size(), MiB(image_blob_bytes).c_str(),
      MiB(log.TotalBlobBytesServed()).c_str(),
      static_cast<double>(log.TotalBlobBytesServed()) / static_cast<double>(image_blob_bytes),
      results.size(), log.TotalManifestRequests(),
      MiB(log.BlobBytesServedTo("containerd")).c_str());
}

absl::Status RunDemo(const DemoConfig& config) {
  auto tmp = TempDir::Create("demo");
  if (!tmp.ok()) return tmp.status();
  Say(absl::StrCat("working in ", tmp->path(), config.keep ? " (kept)" : ""));

  ImageSpec spec;
  spec.repository = "demo/app";
  spec.tag = "v1";
  for (const std::string& s : config.layer_sizes) {
    auto bytes = ParseByteSize(s);
    if (!bytes.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("--layer-size ", s, ": ", bytes.status().message()));
    spec.layer_sizes.push_back(UnalignedSize(*bytes + 12345));
  }
  Say(absl::StrCat("generating a ", spec.layer_sizes.size(), "-layer image (",
                   absl::StrJoin(spec.layer_sizes, ", ",
                                 [](std::string* out, uint64_t b) { out->append(MiB(b)); }),
                   ")"));
  auto image = BuildImage(spec, tmp->path() + "/image");
  if (!image.ok()) return image.status();

  RegistryOptions ro;
  ro.work_dir = tmp->path() + "/registry";
  std::filesystem::create_directories(ro.work_dir);
  auto registry = RegistryProcess::Start(ro);
  if (!registry.ok()) return registry.status();
  Say(absl::StrCat("origin registry (docker-registry) on ", (*registry)->url()));
  if (auto s = PushImage(*image, {(*registry)->url()}); !s.ok()) return s;
  (*registry)->MarkAccessLog();
  Say(absl::StrCat("pushed ", image->Reference((*registry)->host_port()), " (manifest ",
                   image->top().digest.substr(0, 19), ")"));

  ClusterOptions co;
  co.seeds = static_cast<int>(config.seeds);
  co.peers = static_cast<int>(config.peers);
  co.insecure_registries = {(*registry)->host_port()};
  co.scheduler_flags = {"--insecure-registry", (*registry)->host_port()};  // resolves the image
  co.seed_flags = config.daemon_flags;
  co.peer_flags = config.daemon_flags;
  co.log_level = config.log_level;
  co.work_dir = tmp->path() + "/cluster";
  std::filesystem::create_directories(co.work_dir);
  Say(absl::StrCat("starting shoal-scheduler, ", co.seeds, " shoal-seed, ", co.peers,
                   " shoal-peer"));
  auto cluster = ShoalCluster::Start(co);
  if (!cluster.ok()) return cluster.status();
  for (Daemon* d : (*cluster)->all()) {
    Say(absl::StrCat("  ", d->name, " on ", d->ip,
                     d->role == DaemonRole::kPeer ? ", mirror " + d->mirror_address() : "",
                     ", log ", d->log_path));
  }

  PreheatResult preheat;
  if (!config.skip_preheat) {
    const uint64_t origin_before = (*registry)->ReadAccessLog().TotalBlobBytesServed();
    const absl::Time start = absl::Now();
    if (auto s = PreheatWithShoalctl(**cluster, **registry, *image, tmp->path()); !s.ok()) return s;
    preheat = {true, absl::Now() - start,
               (*registry)->ReadAccessLog().TotalBlobBytesServed() - origin_before};
    Say("every peer holds the image: the pulls below are served from the peers' caches");
  }
  std::vector<NodeResult> results;
  for (int p = 0; p < (*cluster)->peer_count() && !g_interrupted; ++p) {
    std::string node_dir = absl::StrCat(tmp->path(), "/node-", p + 1);
    std::filesystem::create_directories(node_dir);
    auto r = PullThrough(**cluster, p, **registry, *image, node_dir);
    if (!r.ok()) return r.status();
    results.push_back(*r);
  }
  if (g_interrupted) return absl::CancelledError("interrupted");
  PrintSummary(preheat, results, *image, (*registry)->ReadAccessLog());
  for (const NodeResult& r : results) {
    if (!r.ok) return absl::InternalError(absl::StrCat("the pull on ", r.node, " failed"));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace shoal::testkit

int main(int argc, char** argv) {
  using shoal::testkit::DemoConfig;
  DemoConfig config;
  shoal::OptionSet options(
      "shoal-demo",
      "pulls a generated image through 3 shoal peers with containerd and shows what the origin "
      "served");
  options.AddStringList("layer-size", &config.layer_sizes,
                        "size of one image layer (repeat per layer; odd bytes are added)");
  options.AddUint("peers", &config.peers, "number of shoal-peer nodes");
  options.AddUint("seeds", &config.seeds, "number of shoal-seed nodes");
  options.AddStringList("daemon-flag", &config.daemon_flags,
                        "extra flag for seeds and peers, e.g. --daemon-flag=--segment-size=16MiB");
  options.AddString("log-level", &config.log_level, "daemon log level");
  options.AddBool("keep", &config.keep, "keep the temp dir with all logs after the demo");
  options.AddBool("skip-preheat", &config.skip_preheat,
                  "no preheat job first: the pulls go through the mirrors cold, peer to peer");
  auto outcome = options.Parse(argc, argv);
  if (!outcome.ok()) {
    std::fprintf(stderr, "shoal-demo: %s\n", std::string(outcome.status().message()).c_str());
    return 2;
  }
  if (*outcome == shoal::OptionSet::Outcome::kExitOk) return 0;
  if (config.keep) setenv("SHOAL_KEEP_TMP", "1", 1);

  struct sigaction sa {};
  sa.sa_handler = shoal::testkit::OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);

  absl::Status status = shoal::testkit::RunDemo(config);
  if (shoal::testkit::g_interrupted) {
    std::printf("\n[demo] interrupted: stopped every process and removed temp files\n");
    return 130;
  }
  if (!status.ok()) {
    std::fprintf(stderr, "[demo] failed: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  std::printf("\n[demo] done; every process it started is stopped%s\n",
              config.keep ? "" : " and its temp files are removed");
  return 0;
}
