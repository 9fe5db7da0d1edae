// The big-blob benchmark scenario (issue 4): one blob of --size (20 GiB by
// default) in a real docker-registry behind a shaped origin (FaultProxy with a
// per-connection rate limit, as a CDN or a long TCP path gives each stream), then
//  1. one stream's rate from that origin (the baseline a naive client gets);
//  2. a seed fetching the whole blob with parallel ranged GETs, while one peer
//     pulls it through its registry mirror (pipelined: the peer starts as soon as
//     the seed has a segment);
// measuring rates, each daemon's peak memory, and the delay from the last byte to
// the verified digest on both.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace shoal::bench {

struct BigBlobBenchOptions {
  uint64_t size = 20ull << 30;
  std::string work_dir = "/tmp";  // registry storage, seed and peer data (~3x size)
  uint64_t origin_rate_per_connection = 64ull << 20;  // bytes/s; 0: unshaped
  uint32_t origin_concurrency = 4;                    // the seed's ranged GETs in parallel
  uint64_t single_stream_sample = 2ull << 30;         // bytes the single-stream baseline moves
  std::string disk_io = "mmap";  // the daemons' libtorrent storage: mmap | posix
  std::string log_level = "info";
  bool keep = false;  // keep the work dir (logs) afterwards
};

struct DaemonMemory {
  uint64_t vm_hwm = 0;         // peak resident set (VmHWM): includes mapped file pages
  uint64_t peak_anon_rss = 0;  // peak RssAnon, polled every 100 ms: the daemon's own memory
  double cpu_seconds = 0;
};

struct BigBlobBenchResult {
  uint64_t size = 0;
  double single_stream_mb_s = 0;  // one ranged GET stream from the shaped origin
  double seed_fetch_seconds = 0;  // first to last origin byte on the seed
  double seed_fetch_mb_s = 0;
  double peer_first_byte_seconds = 0;  // from the client's GET to its first body byte
  double end_to_end_seconds = 0;       // client GET to last byte (seed + peer, pipelined)
  double end_to_end_mb_s = 0;
  double seed_last_byte_to_verified_ms = 0;  // from the seed's log (fetcher's own clock)
  double peer_last_byte_to_verified_ms = 0;  // polled at 50 ms: an upper bound
  DaemonMemory seed, peer;
  std::string disk_io;
  uint32_t origin_concurrency = 0;
  uint64_t origin_rate_per_connection = 0;
  uint64_t origin_bytes = 0;  // what the origin sent in all (registry log)
};

absl::StatusOr<BigBlobBenchResult> RunBigBlobBench(const BigBlobBenchOptions& options);
std::string FormatBigBlobReport(const BigBlobBenchResult& r);
std::string BigBlobResultJson(const BigBlobBenchResult& r);

}  // namespace shoal::bench
