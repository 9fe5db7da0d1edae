#include "common/pieces_on_disk.h"

#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "common/hashing.h"

namespace shoal {

int FindPiecesOnDisk(const lt::torrent_info& ti, const std::string& save_dir,
                     lt::typed_bitfield<lt::piece_index_t>& have) {
  if (ti.num_files() != 1) return 0;
  const std::string path = save_dir + "/" + ti.files().file_path(lt::file_index_t(0));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  if (have.size() != ti.num_pieces()) have.resize(ti.num_pieces(), false);
  std::vector<char> buf(static_cast<size_t>(ti.piece_length()));
  int found = 0;
  for (lt::piece_index_t p(0); p < lt::piece_index_t(ti.num_pieces()); ++p) {
    if (have.get_bit(p)) continue;
    const off_t start = static_cast<off_t>(static_cast<int>(p)) * ti.piece_length();
    const int len = ti.piece_size(p);
    // A hole at the piece's start means it was never written in full (pieces are
    // written block by block, and a finished piece has no hole anywhere).
    off_t data = ::lseek(fd, start, SEEK_DATA);
    if (data < 0 || data != start) continue;
    off_t hole = ::lseek(fd, start, SEEK_HOLE);
    if (hole >= 0 && hole < start + len) continue;
    ssize_t got = ::pread(fd, buf.data(), static_cast<size_t>(len), start);
    if (got != len) continue;
    Hasher sha1(Hasher::Kind::kSha1);
    sha1.Update(buf.data(), static_cast<size_t>(len));
    lt::sha1_hash want = ti.hash_for_piece(p);
    if (sha1.FinalRaw() != std::string(want.data(), want.size())) continue;
    have.set_bit(p);
    ++found;
  }
  ::close(fd);
  return found;
}

}  // namespace shoal
