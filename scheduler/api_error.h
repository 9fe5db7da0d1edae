// Errors of the job API. Both front ends (REST and gRPC) answer from one
// absl::Status: its canonical code becomes the gRPC status and the HTTP status
// class, and a payload carries a short machine-readable reason
// ("invalid_reference", "unknown_host", ...) for the REST error body
// {"error": {"code": ..., "message": ...}}.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shoal {

absl::Status ApiError(absl::StatusCode code, absl::string_view reason, absl::string_view message);

// The reason attached by ApiError, or one derived from the canonical code
// ("not_found", "invalid_argument", ...).
std::string ApiErrorReason(const absl::Status& status);
bool HasApiErrorReason(const absl::Status& status);

// 400, 404, 409, 503, ... for a non-OK status.
int HttpStatusFor(const absl::Status& status);

}  // namespace shoal
