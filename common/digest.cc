#include "common/digest.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace shoal {
namespace {

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool ValidComponent(absl::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  size_t i = 0;
  while (i < c.size()) {
    if (IsLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    // A separator run: ".", "_", "__" or "-+".
    size_t j = i;
    if (c[i] == '.') {
      j = i + 1;
    } else if (c[i] == '_') {
      j = i + 1;
      if (j < c.size() && c[j] == '_') ++j;
    } else if (c[i] == '-') {
      while (j < c.size() && c[j] == '-') ++j;
    } else {
      return false;
    }
    if (j >= c.size() || !IsLowerAlnum(c[j])) return false;
    i = j;
  }
  return true;
}

}  // namespace

absl::StatusOr<BlobDigest> BlobDigest::Parse(absl::string_view text) {
  constexpr absl::string_view kPrefix = "sha256:";
  if (text.substr(0, kPrefix.size()) != kPrefix) {
    return absl::InvalidArgumentError(
        absl::StrCat("digest '", text.substr(0, 80), "' is not a sha256 digest (want sha256:<64 hex>)"));
  }
  absl::string_view hex = text.substr(kPrefix.size());
  if (hex.size() != 64) {
    return absl::InvalidArgumentError(absl::StrCat("digest '", text.substr(0, 80), "' has ",
                                                   hex.size(), " hex characters, want 64"));
  }
  for (char c : hex) {
    if (!IsLowerHex(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("digest '", text.substr(0, 80), "' has a character that is not lowercase hex"));
    }
  }
  return BlobDigest(std::string(text));
}

absl::Status ValidateRepositoryName(absl::string_view name) {
  if (name.empty() || name.size() > 255) {
    return absl::InvalidArgumentError("repository name must be 1..255 characters");
  }
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (!ValidComponent(part)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "repository name '", name.substr(0, 80), "' has an invalid component '", part.substr(0, 80),
          "' (components are lowercase [a-z0-9] joined by '.', '_', '__' or '-')"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateTag(absl::string_view tag) {
  auto ok_first = [](char c) { return absl::ascii_isalnum(c) || c == '_'; };
  auto ok_rest = [&](char c) { return ok_first(c) || c == '.' || c == '-'; };
  if (tag.empty() || tag.size() > 128 || !ok_first(tag[0])) {
    return absl::InvalidArgumentError(absl::StrCat("tag '", tag.substr(0, 80), "' is not valid"));
  }
  for (char c : tag) {
    if (!ok_rest(c)) return absl::InvalidArgumentError(absl::StrCat("tag '", tag.substr(0, 80), "' is not valid"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRegistryHost(absl::string_view host) {
  if (host.empty() || host.size() > 255) return absl::InvalidArgumentError("registry host is empty");
  for (char c : host) {
    if (!(absl::ascii_isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']')) {
      return absl::InvalidArgumentError(
          absl::StrCat("registry host '", host.substr(0, 80), "' has an invalid character"));
    }
  }
  if (host.find("..") != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("registry host '", host.substr(0, 80), "' is not valid"));
  }
  return absl::OkStatus();
}

}  // namespace shoal
