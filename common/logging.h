// spdlog setup: one named logger per component, text or JSON lines on stderr.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "absl/status/status.h"

namespace shoal {

// level: trace|debug|info|warn|error; format: text|json.
absl::Status InitLogging(const std::string& level, const std::string& format);

// Returns the named component logger (created on first use, sharing the sinks).
std::shared_ptr<spdlog::logger> Logger(const std::string& component);

}  // namespace shoal
