#include "bench/daemon_sampler.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "bench/proc_stats.h"

namespace shoal::bench {
namespace {
constexpr absl::Duration kPeriod = absl::Seconds(1);
constexpr double kSaturated = 0.95;
}  // namespace

CpuTimes ReadHostCpu() {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  CpuTimes t;
  t.busy = user + nice + system + irq + softirq + steal;
  t.total = t.busy + idle + iowait;
  return t;
}

double BusyFraction(const CpuTimes& from, const CpuTimes& to) {
  if (to.total <= from.total) return 0;
  return static_cast<double>(to.busy - from.busy) / static_cast<double>(to.total - from.total);
}

pid_t FindProcessByArg(const std::string& arg) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t pos = 0;
    while (pos < cmdline.size()) {
      size_t end = cmdline.find('\0', pos);
      if (end == std::string::npos) end = cmdline.size();
      if (cmdline.compare(pos, end - pos, arg) == 0) return static_cast<pid_t>(std::stol(name));
      pos = end + 1;
    }
  }
  return -1;
}

DaemonSampler::~DaemonSampler() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void DaemonSampler::Watch(const std::string& role, pid_t pid) {
  ProcSample s = SampleProcess(pid);
  absl::MutexLock l(&mu_);
  watched_.push_back({role, pid, s.cpu_seconds, s.cpu_seconds, s.peak_rss_bytes});
}

void DaemonSampler::Begin() {
  host_begin_ = host_last_ = ReadHostCpu();
  host_.cores = static_cast<int>(std::thread::hardware_concurrency());
  host_.bench_client_seconds = SampleProcess(getpid()).cpu_seconds;
  thread_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(kPeriod)) {
      SampleAll();
      SampleHost();
    }
  });
}

void DaemonSampler::SampleHost() {
  CpuTimes now = ReadHostCpu();
  double busy = BusyFraction(host_last_, now);
  host_last_ = now;
  ++busy_samples_;
  if (busy >= kSaturated) ++saturated_samples_;
}

HostCpuUsage DaemonSampler::host_cpu() const { return host_; }

void DaemonSampler::SampleAll() {
  absl::MutexLock l(&mu_);
  for (Watched& w : watched_) {
    ProcSample s = SampleProcess(w.pid);
    // A process that is gone reads as zeros: keep what was seen last.
    if (s.cpu_seconds >= w.cpu_last) w.cpu_last = s.cpu_seconds;
    w.peak_rss = std::max(w.peak_rss, s.peak_rss_bytes);
  }
}

std::vector<DaemonUsage> DaemonSampler::Finish() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
  SampleAll();
  host_.busy = BusyFraction(host_begin_, ReadHostCpu());
  host_.seconds_saturated = saturated_samples_;
  host_.seconds_sampled = busy_samples_;
  host_.bench_client_seconds = SampleProcess(getpid()).cpu_seconds - host_.bench_client_seconds;
  std::vector<DaemonUsage> out;
  absl::MutexLock l(&mu_);
  for (const Watched& w : watched_) {
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const DaemonUsage& u) { return u.role == w.role; });
    if (it == out.end()) {
      out.push_back({w.role});
      it = out.end() - 1;
    }
    ++it->count;
    it->cpu_seconds += w.cpu_last - w.cpu_start;
    it->peak_rss_bytes = std::max(it->peak_rss_bytes, w.peak_rss);
  }
  return out;
}

}  // namespace shoal::bench
