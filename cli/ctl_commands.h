// shoalctl's commands over the scheduler's gRPC API. Each returns the process
// exit code (see UsageText in ctl_args.h).
#pragma once

#include "cli/ctl_args.h"

namespace shoal::ctl {

enum ExitCode { kOk = 0, kJobFailed = 1, kUsage = 2, kApiError = 3, kStillRunning = 4 };

int RunCommand(const CtlArgs& args);

}  // namespace shoal::ctl
