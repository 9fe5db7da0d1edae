#include "bench/big_blob_bench.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "bench/proc_stats.h"
#include "common/daemon_config.h"
#include "common/file_util.h"
#include "common/hashing.h"
#include "common/metrics.h"
#include "common/origin_client.h"
#include "testkit/daemon_probe.h"
#include "testkit/fault_proxy.h"
#include "testkit/image_builder.h"
#include "testkit/image_pusher.h"
#include "testkit/net_util.h"
#include "testkit/registry_process.h"
#include "testkit/shoal_cluster.h"
#include "testkit/subprocess.h"

namespace shoal::bench {
namespace {

using testkit::Daemon;

constexpr char kRepository[] = "bench/bigblob";
constexpr double kMB = 1e6;

double Get(const std::map<std::string, double>& m, const std::string& name) {
  auto it = m.find(name);
  return it == m.end() ? -1 : it->second;
}

std::map<std::string, double> Scrape(const Daemon& d) {
  return testkit::ScrapeMetrics(d).value_or(std::map<std::string, double>{});
}

// One ranged GET stream from the origin, bytes discarded: what one connection gets.
absl::StatusOr<double> SingleStreamMBps(const std::string& registry, const std::string& digest,
                                        uint64_t bytes) {
  OriginClientOptions o;
  o.insecure_registries = {registry};
  auto client = MakeHttpOriginClient(o);
  absl::Time t0 = absl::Now();
  auto r = client->FetchRange(
      {registry, kRepository}, digest, 0, bytes, [](uint64_t, const char*, size_t) { return true; },
      nullptr);
  double secs = absl::ToDoubleSeconds(absl::Now() - t0);
  if (!r.status.ok()) return r.status;
  return secs > 0 ? static_cast<double>(r.bytes) / kMB / secs : 0;
}

// The fetcher logs "last byte to verified <duration>" when a blob is done.
double SeedLastByteToVerifiedMs(const std::string& log) {
  const std::string key = "last byte to verified ";
  size_t at = log.rfind(key);
  if (at == std::string::npos) return -1;
  std::string rest = log.substr(at + key.size());
  absl::Duration d;
  if (!absl::ParseDuration(rest.substr(0, rest.find(' ')), &d)) return -1;
  return absl::ToDoubleMilliseconds(d);
}

DaemonMemory MemoryOf(pid_t pid, uint64_t peak_anon) {
  ProcSample s = SampleProcess(pid);
  return DaemonMemory{s.peak_rss_bytes, peak_anon, s.cpu_seconds};
}

}  // namespace

absl::StatusOr<BigBlobBenchResult> RunBigBlobBench(const BigBlobBenchOptions& o) {
  // Registry storage, the seed's copy and the peer's copy; the pushed source file
  // is deleted before the daemons start.
  const uint64_t need = 3 * o.size + (2ull << 30);
  auto free_bytes = FreeDiskBytes(o.work_dir);
  if (!free_bytes.ok()) return free_bytes.status();
  if (*free_bytes < need) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "a %.1f GiB blob needs ~%.1f GiB free in %s (registry, seed and peer copies); %.1f GiB "
        "are free: pass a smaller --size or another --work-dir",
        o.size / 1073741824.0, need / 1073741824.0, o.work_dir, *free_bytes / 1073741824.0));
  }
  std::string tmpl = absl::StrCat(o.work_dir, "/shoal-bigblob-bench-XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("cannot create a directory in ", o.work_dir));
  }
  const std::string dir = tmpl;
  struct Cleanup {
    std::string dir;
    bool keep;
    ~Cleanup() {
      if (keep) {
        std::fprintf(stderr, "kept %s\n", dir.c_str());
      } else {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
      }
    }
  } cleanup{dir, o.keep};

  BigBlobBenchResult res;
  res.size = o.size;
  res.disk_io = o.disk_io;
  res.origin_concurrency = o.origin_concurrency;
  res.origin_rate_per_connection = o.origin_rate_per_connection;

  std::fprintf(stderr, "writing and pushing a %s blob...\n", FormatByteSize(o.size).c_str());
  testkit::RegistryOptions ro;
  ro.work_dir = dir + "/registry";
  auto registry = testkit::RegistryProcess::Start(ro);
  if (!registry.ok()) return registry.status();
  auto blob = testkit::WriteRandomBlob(dir + "/src", o.size, 20260101,
                                       "application/vnd.oci.image.layer.v1.tar");
  if (!blob.ok()) return blob.status();
  if (auto s = testkit::PushBlob({(*registry)->url()}, kRepository, *blob); !s.ok()) return s;
  std::filesystem::remove(blob->path);

  FaultProxy::Options po;
  po.upstream = (*registry)->host_port();
  po.threads = 64;
  po.rate_per_connection = o.origin_rate_per_connection;
  auto proxy = FaultProxy::Start(po);
  if (!proxy.ok()) return proxy.status();
  const std::string origin = (*proxy)->address();

  std::fprintf(stderr, "single stream baseline (%s)...\n",
               FormatByteSize(std::min(o.size, o.single_stream_sample)).c_str());
  auto single = SingleStreamMBps(origin, blob->digest, std::min(o.size, o.single_stream_sample));
  if (!single.ok()) return single.status();
  res.single_stream_mb_s = *single;
  (*registry)->MarkAccessLog();  // from here on, what the seed costs the origin

  testkit::ClusterOptions co;
  co.seeds = 1;
  co.peers = 1;
  co.work_dir = dir + "/cluster";
  std::filesystem::create_directories(co.work_dir);
  co.log_level = o.log_level;
  co.insecure_registries = {origin};
  std::vector<std::string> flags = {"--metrics-listen", ":0", "--disk-io", o.disk_io};
  co.peer_flags = flags;
  flags.insert(flags.end(), {"--origin-concurrency", absl::StrCat(o.origin_concurrency)});
  co.seed_flags = flags;
  auto cluster = testkit::ShoalCluster::Start(co);
  if (!cluster.ok()) return cluster.status();
  testkit::ShoalCluster& c = **cluster;
  Daemon& seed = c.seed(0);
  Daemon& peer = c.peer(0);
  if (auto st = testkit::WaitForSeeds(c); !st.ok()) return st;

  std::fprintf(stderr, "seed + peer end to end (disk-io %s)...\n", o.disk_io.c_str());
  PeakAnonRss seed_anon(seed.process->pid()), peer_anon(peer.process->pid());
  const absl::Duration timeout =
      absl::Minutes(10) + absl::Seconds(static_cast<double>(o.size) / (5 * kMB));
  testkit::MirrorStream pull;
  std::atomic<bool> pulled{false};
  std::thread client([&] {
    pull = testkit::StreamFromMirror(c.mirror(0), kRepository, blob->digest, origin, timeout);
    pulled = true;
  });
  absl::Time origin_first = absl::InfinitePast(), origin_done = absl::InfinitePast();
  absl::Time peer_last = absl::InfinitePast(), peer_verified = absl::InfinitePast();
  const absl::Time give_up = absl::Now() + timeout;
  while (absl::Now() < give_up) {
    auto sm = Scrape(seed), pm = Scrape(peer);
    absl::Time now = absl::Now();
    double from_origin = Get(sm, "shoal_bytes_from_origin_total");
    if (from_origin > 0 && origin_first == absl::InfinitePast()) origin_first = now;
    if (from_origin >= static_cast<double>(o.size) && origin_done == absl::InfinitePast()) {
      origin_done = now;
    }
    if (Get(pm, "shoal_bytes_from_peers_total") >= static_cast<double>(o.size) &&
        peer_last == absl::InfinitePast()) {
      peer_last = now;
    }
    if (Get(pm, "shoal_blobs_verified_total") >= 1 && peer_verified == absl::InfinitePast()) {
      peer_verified = now;
    }
    if (pulled && peer_verified != absl::InfinitePast()) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  client.join();
  res.seed = MemoryOf(seed.process->pid(), seed_anon.Stop());
  res.peer = MemoryOf(peer.process->pid(), peer_anon.Stop());
  if (pull.status != 200 || pull.bytes != o.size || pull.sha256 != blob->digest) {
    return absl::DataLossError(absl::StrCat(
        "the pull through the peer's mirror failed: HTTP ", pull.status, ", ", pull.bytes, " of ",
        o.size, " bytes, ", pull.sha256, " ", pull.error, "\n", c.LogTails()));
  }
  res.seed_fetch_seconds = absl::ToDoubleSeconds(origin_done - origin_first);
  res.seed_fetch_mb_s =
      res.seed_fetch_seconds > 0 ? static_cast<double>(o.size) / kMB / res.seed_fetch_seconds : 0;
  res.peer_first_byte_seconds = absl::ToDoubleSeconds(pull.first_byte);
  res.end_to_end_seconds = absl::ToDoubleSeconds(pull.elapsed);
  res.end_to_end_mb_s = static_cast<double>(o.size) / kMB / res.end_to_end_seconds;
  res.seed_last_byte_to_verified_ms =
      SeedLastByteToVerifiedMs(testkit::ReadFileOrEmpty(seed.log_path));
  res.peer_last_byte_to_verified_ms = peer_last == absl::InfinitePast()
                                          ? -1
                                          : absl::ToDoubleMilliseconds(peer_verified - peer_last);
  res.origin_bytes = (*registry)->ReadAccessLog().Blob(blob->digest).bytes_served;
  return res;
}

std::string FormatBigBlobReport(const BigBlobBenchResult& r) {
  auto mib = [](uint64_t b) { return static_cast<double>(b) / 1048576.0; };
  std::string out;
  absl::StrAppendFormat(&out, "big blob: %.2f GiB, origin shaped to %.0f MiB/s per connection\n",
                        r.size / 1073741824.0, mib(r.origin_rate_per_connection));
  absl::StrAppendFormat(&out, "  single stream from the origin        %8.1f MB/s\n",
                        r.single_stream_mb_s);
  absl::StrAppendFormat(&out,
                        "  seed, %u ranged GETs in parallel     %8.1f MB/s  (%.1fx; %.1f s)\n",
                        r.origin_concurrency, r.seed_fetch_mb_s,
                        r.single_stream_mb_s > 0 ? r.seed_fetch_mb_s / r.single_stream_mb_s : 0,
                        r.seed_fetch_seconds);
  absl::StrAppendFormat(&out,
                        "  seed + peer end to end (mirror GET) %8.1f MB/s  (%.1f s; first "
                        "byte after %.2f s)\n",
                        r.end_to_end_mb_s, r.end_to_end_seconds, r.peer_first_byte_seconds);
  absl::StrAppendFormat(&out,
                        "  last byte -> digest verified        seed %.0f ms, peer <= %.0f ms "
                        "(polled)\n",
                        r.seed_last_byte_to_verified_ms, r.peer_last_byte_to_verified_ms);
  absl::StrAppendFormat(&out, "  origin served                       %.3f copies\n",
                        static_cast<double>(r.origin_bytes) / static_cast<double>(r.size));
  for (const auto& [name, m] : {std::pair{"seed", r.seed}, std::pair{"peer", r.peer}}) {
    absl::StrAppendFormat(&out,
                          "  %s memory (disk-io %s)        peak RssAnon %.0f MiB, VmHWM %.0f "
                          "MiB, %.1f CPU-s\n",
                          name, r.disk_io, mib(m.peak_anon_rss), mib(m.vm_hwm), m.cpu_seconds);
  }
  return out;
}

std::string BigBlobResultJson(const BigBlobBenchResult& r) {
  auto mem = [](const DaemonMemory& m) {
    return nlohmann::json{{"vm_hwm_bytes", m.vm_hwm},
                          {"peak_anon_rss_bytes", m.peak_anon_rss},
                          {"cpu_seconds", m.cpu_seconds}};
  };
  nlohmann::json j = {{"size_bytes", r.size},
                      {"disk_io", r.disk_io},
                      {"origin_concurrency", r.origin_concurrency},
                      {"origin_rate_per_connection", r.origin_rate_per_connection},
                      {"single_stream_mb_s", r.single_stream_mb_s},
                      {"seed_fetch_seconds", r.seed_fetch_seconds},
                      {"seed_fetch_mb_s", r.seed_fetch_mb_s},
                      {"peer_first_byte_seconds", r.peer_first_byte_seconds},
                      {"end_to_end_seconds", r.end_to_end_seconds},
                      {"end_to_end_mb_s", r.end_to_end_mb_s},
                      {"seed_last_byte_to_verified_ms", r.seed_last_byte_to_verified_ms},
                      {"peer_last_byte_to_verified_ms", r.peer_last_byte_to_verified_ms},
                      {"origin_bytes", r.origin_bytes},
                      {"seed", mem(r.seed)},
                      {"peer", mem(r.peer)}};
  return j.dump(2);
}

}  // namespace shoal::bench
