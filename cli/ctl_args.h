// shoalctl's command line: global flags, one command, its flags. Parsing only;
// the commands live in ctl_commands.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shoal::ctl {

inline constexpr char kDefaultScheduler[] = "127.0.0.1:65003";

struct CtlArgs {
  std::string scheduler;  // gRPC address
  bool json = false;      // --output json
  bool help = false;
  std::string command;  // preheat | jobs | job | cancel | hosts
  std::vector<std::string> positional;
  // preheat
  std::string platform;
  std::string scope;
  uint32_t layer_concurrency = 0;
  uint32_t host_concurrency = 0;
  std::string idempotency_key;
  std::string username;
  bool password_stdin = false;
  bool wait = false;
  absl::Duration timeout = absl::InfiniteDuration();
  // jobs
  std::string state;
};

// argv without the program name. InvalidArgument naming the bad flag.
// The default scheduler is $SHOAL_SCHEDULER, else kDefaultScheduler.
absl::StatusOr<CtlArgs> ParseCtlArgs(const std::vector<std::string>& args);

std::string UsageText();

}  // namespace shoal::ctl
