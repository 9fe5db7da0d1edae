// shoal-bigblob-bench: one big blob (20 GiB by default) through a shaped origin:
// single-stream rate vs the seed's parallel ranged GETs, seed + one peer end to
// end through the peer's registry mirror, each daemon's peak memory, and the delay
// from the last byte to the verified digest. See the README (Benchmarks).
//
//   build/bin/shoal-bigblob-bench [--size 20GiB] [--work-dir /var/tmp]
//       [--origin-rate 64MiB] [--origin-concurrency 4] [--disk-io mmap|posix]
//       [--json out.json] [--keep]
#include <cstdio>
#include <fstream>

#include "bench/big_blob_bench.h"
#include "common/logging.h"
#include "common/options.h"

int main(int argc, char** argv) {
  shoal::bench::BigBlobBenchOptions o;
  std::string json_path;
  shoal::OptionSet options("shoal-bigblob-bench",
                           "one big blob: single stream vs parallel ranged GETs, seed + peer end "
                           "to end, peak memory, last byte to verified digest");
  options.AddBytes("size", &o.size, "blob size (needs ~3x free in --work-dir)");
  options.AddString("work-dir", &o.work_dir, "where the registry, seed and peer keep their data");
  options.AddBytes("origin-rate", &o.origin_rate_per_connection,
                   "origin shaping per connection, bytes/s (0: unshaped)");
  options.AddUint("origin-concurrency", &o.origin_concurrency, "the seed's parallel ranged GETs");
  options.AddBytes("single-stream-sample", &o.single_stream_sample,
                   "bytes the single-stream baseline moves (capped at --size)");
  options.AddString("disk-io", &o.disk_io, "the daemons' libtorrent storage: mmap or posix");
  options.AddString("log-level", &o.log_level, "the daemons' log level");
  options.AddString("json", &json_path, "also write the figures as JSON to this file");
  options.AddBool("keep", &o.keep, "keep the work directory (logs, data) afterwards");
  auto outcome = options.Parse(argc, argv);
  if (!outcome.ok()) {
    std::fprintf(stderr, "shoal-bigblob-bench: %s\n",
                 std::string(outcome.status().message()).c_str());
    return 2;
  }
  if (*outcome == shoal::OptionSet::Outcome::kExitOk) return 0;
  (void)shoal::InitLogging("warn", "text");
  auto result = shoal::bench::RunBigBlobBench(o);
  if (!result.ok()) {
    std::fprintf(stderr, "shoal-bigblob-bench: %s\n",
                 std::string(result.status().message()).c_str());
    return 1;
  }
  std::printf("%s", shoal::bench::FormatBigBlobReport(*result).c_str());
  if (!json_path.empty()) {
    std::ofstream(json_path) << shoal::bench::BigBlobResultJson(*result) << "\n";
  }
  return 0;
}
