// A whole shoal cluster on one machine for integration tests, the demo and
// benchmarks: shoal-scheduler, N shoal-seed and M shoal-peer processes, each on
// its own loopback address (127.A.B.C, see NextLoopbackIp) with its own data dir,
// log and ports. Daemons can be killed and restarted with the same data dir and
// ports, as a crash and restart of one node would look.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "testkit/subprocess.h"
#include "testkit/temp_dir.h"

namespace shoal::testkit {

enum class DaemonRole { kScheduler, kSeed, kPeer };

struct ClusterOptions {
  int seeds = 1;
  int peers = 3;
  // When false the scheduler's address is handed out but nothing listens there:
  // seeds and peers run without a scheduler.
  bool start_scheduler = true;
  // Registries (host:port) that seeds and peers reach over plain HTTP.
  std::vector<std::string> insecure_registries;
  // Extra flags per role, appended after the ones the cluster sets.
  std::vector<std::string> scheduler_flags;
  std::vector<std::string> seed_flags;
  std::vector<std::string> peer_flags;
  std::string log_level = "debug";
  std::string bin_dir = SHOAL_BIN_DIR;
  std::string work_dir;  // data dirs and logs; a fresh temp dir when empty
  absl::Duration ready_timeout = absl::Seconds(60);
};

struct Daemon {
  DaemonRole role;
  std::string name;  // "scheduler", "seed-1", "peer-2"
  std::string ip;
  std::string data_dir;
  std::string log_path;
  int port = 0;                   // scheduler: gRPC; seed/peer: data plane
  int http_port = 0;              // scheduler: REST; peer: mirror; seed: unused
  std::vector<std::string> argv;  // fixed at first start, reused by Restart
  std::unique_ptr<Subprocess> process;

  std::string binary_name() const;     // "shoal-peer"
  std::string address() const;         // ip:port
  std::string mirror_address() const;  // peer: ip:http_port
  bool running() const { return process != nullptr && process->Running(); }
};

class ShoalCluster {
 public:
  static absl::StatusOr<std::unique_ptr<ShoalCluster>> Start(ClusterOptions options);
  ~ShoalCluster();  // stops peers, seeds, scheduler (in that order)

  Daemon& scheduler() { return *scheduler_; }
  Daemon& seed(int i) { return *seeds_.at(i); }  // 0-based
  Daemon& peer(int i) { return *peers_.at(i); }
  int seed_count() const { return static_cast<int>(seeds_.size()); }
  int peer_count() const { return static_cast<int>(peers_.size()); }
  std::vector<Daemon*> all();  // scheduler (if started), seeds, peers

  std::string scheduler_address() const { return scheduler_->address(); }
  std::string scheduler_http_url() const;
  std::string mirror(int peer_index) const { return peers_.at(peer_index)->mirror_address(); }
  const std::string& work_dir() const { return work_dir_; }

  // Sends `signal` and waits for the process to exit (SIGKILL: a crash).
  absl::Status Kill(Daemon& d, int signal = 9);
  // Starts the daemon again with the same flags, data dir and ports; waits for ready.
  absl::Status Restart(Daemon& d);
  // Starts a daemon that was never started (the scheduler with start_scheduler=false).
  absl::Status StartDaemon(Daemon& d) { return Restart(d); }

  // The last lines of every daemon's log, for failure messages.
  std::string LogTails(size_t lines_each = 30) const;

 private:
  explicit ShoalCluster(ClusterOptions options) : options_(std::move(options)) {}
  absl::StatusOr<std::unique_ptr<Daemon>> Plan(DaemonRole role, int index);
  absl::Status Launch(Daemon& d);
  absl::Status WaitReady(Daemon& d);

  ClusterOptions options_;
  std::unique_ptr<TempDir> owned_dir_;
  std::string work_dir_;
  std::unique_ptr<Daemon> scheduler_;
  std::vector<std::unique_ptr<Daemon>> seeds_;
  std::vector<std::unique_ptr<Daemon>> peers_;
};

}  // namespace shoal::testkit
