#include "peer/mirror_request.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace shoal {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Client input quoted in a message: bounded, so a huge path cannot bloat the reply or the log.
std::string Quote(absl::string_view text) { return std::string(text.substr(0, 200)); }

OciError NotFoundRoute(absl::string_view path) {
  return {404, oci_code::kUnsupported,
          absl::StrCat("no route for '", Quote(path),
                       "'; the mirror serves /v2/, /v2/<name>/manifests/<reference> and "
                       "/v2/<name>/blobs/<digest>"),
          ""};
}

}  // namespace

std::optional<std::string> PercentDecode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;  // truncated escape
    int hi = HexValue(text[i + 1]);
    int lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::variant<MirrorRoute, OciError> ParseMirrorTarget(absl::string_view target) {
  absl::string_view raw_path = target.substr(0, target.find_first_of("?#"));
  std::optional<std::string> decoded = PercentDecode(raw_path);
  if (!decoded) {
    return OciError{400, oci_code::kNameInvalid,
                    absl::StrCat("request path '", Quote(raw_path), "' has a malformed %-escape"),
                    ""};
  }
  absl::string_view path = *decoded;
  if (path == "/v2" || path == "/v2/") return MirrorRoute{};
  if (!absl::StartsWith(path, "/v2/")) return NotFoundRoute(path);
  absl::string_view rest = path.substr(4);

  // <name> may contain slashes but a reference never does, so split from the right:
  // .../<name>/<kind>/<reference>.
  size_t ref_slash = rest.rfind('/');
  if (ref_slash == absl::string_view::npos || ref_slash == 0) return NotFoundRoute(path);
  absl::string_view reference = rest.substr(ref_slash + 1);
  absl::string_view before = rest.substr(0, ref_slash);
  size_t kind_slash = before.rfind('/');
  if (kind_slash == absl::string_view::npos) return NotFoundRoute(path);
  absl::string_view kind = before.substr(kind_slash + 1);
  absl::string_view name = before.substr(0, kind_slash);

  MirrorRoute route;
  if (kind == "blobs") {
    route.kind = MirrorRouteKind::kBlob;
  } else if (kind == "manifests") {
    route.kind = MirrorRouteKind::kManifest;
  } else {
    return NotFoundRoute(path);
  }
  if (absl::Status s = ValidateRepositoryName(name); !s.ok()) {
    return OciError{400, oci_code::kNameInvalid, std::string(s.message()), ""};
  }
  route.name = std::string(name);

  if (route.kind == MirrorRouteKind::kBlob || absl::StrContains(reference, ':')) {
    auto digest = BlobDigest::Parse(reference);
    if (!digest.ok()) {
      return OciError{400, oci_code::kDigestInvalid, std::string(digest.status().message()), ""};
    }
    route.digest = *digest;
  } else {
    if (absl::Status s = ValidateTag(reference); !s.ok()) {
      return OciError{400, oci_code::kTagInvalid, std::string(s.message()), ""};
    }
    route.tag = std::string(reference);
  }
  return route;
}

std::string RangeDecision::ContentRange(uint64_t size) const {
  if (kind == kPartial) return absl::StrCat("bytes ", first, "-", first + length - 1, "/", size);
  return absl::StrCat("bytes */", size);
}

RangeDecision DecideRange(absl::string_view header, uint64_t size) {
  RangeDecision whole;
  header = absl::StripAsciiWhitespace(header);
  if (!absl::ConsumePrefix(&header, "bytes=") || absl::StrContains(header, ',')) return whole;
  header = absl::StripAsciiWhitespace(header);
  size_t dash = header.find('-');
  if (dash == absl::string_view::npos) return whole;
  absl::string_view first_text = absl::StripAsciiWhitespace(header.substr(0, dash));
  absl::string_view last_text = absl::StripAsciiWhitespace(header.substr(dash + 1));

  RangeDecision out;
  out.kind = RangeDecision::kPartial;
  if (first_text.empty()) {  // suffix: the last N bytes
    uint64_t suffix = 0;
    if (!absl::SimpleAtoi(last_text, &suffix)) return whole;
    if (suffix == 0 || size == 0) return {RangeDecision::kUnsatisfiable};
    out.length = std::min(suffix, size);
    out.first = size - out.length;
    return out;
  }
  uint64_t first = 0;
  if (!absl::SimpleAtoi(first_text, &first)) return whole;
  uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    uint64_t asked_last = 0;
    if (!absl::SimpleAtoi(last_text, &asked_last) || asked_last < first) return whole;
    last = std::min(last, asked_last);
  }
  if (first >= size) return {RangeDecision::kUnsatisfiable};
  out.first = first;
  out.length = last - first + 1;
  return out;
}

}  // namespace shoal
