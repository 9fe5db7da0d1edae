#include "common/torrent_settings.h"

#include <libtorrent/alert.hpp>
#include <libtorrent/session.hpp>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace shoal {

lt::settings_pack MakeTorrentSettings(const TorrentEngineOptions& o) {
  using sp = lt::settings_pack;
  lt::settings_pack s = lt::high_performance_seed();
  std::string ip = o.listen_ip.find(':') != std::string::npos ? absl::StrCat("[", o.listen_ip, "]") : o.listen_ip;
  s.set_str(sp::listen_interfaces, absl::StrCat(ip, ":", o.listen_port));
  s.set_str(sp::outgoing_interfaces, o.listen_ip);
  s.set_str(sp::user_agent, "shoal/0.1");
  s.set_str(sp::peer_fingerprint, "-SH0001-");
  // Parents come only from the scheduler.
  s.set_bool(sp::enable_dht, false);
  s.set_bool(sp::enable_lsd, false);
  s.set_bool(sp::enable_upnp, false);
  s.set_bool(sp::enable_natpmp, false);
  // TCP only: uTP's congestion control costs throughput and CPU on a LAN.
  s.set_bool(sp::enable_incoming_utp, false);
  s.set_bool(sp::enable_outgoing_utp, false);
  s.set_int(sp::in_enc_policy, sp::pe_disabled);
  s.set_int(sp::out_enc_policy, sp::pe_disabled);
  // Several daemons may share an IP (tests, one node running seed and peer).
  s.set_bool(sp::allow_multiple_connections_per_ip, true);
  // Every segment torrent is active: no queueing behind active_downloads.
  s.set_int(sp::active_downloads, -1);
  s.set_int(sp::active_seeds, -1);
  s.set_int(sp::active_limit, -1);
  s.set_int(sp::active_checking, 4);
  const lt::alert_category_t mask = lt::alert_category::error | lt::alert_category::status |
                                   lt::alert_category::storage | lt::alert_category::peer |
                                   lt::alert_category::piece_progress;
  s.set_int(sp::alert_mask, static_cast<int>(static_cast<std::uint32_t>(mask)));
  s.set_int(sp::alert_queue_size, 100000);
  // Timeouts from the one model: a request for a whole piece must be allowed the
  // time that piece takes at min_rate, so big pieces never hit a short fixed timeout.
  const TransferConfig& t = o.transfer;
  s.set_int(sp::request_timeout, t.PeerRequestTimeoutSeconds());
  s.set_int(sp::piece_timeout, t.PeerRequestTimeoutSeconds());
  s.set_int(sp::peer_timeout, t.PeerInactivityTimeoutSeconds());
  s.set_int(sp::inactivity_timeout, t.PeerInactivityTimeoutSeconds());
  s.set_int(sp::peer_connect_timeout, 10);
  // A parent that restarts (kill -9, upgrade) is back on the same address within
  // seconds. libtorrent waits min_reconnect_time x failcount before trying a peer
  // again (default 60 s each) and gives up after max_failcount: a segment whose
  // only parent blinked would sit idle for minutes. Retry on the backoff_initial
  // scale instead; the scheduler re-sending a parent allows one more try on top.
  const int reconnect_s = std::max<int>(
      1, static_cast<int>(std::ceil(absl::ToDoubleSeconds(t.backoff_initial))));
  s.set_int(sp::min_reconnect_time, reconnect_s);
  s.set_int(sp::max_failcount, 30);
  // Throughput on fat, short links.
  s.set_int(sp::connections_limit, 2000);
  s.set_int(sp::max_out_request_queue, 1500);
  s.set_int(sp::max_allowed_in_request_queue, 4000);
  s.set_int(sp::send_buffer_watermark, 8 * 1024 * 1024);
  s.set_int(sp::send_buffer_low_watermark, 1024 * 1024);
  s.set_int(sp::send_buffer_watermark_factor, 150);
  s.set_int(sp::max_queued_disk_bytes, 32 * 1024 * 1024);
  s.set_int(sp::recv_socket_buffer_size, 4 * 1024 * 1024);
  s.set_int(sp::send_socket_buffer_size, 4 * 1024 * 1024);
  s.set_int(sp::aio_threads, 2);  // more only contend on the buffer pool lock on small machines
  s.set_int(sp::hashing_threads, 1);
  s.set_int(sp::unchoke_slots_limit, -1);
  s.set_int(sp::choking_algorithm, sp::fixed_slots_choker);
  s.set_bool(sp::close_redundant_connections, false);
  s.set_bool(sp::seeding_outgoing_connections, true);
  s.set_bool(sp::no_connect_privileged_ports, false);
  s.set_bool(sp::rate_limit_ip_overhead, false);
  s.set_int(sp::mixed_mode_algorithm, sp::prefer_tcp);
  s.set_int(sp::torrent_connect_boost, 255);
  s.set_int(sp::connection_speed, 500);
  s.set_bool(sp::smooth_connects, false);
  // Connections to the parents the scheduler names are made on the session tick;
  // the default 500 ms tick (and a few ticks of torrent start-up) delayed every new
  // segment by ~1 s, which a pipelined 20 GB blob pays per segment.
  s.set_int(sp::tick_interval, 100);
  return s;
}

}  // namespace shoal
