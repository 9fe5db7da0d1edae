// Coalesces and caches manifest lookups against origin registries. Docker Hub
// counts every manifest GET as a pull and other registries throttle reads, so N
// jobs created at once for one tag must cost one upstream request: the first
// caller fetches, the others wait for its answer, and a good answer is reused
// for a short TTL (tags move, so not for long; by-digest answers never change
// and live longer). Errors are shared with the callers already waiting but not
// cached. Keys include a fingerprint of the credentials, so an answer fetched
// with someone's credentials is never handed to a caller without them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/origin_client.h"

namespace shoal {

class ManifestLookupCache {
 public:
  struct Options {
    absl::Duration tag_ttl = absl::Seconds(30);
    absl::Duration digest_ttl = absl::Minutes(30);
    size_t max_entries = 4096;
  };
  struct Stats {
    uint64_t upstream = 0;   // fetches actually made
    uint64_t hits = 0;       // answered from a fresh cached answer
    uint64_t coalesced = 0;  // waited for a fetch already in flight
    uint64_t waiting = 0;    // callers waiting right now
  };
  using Fetch = std::function<absl::StatusOr<ManifestResponse>()>;

  ManifestLookupCache(Clock& clock, Options options);

  // The cache key for one lookup. The credentials enter only as a hash.
  static std::string Key(const OriginRepo& repo, absl::string_view reference,
                         const RegistryCredentials& credentials);

  // A fresh cached answer, the answer of a fetch in flight, or fetch()'s answer.
  absl::StatusOr<ManifestResponse> Get(const std::string& key, bool by_digest, const Fetch& fetch);

  Stats stats() const;

 private:
  struct Flight {
    absl::Notification done;
    absl::StatusOr<ManifestResponse> result;
  };
  struct Entry {
    std::shared_ptr<Flight> flight;
    absl::Time fetched_at;
    bool by_digest = false;
  };
  void EvictExpired(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Fresh(const Entry& e, absl::Time now) const;

  Clock& clock_;
  const Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shoal
