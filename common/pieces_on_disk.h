// Finds the pieces of a segment file that are already whole on disk, for a
// restarted daemon whose resume data lags behind its writes.
#pragma once

#include <libtorrent/bitfield.hpp>
#include <libtorrent/torrent_info.hpp>
#include <string>

namespace shoal {

// Marks in `have` every piece of a single-file segment torrent whose bytes are on
// disk in full and match their SHA-1, skipping holes of the sparse file cheaply.
// libtorrent's resume data is saved every few seconds, so after a kill -9 the file
// holds pieces the resume data does not list; without this they would be fetched
// again (or, without resume data, libtorrent would hash the whole file, holes too).
// Returns how many pieces were found.
int FindPiecesOnDisk(const lt::torrent_info& ti, const std::string& save_dir,
                     lt::typed_bitfield<lt::piece_index_t>& have);

}  // namespace shoal
