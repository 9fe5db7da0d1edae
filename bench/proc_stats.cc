#include "bench/proc_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <sstream>
#include <string>

namespace shoal::bench {

namespace {

// utime + stime from a /proc/.../stat file, in seconds.
double StatCpuSeconds(const std::string& path) {
  std::ifstream stat(path);
  std::string line;
  if (!std::getline(stat, line)) return 0;
  // Fields after the ")" that closes the command name; utime and stime are 14 and 15.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

std::map<int, double> ThreadCpuSeconds(pid_t pid) {
  std::map<int, double> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator(dir, ec)) {
    const std::string tid = t.path().filename().string();
    out[std::stoi(tid)] = StatCpuSeconds(t.path().string() + "/stat");
  }
  return out;
}

double BusiestThreadSeconds(const std::map<int, double>& before,
                            const std::map<int, double>& after) {
  double busiest = 0;
  for (const auto& [tid, secs] : after) {
    auto it = before.find(tid);
    busiest = std::max(busiest, secs - (it == before.end() ? 0 : it->second));
  }
  return busiest;
}

ProcSample SampleProcess(pid_t pid) {
  ProcSample s;
  s.cpu_seconds = StatCpuSeconds("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    auto kb = [&](const char* key) -> uint64_t {
      return std::stoull(line.substr(std::string(key).size())) * 1024;
    };
    if (line.rfind("VmHWM:", 0) == 0) s.peak_rss_bytes = kb("VmHWM:");
    if (line.rfind("VmRSS:", 0) == 0) s.rss_bytes = kb("VmRSS:");
    if (line.rfind("RssAnon:", 0) == 0) s.anon_rss_bytes = kb("RssAnon:");
  }
  return s;
}

struct PeakAnonRss::State {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> peak{0};
  std::thread poller;
};

PeakAnonRss::PeakAnonRss(pid_t pid) : state_(new State) {
  State* st = state_;
  st->poller = std::thread([st, pid] {
    while (!st->stop) {
      uint64_t v = SampleProcess(pid).anon_rss_bytes;
      if (v > st->peak) st->peak = v;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
}

PeakAnonRss::~PeakAnonRss() {
  Stop();
  delete state_;
}

uint64_t PeakAnonRss::Stop() {
  if (!state_->stop.exchange(true) && state_->poller.joinable()) state_->poller.join();
  return state_->peak;
}

double ChildrenCpuSeconds() {
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace shoal::bench
