#include "scheduler/image_manifest.h"

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/digest.h"

namespace shoal {
namespace {

using nlohmann::json;

bool IsIndexType(absl::string_view t) { return t == kOciIndexType || t == kDockerListType; }
bool IsImageType(absl::string_view t) { return t == kOciManifestType || t == kDockerManifestType; }

bool ValidPlatformPart(absl::string_view part) {
  if (part.empty() || part.size() > 64) return false;
  for (char c : part) {
    if (!(absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

std::string StringField(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

absl::StatusOr<Descriptor> ParseDescriptor(const json& j, absl::string_view where) {
  if (!j.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(where, " is not a JSON object"));
  }
  Descriptor d;
  d.media_type = StringField(j, "mediaType");
  auto digest = BlobDigest::Parse(StringField(j, "digest"));
  if (!digest.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", digest.status().message()));
  }
  d.digest = digest->str();
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(where, " (", d.digest, ") has no valid size"));
  }
  d.size = size->get<uint64_t>();
  // Windows base layers and the like: the registry has only a pointer to them.
  d.foreign = absl::StrContains(d.media_type, "foreign") ||
              absl::StrContains(d.media_type, "nondistributable");
  if (auto p = j.find("platform"); p != j.end() && p->is_object()) {
    d.platform.os = StringField(*p, "os");
    d.platform.architecture = StringField(*p, "architecture");
    d.platform.variant = StringField(*p, "variant");
  }
  return d;
}

}  // namespace

const std::vector<std::string>& ManifestAcceptList() {
  static const auto* list = new std::vector<std::string>{kOciIndexType, kOciManifestType,
                                                         kDockerListType, kDockerManifestType};
  return *list;
}

std::string Platform::String() const {
  std::string out = absl::StrCat(os, "/", architecture);
  if (!variant.empty()) absl::StrAppend(&out, "/", variant);
  return out;
}

bool Platform::Matches(const Platform& entry) const {
  if (os != entry.os || architecture != entry.architecture) return false;
  if (variant.empty()) return true;
  std::string theirs = entry.variant;
  if (theirs.empty() && architecture == "arm64") theirs = "v8";
  return variant == theirs;
}

absl::StatusOr<Platform> ParsePlatform(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  bool ok = parts.size() == 2 || parts.size() == 3;
  for (absl::string_view p : parts) ok = ok && ValidPlatformPart(p);
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("platform '", text.substr(0, 100),
                     "' is not OS/ARCH[/VARIANT] (e.g. linux/amd64, linux/arm64/v8) or 'all'"));
  }
  Platform p;
  p.os = std::string(parts[0]);
  p.architecture = std::string(parts[1]);
  if (parts.size() == 3) p.variant = std::string(parts[2]);
  return p;
}

absl::StatusOr<ParsedManifest> ParseManifest(absl::string_view body,
                                             absl::string_view content_type) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("the registry's manifest is not a JSON object");
  }
  ParsedManifest m;
  m.media_type = std::string(content_type);
  if (!IsIndexType(m.media_type) && !IsImageType(m.media_type)) {
    // A generic or missing Content-Type: the document says what it is.
    std::string declared = StringField(j, "mediaType");
    if (!declared.empty()) {
      m.media_type = declared;
    } else if (j.contains("manifests")) {
      m.media_type = kOciIndexType;
    } else if (j.contains("layers")) {
      m.media_type = kOciManifestType;
    }
  }
  if (IsIndexType(m.media_type)) {
    m.is_index = true;
    auto list = j.find("manifests");
    if (list == j.end() || !list->is_array()) {
      return absl::InvalidArgumentError("image index has no \"manifests\" list");
    }
    for (size_t i = 0; i < list->size(); ++i) {
      auto d = ParseDescriptor((*list)[i], absl::StrCat("index entry ", i));
      if (!d.ok()) return d.status();
      m.manifests.push_back(*std::move(d));
    }
    return m;
  }
  if (!IsImageType(m.media_type)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "manifest type '", m.media_type.empty() ? "unknown" : m.media_type,
        "' is not supported (shoal handles ", absl::StrJoin(ManifestAcceptList(), ", "),
        "); push the image with a current docker, buildah or skopeo"));
  }
  auto config = j.find("config");
  if (config == j.end()) return absl::InvalidArgumentError("image manifest has no \"config\"");
  auto c = ParseDescriptor(*config, "config");
  if (!c.ok()) return c.status();
  m.config = *std::move(c);
  auto layers = j.find("layers");
  if (layers == j.end() || !layers->is_array()) {
    return absl::InvalidArgumentError("image manifest has no \"layers\" list");
  }
  for (size_t i = 0; i < layers->size(); ++i) {
    auto d = ParseDescriptor((*layers)[i], absl::StrCat("layer ", i));
    if (!d.ok()) return d.status();
    m.layers.push_back(*std::move(d));
  }
  return m;
}

}  // namespace shoal
