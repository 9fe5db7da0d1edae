// TorrentEngine with real libtorrent sessions on loopback: a seeding engine and a
// downloading one. A standby segment connects to its parent and fetches only its
// first piece; it is not finished (no event, Status().finished false) until it is
// activated and every piece is in its file. A segment added with the blob's
// SHA-256 chain has its pieces checked against it, not against the torrent's SHA-1.
#include "common/torrent_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/blob_hasher.h"
#include "common/file_util.h"
#include "common/hashing.h"
#include "common/segment_torrent.h"
#include "testkit/temp_dir.h"

namespace shoal {
namespace {

constexpr uint32_t kPieceSize = 64 * 1024;
constexpr uint64_t kLength = 9 * kPieceSize + 1234;  // 10 pieces, the last one short

struct Recorded {
  std::mutex mu;
  std::set<int> pieces;
  int banned = 0;
  int finished = 0;
  size_t pieces_at_finish = 0;  // a segment is finished only with every piece in
};

// The chain of a blob made of `bytes` alone (one segment, so its last piece is
// checked against the digest).
SegmentChain ChainFor(const std::string& bytes) {
  auto plan = SegmentPlan::Create(bytes.size(), 16 * kPieceSize, kPieceSize);
  EXPECT_TRUE(plan.ok());
  BlobHasher hasher(*plan);
  hasher.Update(bytes.data(), bytes.size());
  HashedSegment seg;
  EXPECT_TRUE(hasher.PopSegment(&seg));
  auto digest = BlobDigest::Parse(hasher.Sha256Digest());
  auto chain = MakeSegmentChain(*plan, 0, seg.piece_states, *digest);
  EXPECT_TRUE(chain.ok()) << chain.status();
  return *chain;
}

SegmentTorrent TorrentFor(const std::string& bytes) {
  std::vector<std::string> hashes;
  for (uint64_t off = 0; off < bytes.size(); off += kPieceSize) {
    Hasher sha1(Hasher::Kind::kSha1);
    sha1.Update(bytes.data() + off, std::min<uint64_t>(kPieceSize, bytes.size() - off));
    hashes.push_back(sha1.FinalRaw());
  }
  auto torrent = MakeSegmentTorrent("seg-00000", bytes.size(), kPieceSize, hashes);
  EXPECT_TRUE(torrent.ok()) << torrent.status();
  return *torrent;
}

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

class TorrentEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testkit::TempDir::Create("torrent-engine");
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<testkit::TempDir>(std::move(*dir));
    std::mt19937 rng(7);
    bytes_.resize(kLength);
    for (char& c : bytes_) c = static_cast<char>(rng());
    torrent_ = TorrentFor(bytes_);
    auto seed_dir = dir_->Subdir("seed");
    auto peer_dir = dir_->Subdir("peer");
    ASSERT_TRUE(seed_dir.ok() && peer_dir.ok());
    seed_dir_ = *seed_dir;
    peer_dir_ = *peer_dir;
    ASSERT_TRUE(WriteFileAtomically(seed_dir_ + "/seg-00000", bytes_).ok());

    TorrentEngineOptions opts;
    auto seed = TorrentEngine::Create(opts, {});
    ASSERT_TRUE(seed.ok()) << seed.status();
    seed_ = std::move(*seed);
    TorrentEvents events;
    events.on_piece_finished = [this](const std::string&, int piece) {
      std::lock_guard<std::mutex> l(rec_.mu);
      rec_.pieces.insert(piece);
    };
    events.on_torrent_finished = [this](const std::string&) {
      std::lock_guard<std::mutex> l(rec_.mu);
      rec_.finished++;
      rec_.pieces_at_finish = rec_.pieces.size();
    };
    events.on_peer_banned = [this](const std::string&, const std::string&, int) {
      std::lock_guard<std::mutex> l(rec_.mu);
      rec_.banned++;
    };
    auto peer = TorrentEngine::Create(opts, events);
    ASSERT_TRUE(peer.ok()) << peer.status();
    peer_ = std::move(*peer);
    auto seeded =
        seed_->AddSegment(torrent_.bencoded, seed_dir_, TorrentEngine::AddMode::kSeed, "");
    ASSERT_TRUE(seeded.ok()) << seeded.status();
  }

  // Downloads the segment from the seed (checked against `chain` when given) and
  // expects every piece in before the finish event and the seed's bytes on disk.
  void DownloadWhole(const SegmentChain* chain) {
    auto hash = peer_->AddSegment(torrent_.bencoded, peer_dir_, TorrentEngine::AddMode::kDownload,
                                  "", chain);
    ASSERT_TRUE(hash.ok()) << hash.status();
    peer_->ConnectPeers(*hash, {{"127.0.0.1", seed_->listen_port()}});
    ASSERT_TRUE(WaitFor([&] { return FinishedEvents() == 1; }, std::chrono::seconds(30)));
    EXPECT_EQ(PiecesAtFinish(), 10u);
    auto got = ReadFile(peer_dir_ + "/seg-00000");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(*got == bytes_);
  }

  size_t PiecesSeen() {
    std::lock_guard<std::mutex> l(rec_.mu);
    return rec_.pieces.size();
  }
  int FinishedEvents() {
    std::lock_guard<std::mutex> l(rec_.mu);
    return rec_.finished;
  }
  size_t PiecesAtFinish() {
    std::lock_guard<std::mutex> l(rec_.mu);
    return rec_.pieces_at_finish;
  }

  std::unique_ptr<testkit::TempDir> dir_;
  std::string bytes_, seed_dir_, peer_dir_;
  SegmentTorrent torrent_;
  std::unique_ptr<TorrentEngine> seed_, peer_;
  Recorded rec_;
};

TEST_F(TorrentEngineTest, StandbySegmentFetchesOnlyItsFirstPieceUntilActivated) {
  auto hash = peer_->AddSegment(torrent_.bencoded, peer_dir_, TorrentEngine::AddMode::kStandby, "");
  ASSERT_TRUE(hash.ok()) << hash.status();
  peer_->ConnectPeers(*hash, {{"127.0.0.1", seed_->listen_port()}});

  ASSERT_TRUE(WaitFor([&] { return PiecesSeen() >= 1; }, std::chrono::seconds(20)))
      << "the standby segment never got its first piece";
  {
    std::lock_guard<std::mutex> l(rec_.mu);
    EXPECT_EQ(rec_.pieces, std::set<int>{0});
  }
  // Connected, one piece in: it must stay that way (libtorrent calls a torrent
  // with nothing more wanted "finished"; the engine must not).
  ASSERT_TRUE(WaitFor(
      [&] {
        auto st = peer_->Status(*hash);
        return st && st->peers > 0;
      },
      std::chrono::seconds(10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_EQ(PiecesSeen(), 1u);
  EXPECT_EQ(FinishedEvents(), 0);
  auto st = peer_->Status(*hash);
  ASSERT_TRUE(st.has_value());
  EXPECT_FALSE(st->finished);
  std::vector<bool> have = peer_->HavePieces(*hash);
  ASSERT_EQ(have.size(), 10u);
  EXPECT_TRUE(have[0]);
  EXPECT_EQ(std::count(have.begin(), have.end(), true), 1);

  peer_->Activate(*hash);
  ASSERT_TRUE(WaitFor([&] { return FinishedEvents() == 1; }, std::chrono::seconds(30)))
      << "pieces after activation: " << PiecesSeen();
  EXPECT_EQ(PiecesAtFinish(), 10u);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = peer_->Status(*hash);
        return s && s->finished;
      },
      std::chrono::seconds(5)));
  auto got = ReadFile(peer_dir_ + "/seg-00000");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == bytes_) << "downloaded segment differs from the seed's bytes";
}

TEST_F(TorrentEngineTest, DownloadSegmentFetchesEveryPiece) { DownloadWhole(nullptr); }

TEST_F(TorrentEngineTest, AddingAStandbySegmentAgainToDownloadActivatesIt) {
  auto hash = peer_->AddSegment(torrent_.bencoded, peer_dir_, TorrentEngine::AddMode::kStandby, "");
  ASSERT_TRUE(hash.ok()) << hash.status();
  peer_->ConnectPeers(*hash, {{"127.0.0.1", seed_->listen_port()}});
  ASSERT_TRUE(WaitFor([&] { return PiecesSeen() >= 1; }, std::chrono::seconds(20)));
  auto again =
      peer_->AddSegment(torrent_.bencoded, peer_dir_, TorrentEngine::AddMode::kDownload, "");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *hash);
  ASSERT_TRUE(WaitFor([&] { return FinishedEvents() == 1; }, std::chrono::seconds(30)));
  EXPECT_EQ(PiecesAtFinish(), 10u);
}

TEST_F(TorrentEngineTest, WithAChainEveryPieceIsCheckedAgainstIt) {
  SegmentChain chain = ChainFor(bytes_);
  DownloadWhole(&chain);
}

// A parent whose torrent and bytes agree (SHA-1 would pass) but whose piece 3 is
// not the blob's: the chain rejects that piece, every other piece lands, and the
// segment never finishes.
TEST_F(TorrentEngineTest, APieceThatPassesSha1ButNotTheChainIsRejected) {
  std::string altered = bytes_;
  altered[3 * kPieceSize + 10] ^= 1;
  SegmentTorrent altered_torrent = TorrentFor(altered);
  auto bad_dir = dir_->Subdir("bad-seed");
  ASSERT_TRUE(bad_dir.ok());
  ASSERT_TRUE(WriteFileAtomically(*bad_dir + "/seg-00000", altered).ok());
  ASSERT_TRUE(
      seed_->AddSegment(altered_torrent.bencoded, *bad_dir, TorrentEngine::AddMode::kSeed, "")
          .ok());

  SegmentChain chain = ChainFor(bytes_);  // what the blob really is
  auto hash = peer_->AddSegment(altered_torrent.bencoded, peer_dir_,
                                TorrentEngine::AddMode::kDownload, "", &chain);
  ASSERT_TRUE(hash.ok()) << hash.status();
  peer_->ConnectPeers(*hash, {{"127.0.0.1", seed_->listen_port()}});
  ASSERT_TRUE(WaitFor([&] { return PiecesSeen() == 9; }, std::chrono::seconds(30)))
      << "pieces: " << PiecesSeen();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::lock_guard<std::mutex> l(rec_.mu);
  EXPECT_EQ(rec_.pieces.count(3), 0u) << "the altered piece passed";
  EXPECT_EQ(rec_.finished, 0);
  EXPECT_GE(rec_.banned, 1) << "the parent that sent it is banned";
}

}  // namespace
}  // namespace shoal
