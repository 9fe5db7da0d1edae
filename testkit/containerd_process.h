// A real containerd (the runtime on every Kubernetes node) for integration tests,
// the demo and benchmarks: its own root, state and socket in a temp dir, the CRI
// plugin and unneeded snapshotters off so it starts in well under a second as
// root without Kubernetes. Pulls go through `ctr content fetch --hosts-dir`, which
// sends registry requests to a mirror (a shoal peer) exactly as a node would, and
// verifies every digest itself.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "testkit/subprocess.h"
#include "testkit/temp_dir.h"

namespace shoal::testkit {

struct ContentEntry {
  std::string digest;
  uint64_t size = 0;
};

// What to do when the mirror fails a request.
enum class MirrorFallback {
  // containerd may not reach the registry itself: a mirror failure fails the pull.
  // (hosts.toml's server is pointed at a closed port.) What tests want.
  kNone,
  // containerd falls back to the registry (what a production node config does).
  kOrigin,
};

class ContainerdProcess {
 public:
  // work_dir: where root, state, socket and log go; a fresh temp dir when empty.
  static absl::StatusOr<std::unique_ptr<ContainerdProcess>> Start(std::string work_dir = "");
  ~ContainerdProcess();

  const std::string& socket() const { return socket_; }
  const std::string& log_path() const { return log_path_; }
  const std::string& work_dir() const { return work_dir_; }

  // Writes <work_dir>/hosts-<mirror>/<registry>/hosts.toml sending pulls of images
  // on `registry_host_port` to the mirror at `mirror_host_port` (plain HTTP, pull
  // and resolve). Returns the hosts dir to pass to Fetch.
  absl::StatusOr<std::string> WriteHostsToml(const std::string& registry_host_port,
                                             const std::string& mirror_host_port,
                                             MirrorFallback fallback = MirrorFallback::kNone);

  // `ctr content fetch` of image_ref (linux/amd64 unless extra_args names a platform).
  // hosts_dir empty: straight from the registry over plain HTTP.
  absl::StatusOr<CommandResult> Fetch(const std::string& image_ref, const std::string& hosts_dir,
                                      const std::vector<std::string>& extra_args = {},
                                      absl::Duration timeout = absl::Minutes(10));

  // The ctr command line Fetch runs, for callers that watch it while it runs.
  std::vector<std::string> FetchArgv(const std::string& image_ref, const std::string& hosts_dir,
                                     const std::vector<std::string>& extra_args = {}) const;
  // Where containerd keeps content (blobs/ and ingest/), to watch a pull's progress.
  std::string content_dir() const;

  // Digests and sizes in the content store.
  absl::StatusOr<std::vector<ContentEntry>> ListContent();
  // Removes every image and all content, so the next Fetch downloads everything again.
  absl::Status RemoveAllContent();

  // Runs `ctr -a <socket> <args...>`.
  absl::StatusOr<CommandResult> Ctr(const std::vector<std::string>& args,
                                    absl::Duration timeout = absl::Minutes(2));

 private:
  ContainerdProcess() = default;

  std::unique_ptr<TempDir> owned_dir_;
  std::string work_dir_;
  std::string socket_;
  std::string log_path_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace shoal::testkit
