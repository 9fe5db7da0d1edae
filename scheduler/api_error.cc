#include "scheduler/api_error.h"

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"

namespace shoal {
namespace {
constexpr char kReasonUrl[] = "type.shoal.dev/api-error-reason";
}  // namespace

absl::Status ApiError(absl::StatusCode code, absl::string_view reason, absl::string_view message) {
  absl::Status s(code, message);
  s.SetPayload(kReasonUrl, absl::Cord(reason));
  return s;
}

bool HasApiErrorReason(const absl::Status& status) {
  return status.GetPayload(kReasonUrl).has_value();
}

std::string ApiErrorReason(const absl::Status& status) {
  if (auto p = status.GetPayload(kReasonUrl)) return std::string(*p);
  return absl::AsciiStrToLower(absl::StatusCodeToString(status.code()));
}

int HttpStatusFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

}  // namespace shoal
