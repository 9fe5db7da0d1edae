#include "common/segment_torrent.h"

#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/file_storage.hpp>
#include <libtorrent/torrent_info.hpp>

#include <iterator>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/hashing.h"

namespace shoal {

absl::StatusOr<SegmentTorrent> MakeSegmentTorrent(const std::string& name, uint64_t length,
                                                  uint32_t piece_size,
                                                  const std::vector<std::string>& piece_sha1_raw) {
  if (length == 0) return absl::InvalidArgumentError("a segment torrent needs at least one byte");
  uint64_t want_pieces = (length + piece_size - 1) / piece_size;
  if (piece_sha1_raw.size() != want_pieces) {
    return absl::InvalidArgumentError(absl::StrCat("segment ", name, " of ", length, " bytes needs ",
                                                   want_pieces, " piece hashes, got ",
                                                   piece_sha1_raw.size()));
  }
  lt::file_storage fs;
  fs.add_file(name, static_cast<std::int64_t>(length));
  lt::create_torrent ct(fs, static_cast<int>(piece_size), lt::create_torrent::v1_only);
  for (size_t i = 0; i < piece_sha1_raw.size(); ++i) {
    if (piece_sha1_raw[i].size() != 20) return absl::InvalidArgumentError("piece hash is not 20 bytes");
    ct.set_hash(lt::piece_index_t(static_cast<int>(i)), lt::sha1_hash(piece_sha1_raw[i].data()));
  }
  ct.set_creation_date(0);
  std::vector<char> buf;
  lt::bencode(std::back_inserter(buf), ct.generate());
  SegmentTorrent out;
  out.bencoded.assign(buf.begin(), buf.end());
  auto hash = SegmentTorrentInfoHash(out.bencoded);
  if (!hash.ok()) return hash.status();
  out.info_hash_hex = *hash;
  return out;
}

absl::StatusOr<std::string> SegmentTorrentInfoHash(const std::string& bencoded) {
  lt::error_code ec;
  lt::torrent_info ti(lt::span<char const>(bencoded.data(), static_cast<long>(bencoded.size())), ec,
                      lt::from_span);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("segment torrent does not parse: ", ec.message()));
  if (ti.num_files() != 1) return absl::InvalidArgumentError("segment torrent must hold exactly one file");
  std::ostringstream os;
  os << ti.info_hashes().v1;
  return os.str();
}

}  // namespace shoal

namespace shoal {

absl::StatusOr<std::vector<std::string>> SegmentTorrentPieceHashes(const std::string& bencoded) {
  lt::error_code ec;
  lt::torrent_info ti(lt::span<char const>(bencoded.data(), static_cast<long>(bencoded.size())), ec,
                      lt::from_span);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("segment torrent does not parse: ", ec.message()));
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(ti.num_pieces()));
  for (int i = 0; i < ti.num_pieces(); ++i) {
    lt::sha1_hash h = ti.hash_for_piece(lt::piece_index_t(i));
    out.emplace_back(h.data(), h.size());
  }
  return out;
}

}  // namespace shoal
