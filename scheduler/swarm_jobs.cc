// SwarmCoordinator: what the preheat job runner asks of the swarm.
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/digest.h"
#include "scheduler/seed_picker.h"
#include "scheduler/swarm_coordinator.h"

namespace shoal {

absl::Status SwarmCoordinator::RequestFetch(const std::string& host_id,
                                            const v1::FetchBlobTask& task) {
  auto digest = BlobDigest::Parse(task.blob().digest());
  if (!digest.ok()) return digest.status();
  absl::MutexLock l(&mu_);
  if (hosts_.Find(host_id) == nullptr) {
    return absl::NotFoundError(absl::StrCat("host '", host_id, "' is not registered"));
  }
  absl::Time now = clock_.Now();
  BlobEntry& b = blobs_.GetOrCreate(task.blob(), now);
  b.last_activity = now;
  if ((b.ref.registry().empty() || b.ref.repository().empty()) && b.fetcher.empty() &&
      !task.blob().registry().empty()) {
    b.ref = task.blob();
  }
  if (!task.auth().username().empty() || !task.auth().password().empty()) b.auth = task.auth();
  HostBlobState* st = b.FindHost(host_id);
  if (st != nullptr && st->connected() && st->verified) return absl::OkStatus();
  if (hosts_.IsSeed(host_id) && (b.fetcher.empty() || !hosts_.IsAlive(b.fetcher))) {
    b.fetcher = host_id;
    b.fetch_started = now;
    b.upstream_failure.clear();
    b.cancelled_fetcher.clear();
    if (st != nullptr && st->connected() && !st->want) st->phase = HostBlobPhase::kFetchingOrigin;
    log_->info("blob {}: seed {} fetches it from {}/{} for job {}", digest->Short(), host_id,
               b.ref.registry(), b.ref.repository(), task.job_id());
  }
  tasks_.PushFetch(host_id, task);
  return absl::OkStatus();
}

void SwarmCoordinator::CancelFetch(const std::string& host_id, const std::string& digest,
                                   const std::string& job_id) {
  absl::MutexLock l(&mu_);
  BlobEntry* b = blobs_.Find(digest);
  if (b != nullptr && host_id == b->fetcher) {
    std::vector<std::string> others;
    for (const auto& [id, st] : b->hosts) {
      if (id != host_id && st.WantsBlob() && hosts_.IsAlive(id)) others.push_back(id);
    }
    if (!others.empty()) {
      log_->info("blob {}: job {} no longer needs it, but {} still want it; seed {} goes on",
                 digest.substr(7, 12), job_id, absl::StrJoin(others, ", "), host_id);
      return;
    }
    b->cancelled_fetcher = host_id;
  }
  tasks_.Cancel(host_id, digest, job_id);
  if (b == nullptr) return;
  HostBlobState* st = b->FindHost(host_id);
  if (st == nullptr || !st->want || st->verified) return;
  if (st->connected()) {
    v1::AnnounceResponse m;
    m.mutable_cancel()->set_reason(absl::StrCat("job ", job_id, " was cancelled"));
    st->sink->Send(m);
  }
  st->want = false;
  st->phase = HostBlobPhase::kFailed;
  st->error = "cancelled";
  st->finished_at = clock_.Now();
  b->ReleaseAllParents(host_id);
  ReleaseOriginGrant(*b, host_id);
}

std::optional<BlobSnapshot> SwarmCoordinator::GetBlob(const std::string& digest) {
  absl::MutexLock l(&mu_);
  BlobEntry* b = blobs_.Find(digest);
  if (b == nullptr) return std::nullopt;
  return blobs_.Snapshot(*b);
}

SeedChoice SwarmCoordinator::ChooseSeed(const std::string& digest, bool for_peers) {
  absl::MutexLock l(&mu_);
  BlobEntry* b = blobs_.Find(digest);
  if (b != nullptr) {
    for (const auto& [id, st] : b->hosts) {
      if (st.verified && st.connected() && hosts_.IsSeed(id) && hosts_.IsAlive(id)) {
        return {SeedChoice::Kind::kSeed, id};
      }
    }
    if (!b->fetcher.empty() && hosts_.IsAlive(b->fetcher) && tasks_.Connected(b->fetcher)) {
      return {SeedChoice::Kind::kSeed, b->fetcher};
    }
    if (for_peers && Servable(*b)) return {SeedChoice::Kind::kNotNeeded, ""};
  }
  if (AwaitingSeeds()) return {SeedChoice::Kind::kWait, ""};
  if (auto seed = PickSeed(digest, ReadySeeds())) return {SeedChoice::Kind::kSeed, *seed};
  return {SeedChoice::Kind::kNone, ""};
}

void SwarmCoordinator::ExpectSeeds(std::vector<std::string> seed_ids, absl::Time until) {
  absl::MutexLock l(&mu_);
  expected_seeds_ = std::move(seed_ids);
  expect_seeds_until_ = until;
  if (!expected_seeds_.empty()) {
    log_->info(
        "waiting up to {} for seeds seen before the restart ({}) before choosing who "
        "fetches from the origin",
        absl::FormatDuration(until - clock_.Now()), absl::StrJoin(expected_seeds_, ", "));
  }
}

}  // namespace shoal
