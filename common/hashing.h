// Incremental SHA-256 (OCI digests) and SHA-1 (BitTorrent v1 pieces) over OpenSSL.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace shoal {

class Hasher {
 public:
  enum class Kind { kSha1, kSha256 };
  explicit Hasher(Kind kind);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  void Update(const void* data, size_t len);
  void Update(absl::string_view s) { Update(s.data(), s.size()); }
  std::string FinalRaw();  // raw digest bytes; the hasher is reset afterwards
  std::string FinalHex();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  Kind kind_;
};

std::string HexEncode(absl::string_view raw);
std::string Sha256Hex(absl::string_view data);

// sha256 of a file's whole content, as "sha256:<hex>".
absl::StatusOr<std::string> Sha256File(const std::string& path);

}  // namespace shoal
