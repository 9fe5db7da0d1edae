// Content digests and OCI names: parsing and validation of what arrives from
// clients, registries and the scheduler before it is used as a key or a path.
#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace shoal {

// A sha256 OCI digest ("sha256:<64 lowercase hex>"). Always valid once built.
class BlobDigest {
 public:
  static absl::StatusOr<BlobDigest> Parse(absl::string_view text);

  const std::string& str() const { return text_; }  // "sha256:<hex>"
  absl::string_view hex() const { return absl::string_view(text_).substr(7); }
  std::string Short() const { return std::string(hex().substr(0, 12)); }

  friend bool operator==(const BlobDigest& a, const BlobDigest& b) { return a.text_ == b.text_; }
  friend bool operator<(const BlobDigest& a, const BlobDigest& b) { return a.text_ < b.text_; }
  template <typename H>
  friend H AbslHashValue(H h, const BlobDigest& d) {
    return H::combine(std::move(h), d.text_);
  }

 private:
  explicit BlobDigest(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

// OCI distribution-spec repository name: path components of [a-z0-9]+ joined by
// separators (., _, __, -+), separated by '/'. Rejects "..", empty components
// and anything that could escape a directory.
absl::Status ValidateRepositoryName(absl::string_view name);

// A tag: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.
absl::Status ValidateTag(absl::string_view tag);

// Registry host[:port]; no scheme, no path.
absl::Status ValidateRegistryHost(absl::string_view host);

}  // namespace shoal
