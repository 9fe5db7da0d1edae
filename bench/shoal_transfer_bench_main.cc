// shoal-transfer-bench: one blob moved seed -> one peer over loopback, against
// curl fetching the same blob straight from docker-registry in the same run.
// Two shoal figures: the pair (a preheat job puts the blob into a fresh peer's
// cache, digest verified: what the seed and peer alone cost) and the mirror (a
// client GETs the blob from a fresh peer's mirror: the pair plus a third hop).
// Prints MB/s and CPU-seconds per GB on each side, and the ratios to curl.
//
//   build/bin/shoal-transfer-bench [--size 1GiB] [--runs 3]
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/preheat_client.h"
#include "bench/proc_stats.h"
#include "common/options.h"
#include "testkit/image_builder.h"
#include "testkit/image_pusher.h"
#include "testkit/net_util.h"
#include "testkit/registry_process.h"
#include "testkit/subprocess.h"
#include "testkit/temp_dir.h"

namespace shoal::bench {
namespace {

using testkit::Subprocess;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// One shoal measurement's runs: wall seconds and each daemon's CPU and memory.
struct Side {
  std::vector<double> secs, seed_cpu, peer_cpu;
  std::vector<double> seed_thread, peer_thread;  // the busiest thread's CPU seconds
  uint64_t seed_peak = 0, peer_peak = 0, seed_anon_peak = 0, peer_anon_peak = 0;
};

// Seed and peer CPU and memory over one run.
class SideSampler {
 public:
  SideSampler(pid_t seed, pid_t peer)
      : seed_(seed),
        peer_(peer),
        s0_(SampleProcess(seed)),
        p0_(SampleProcess(peer)),
        st0_(ThreadCpuSeconds(seed)),
        pt0_(ThreadCpuSeconds(peer)),
        seed_anon_(seed),
        peer_anon_(peer) {}
  void Finish(Side* side) {
    side->seed_anon_peak = std::max(side->seed_anon_peak, seed_anon_.Stop());
    side->peer_anon_peak = std::max(side->peer_anon_peak, peer_anon_.Stop());
    ProcSample s1 = SampleProcess(seed_), p1 = SampleProcess(peer_);
    side->seed_cpu.push_back(s1.cpu_seconds - s0_.cpu_seconds);
    side->seed_thread.push_back(BusiestThreadSeconds(st0_, ThreadCpuSeconds(seed_)));
    side->peer_thread.push_back(BusiestThreadSeconds(pt0_, ThreadCpuSeconds(peer_)));
    side->peer_cpu.push_back(p1.cpu_seconds - p0_.cpu_seconds);
    side->seed_peak = std::max(side->seed_peak, s1.peak_rss_bytes);
    side->peer_peak = std::max(side->peer_peak, p1.peak_rss_bytes);
  }

 private:
  pid_t seed_, peer_;
  ProcSample s0_, p0_;
  std::map<int, double> st0_, pt0_;
  PeakAnonRss seed_anon_, peer_anon_;
};

std::unique_ptr<Subprocess> StartDaemon(const std::string& dir, const std::string& name,
                                        std::vector<std::string> args) {
  args.insert(args.begin(), absl::StrCat(SHOAL_BIN_DIR, "/", name));
  testkit::SubprocessOptions o;
  o.argv = args;
  o.log_path = absl::StrCat(dir, "/", name, "-", testkit::FreePort().value_or(0), ".log");
  auto p = Subprocess::Start(o);
  if (!p.ok()) {
    std::fprintf(stderr, "cannot start %s: %s\n", name.c_str(),
                 std::string(p.status().message()).c_str());
    std::exit(1);
  }
  if (auto s = (*p)->WaitForLogLine(absl::StrCat(name, " ready"), absl::Seconds(30)); !s.ok()) {
    std::fprintf(stderr, "%s did not become ready:\n%s\n", name.c_str(), (*p)->LogTail().c_str());
    std::exit(1);
  }
  return std::move(*p);
}

// GET url into a file; returns wall seconds and fails loudly on a short body.
double CurlToFile(const std::string& url, const std::string& out, uint64_t size) {
  absl::Time t0 = absl::Now();
  auto r = testkit::RunCommand({"curl", "-sf", "-o", out, url}, absl::Minutes(10));
  double secs = absl::ToDoubleSeconds(absl::Now() - t0);
  struct stat st;
  if (!r.ok() || r->exit_code != 0 || ::stat(out.c_str(), &st) != 0 ||
      static_cast<uint64_t>(st.st_size) != size) {
    std::fprintf(stderr, "GET %s failed (%s)\n", url.c_str(),
                 r.ok() ? r->output.c_str() : "no curl");
    std::exit(1);
  }
  ::unlink(out.c_str());
  return secs;
}

int Main(int argc, char** argv) {
  uint64_t size = 1ull << 30;
  uint32_t runs = 3;
  std::string segment = "64MiB", piece = "4MiB", disk_io = "mmap";
  OptionSet options("shoal-transfer-bench", "seed -> peer over loopback vs curl from the registry");
  options.AddBytes("size", &size, "blob size");
  options.AddUint("runs", &runs, "repetitions of each measurement (median reported)");
  options.AddString("segment-size", &segment, "shoal segment size");
  options.AddString("piece-size", &piece, "shoal piece size");
  options.AddString("disk-io", &disk_io, "libtorrent storage for seed and peer: mmap or posix");
  auto outcome = options.Parse(argc, argv);
  if (!outcome.ok()) {
    std::fprintf(stderr, "%s\n", std::string(outcome.status().message()).c_str());
    return 2;
  }
  if (*outcome == OptionSet::Outcome::kExitOk) return 0;

  auto tmp = testkit::TempDir::Create("shoal-transfer-bench");
  if (!tmp.ok()) return 1;
  const std::string dir = tmp->path();
  std::printf("generating a %s blob and pushing it to docker-registry...\n",
              FormatByteSize(size).c_str());
  testkit::ImageSpec spec;
  spec.layer_sizes = {size};
  auto image = testkit::BuildImage(spec, dir + "/image");
  auto registry = testkit::RegistryProcess::Start({});
  if (!image.ok() || !registry.ok()) {
    std::fprintf(stderr, "setup failed\n");
    return 1;
  }
  if (auto s = testkit::PushImage(*image, {(*registry)->url()}); !s.ok()) {
    std::fprintf(stderr, "push failed: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  const testkit::BlobFile& blob = image->platforms[0].layers[0];
  const std::string reg = (*registry)->host_port();
  const std::string path = absl::StrCat("/v2/", spec.repository, "/blobs/", blob.digest);

  // shoal: scheduler, one seed; a first peer pulls (the seed fetches from the origin
  // meanwhile), then each run fresh peers fetch from the seed alone.
  std::string sched_addr = testkit::HostPort("127.0.0.1", *testkit::FreePort());
  std::string api_addr = testkit::HostPort("127.0.0.1", *testkit::FreePort());
  auto scheduler =
      StartDaemon(dir, "shoal-scheduler",
                  {"--listen", sched_addr, "--http-listen", api_addr, "--data-dir",
                   dir + "/sched", "--insecure-registry", reg});
  std::string seed_ip = "127.0.0.2";
  auto seed = StartDaemon(dir, "shoal-seed",
                          {"--scheduler", sched_addr, "--ip", seed_ip, "--data-dir", dir + "/seed",
                           "--insecure-registry", reg, "--segment-size", segment, "--piece-size",
                           piece, "--disk-io", disk_io});
  auto peer_id = [](int n) { return absl::StrCat("bench-peer", n); };
  auto start_peer = [&](int n) {
    std::string ip = absl::StrCat("127.0.0.", 10 + n);
    std::string mirror = testkit::HostPort(ip, *testkit::FreePort(ip));
    auto p = StartDaemon(
        dir, "shoal-peer",
        {"--scheduler", sched_addr, "--ip", ip, "--host-id", peer_id(n), "--data-dir",
         absl::StrCat(dir, "/peer", n), "--mirror-listen", mirror, "--insecure-registry", reg,
         "--segment-size", segment, "--piece-size", piece, "--disk-io", disk_io});
    // "ready" comes before the peer has registered; a job naming it needs it registered.
    if (auto s = p->WaitForLogLine("registered with the scheduler as", absl::Seconds(30)); !s.ok()) {
      std::fprintf(stderr, "shoal-peer did not register:\n%s\n", p->LogTail().c_str());
      std::exit(1);
    }
    return std::make_pair(std::move(p), absl::StrCat("http://", mirror, path, "?ns=", reg));
  };
  auto drop_peer_data = [&](int n) {
    std::error_code ec;
    std::filesystem::remove_all(absl::StrCat(dir, "/peer", n), ec);
  };
  PreheatClient jobs(absl::StrCat("http://", api_addr));
  const std::string image_ref = absl::StrCat(reg, "/", spec.repository, ":", spec.tag);
  // A preheat job onto peer n alone; seconds from the POST to the scheduler's
  // record of the blob verified on the peer (both clocks are this machine's).
  auto preheat_onto = [&](int n) {
    absl::Time t0 = absl::Now();
    auto id = jobs.Submit(image_ref, absl::StrCat("hosts:", peer_id(n)), "");
    if (!id.ok()) {
      std::fprintf(stderr, "preheat job: %s\n", std::string(id.status().message()).c_str());
      std::exit(1);
    }
    const absl::Time give_up = absl::Now() + absl::Minutes(10);
    while (absl::Now() < give_up) {
      auto st = jobs.Get(*id);
      if (st.ok() && st->Terminal()) {
        int64_t done_ms = st->HostFinishedUnixMs(peer_id(n));
        if (st->state != "succeeded" || done_ms == 0) {
          std::fprintf(stderr, "preheat job %s ended %s: %s\n", id->c_str(), st->state.c_str(),
                       st->error.c_str());
          std::exit(1);
        }
        return absl::ToDoubleSeconds(absl::FromUnixMillis(done_ms) - t0);
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    std::fprintf(stderr, "preheat job %s did not end within 10 minutes\n", id->c_str());
    std::exit(1);
  };

  auto [warm, warm_url] = start_peer(0);
  const double seed_cpu0 = SampleProcess(seed->pid()).cpu_seconds;
  double cold = CurlToFile(warm_url, dir + "/warm.out", size);
  const double cold_seed_cpu = SampleProcess(seed->pid()).cpu_seconds - seed_cpu0;
  warm->Stop();
  drop_peer_data(0);
  // Baseline and shoal alternate, so load from other work on a shared machine
  // falls on all alike. Each receiver writes into fresh files that are deleted
  // after its run: curl's output file, the peer's whole data dir.
  std::vector<double> curl_secs, curl_cpu;
  Side pair, mirror;
  int next_peer = 1;
  for (uint32_t i = 0; i < runs; ++i) {
    double c0 = ChildrenCpuSeconds();
    curl_secs.push_back(
        CurlToFile(absl::StrCat((*registry)->url(), path), dir + "/curl.out", size));
    curl_cpu.push_back(ChildrenCpuSeconds() - c0);

    for (Side* side : {&pair, &mirror}) {
      int n = next_peer++;
      auto [peer, url] = start_peer(n);
      SideSampler sampler(seed->pid(), peer->pid());
      side->secs.push_back(side == &pair ? preheat_onto(n)
                                         : CurlToFile(url, dir + "/p2p.out", size));
      sampler.Finish(side);
      peer->Stop();
      drop_peer_data(n);
    }
  }
  const double gb = static_cast<double>(size) / 1e9;
  const double mb = static_cast<double>(size) / 1e6;
  std::printf("\n%s blob over loopback, median of %u runs\n", FormatByteSize(size).c_str(), runs);
  std::printf(
      "| path | MB/s | ratio to curl | CPU-s/GB sender | CPU-s/GB receiver |\n|---|---|---|---|---|\n");
  std::printf("| curl <- docker-registry | %.0f | 1.00 | (registry) | %.2f |\n",
              mb / Median(curl_secs), Median(curl_cpu) / gb);
  for (const auto& [name, side] :
       {std::pair{"shoal peer <- seed (preheat into the cache, verified)", &pair},
        std::pair{"shoal mirror client <- peer <- seed", &mirror}}) {
    std::printf("| %s | %.0f | %.2f | %.2f | %.2f |\n", name, mb / Median(side->secs),
                Median(curl_secs) / Median(side->secs), Median(side->seed_cpu) / gb,
                Median(side->peer_cpu) / gb);
  }
  // curl is one thread: all of its CPU is its busiest thread's.
  std::printf(
      "\nbusiest single thread, CPU-s/GB (what more cores could not spread): curl %.2f; pair: seed "
      "%.2f, peer %.2f; mirror path: seed %.2f, peer %.2f\n",
      Median(curl_cpu) / gb, Median(pair.seed_thread) / gb, Median(pair.peer_thread) / gb,
      Median(mirror.seed_thread) / gb, Median(mirror.peer_thread) / gb);
  std::printf("ratio shoal pair / curl throughput: %.2f\n",
              Median(curl_secs) / Median(pair.secs));
  std::printf(
      "cold pull through the mirror (origin -> seed -> peer, pipelined): %.0f MB/s, seed %.2f "
      "CPU-s/GB (fetch, hash, seed)\n",
      mb / cold, cold_seed_cpu / gb);
  uint64_t seed_peak = std::max(pair.seed_peak, mirror.seed_peak);
  uint64_t peer_peak = std::max(pair.peer_peak, mirror.peer_peak);
  std::printf(
      "peak RSS (VmHWM, includes mapped page cache with --disk-io mmap): seed %.0f MiB, peer %.0f "
      "MiB\n",
      seed_peak / 1048576.0, peer_peak / 1048576.0);
  std::printf(
      "peak anonymous RSS (RssAnon, the daemon's own memory): seed %.0f MiB, peer %.0f MiB\n",
      std::max(pair.seed_anon_peak, mirror.seed_anon_peak) / 1048576.0,
      std::max(pair.peer_anon_peak, mirror.peer_anon_peak) / 1048576.0);
  return 0;
}

}  // namespace
}  // namespace shoal::bench

int main(int argc, char** argv) { return shoal::bench::Main(argc, argv); }
