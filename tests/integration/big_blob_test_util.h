// Shared parts of the big-blob acceptance tests (issue 4): an origin registry
// holding one big random blob, scraping a daemon's metrics, streaming a blob out
// of a peer's registry mirror while hashing it, and reading what a daemon holds.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "testkit/daemon_probe.h"
#include "testkit/image_builder.h"
#include "testkit/registry_process.h"
#include "testkit/shoal_cluster.h"
#include "testkit/temp_dir.h"

namespace shoal::testkit {

inline constexpr uint64_t kMiB = 1ull << 20;
inline constexpr uint64_t kGiB = 1ull << 30;

// A real docker-registry holding one blob of pseudo-random bytes. The local copy
// used for the push is deleted afterwards (a 2 GiB blob is on disk once, in the
// registry, not twice).
struct BigBlobOrigin {
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<RegistryProcess> registry;
  BlobFile blob;
  std::string repository = "shoal/big";

  static absl::StatusOr<std::unique_ptr<BigBlobOrigin>> Create(uint64_t size, uint64_t seed);
};

// The cluster every big-blob test starts: one seed and `peers` peers reaching the
// origin at `origin` (HOST:PORT) over plain HTTP, metrics on a free port (the
// tests read them), log level "info" or $SHOAL_BIG_LOG_LEVEL (e.g. debug, to see
// every segment's parents and timing when a test fails); `extra_flags` go to seed
// and peers alike.
ClusterOptions BigBlobClusterOptions(const std::string& origin, int peers,
                                     const std::vector<std::string>& extra_flags = {});

// The blob as stored in a daemon's data dir (its segment files, concatenated).
struct StoredBlob {
  bool exists = false;
  bool verified = false;
  uint64_t bytes_on_disk = 0;  // allocated bytes of the segment files (sparse: what was written)
  std::string sha256;          // only when hash = true
};
StoredBlob ReadStoredBlob(const std::string& data_dir, const std::string& digest, bool hash);

// Which pieces of a blob (pseudo-random bytes from `seed`, as BigBlobOrigin wrote it)
// a daemon's segment files hold in full, by comparing them with the expected bytes.
struct PiecesOnDisk {
  uint64_t complete_bytes = 0;
  int complete = 0;
  int partial = 0;  // some bytes there, not all (a piece in flight at a crash)
  int missing = 0;  // nothing there
};
PiecesOnDisk ComparePiecesOnDisk(const std::string& data_dir, const std::string& digest,
                                 uint64_t size, uint64_t seed, uint64_t segment_size,
                                 uint64_t piece_size);

// "1.93 GiB" style, for the figures the tests print.
std::string Bytes(uint64_t n);

}  // namespace shoal::testkit
