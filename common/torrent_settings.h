// libtorrent settings for shoal: tuned for LAN/loopback throughput, no discovery,
// and timeouts derived from the one TransferConfig.
#pragma once

#include <libtorrent/settings_pack.hpp>

#include "common/torrent_engine.h"

namespace shoal {
lt::settings_pack MakeTorrentSettings(const TorrentEngineOptions& options);
}  // namespace shoal
