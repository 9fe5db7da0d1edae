// Moving the calling *thread* into a network namespace (setns(2) is per thread for
// CLONE_NEWNET). Everything that thread then opens — sockets of libcurl, children it
// forks — lives in that namespace. shoal-bench uses it to make HTTP requests "from a
// node" and to start testkit processes (RegistryProcess) inside a host's namespace
// without changing them. Threads the thread creates afterwards inherit the namespace.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shoal::bench {

class NetnsGuard {
 public:
  // Enters /run/netns/<name> (made by `ip netns add`); the destructor returns the
  // thread to the namespace it was in.
  static absl::StatusOr<std::unique_ptr<NetnsGuard>> Enter(const std::string& name);
  ~NetnsGuard();
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;

 private:
  explicit NetnsGuard(int original_fd) : original_fd_(original_fd) {}
  int original_fd_;
};

// Runs fn with the calling thread inside namespace `name`, then returns it.
absl::Status RunInNetns(const std::string& name, const std::function<absl::Status()>& fn);

}  // namespace shoal::bench
