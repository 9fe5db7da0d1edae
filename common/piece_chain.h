// Checking each piece of a blob against the blob's OCI digest on its own, in
// any order. SHA-256 works through the data in 64-byte blocks, carrying a
// 32-byte chaining state from block to block. Piece boundaries are multiples of
// 64 bytes, so the state at the start of every piece is well defined: the seed
// records them while it hashes the blob (it hashes the whole blob anyway), and a
// peer checks a piece by running SHA-256 from the state at its start and
// comparing with the state at its end, or, for the blob's last piece, with the
// digest. This replaces both libtorrent's SHA-1 of each piece and a second pass
// over the whole blob for its sha256: one hash per byte instead of two.
//
// The states need no trust. When every piece matched its link, segment 0 starts
// at SHA-256's initial state, each segment starts where the one before it ended
// (ChainsJoin) and the last piece finished to the digest, the bytes hash to the
// digest: forging a state would take a SHA-256 collision.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/digest.h"
#include "common/segment_plan.h"

namespace shoal {

inline constexpr size_t kSha256StateBytes = 32;

// SHA-256 whose chaining state can be read at, and resumed from, any 64-byte
// boundary (OpenSSL's EVP interface hides it, so this uses the SHA256_CTX one).
class Sha256Chain {
 public:
  Sha256Chain();  // at offset 0, SHA-256's initial state
  ~Sha256Chain();
  Sha256Chain(Sha256Chain&&) noexcept;
  Sha256Chain& operator=(Sha256Chain&&) noexcept;

  // Resumes after `offset` bytes (a multiple of 64) from a kSha256StateBytes state.
  static absl::StatusOr<Sha256Chain> Resume(absl::string_view state, uint64_t offset);

  void Update(const void* data, size_t len);
  uint64_t offset() const { return offset_; }
  // The chaining state; offset() must be a multiple of 64.
  std::string State() const;
  std::string FinalRaw();  // the 32-byte digest; the chain is spent afterwards

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  uint64_t offset_ = 0;
};

// What the pieces of one segment must hash to.
struct SegmentChain {
  uint64_t offset = 0;  // the segment's first byte in the blob
  uint64_t length = 0;
  uint32_t piece_size = 0;
  // kSha256StateBytes per piece (the state at its start), then the state at the
  // segment's end unless this is the blob's last segment.
  std::string states;
  std::string final_digest;  // 32 raw bytes when this is the blob's last segment

  int pieces() const;
  bool last() const { return !final_digest.empty(); }
  absl::string_view StartState() const {
    return absl::string_view(states).substr(0, kSha256StateBytes);
  }
  absl::string_view EndState() const;  // empty for the blob's last segment
};

// Checks the states' count (and, for segment 0, that it starts at SHA-256's
// initial state) for segment k of a blob laid out by `plan`.
absl::StatusOr<SegmentChain> MakeSegmentChain(const SegmentPlan& plan, SegmentIndex k,
                                              absl::string_view states, const BlobDigest& digest);

// True when `data` (the whole piece) runs from its start state to its end state
// (or to the digest, for the blob's last piece).
bool PieceMatchesChain(const SegmentChain& chain, int piece, const char* data, size_t len);

// `next` starts where `prev` (the segment before it) ended.
bool ChainsJoin(const SegmentChain& prev, const SegmentChain& next);

// The digest's 32 raw bytes.
std::string DigestRaw(const BlobDigest& digest);

}  // namespace shoal
