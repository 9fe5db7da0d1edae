#include "common/hashing.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/str_cat.h"

namespace shoal {

struct Hasher::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

namespace {
const EVP_MD* Md(Hasher::Kind k) { return k == Hasher::Kind::kSha1 ? EVP_sha1() : EVP_sha256(); }
}  // namespace

Hasher::Hasher(Kind kind) : ctx_(std::make_unique<Ctx>()), kind_(kind) {
  ctx_->md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx_->md, Md(kind_), nullptr);
}
Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::Update(const void* data, size_t len) { EVP_DigestUpdate(ctx_->md, data, len); }

std::string Hasher::FinalRaw() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_->md, out, &n);
  EVP_DigestInit_ex(ctx_->md, Md(kind_), nullptr);
  return std::string(reinterpret_cast<char*>(out), n);
}

std::string Hasher::FinalHex() { return HexEncode(FinalRaw()); }

std::string HexEncode(absl::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string Sha256Hex(absl::string_view data) {
  Hasher h(Hasher::Kind::kSha256);
  h.Update(data);
  return h.FinalHex();
}

absl::StatusOr<std::string> Sha256File(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  Hasher h(Hasher::Kind::kSha256);
  std::vector<char> buf(1 << 20);
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      ::close(fd);
      return absl::InternalError(absl::StrCat("read failed on ", path));
    }
    if (n == 0) break;
    h.Update(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return absl::StrCat("sha256:", h.FinalHex());
}

}  // namespace shoal
