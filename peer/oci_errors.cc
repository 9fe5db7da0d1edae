#include "peer/oci_errors.h"

#include <nlohmann/json.hpp>

namespace shoal {

std::string OciErrorBody(const OciError& error) {
  nlohmann::json entry = {{"code", error.code}, {"message", error.message}};
  entry["detail"] = error.detail.empty() ? nlohmann::json(nullptr) : nlohmann::json(error.detail);
  nlohmann::json body = {{"errors", nlohmann::json::array({entry})}};
  // Replace invalid UTF-8 (a message may quote raw client input) instead of throwing.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

OciError OciErrorFromStatus(const absl::Status& status, absl::string_view not_found_code) {
  std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return {404, std::string(not_found_code), message, ""};
    case absl::StatusCode::kInvalidArgument:
      return {400, oci_code::kUnsupported, message, ""};
    case absl::StatusCode::kUnauthenticated:
      return {401, oci_code::kUnauthorized, message, ""};
    case absl::StatusCode::kPermissionDenied:
      return {403, oci_code::kDenied, message, ""};
    case absl::StatusCode::kResourceExhausted:
      return {429, oci_code::kTooManyRequests, message, ""};
    case absl::StatusCode::kUnimplemented:
      return {405, oci_code::kUnsupported, message, ""};
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kCancelled:
      return {503, oci_code::kUnavailable, message, ""};
    case absl::StatusCode::kDeadlineExceeded:
      return {504, oci_code::kUnavailable, message, ""};
    case absl::StatusCode::kDataLoss:
      // The bytes we got did not match their digest: the upstream side is at fault.
      return {502, oci_code::kUnknown, message, ""};
    default:
      return {502, oci_code::kUnknown, message, ""};
  }
}

}  // namespace shoal
