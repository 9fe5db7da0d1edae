// Small pieces of HTTP plumbing shared by the mirror's route handlers.
#pragma once

#include <httplib.h>

#include "peer/mirror_options.h"
#include "peer/oci_errors.h"

namespace shoal {

inline constexpr char kApiVersionHeader[] = "Docker-Distribution-API-Version";
inline constexpr char kApiVersion[] = "registry/2.0";
inline constexpr char kDigestHeader[] = "Docker-Content-Digest";

// Answers with an OCI error body and counts the error. (The API version header is a
// server default header, so every answer carries it.)
void ReplyError(httplib::Response& res, const OciError& error, MirrorStats& stats);

// cpp-httplib 0.11 re-slices any 2xx response whose request carried a Range header,
// without checking the range against the content length (it answers "bytes 20-30/10"
// and reads past the end), and it would slice our own 206 bodies a second time. The
// mirror decides ranges itself (DecideRange), so it clears httplib's parsed ranges.
// The Request is a non-const local inside httplib that handlers see through a const
// reference, so the const_cast is well defined.
void TakeOverRangeHandling(const httplib::Request& req);

bool IsHead(const httplib::Request& req);

}  // namespace shoal
