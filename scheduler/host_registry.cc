#include "scheduler/host_registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace shoal {

HostRegistry::HostRegistry(Clock& clock, absl::Duration liveness_timeout)
    : clock_(clock), liveness_timeout_(liveness_timeout) {}

absl::Status HostRegistry::ValidateHostInfo(const v1::HostInfo& info) {
  if (info.id().empty()) {
    return absl::InvalidArgumentError(
        "RegisterHost: host.id is empty; give every host a stable id");
  }
  if (info.role() != v1::HOST_ROLE_PEER && info.role() != v1::HOST_ROLE_SEED) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RegisterHost ", info.id(), ": host.role must be HOST_ROLE_PEER or HOST_ROLE_SEED"));
  }
  if (info.ip().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RegisterHost ", info.id(), ": host.ip is empty; other hosts need it to reach this one"));
  }
  if (info.data_port() == 0 || info.data_port() > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("RegisterHost ", info.id(), ": host.data_port ",
                                                   info.data_port(), " is not a port (1..65535)"));
  }
  return absl::OkStatus();
}

void HostRegistry::Register(const v1::HostInfo& info) {
  absl::Time now = clock_.Now();
  HostRecord& r = hosts_[info.id()];
  r.info = info;
  r.registered_at = now;
  r.last_seen = now;
  r.declared_dead = false;
}

bool HostRegistry::Heartbeat(const std::string& host_id, uint64_t free_disk_bytes) {
  auto it = hosts_.find(host_id);
  if (it == hosts_.end() || it->second.declared_dead) return false;
  it->second.last_seen = clock_.Now();
  it->second.info.set_free_disk_bytes(free_disk_bytes);
  return true;
}

bool HostRegistry::AliveAt(const HostRecord& r, absl::Time now) const {
  return !r.declared_dead && now - r.last_seen <= liveness_timeout_;
}

bool HostRegistry::IsAlive(const std::string& host_id) const {
  auto it = hosts_.find(host_id);
  return it != hosts_.end() && AliveAt(it->second, clock_.Now());
}

bool HostRegistry::IsSeed(const std::string& host_id) const {
  auto it = hosts_.find(host_id);
  return it != hosts_.end() && it->second.info.role() == v1::HOST_ROLE_SEED;
}

const HostRecord* HostRegistry::Find(const std::string& host_id) const {
  auto it = hosts_.find(host_id);
  return it == hosts_.end() ? nullptr : &it->second;
}

std::vector<std::string> HostRegistry::LiveSeeds() const {
  absl::Time now = clock_.Now();
  std::vector<std::string> out;
  for (const auto& [id, r] : hosts_) {
    if (r.info.role() == v1::HOST_ROLE_SEED && AliveAt(r, now)) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<v1::HostStatus> HostRegistry::List() const {
  absl::Time now = clock_.Now();
  std::vector<v1::HostStatus> out;
  for (const auto& [id, r] : hosts_) {
    v1::HostStatus s;
    *s.mutable_host() = r.info;
    s.set_alive(AliveAt(r, now));
    s.set_last_seen_unix_ms(absl::ToUnixMillis(r.last_seen));
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const v1::HostStatus& a, const v1::HostStatus& b) {
    return a.host().id() < b.host().id();
  });
  return out;
}

std::vector<std::string> HostRegistry::CollectNewlyDead() {
  absl::Time now = clock_.Now();
  std::vector<std::string> dead;
  for (auto& [id, r] : hosts_) {
    if (!r.declared_dead && !AliveAt(r, now)) {
      r.declared_dead = true;
      dead.push_back(id);
    }
  }
  std::sort(dead.begin(), dead.end());
  return dead;
}

void HostRegistry::ForgetDead(absl::Duration retention) {
  absl::Time now = clock_.Now();
  absl::erase_if(hosts_, [&](const auto& kv) {
    return kv.second.declared_dead && now - kv.second.last_seen > liveness_timeout_ + retention;
  });
}

}  // namespace shoal
