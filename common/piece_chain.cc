// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, which
// offers no way to read or set the chaining state this file exists for. They
// still run OpenSSL's fastest block code (SHA extensions where the CPU has them).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "common/piece_chain.h"

#include <openssl/sha.h>

#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace shoal {

struct Sha256Chain::Ctx {
  SHA256_CTX c;
};

namespace {

std::string StateOf(const SHA256_CTX& c) {
  std::string out(kSha256StateBytes, '\0');
  for (int i = 0; i < 8; ++i) {
    const uint32_t w = c.h[i];
    out[4 * i] = static_cast<char>(w >> 24);
    out[4 * i + 1] = static_cast<char>(w >> 16);
    out[4 * i + 2] = static_cast<char>(w >> 8);
    out[4 * i + 3] = static_cast<char>(w);
  }
  return out;
}

const std::string& InitialState() {
  static const std::string* s = [] {
    SHA256_CTX c;
    SHA256_Init(&c);
    return new std::string(StateOf(c));
  }();
  return *s;
}

}  // namespace

Sha256Chain::Sha256Chain() : ctx_(std::make_unique<Ctx>()) { SHA256_Init(&ctx_->c); }
Sha256Chain::~Sha256Chain() = default;
Sha256Chain::Sha256Chain(Sha256Chain&&) noexcept = default;
Sha256Chain& Sha256Chain::operator=(Sha256Chain&&) noexcept = default;

absl::StatusOr<Sha256Chain> Sha256Chain::Resume(absl::string_view state, uint64_t offset) {
  if (state.size() != kSha256StateBytes || offset % SHA256_CBLOCK != 0) {
    return absl::InvalidArgumentError(absl::StrCat("a SHA-256 state is ", kSha256StateBytes,
                                                   " bytes at a multiple of 64; got ", state.size(),
                                                   " bytes at ", offset));
  }
  Sha256Chain chain;
  SHA256_CTX& c = chain.ctx_->c;
  for (int i = 0; i < 8; ++i) {
    const auto* p = reinterpret_cast<const unsigned char*>(state.data()) + 4 * i;
    c.h[i] = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  }
  const uint64_t bits = offset * 8;  // SHA-256's length field counts bits
  c.Nl = static_cast<SHA_LONG>(bits & 0xffffffffu);
  c.Nh = static_cast<SHA_LONG>(bits >> 32);
  c.num = 0;
  chain.offset_ = offset;
  return chain;
}

void Sha256Chain::Update(const void* data, size_t len) {
  SHA256_Update(&ctx_->c, data, len);
  offset_ += len;
}

std::string Sha256Chain::State() const { return StateOf(ctx_->c); }

std::string Sha256Chain::FinalRaw() {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256_Final(out, &ctx_->c);
  return std::string(reinterpret_cast<char*>(out), sizeof(out));
}

int SegmentChain::pieces() const {
  return piece_size == 0 ? 0 : static_cast<int>((length + piece_size - 1) / piece_size);
}

absl::string_view SegmentChain::EndState() const {
  if (last()) return {};
  return absl::string_view(states).substr(static_cast<size_t>(pieces()) * kSha256StateBytes);
}

std::string DigestRaw(const BlobDigest& digest) { return absl::HexStringToBytes(digest.hex()); }

absl::StatusOr<SegmentChain> MakeSegmentChain(const SegmentPlan& plan, SegmentIndex k,
                                              absl::string_view states, const BlobDigest& digest) {
  SegmentChain chain;
  chain.offset = plan.SegmentOffset(k);
  chain.length = plan.SegmentLength(k);
  chain.piece_size = plan.piece_size();
  chain.states = std::string(states);
  const bool last = k + 1 == plan.segment_count();
  if (last) chain.final_digest = DigestRaw(digest);
  const size_t want = (static_cast<size_t>(chain.pieces()) + (last ? 0 : 1)) * kSha256StateBytes;
  if (states.size() != want) {
    return absl::InvalidArgumentError(absl::StrCat(
        "segment ", k, " has ", states.size() / kSha256StateBytes, " piece states; its ",
        chain.pieces(), " pieces need ", want / kSha256StateBytes));
  }
  if (k == 0 && chain.pieces() > 0 && chain.StartState() != InitialState()) {
    return absl::InvalidArgumentError("segment 0 does not start at SHA-256's initial state");
  }
  return chain;
}

bool PieceMatchesChain(const SegmentChain& chain, int piece, const char* data, size_t len) {
  if (piece < 0 || piece >= chain.pieces()) return false;
  const uint64_t start = uint64_t{static_cast<uint32_t>(piece)} * chain.piece_size;
  if (len != std::min<uint64_t>(chain.piece_size, chain.length - start)) return false;
  auto h = Sha256Chain::Resume(
      absl::string_view(chain.states)
          .substr(static_cast<size_t>(piece) * kSha256StateBytes, kSha256StateBytes),
      chain.offset + start);
  if (!h.ok()) return false;
  h->Update(data, len);
  if (chain.last() && piece + 1 == chain.pieces()) return h->FinalRaw() == chain.final_digest;
  if (h->offset() % SHA256_CBLOCK != 0) return false;  // only the blob's last piece may be short
  return h->State() ==
         absl::string_view(chain.states)
             .substr(static_cast<size_t>(piece + 1) * kSha256StateBytes, kSha256StateBytes);
}

bool ChainsJoin(const SegmentChain& prev, const SegmentChain& next) {
  return !prev.last() && prev.offset + prev.length == next.offset &&
         prev.EndState() == next.StartState();
}

}  // namespace shoal
