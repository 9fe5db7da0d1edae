// OCI distribution-spec error responses for the registry mirror: the JSON body
// containerd and docker understand, and the mapping from our absl::Status codes
// (what providers and the origin client return) to HTTP statuses and OCI codes.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shoal {

// Error codes from the distribution spec (plus UNAVAILABLE / UNKNOWN / RANGE_INVALID
// / TAG_INVALID, which docker/distribution also sends).
namespace oci_code {
inline constexpr char kBlobUnknown[] = "BLOB_UNKNOWN";
inline constexpr char kManifestUnknown[] = "MANIFEST_UNKNOWN";
inline constexpr char kManifestInvalid[] = "MANIFEST_INVALID";
inline constexpr char kDigestInvalid[] = "DIGEST_INVALID";
inline constexpr char kNameInvalid[] = "NAME_INVALID";
inline constexpr char kTagInvalid[] = "TAG_INVALID";
inline constexpr char kUnsupported[] = "UNSUPPORTED";
inline constexpr char kUnauthorized[] = "UNAUTHORIZED";
inline constexpr char kDenied[] = "DENIED";
inline constexpr char kTooManyRequests[] = "TOOMANYREQUESTS";
inline constexpr char kRangeInvalid[] = "RANGE_INVALID";
inline constexpr char kUnavailable[] = "UNAVAILABLE";
inline constexpr char kUnknown[] = "UNKNOWN";
}  // namespace oci_code

// One error as the mirror answers it.
struct OciError {
  int http_status = 500;
  std::string code;     // one of oci_code::*
  std::string message;  // human readable: what, where, what to do
  std::string detail;   // optional; sent as a JSON string when not empty
};

// {"errors":[{"code":"...","message":"...","detail":...}]}
std::string OciErrorBody(const OciError& error);

// Maps a failure from the origin or the blob provider onto what the client sees.
// `not_found_code` is BLOB_UNKNOWN or MANIFEST_UNKNOWN depending on the route.
OciError OciErrorFromStatus(const absl::Status& status, absl::string_view not_found_code);

}  // namespace shoal
