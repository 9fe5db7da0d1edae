// SwarmCoordinator: what each announce message does to the swarm.
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/options.h"
#include "scheduler/swarm_coordinator.h"

namespace shoal {
namespace {

std::string Short(const std::string& digest) {
  auto d = BlobDigest::Parse(digest);
  return d.ok() ? d->Short() : digest;
}

}  // namespace

absl::Status SwarmCoordinator::CheckIndex(const BlobEntry& b, SegmentIndex k,
                                          const char* what) const {
  if (b.layout && k >= b.layout->segment_count()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Announce ", what, ": segment ", k, " is out of range; blob ", b.ref.digest(),
                     " has ", b.layout->segment_count(), " segments"));
  }
  return absl::OkStatus();
}

void SwarmCoordinator::SendWelcome(BlobEntry& b, const std::string& host) {
  HostBlobState& st = b.hosts[host];
  if (b.layout) {
    v1::AnnounceResponse m;
    *m.mutable_layout() = *b.layout;
    Send(b, host, m);
  }
  for (const auto& [k, meta] : b.segments) {
    if (st.Holds(k)) continue;
    v1::AnnounceResponse m;
    *m.mutable_segment() = meta;
    Send(b, host, m);
    SendParents(b, host, k);
  }
  if (b.fetcher.empty() && !b.upstream_failure.empty() &&
      clock_.Now() - b.upstream_failed_at < policy_.upstream_failure_ttl) {
    v1::AnnounceResponse m;
    m.mutable_upstream_failed()->set_reason(b.upstream_failure);
    Send(b, host, m);
  }
}

absl::Status SwarmCoordinator::HandleLayout(BlobEntry& b, const std::string& host,
                                            const v1::BlobLayout& layout) {
  auto plan = SegmentPlan::Create(layout.size(), layout.segment_size(), layout.piece_size());
  if (!plan.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("Announce layout for ", b.ref.digest(),
                                                   " from host '", host,
                                                   "': ", plan.status().message()));
  }
  if (plan->segment_count() != layout.segment_count()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Announce layout for ", b.ref.digest(), " from host '", host, "': segment_count ",
        layout.segment_count(), " does not match size/segment_size (", plan->segment_count(), ")"));
  }
  if (b.layout) {
    if (b.layout->SerializeAsString() == layout.SerializeAsString()) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        "Announce layout for ", b.ref.digest(), " from host '", host, "' (segment ",
        FormatByteSize(layout.segment_size()), ", piece ", FormatByteSize(layout.piece_size()),
        ") conflicts with the layout host '", b.layout_from, "' reported (segment ",
        FormatByteSize(b.layout->segment_size()), ", piece ",
        FormatByteSize(b.layout->piece_size()), "); every seed must use the same sizes"));
  }
  b.layout = layout;
  b.layout_from = host;
  HostBlobState& st = b.hosts[host];
  if (st.verified) {
    for (SegmentIndex k = 0; k < layout.segment_count(); ++k) st.complete.insert(k);
  }
  log_->info("blob {}: {} in {} segments of {} (layout from {})", Short(b.ref.digest()),
             FormatByteSize(layout.size()), layout.segment_count(),
             FormatByteSize(layout.segment_size()), host);
  v1::AnnounceResponse m;
  *m.mutable_layout() = layout;
  Broadcast(b, m, /*only_wanting=*/false, /*except=*/host);
  return absl::OkStatus();
}

absl::Status SwarmCoordinator::HandleSegmentReady(BlobEntry& b, const std::string& host,
                                                  const v1::SegmentMeta& meta) {
  SegmentIndex k = meta.index();
  if (!b.layout) {
    return absl::FailedPreconditionError(absl::StrCat("Announce segment_ready ", k, " for ",
                                                      b.ref.digest(), " from host '", host,
                                                      "': send `layout` first"));
  }
  if (auto s = CheckIndex(b, k, "segment_ready"); !s.ok()) return s;
  if (meta.torrent().empty() || meta.info_hash().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("Announce segment_ready ", k, " for ",
                                                   b.ref.digest(), " from host '", host,
                                                   "': torrent and info_hash are required"));
  }
  if (meta.length() != b.SegmentLength(k)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Announce segment_ready ", k, " for ", b.ref.digest(), " from host '", host, "': length ",
        meta.length(), " does not match the layout (", b.SegmentLength(k), ")"));
  }
  auto known = b.segments.find(k);
  if (known != b.segments.end() && known->second.info_hash() != meta.info_hash()) {
    // Its torrent is a different swarm: it cannot serve this segment to anyone.
    return absl::FailedPreconditionError(
        absl::StrCat("Announce segment_ready ", k, " for ", b.ref.digest(), " from host '", host,
                     "': info_hash ", meta.info_hash(), " differs from ", known->second.info_hash(),
                     " announced earlier; torrents must be made with the layout's piece size"));
  }
  HostBlobState& st = b.hosts[host];
  st.complete.insert(k);
  st.partial.erase(k);
  b.ReleaseParents(host, k);
  if (known != b.segments.end()) {
    FanOut(b, host, k);
    return absl::OkStatus();
  }
  b.segments.emplace(k, meta);
  log_->debug("blob {} segment {} ready at {} (info_hash {})", Short(b.ref.digest()), k, host,
              meta.info_hash());
  if (b.AllSegmentsKnown()) {
    log_->info("blob {}: all {} segments announced", Short(b.ref.digest()), b.segments.size());
  }
  v1::AnnounceResponse m;
  *m.mutable_segment() = meta;
  for (auto& [child, cst] : b.hosts) {
    if (child == host || !cst.Wants(k)) continue;
    cst.sink->Send(m);
    SendParents(b, child, k);
  }
  return absl::OkStatus();
}

absl::Status SwarmCoordinator::HandleHave(BlobEntry& b, const std::string& host, SegmentIndex k) {
  if (auto s = CheckIndex(b, k, "have"); !s.ok()) return s;
  HostBlobState& st = b.hosts[host];
  if (st.Holds(k)) return absl::OkStatus();
  st.complete.insert(k);
  st.partial.erase(k);
  b.ReleaseParents(host, k);
  if (st.phase == HostBlobPhase::kWaiting) st.phase = HostBlobPhase::kDownloading;
  FanOut(b, host, k);
  return absl::OkStatus();
}

absl::Status SwarmCoordinator::HandleProgress(BlobEntry& b, const std::string& host,
                                              const v1::SegmentProgress& p) {
  if (auto s = CheckIndex(b, p.index(), "progress"); !s.ok()) return s;
  HostBlobState& st = b.hosts[host];
  if (st.Holds(p.index())) return absl::OkStatus();
  uint64_t before = st.PartialBytes(p.index());
  st.partial[p.index()] = p.bytes_done();
  if (st.phase == HostBlobPhase::kWaiting) st.phase = HostBlobPhase::kDownloading;
  // Only the first bytes make a new parent; later reports just re-rank it.
  if (before == 0 && p.bytes_done() > 0) FanOut(b, host, p.index());
  return absl::OkStatus();
}

void SwarmCoordinator::HandleFailure(BlobEntry& b, const std::string& host,
                                     const v1::SegmentFailure& f) {
  HostBlobState& st = b.hosts[host];
  SegmentIndex k = f.index();
  if (!f.parent_host_id().empty() && f.parent_host_id() != host) {
    st.bad_parents[f.parent_host_id()] = clock_.Now() + policy_.bad_parent_ttl;
    log_->info("blob {} segment {}: host {} reports parent {} bad ({}); avoiding it for {}",
               Short(b.ref.digest()), k, host, f.parent_host_id(),
               f.reason().empty() ? "no reason given" : f.reason(),
               absl::FormatDuration(policy_.bad_parent_ttl));
  } else {
    log_->info("blob {} segment {}: host {} reports a failure ({})", Short(b.ref.digest()), k, host,
               f.reason().empty() ? "no reason given" : f.reason());
  }
  if (b.segments.contains(k) && st.Wants(k) && SendParents(b, host, k) == 0) EnsureSource(b);
}

void SwarmCoordinator::HandleDone(BlobEntry& b, const std::string& host) {
  HostBlobState& st = b.hosts[host];
  std::vector<SegmentIndex> newly_held;
  for (const auto& [k, meta] : b.segments) {
    if (!st.Holds(k)) newly_held.push_back(k);
  }
  st.verified = true;
  st.phase = HostBlobPhase::kDone;
  st.finished_at = clock_.Now();
  st.error.clear();
  st.partial.clear();
  for (SegmentIndex k = 0; k < b.segment_count(); ++k) st.complete.insert(k);
  b.ReleaseAllParents(host);
  tasks_.CompleteFetch(host, b.ref.digest());
  ReleaseOriginGrant(b, host);
  if (host == b.fetcher) {
    log_->info("blob {}: seed {} fetched it from the origin", Short(b.ref.digest()), host);
    if (!b.AllSegmentsKnown()) {
      log_->warn(
          "blob {}: seed {} reported done but announced {} of {} segments; peers cannot "
          "get the rest through the swarm",
          Short(b.ref.digest()), host, b.segments.size(), b.segment_count());
    }
  } else {
    log_->info("blob {}: host {} has it (verified)", Short(b.ref.digest()), host);
  }
  for (SegmentIndex k : newly_held) FanOut(b, host, k);
  EnsureSource(b);
}

void SwarmCoordinator::HandleFailed(BlobEntry& b, const std::string& host,
                                    const std::string& reason_in) {
  std::string reason = reason_in.empty() ? "no reason given" : reason_in;
  HostBlobState& st = b.hosts[host];
  st.phase = HostBlobPhase::kFailed;
  st.error = reason;
  st.finished_at = clock_.Now();
  st.want = false;  // it gave up; a retry opens a new stream
  b.ReleaseAllParents(host);
  tasks_.CompleteFetch(host, b.ref.digest());
  if (host == b.cancelled_fetcher) {
    // A job cancelled this fetch; the origin did not fail. Whoever still
    // wants the blob gets a new fetch (EnsureSource below).
    b.cancelled_fetcher.clear();
    if (host == b.fetcher) b.fetcher.clear();
    log_->info("blob {}: seed {} stopped its origin fetch (cancelled)", Short(b.ref.digest()),
               host);
  } else if (host == b.fetcher) {
    b.fetcher.clear();
    b.upstream_failure = absl::StrCat("seed ", host, " could not fetch ", b.ref.digest(), " from ",
                                      b.ref.registry(), "/", b.ref.repository(), ": ", reason);
    b.upstream_failed_at = clock_.Now();
    v1::AnnounceResponse m;
    m.mutable_upstream_failed()->set_reason(b.upstream_failure);
    Broadcast(b, m, /*only_wanting=*/true, /*except=*/host);
    log_->warn("blob {}: {}", Short(b.ref.digest()), b.upstream_failure);
  } else {
    log_->info("blob {}: host {} failed: {}", Short(b.ref.digest()), host, reason);
  }
  ReleaseOriginGrant(b, host);
  EnsureSource(b);
}

}  // namespace shoal
