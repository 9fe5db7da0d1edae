// SwarmCoordinator: origin protection. A blob that someone wants and nobody can
// serve gets exactly one fetcher: the seed chosen by rendezvous hashing of the
// digest among live seeds with an open task stream. Without such a seed, up to
// max_origin_fallbacks wanting peers are told to go to the origin; the rest
// wait and download from them once they announce segments.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "scheduler/seed_picker.h"
#include "scheduler/swarm_coordinator.h"

namespace shoal {

bool SwarmCoordinator::Servable(const BlobEntry& b) const {
  if (!b.AllSegmentsKnown()) return false;
  std::vector<bool> held(b.segment_count(), false);
  size_t missing = held.size();
  for (const auto& [id, st] : b.hosts) {
    if (!st.connected() || !hosts_.IsAlive(id)) continue;
    if (st.verified) return true;
    for (SegmentIndex k : st.complete) {
      if (k < held.size() && !held[k]) {
        held[k] = true;
        --missing;
      }
    }
  }
  return missing == 0;
}

void SwarmCoordinator::EnsureSource(BlobEntry& b) {
  if (shut_down_) return;  // streams closing on shutdown must not start fetches
  bool wanted = false;
  for (const auto& [id, st] : b.hosts) {
    if (st.WantsBlob() && hosts_.IsAlive(id)) {
      wanted = true;
      break;
    }
  }
  if (!wanted || Servable(b)) return;
  if (!b.fetcher.empty()) {
    if (hosts_.IsAlive(b.fetcher)) return;  // a fetch is under way
    b.fetcher.clear();
  }
  // Right after a restart a seed that was fetching this blob may not be back
  // yet; choosing another source now would read the origin twice.
  if (AwaitingSeeds()) return;
  absl::Time now = clock_.Now();
  if (!b.upstream_failure.empty() && now - b.upstream_failed_at < policy_.upstream_failure_ttl) {
    return;  // wanters were told; a new fetch waits for the TTL
  }
  if (b.ref.registry().empty() || b.ref.repository().empty()) {
    // Nobody said where the blob lives: no fetch is possible. Tell the wanters
    // (once per TTL) so they fail or use what they know instead of waiting.
    b.upstream_failure = absl::StrCat("nobody holds ", b.ref.digest(),
                                      " and no announce named its origin registry/repository");
    b.upstream_failed_at = now;
    v1::AnnounceResponse m;
    m.mutable_upstream_failed()->set_reason(b.upstream_failure);
    Broadcast(b, m, /*only_wanting=*/true, /*except=*/"");
    log_->warn("blob {}: {}", b.ref.digest().substr(7, 12), b.upstream_failure);
    return;
  }
  std::vector<std::string> seeds = ReadySeeds();
  if (auto seed = PickSeed(b.ref.digest(), seeds)) {
    b.fetcher = *seed;
    b.fetch_started = now;
    b.upstream_failure.clear();
    v1::FetchBlobTask task;
    *task.mutable_blob() = b.ref;
    *task.mutable_auth() = b.auth;
    tasks_.PushFetch(*seed, task);
    if (HostBlobState* st = b.FindHost(*seed); st != nullptr && !st->want && st->connected()) {
      st->phase = HostBlobPhase::kFetchingOrigin;
    }
    log_->info("blob {}: seed {} fetches it from {}/{} ({} live seeds)",
               b.ref.digest().substr(7, 12), *seed, b.ref.registry(), b.ref.repository(),
               seeds.size());
    return;
  }
  GrantOriginFallbacks(b);
}

std::vector<std::string> SwarmCoordinator::ReadySeeds() const {
  std::vector<std::string> seeds;
  for (const auto& s : hosts_.LiveSeeds()) {
    if (tasks_.Connected(s)) seeds.push_back(s);
  }
  return seeds;
}

bool SwarmCoordinator::AwaitingSeeds() const {
  if (expected_seeds_.empty() || clock_.Now() >= expect_seeds_until_) return false;
  for (const std::string& s : expected_seeds_) {
    if (!hosts_.IsAlive(s) || !tasks_.Connected(s)) return true;
  }
  return false;
}

void SwarmCoordinator::GrantOriginFallbacks(BlobEntry& b) {
  const uint32_t budget = policy_.max_origin_fallbacks;
  if (b.origin_grants.size() >= budget) return;
  std::vector<std::pair<absl::Time, std::string>> waiting;
  for (const auto& [id, st] : b.hosts) {
    if (st.WantsBlob() && hosts_.IsAlive(id) && !b.origin_grants.contains(id) &&
        !b.origin_stalled.contains(id)) {
      waiting.emplace_back(st.opened_at, id);
    }
  }
  std::sort(waiting.begin(), waiting.end());
  absl::Time now = clock_.Now();
  for (const auto& [opened, host] : waiting) {
    if (b.origin_grants.size() >= budget) break;
    b.origin_grants[host] = now;
    HostBlobState& st = b.hosts[host];
    st.phase = HostBlobPhase::kFetchingOrigin;
    v1::AnnounceResponse m;
    m.mutable_go_to_origin()->set_reason(
        absl::StrCat("no live seed can fetch ", b.ref.digest(), "; fetch it from ",
                     b.ref.registry(), "/", b.ref.repository(), " yourself (origin slot ",
                     b.origin_grants.size(), " of ", budget, " for this blob)"));
    st.sink->Send(m);
    log_->info("blob {}: no live seed; host {} goes to the origin (slot {} of {}, {} waiting)",
               b.ref.digest().substr(7, 12), host, b.origin_grants.size(), budget,
               waiting.size() - b.origin_grants.size());
  }
}

void SwarmCoordinator::ReleaseOriginGrant(BlobEntry& b, const std::string& host) {
  b.origin_grants.erase(host);
}

void SwarmCoordinator::ExpireStalledGrants() {
  absl::Time now = clock_.Now();
  blobs_.ForEach([&](const std::string&, BlobEntry& b) {
    std::vector<std::string> stalled;
    for (const auto& [host, granted] : b.origin_grants) {
      const HostBlobState* st = b.FindHost(host);
      absl::Time last = std::max(granted, st != nullptr ? st->last_activity : granted);
      if (now - last > policy_.origin_fallback_stall) stalled.push_back(host);
    }
    if (stalled.empty()) return;
    for (const auto& host : stalled) {
      b.origin_grants.erase(host);
      b.origin_stalled.insert(host);
      log_->warn(
          "blob {}: host {} was sent to the origin and has been silent for {}; its slot "
          "goes to the next waiting host",
          b.ref.digest().substr(7, 12), host, absl::FormatDuration(policy_.origin_fallback_stall));
    }
    EnsureSource(b);
  });
}

}  // namespace shoal
