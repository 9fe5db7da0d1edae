// What one shoal-bench run measured and how it is shown: report.json (the
// machine-readable record, with the keys CI checks), the Markdown table printed
// on stdout, and the invariant checker that tells a harness bug (a system beating
// the physical bound, a node missing a blob) from a slow system.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/bound.h"

namespace shoal::bench {

struct NodeOutcome {
  std::string name;               // "node-3"
  std::optional<double> seconds;  // from the system's start until it held every blob
  uint64_t bytes = 0;             // body bytes received whose blob digest checked out
  int blobs_verified = 0;         // blobs received whole with the right digest and size
  std::vector<std::string> errors;
};

// CPU and memory of all daemons of one role during one system's run.
struct DaemonUsage {
  std::string role;  // "registry", "cache", "scheduler", "seed", "peer"
  int count = 0;
  double cpu_seconds = 0;       // summed over the daemons of the role
  uint64_t peak_rss_bytes = 0;  // the largest peak RSS (VmHWM) among them
};

// The machine as a whole during one system's run.
struct HostCpuUsage {
  int cores = 0;
  double busy = 0;            // mean fraction of all cores busy (any process)
  int seconds_saturated = 0;  // 1-second samples with >= 95% of the cores busy
  int seconds_sampled = 0;
  double bench_client_seconds = 0;  // CPU of shoal-bench itself (hashing what nodes got)
};

// One client host's blob fetches from the origin registry.
struct OriginClient {
  int blob_gets = 0;
  uint64_t blob_bytes = 0;  // 2xx GET body bytes
};

// A blob the origin served more bytes of than its size.
struct OriginRepeat {
  std::string digest;
  int gets = 0;
  uint64_t bytes = 0;
  std::map<std::string, int> clients;  // host name -> GETs of this blob
};

struct SystemResult {
  std::string name;
  bool ran = false;
  std::string skipped_reason;  // when !ran
  std::vector<NodeOutcome> nodes;
  uint64_t origin_bytes = 0;     // blob bytes the origin registry served
  int origin_blob_requests = 0;  // blob GETs the origin answered
  int origin_manifest_requests = 0;
  // When the origin finished its last blob answer, since the system's start: for
  // shoal, the rest of last_node_seconds is spent spreading data already fetched.
  std::optional<double> origin_done_seconds;
  std::map<std::string, OriginClient> origin_clients;  // by host name
  std::vector<OriginRepeat> origin_repeats;
  std::vector<DaemonUsage> daemons;
  HostCpuUsage host_cpu;
  std::vector<std::string> notes;  // anything a reader should know (errors, fallbacks)
};

struct ImageInfo {
  std::string reference;
  uint64_t bytes = 0;  // F: config + layers of linux/amd64
  struct Blob {
    std::string digest;
    uint64_t size = 0;
  };
  std::vector<Blob> blobs;
};

struct Report {
  nlohmann::json scenario;  // as described by the runner
  ImageInfo image;
  uint32_t nodes = 0;
  PhysicalBound bound;
  std::vector<SystemResult> systems;
};

// Nearest-rank percentiles of the finished nodes' times.
struct TimeSummary {
  double min = 0, p50 = 0, p90 = 0, max = 0;
};
TimeSummary Summarize(std::vector<double> seconds);
double Percentile(const std::vector<double>& sorted, double q);

nlohmann::json ReportToJson(const Report& report);
// The Markdown tables for the terminal and the README.
std::string MarkdownTables(const nlohmann::json& report);

// Everything in the report that cannot be true of a correct run: a node without
// every blob, a time below the physical bound, origin bytes below one copy, shoal
// serving more than one copy from the origin, direct serving other than N copies,
// derived figures that do not match their inputs. Empty when all hold.
std::vector<std::string> CheckReportInvariants(const nlohmann::json& report);

}  // namespace shoal::bench
