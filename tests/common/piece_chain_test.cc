// SHA-256 chaining states at piece boundaries: what the seed records while it
// hashes a blob lets each piece be checked on its own, and the checks together
// amount to the blob's digest.
#include "common/piece_chain.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "common/blob_hasher.h"
#include "common/hashing.h"

namespace shoal {
namespace {

constexpr uint32_t kPiece = 16 * 1024;
constexpr uint64_t kSegment = 4 * kPiece;
constexpr uint64_t kSize = 2 * kSegment + 5 * kPiece / 2 + 77;  // 3 segments, short last piece

std::string RandomBytes(uint64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

class PieceChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bytes_ = RandomBytes(kSize, 11);
    digest_ = *BlobDigest::Parse("sha256:" + Sha256Hex(bytes_));
    plan_ = *SegmentPlan::Create(kSize, kSegment, kPiece);
    BlobHasher hasher(*plan_);
    // Odd-sized updates: states must not depend on how the bytes were fed.
    for (uint64_t off = 0; off < kSize; off += 1000) {
      hasher.Update(bytes_.data() + off, std::min<uint64_t>(1000, kSize - off));
    }
    HashedSegment seg;
    while (hasher.PopSegment(&seg)) segments_.push_back(seg);
    ASSERT_EQ(hasher.Sha256Digest(), digest_.str());
  }

  SegmentChain Chain(SegmentIndex k) {
    auto c = MakeSegmentChain(*plan_, k, segments_[k].piece_states, digest_);
    EXPECT_TRUE(c.ok()) << c.status();
    return *c;
  }

  std::string Piece(SegmentIndex k, int piece) {
    uint64_t start = plan_->SegmentOffset(k) + uint64_t{static_cast<uint32_t>(piece)} * kPiece;
    uint64_t end = std::min(start + kPiece, plan_->SegmentOffset(k) + plan_->SegmentLength(k));
    return bytes_.substr(start, end - start);
  }

  std::string bytes_;
  BlobDigest digest_ = *BlobDigest::Parse("sha256:" + std::string(64, '0'));
  std::optional<SegmentPlan> plan_;
  std::vector<HashedSegment> segments_;
};

TEST_F(PieceChainTest, EveryPieceMatchesItsLinkAndTheSegmentsJoin) {
  ASSERT_EQ(segments_.size(), 3u);
  EXPECT_EQ(segments_[0].piece_states.size(), (4 + 1) * kSha256StateBytes) << "4 pieces + end";
  EXPECT_EQ(segments_[2].piece_states.size(), 3 * kSha256StateBytes) << "last: no end state";
  for (SegmentIndex k = 0; k < 3; ++k) {
    SegmentChain c = Chain(k);
    for (int p = 0; p < c.pieces(); ++p) {
      std::string piece = Piece(k, p);
      EXPECT_TRUE(PieceMatchesChain(c, p, piece.data(), piece.size())) << k << "/" << p;
    }
    if (k > 0) {
      EXPECT_TRUE(ChainsJoin(Chain(k - 1), c));
    }
  }
  EXPECT_TRUE(Chain(2).last());
  EXPECT_FALSE(ChainsJoin(Chain(0), Chain(2))) << "not adjacent";
}

TEST_F(PieceChainTest, ATamperedPieceOrAPieceInTheWrongPlaceDoesNotMatch) {
  SegmentChain c1 = Chain(1);
  std::string piece = Piece(1, 2);
  piece[100] ^= 1;
  EXPECT_FALSE(PieceMatchesChain(c1, 2, piece.data(), piece.size()));
  std::string other = Piece(1, 3);
  EXPECT_FALSE(PieceMatchesChain(c1, 2, other.data(), other.size())) << "piece 3 as piece 2";
  std::string whole = Piece(1, 2);
  EXPECT_FALSE(PieceMatchesChain(c1, 2, whole.data(), whole.size() - 64)) << "short read";
  EXPECT_FALSE(PieceMatchesChain(c1, 4, whole.data(), whole.size())) << "no such piece";
  // The blob's last piece is checked against the digest itself.
  SegmentChain c2 = Chain(2);
  std::string last = Piece(2, c2.pieces() - 1);
  EXPECT_TRUE(PieceMatchesChain(c2, c2.pieces() - 1, last.data(), last.size()));
  last.back() ^= 1;
  EXPECT_FALSE(PieceMatchesChain(c2, c2.pieces() - 1, last.data(), last.size()));
}

TEST_F(PieceChainTest, ResumingFromAStateGivesTheSameDigestAsOnePass) {
  const uint64_t at = kSegment + kPiece;  // segment 1, piece 1
  std::string state = segments_[1].piece_states.substr(kSha256StateBytes, kSha256StateBytes);
  auto h = Sha256Chain::Resume(state, at);
  ASSERT_TRUE(h.ok()) << h.status();
  h->Update(bytes_.data() + at, kSize - at);
  EXPECT_EQ(h->FinalRaw(), DigestRaw(digest_));
  EXPECT_FALSE(Sha256Chain::Resume(state, at + 1).ok()) << "not a 64-byte boundary";
  EXPECT_FALSE(Sha256Chain::Resume(state.substr(1), at).ok()) << "not 32 bytes";
}

TEST_F(PieceChainTest, MetadataThatCannotFormAChainIsRejected) {
  // Too few states.
  EXPECT_FALSE(
      MakeSegmentChain(*plan_, 1, segments_[1].piece_states.substr(kSha256StateBytes), digest_)
          .ok());
  // Segment 0 must start at SHA-256's initial state; segment 1's states do not.
  std::string shifted = segments_[1].piece_states;
  EXPECT_FALSE(MakeSegmentChain(*plan_, 0, shifted, digest_).ok());
  // Each segment is well formed on its own, but 1 does not start where 0 ended.
  std::string forged = segments_[1].piece_states;
  forged[0] ^= 1;
  auto c1 = MakeSegmentChain(*plan_, 1, forged, digest_);
  ASSERT_TRUE(c1.ok()) << c1.status();
  EXPECT_FALSE(ChainsJoin(Chain(0), *c1));
}

TEST(PieceChainEmptyBlobTest, AnEmptyBlobHasOneSegmentWithoutPiecesOrStates) {
  auto plan = SegmentPlan::Create(0, kSegment, kPiece);
  ASSERT_TRUE(plan.ok());
  BlobHasher hasher(*plan);
  HashedSegment seg;
  ASSERT_TRUE(hasher.PopSegment(&seg));
  EXPECT_TRUE(seg.piece_states.empty());
  auto d = BlobDigest::Parse("sha256:" + Sha256Hex(""));
  auto c = MakeSegmentChain(*plan, 0, seg.piece_states, *d);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->pieces(), 0);
}

}  // namespace
}  // namespace shoal
