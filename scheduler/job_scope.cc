#include "scheduler/job_scope.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "scheduler/api_error.h"

namespace shoal {
namespace {

constexpr char kScopeHelp[] =
    "use seeds, all-peers, hosts:ID[,ID...] or a label selector KEY=VALUE[,KEY=VALUE...]";

absl::Status Invalid(absl::string_view text, absl::string_view why) {
  return ApiError(absl::StatusCode::kInvalidArgument, "invalid_scope",
                  absl::StrCat("scope '", text.substr(0, 200), "' ", why, "; ", kScopeHelp));
}

bool ValidToken(absl::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/' || c == ':')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string JobScope::Canonical() const {
  switch (kind) {
    case Kind::kSeeds:
      return "seeds";
    case Kind::kAllPeers:
      return "all-peers";
    case Kind::kHosts: {
      std::vector<std::string> sorted = hosts;
      std::sort(sorted.begin(), sorted.end());
      return absl::StrCat("hosts:", absl::StrJoin(sorted, ","));
    }
    case Kind::kLabels: {
      std::vector<std::string> pairs;
      for (const auto& [k, v] : labels) pairs.push_back(absl::StrCat(k, "=", v));
      return absl::StrJoin(pairs, ",");
    }
  }
  return "";
}

absl::StatusOr<JobScope> ParseJobScope(absl::string_view text_in) {
  absl::string_view text = absl::StripAsciiWhitespace(text_in);
  JobScope scope;
  if (text.empty() || text == "all-peers") return scope;
  if (text == "seeds") {
    scope.kind = JobScope::Kind::kSeeds;
    return scope;
  }
  if (absl::StartsWith(text, "hosts:")) {
    scope.kind = JobScope::Kind::kHosts;
    for (absl::string_view id : absl::StrSplit(text.substr(6), ',')) {
      id = absl::StripAsciiWhitespace(id);
      if (!ValidToken(id)) return Invalid(text, absl::StrCat("has an invalid host id '", id, "'"));
      if (std::find(scope.hosts.begin(), scope.hosts.end(), id) == scope.hosts.end()) {
        scope.hosts.emplace_back(id);
      }
    }
    return scope;
  }
  if (absl::StrContains(text, '=')) {
    scope.kind = JobScope::Kind::kLabels;
    for (absl::string_view pair : absl::StrSplit(text, ',')) {
      std::pair<absl::string_view, absl::string_view> kv =
          absl::StrSplit(pair, absl::MaxSplits('=', 1));
      absl::string_view k = absl::StripAsciiWhitespace(kv.first);
      absl::string_view v = absl::StripAsciiWhitespace(kv.second);
      if (!ValidToken(k) || !ValidToken(v) || absl::StrContains(pair, "==")) {
        return Invalid(text, absl::StrCat("has an invalid label pair '", pair, "'"));
      }
      auto [it, inserted] = scope.labels.emplace(k, v);
      if (!inserted && it->second != v) {
        return Invalid(text, absl::StrCat("asks label '", k, "' to be two values"));
      }
    }
    return scope;
  }
  return Invalid(text, "is not a known scope");
}

absl::StatusOr<std::vector<std::string>> ResolveScopeTargets(
    const JobScope& scope, const std::vector<v1::HostStatus>& hosts) {
  std::vector<std::string> out;
  auto live_peer = [](const v1::HostStatus& h) {
    return h.alive() && h.host().role() == v1::HOST_ROLE_PEER;
  };
  switch (scope.kind) {
    case JobScope::Kind::kSeeds: {
      for (const auto& h : hosts) {
        if (h.alive() && h.host().role() == v1::HOST_ROLE_SEED) return out;
      }
      return ApiError(absl::StatusCode::kFailedPrecondition, "no_seeds",
                      "scope 'seeds': no seed is registered and alive; start a shoal-seed or "
                      "use scope all-peers");
    }
    case JobScope::Kind::kAllPeers:
      for (const auto& h : hosts) {
        if (live_peer(h)) out.push_back(h.host().id());
      }
      if (out.empty()) {
        return ApiError(absl::StatusCode::kFailedPrecondition, "no_targets",
                        "scope 'all-peers': no peer is registered and alive");
      }
      return out;
    case JobScope::Kind::kHosts: {
      absl::flat_hash_map<std::string, const v1::HostStatus*> by_id;
      for (const auto& h : hosts) by_id[h.host().id()] = &h;
      for (const std::string& id : scope.hosts) {
        auto it = by_id.find(id);
        if (it == by_id.end()) {
          return ApiError(absl::StatusCode::kInvalidArgument, "unknown_host",
                          absl::StrCat("scope names host '", id,
                                       "', which is not registered with the scheduler (see "
                                       "GET /api/v1/hosts or shoalctl hosts)"));
        }
        if (it->second->host().role() != v1::HOST_ROLE_PEER) {
          return ApiError(absl::StatusCode::kInvalidArgument, "unknown_host",
                          absl::StrCat("scope names host '", id,
                                       "', which is a seed; use scope 'seeds' for seeds"));
        }
        if (!it->second->alive()) {
          return ApiError(
              absl::StatusCode::kFailedPrecondition, "host_down",
              absl::StrCat("scope names host '", id, "', which stopped heartbeating (dead)"));
        }
        out.push_back(id);
      }
      return out;
    }
    case JobScope::Kind::kLabels:
      for (const auto& h : hosts) {
        if (!live_peer(h)) continue;
        bool match = true;
        for (const auto& [k, v] : scope.labels) {
          auto it = h.host().labels().find(k);
          match = match && it != h.host().labels().end() && it->second == v;
        }
        if (match) out.push_back(h.host().id());
      }
      if (out.empty()) {
        return ApiError(
            absl::StatusCode::kFailedPrecondition, "no_targets",
            absl::StrCat("label selector '", scope.Canonical(), "' matches no live peer"));
      }
      return out;
  }
  return out;
}

}  // namespace shoal
