// Parsing what containerd sends the registry mirror: the request target (raw,
// percent-encoded path) into a route, and the Range header into one byte range.
// Everything is decoded first and validated after, so "%2e%2e" cannot sneak a
// ".." past the checks, and nothing here touches the disk.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "absl/strings/string_view.h"
#include "common/digest.h"
#include "peer/oci_errors.h"

namespace shoal {

enum class MirrorRouteKind { kBase, kManifest, kBlob };

struct MirrorRoute {
  MirrorRouteKind kind = MirrorRouteKind::kBase;
  std::string name;                  // validated repository name (kManifest, kBlob)
  std::optional<BlobDigest> digest;  // kBlob always; kManifest when referenced by digest
  std::string tag;                   // kManifest when referenced by tag
  // The manifest reference as the registry wants it: the tag or the digest.
  std::string Reference() const { return digest ? digest->str() : tag; }
};

// target is the raw request target, e.g. "/v2/library/alpine/blobs/sha256:...?ns=docker.io";
// the query is ignored. Returns the route, or the error to answer with
// (404 UNSUPPORTED for unknown paths, 400 NAME_INVALID / DIGEST_INVALID / TAG_INVALID).
std::variant<MirrorRoute, OciError> ParseMirrorTarget(absl::string_view target);

// Strict percent-decoding: "%zz" or a truncated escape is an error (nullopt).
std::optional<std::string> PercentDecode(absl::string_view text);

struct RangeDecision {
  enum Kind { kWhole, kPartial, kUnsatisfiable } kind = kWhole;
  uint64_t first = 0;   // kPartial: first byte
  uint64_t length = 0;  // kPartial: byte count (>= 1)
  // "bytes first-last/size" for kPartial, "bytes */size" for kUnsatisfiable.
  std::string ContentRange(uint64_t size) const;
};

// One "bytes=" range against a blob of `size` bytes (RFC 9110 14.1.2): a last byte
// past the end is clamped, a first byte at or past the end is unsatisfiable.
// Multiple ranges and other units are ignored (answered with the whole blob),
// which the RFC allows and which keeps the streaming path simple.
RangeDecision DecideRange(absl::string_view range_header, uint64_t size);

}  // namespace shoal
