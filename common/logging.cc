#include "common/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>

#include "absl/strings/str_cat.h"

namespace shoal {
namespace {
std::mutex g_mu;
spdlog::sink_ptr g_sink;
spdlog::level::level_enum g_level = spdlog::level::info;
std::string g_pattern = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v";
}  // namespace

absl::Status InitLogging(const std::string& level, const std::string& format) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError(absl::StrCat("log-level '", level, "' is not one of trace, debug, info, warn, error"));
  }
  std::lock_guard<std::mutex> l(g_mu);
  g_level = lvl;
  if (format == "json") {
    g_pattern = R"({"ts":"%Y-%m-%dT%H:%M:%S.%e","level":"%l","logger":"%n","msg":"%v"})";
  } else if (format != "text") {
    return absl::InvalidArgumentError(absl::StrCat("log-format '", format, "' is not text or json"));
  }
  spdlog::apply_all([&](std::shared_ptr<spdlog::logger> l) {
    l->set_level(g_level);
    l->set_pattern(g_pattern);
  });
  return absl::OkStatus();
}

std::shared_ptr<spdlog::logger> Logger(const std::string& component) {
  std::lock_guard<std::mutex> l(g_mu);
  if (auto existing = spdlog::get(component)) return existing;
  if (!g_sink) g_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(component, g_sink);
  logger->set_level(g_level);
  logger->set_pattern(g_pattern);
  logger->flush_on(spdlog::level::info);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace shoal
