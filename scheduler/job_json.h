// The REST job API's JSON: parsing a create request strictly (every problem
// named, unknown fields refused so a typo is not silently ignored) and
// rendering job status, host lists and errors. shoalctl --output json prints
// the same rendering, so scripts see one format.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "shoal/v1/scheduler.pb.h"

namespace shoal {

// Body of POST /api/v1/jobs:
//   {"image", "platform", "scope", "layer_concurrency", "host_concurrency",
//    "username", "password", "idempotency_key"}
// ApiError "malformed_json", "invalid_field", "unknown_field", "missing_field" or
// "invalid_concurrency".
absl::StatusOr<v1::CreateJobRequest> ParseCreateJobJson(const std::string& body);

nlohmann::json JobStatusJson(const v1::JobStatus& status);
nlohmann::json HostsJson(const std::vector<v1::HostStatus>& hosts);
// {"error": {"code": ..., "message": ...}}
nlohmann::json ErrorJson(const absl::Status& status);

// "2024-06-01T12:00:00.123Z"; null for 0.
nlohmann::json Rfc3339OrNull(int64_t unix_ms);
const char* JobStateText(v1::JobState state);  // "running", ...

}  // namespace shoal
