// The emulated cluster: one network namespace per host (nodes, registry,
// scheduler, seeds, central cache) on a private bridge, each with a veth whose two
// ends are shaped by tc — tbf on the namespace side limits what the host sends,
// tbf on the bridge side limits what it receives — plus optional netem delay.
// (Recipe and measured rates: shared/TESTBED.md.)
//
// Names carry a per-run tag (pid + random), so two runs never collide and a run
// killed with SIGKILL can be recognised and removed by the next one. Everything is
// removed by Teardown(), which the destructor and an atexit hook both call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shoal::bench {

struct HostSpec {
  std::string name;       // "node-1", "registry", ...
  int ip_suffix = 0;      // last octet in the testbed's /24
  uint64_t rate_bps = 0;  // egress and ingress
};

// The hosts of a benchmark: node-1..N (.1-.200), registry (.201, origin rate),
// scheduler (.202), cache (.203), seed-1..S (.211-): everything but the registry at
// the node rate.
std::vector<HostSpec> PlanHosts(uint32_t nodes, uint32_t seeds, uint64_t node_rate_bps,
                                uint64_t origin_rate_bps);

// "sb" + base36(pid) + 2 random chars: at most 9 characters, so interface names
// built from it stay within Linux's 15.
std::string MakeRunTag(int pid, uint32_t random);
// The pid a tag was made from, or -1 when `name` is not one of ours.
int PidFromName(const std::string& name);

struct TestbedHost {
  std::string name;
  std::string netns;      // "<tag>-<name>"
  std::string ip;         // "10.a.b.<suffix>"
  std::string host_veth;  // bridge-side end, "<tag>v<suffix>"
  uint64_t rate_bps = 0;
};

struct TestbedOptions {
  std::vector<HostSpec> hosts;
  absl::Duration latency = absl::ZeroDuration();  // one-way, on every host's egress
};

class Testbed {
 public:
  // Creates the bridge, the namespaces and their links (addresses up, no shaping yet,
  // so setup traffic such as pushing the image runs at full speed).
  static absl::StatusOr<std::unique_ptr<Testbed>> Create(TestbedOptions options);
  ~Testbed();
  Testbed(const Testbed&) = delete;
  Testbed& operator=(const Testbed&) = delete;

  // Installs tbf (and netem) on both ends of every host's link.
  absl::Status ApplyShaping();
  // Removes every namespace and the bridge. Idempotent.
  void Teardown();

  const std::string& tag() const { return tag_; }
  const std::string& subnet() const { return subnet_; }  // "10.a.b.0/24"
  const std::vector<TestbedHost>& hosts() const { return hosts_; }
  // The host named `name`; aborts when there is none (a planning bug).
  const TestbedHost& host(const std::string& name) const;
  // argv prefixed with `ip netns exec <ns>`, to run a program on `host`.
  static std::vector<std::string> InHost(const TestbedHost& host, std::vector<std::string> argv);

 private:
  Testbed() = default;
  absl::Status AddHost(const HostSpec& spec);

  TestbedOptions options_;
  std::string tag_;
  std::string bridge_;
  std::string subnet_;
  std::string prefix_;  // "10.a.b."
  std::vector<TestbedHost> hosts_;
  bool torn_down_ = false;
};

// FailedPrecondition with what to do when not running as root.
absl::Status RequireRoot();
// Removes namespaces and bridges left by shoal-bench runs whose process is gone.
// Returns how many objects were removed.
int RemoveStaleTestbeds();

// Runs a command; an error carrying the command line and its output when it fails.
absl::Status RunChecked(const std::vector<std::string>& argv);

}  // namespace shoal::bench
