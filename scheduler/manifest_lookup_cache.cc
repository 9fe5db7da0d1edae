#include "scheduler/manifest_lookup_cache.h"

#include "absl/strings/str_cat.h"
#include "common/hashing.h"

namespace shoal {

ManifestLookupCache::ManifestLookupCache(Clock& clock, Options options)
    : clock_(clock), options_(options) {}

std::string ManifestLookupCache::Key(const OriginRepo& repo, absl::string_view reference,
                                     const RegistryCredentials& credentials) {
  std::string who = credentials.empty()
                        ? std::string("anonymous")
                        : Sha256Hex(absl::StrCat(credentials.username, "\n", credentials.password));
  return absl::StrCat(repo.registry, "/", repo.repository, "|", reference, "|", who);
}

bool ManifestLookupCache::Fresh(const Entry& e, absl::Time now) const {
  return now - e.fetched_at < (e.by_digest ? options_.digest_ttl : options_.tag_ttl);
}

void ManifestLookupCache::EvictExpired(absl::Time now) {
  absl::erase_if(entries_, [&](const auto& kv) {
    const Entry& e = kv.second;
    return e.flight->done.HasBeenNotified() && !Fresh(e, now);
  });
}

absl::StatusOr<ManifestResponse> ManifestLookupCache::Get(const std::string& key, bool by_digest,
                                                          const Fetch& fetch) {
  std::shared_ptr<Flight> flight;
  bool mine = false;
  {
    absl::MutexLock l(&mu_);
    absl::Time now = clock_.Now();
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      Entry& e = it->second;
      if (!e.flight->done.HasBeenNotified()) {
        ++stats_.coalesced;
        flight = e.flight;
      } else if (e.flight->result.ok() && Fresh(e, now)) {
        ++stats_.hits;
        return e.flight->result;
      }
    }
    if (flight == nullptr) {
      if (entries_.size() >= options_.max_entries) EvictExpired(now);
      flight = std::make_shared<Flight>();
      entries_[key] = Entry{flight, now, by_digest};
      ++stats_.upstream;
      mine = true;
    } else {
      ++stats_.waiting;
    }
  }
  if (!mine) {
    flight->done.WaitForNotification();
    absl::MutexLock l(&mu_);
    --stats_.waiting;
    return flight->result;
  }
  absl::StatusOr<ManifestResponse> result = fetch();
  absl::MutexLock l(&mu_);
  flight->result = result;
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.flight == flight) {
    // The TTL runs from the answer, not the question.
    it->second.fetched_at = clock_.Now();
    if (!result.ok()) entries_.erase(it);
  }
  flight->done.Notify();
  return result;
}

ManifestLookupCache::Stats ManifestLookupCache::stats() const {
  absl::MutexLock l(&mu_);
  return stats_;
}

}  // namespace shoal
