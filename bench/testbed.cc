#include "bench/testbed.h"

#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "testkit/subprocess.h"

namespace shoal::bench {
namespace {

constexpr char kPrefix[] = "sb";
constexpr int kPidChars = 5;  // base36 of pid_max (4194304) fits in 5
constexpr int kRandomChars = 2;
constexpr size_t kTagLength = 2 + kPidChars + kRandomChars;
constexpr absl::Duration kCommandTimeout = absl::Seconds(30);
// tbf settings from shared/TESTBED.md (measured 383 of 400 Mbit/s with iperf3).
constexpr char kBurst[] = "256kb";
constexpr char kQueueLatency[] = "50ms";

constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";

// Live testbeds, for the atexit hook: an exit() from anywhere still tears down.
std::mutex g_live_mu;
std::vector<Testbed*>* g_live = new std::vector<Testbed*>();

void TeardownAllAtExit() {
  std::vector<Testbed*> live;
  {
    std::lock_guard<std::mutex> lock(g_live_mu);
    live = *g_live;
  }
  for (Testbed* t : live) t->Teardown();
}

void Register(Testbed* t) {
  static std::once_flag once;
  std::call_once(once, [] { std::atexit(TeardownAllAtExit); });
  std::lock_guard<std::mutex> lock(g_live_mu);
  g_live->push_back(t);
}

void Unregister(Testbed* t) {
  std::lock_guard<std::mutex> lock(g_live_mu);
  std::erase(*g_live, t);
}

std::string RateArg(uint64_t bps) { return absl::StrCat(bps, "bit"); }

absl::StatusOr<std::string> CommandOutput(const std::vector<std::string>& argv) {
  auto r = testkit::RunCommand(argv, kCommandTimeout);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::InternalError(absl::StrCat("`", absl::StrJoin(argv, " "), "` failed (exit ",
                                            r->exit_code, "): ", r->output));
  }
  return r->output;
}

// 10.a.b.0/24 not used by any address or route of the host, so a reader of the
// host's routing table never confuses ours with a real network.
absl::StatusOr<std::string> PickSubnetPrefix(std::mt19937& rng) {
  auto addrs = CommandOutput({"ip", "-4", "-o", "addr", "show"});
  auto routes = CommandOutput({"ip", "-4", "route", "show", "table", "all"});
  if (!addrs.ok()) return addrs.status();
  if (!routes.ok()) return routes.status();
  std::uniform_int_distribution<int> a(100, 250), b(0, 255);
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string prefix = absl::StrCat("10.", a(rng), ".", b(rng), ".");
    if (!absl::StrContains(*addrs, prefix) && !absl::StrContains(*routes, prefix)) return prefix;
  }
  return absl::ResourceExhaustedError("no free 10.x.y.0/24 found for the testbed");
}

}  // namespace

absl::Status RunChecked(const std::vector<std::string>& argv) {
  return CommandOutput(argv).status();
}

std::vector<HostSpec> PlanHosts(uint32_t nodes, uint32_t seeds, uint64_t node_rate,
                                uint64_t origin_rate) {
  std::vector<HostSpec> hosts;
  for (uint32_t i = 1; i <= nodes; ++i) {
    hosts.push_back({absl::StrCat("node-", i), static_cast<int>(i), node_rate});
  }
  hosts.push_back({"registry", 201, origin_rate});
  hosts.push_back({"scheduler", 202, node_rate});
  hosts.push_back({"cache", 203, node_rate});
  for (uint32_t i = 1; i <= seeds; ++i) {
    hosts.push_back({absl::StrCat("seed-", i), 210 + static_cast<int>(i), node_rate});
  }
  return hosts;
}

std::string MakeRunTag(int pid, uint32_t random) {
  std::string pid_part(kPidChars, '0');
  for (int i = kPidChars - 1; i >= 0 && pid > 0; --i, pid /= 36) pid_part[i] = kDigits[pid % 36];
  std::string tag = absl::StrCat(kPrefix, pid_part);
  for (int i = 0; i < kRandomChars; ++i, random /= 36) tag.push_back(kDigits[random % 36]);
  return tag;
}

int PidFromName(const std::string& name) {
  if (name.size() < kTagLength || !absl::StartsWith(name, kPrefix)) return -1;
  if (name.size() > kTagLength && name[kTagLength] != '-' && name[kTagLength] != 'v' &&
      name.compare(kTagLength, 2, "br") != 0) {
    return -1;
  }
  int pid = 0;
  for (int i = 0; i < kPidChars; ++i) {
    const char* p = std::strchr(kDigits, name[2 + i]);
    if (p == nullptr || *p == '\0') return -1;
    pid = pid * 36 + static_cast<int>(p - kDigits);
  }
  for (size_t i = 2 + kPidChars; i < kTagLength; ++i) {
    if (std::strchr(kDigits, name[i]) == nullptr || name[i] == '\0') return -1;
  }
  return pid > 0 ? pid : -1;
}

absl::Status RequireRoot() {
  if (geteuid() == 0) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "shoal-bench needs root: it creates network namespaces, veth links and tc qdiscs to "
      "emulate the cluster. Run it as root (sudo build/bin/shoal-bench ...) on a test machine.");
}

int RemoveStaleTestbeds() {
  auto alive = [](int pid) { return access(absl::StrCat("/proc/", pid).c_str(), F_OK) == 0; };
  int removed = 0;
  auto namespaces = CommandOutput({"ip", "netns", "list"});
  if (namespaces.ok()) {
    for (absl::string_view line : absl::StrSplit(*namespaces, '\n', absl::SkipEmpty())) {
      std::string name(line.substr(0, line.find(' ')));
      int pid = PidFromName(name);
      if (pid > 0 && !alive(pid) && RunChecked({"ip", "netns", "del", name}).ok()) ++removed;
    }
  }
  auto links = CommandOutput({"ip", "-o", "link", "show", "type", "bridge"});
  if (links.ok()) {
    for (absl::string_view line : absl::StrSplit(*links, '\n', absl::SkipEmpty())) {
      std::vector<std::string> fields = absl::StrSplit(line, absl::MaxSplits(": ", 2));
      if (fields.size() < 2) continue;
      int pid = PidFromName(fields[1]);
      if (pid > 0 && !alive(pid) && RunChecked({"ip", "link", "del", fields[1]}).ok()) ++removed;
    }
  }
  return removed;
}

absl::StatusOr<std::unique_ptr<Testbed>> Testbed::Create(TestbedOptions options) {
  if (auto s = RequireRoot(); !s.ok()) return s;
  std::unique_ptr<Testbed> t(new Testbed());
  t->options_ = std::move(options);
  std::mt19937 rng(std::random_device{}());
  t->tag_ = MakeRunTag(getpid(), static_cast<uint32_t>(rng()));
  auto prefix = PickSubnetPrefix(rng);
  if (!prefix.ok()) return prefix.status();
  t->prefix_ = *prefix;
  t->subnet_ = absl::StrCat(t->prefix_, "0/24");
  t->bridge_ = t->tag_ + "br";
  // Registered before the first object exists, so a failure halfway is cleaned up.
  Register(t.get());
  if (auto s = RunChecked({"ip", "link", "add", "name", t->bridge_, "type", "bridge"}); !s.ok()) {
    return s;
  }
  if (auto s = RunChecked({"ip", "link", "set", t->bridge_, "up"}); !s.ok()) return s;
  for (const HostSpec& spec : t->options_.hosts) {
    if (auto s = t->AddHost(spec); !s.ok()) return s;
  }
  return t;
}

absl::Status Testbed::AddHost(const HostSpec& spec) {
  TestbedHost h;
  h.name = spec.name;
  h.netns = absl::StrCat(tag_, "-", spec.name);
  h.ip = absl::StrCat(prefix_, spec.ip_suffix);
  h.host_veth = absl::StrCat(tag_, "v", spec.ip_suffix);
  h.rate_bps = spec.rate_bps;
  hosts_.push_back(h);  // before creating anything, so Teardown finds it
  const std::vector<std::vector<std::string>> steps = {
      {"ip", "netns", "add", h.netns},
      // The namespace end is created inside the namespace, where "eth0" is free.
      {"ip", "link", "add", h.host_veth, "type", "veth", "peer", "name", "eth0", "netns", h.netns},
      {"ip", "link", "set", h.host_veth, "master", bridge_},
      {"ip", "link", "set", h.host_veth, "up"},
      {"ip", "-n", h.netns, "addr", "add", h.ip + "/24", "dev", "eth0"},
      {"ip", "-n", h.netns, "link", "set", "eth0", "up"},
      {"ip", "-n", h.netns, "link", "set", "lo", "up"},
  };
  for (const auto& step : steps) {
    if (auto s = RunChecked(step); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("testbed host ", h.name, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status Testbed::ApplyShaping() {
  for (const TestbedHost& h : hosts_) {
    const std::string rate = RateArg(h.rate_bps);
    std::vector<std::vector<std::string>> steps = {
        {"tc", "-n", h.netns, "qdisc", "add", "dev", "eth0", "root", "handle", "1:", "tbf", "rate",
         rate, "burst", kBurst, "latency", kQueueLatency},
        {"tc", "qdisc", "add", "dev", h.host_veth, "root", "tbf", "rate", rate, "burst", kBurst,
         "latency", kQueueLatency},
    };
    if (options_.latency > absl::ZeroDuration()) {
      steps.push_back({"tc", "-n", h.netns, "qdisc", "add", "dev", "eth0", "parent", "1:1",
                       "handle", "10:", "netem", "delay",
                       absl::StrCat(absl::ToInt64Microseconds(options_.latency), "us"), "limit",
                       "100000"});
    }
    for (const auto& step : steps) {
      if (auto s = RunChecked(step); !s.ok()) {
        const bool no_netem = absl::StrContains(absl::StrJoin(step, " "), "netem") &&
                              absl::StrContains(s.message(), "qdisc kind is unknown");
        return absl::Status(
            s.code(),
            absl::StrCat("shaping ", h.name, ": ", s.message(),
                         no_netem ? "; this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM), "
                                    "so --latency cannot be emulated here: run without it"
                                  : ""));
      }
    }
  }
  return absl::OkStatus();
}

void Testbed::Teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  // Deleting a namespace deletes the veth inside it and so its bridge-side peer.
  for (const TestbedHost& h : hosts_) (void)RunChecked({"ip", "netns", "del", h.netns});
  if (!bridge_.empty()) (void)RunChecked({"ip", "link", "del", bridge_});
  Unregister(this);
}

Testbed::~Testbed() { Teardown(); }

const TestbedHost& Testbed::host(const std::string& name) const {
  for (const TestbedHost& h : hosts_) {
    if (h.name == name) return h;
  }
  std::fprintf(stderr, "shoal-bench: no testbed host named %s\n", name.c_str());
  std::abort();
}

std::vector<std::string> Testbed::InHost(const TestbedHost& host, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"ip", "netns", "exec", host.netns});
  return argv;
}

}  // namespace shoal::bench
