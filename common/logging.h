// spdlog setup: one named logger per component, text or JSON lines on stderr.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

// Debian's Abseil has its own string_view (not std::string_view): teach fmt/spdlog
// to print it and absl::Status directly.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  template <typename FormatContext>
  auto format(absl::string_view s, FormatContext& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(s.data(), s.size()), ctx);
  }
};
template <>
struct fmt::formatter<absl::Status> : fmt::formatter<fmt::string_view> {
  template <typename FormatContext>
  auto format(const absl::Status& s, FormatContext& ctx) const {
    std::string text = s.ToString();
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(text), ctx);
  }
};

namespace shoal {

// level: trace|debug|info|warn|error; format: text|json.
absl::Status InitLogging(const std::string& level, const std::string& format);

// Returns the named component logger (created on first use, sharing the sinks).
std::shared_ptr<spdlog::logger> Logger(const std::string& component);

}  // namespace shoal
