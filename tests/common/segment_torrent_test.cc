// Segment metadata built from streamed piece hashes must be exactly what
// libtorrent's own create_torrent produces by reading the same bytes.
#include "common/segment_torrent.h"

#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/torrent_info.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "common/hashing.h"
#include "gtest/gtest.h"

namespace shoal {
namespace {

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::vector<std::string> PieceHashes(const std::string& data, uint32_t piece) {
  std::vector<std::string> out;
  for (size_t off = 0; off < data.size(); off += piece) {
    Hasher h(Hasher::Kind::kSha1);
    h.Update(data.data() + off, std::min<size_t>(piece, data.size() - off));
    out.push_back(h.FinalRaw());
  }
  return out;
}

// What libtorrent makes when it reads the file itself.
std::string LibtorrentInfoHash(const std::string& dir, const std::string& name, uint32_t piece) {
  lt::file_storage fs;
  lt::add_files(fs, dir + "/" + name);
  lt::create_torrent ct(fs, static_cast<int>(piece), lt::create_torrent::v1_only);
  lt::set_piece_hashes(ct, dir);
  std::vector<char> buf;
  lt::bencode(std::back_inserter(buf), ct.generate());
  lt::torrent_info ti(lt::span<char const>(buf.data(), static_cast<long>(buf.size())), lt::from_span);
  std::ostringstream os;
  os << ti.info_hashes().v1;
  return os.str();
}

class SegmentTorrentTest : public ::testing::TestWithParam<std::pair<size_t, uint32_t>> {};

TEST_P(SegmentTorrentTest, MatchesLibtorrentCreateTorrent) {
  auto [size, piece] = GetParam();
  std::string data = RandomBytes(size, static_cast<uint32_t>(size));
  auto dir = std::filesystem::temp_directory_path() / ("shoal-segtorrent-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "seg-00003", std::ios::binary) << data;

  auto ours = MakeSegmentTorrent("seg-00003", size, piece, PieceHashes(data, piece));
  ASSERT_TRUE(ours.ok()) << ours.status();
  EXPECT_EQ(ours->info_hash_hex, LibtorrentInfoHash(dir.string(), "seg-00003", piece));

  lt::torrent_info ti(lt::span<char const>(ours->bencoded.data(), static_cast<long>(ours->bencoded.size())),
                      lt::from_span);
  EXPECT_EQ(ti.num_files(), 1);
  EXPECT_EQ(static_cast<size_t>(ti.total_size()), size);
  EXPECT_EQ(ti.piece_length(), static_cast<int>(piece));
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Sizes, SegmentTorrentTest,
                         ::testing::Values(std::make_pair(size_t{1}, 16384u),           // one tiny piece
                                           std::make_pair(size_t{16384}, 16384u),       // exactly one piece
                                           std::make_pair(size_t{1000003}, 65536u),     // short last piece
                                           std::make_pair(size_t{4194304 + 7}, 1048576u)));

TEST(SegmentTorrent, SameBytesSameInfoHash) {
  std::string data = RandomBytes(300000, 7);
  auto a = MakeSegmentTorrent("seg-00000", data.size(), 16384, PieceHashes(data, 16384));
  auto b = MakeSegmentTorrent("seg-00000", data.size(), 16384, PieceHashes(data, 16384));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->bencoded, b->bencoded);  // no creation date: byte-identical
  data[12345] ^= 1;
  auto c = MakeSegmentTorrent("seg-00000", data.size(), 16384, PieceHashes(data, 16384));
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->info_hash_hex, c->info_hash_hex);
}

TEST(SegmentTorrent, RejectsWrongPieceCount) {
  std::string data = RandomBytes(40000, 1);
  auto hashes = PieceHashes(data, 16384);
  hashes.pop_back();
  EXPECT_FALSE(MakeSegmentTorrent("seg-00000", data.size(), 16384, hashes).ok());
  EXPECT_FALSE(MakeSegmentTorrent("seg-00000", 0, 16384, {}).ok());
}

}  // namespace
}  // namespace shoal
