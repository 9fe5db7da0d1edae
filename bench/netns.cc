#include "bench/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace shoal::bench {

absl::StatusOr<std::unique_ptr<NetnsGuard>> NetnsGuard::Enter(const std::string& name) {
  int original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open /proc/thread-self/ns/net: ", strerror(errno)));
  }
  const std::string path = "/run/netns/" + name;
  int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int err = errno;
    close(original);
    return absl::NotFoundError(absl::StrCat("network namespace ", path, ": ", strerror(err),
                                            " (was the testbed torn down?)"));
  }
  int rc = setns(target, CLONE_NEWNET);
  int err = errno;
  close(target);
  if (rc != 0) {
    close(original);
    return absl::PermissionDeniedError(
        absl::StrCat("setns into ", name, ": ", strerror(err), " (shoal-bench must run as root)"));
  }
  return std::unique_ptr<NetnsGuard>(new NetnsGuard(original));
}

NetnsGuard::~NetnsGuard() {
  if (setns(original_fd_, CLONE_NEWNET) != 0) {
    // A thread left in a node's namespace would make later traffic look like that
    // node's: a wrong measurement is worse than stopping.
    std::fprintf(stderr, "shoal-bench: cannot return thread to its network namespace: %s\n",
                 strerror(errno));
    std::abort();
  }
  close(original_fd_);
}

absl::Status RunInNetns(const std::string& name, const std::function<absl::Status()>& fn) {
  auto guard = NetnsGuard::Enter(name);
  if (!guard.ok()) return guard.status();
  return fn();
}

}  // namespace shoal::bench
