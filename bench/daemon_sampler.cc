#include "bench/daemon_sampler.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "bench/proc_stats.h"

namespace shoal::bench {
namespace {
constexpr absl::Duration kPeriod = absl::Seconds(1);
}  // namespace

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
  thread_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(kPeriod)) SampleAll();
  });
}

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
