// Fakes for the preheat job tests: a scripted swarm (hosts, what each host
// reports per blob, every fetch and cancel recorded) and an in-memory registry
// whose manifest lookups can be held until the test releases them (to prove
// that concurrent lookups of one tag coalesce into one).
#pragma once

#include <gmock/gmock.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/hashing.h"
#include "common/origin_client.h"
#include "scheduler/image_manifest.h"
#include "scheduler/job_swarm.h"
#include "scheduler/seed_picker.h"

namespace shoal::testing {

inline std::string FakeDigest(int n) { return absl::StrFormat("sha256:%064x", n); }

class FakeJobSwarm : public JobSwarm {
 public:
  explicit FakeJobSwarm(Clock& clock) : clock_(clock) {}

  void AddHost(const std::string& id, v1::HostRole role,
               std::map<std::string, std::string> labels = {}) {
    v1::HostStatus h;
    h.mutable_host()->set_id(id);
    h.mutable_host()->set_role(role);
    h.mutable_host()->set_ip("127.0.0.1");
    h.mutable_host()->set_data_port(6881);
    for (auto& [k, v] : labels) (*h.mutable_host()->mutable_labels())[k] = v;
    h.set_alive(true);
    hosts_[id] = h;
  }
  void SetAlive(const std::string& id, bool alive) { hosts_[id].set_alive(alive); }
  void RemoveHost(const std::string& id) { hosts_.erase(id); }
  void ForgetAllBlobs() { blobs_.clear(); }

  // What `host` reports for `digest` ("waiting", "downloading", "done", "failed", ...).
  void Report(const std::string& digest, const std::string& host, const std::string& state,
              uint64_t bytes = 0, const std::string& error = "", bool connected = true) {
    BlobSnapshot& b = blobs_[digest];
    b.ref.set_digest(digest);
    HostBlobSnapshot* h = nullptr;
    for (auto& x : b.hosts) {
      if (x.host_id == host) h = &x;
    }
    if (h == nullptr) {
      b.hosts.push_back({});
      h = &b.hosts.back();
      h->host_id = host;
    }
    h->state = state;
    h->bytes_done = bytes;
    h->error = error;
    h->connected = connected;
    if (state == "done" || state == "failed") h->finished_at = clock_.Now();
  }

  std::optional<SeedChoice> choice_override;
  absl::Status request_status = absl::OkStatus();
  std::vector<std::pair<std::string, v1::FetchBlobTask>> requests;
  std::vector<std::pair<std::string, std::string>> cancels;  // (host, digest)

  int RequestsFor(const std::string& host, const std::string& digest) const {
    int n = 0;
    for (const auto& [h, t] : requests) n += h == host && t.blob().digest() == digest;
    return n;
  }
  std::vector<std::string> RequestedDigests() const {
    std::vector<std::string> out;
    for (const auto& [h, t] : requests) out.push_back(t.blob().digest());
    return out;
  }

  absl::Status RequestFetch(const std::string& host_id, const v1::FetchBlobTask& task) override {
    if (!request_status.ok()) return request_status;
    if (!hosts_.contains(host_id)) return absl::NotFoundError("not registered");
    requests.emplace_back(host_id, task);
    return absl::OkStatus();
  }
  void CancelFetch(const std::string& host_id, const std::string& digest,
                   const std::string&) override {
    cancels.emplace_back(host_id, digest);
  }
  std::optional<BlobSnapshot> GetBlob(const std::string& digest) override {
    auto it = blobs_.find(digest);
    if (it == blobs_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<v1::HostStatus> Hosts() override {
    std::vector<v1::HostStatus> out;
    for (const auto& [id, h] : hosts_) out.push_back(h);
    return out;
  }
  SeedChoice ChooseSeed(const std::string& digest, bool) override {
    if (choice_override) return *choice_override;
    std::vector<std::string> seeds;
    for (const auto& [id, h] : hosts_) {
      if (h.alive() && h.host().role() == v1::HOST_ROLE_SEED) seeds.push_back(id);
    }
    if (auto s = PickSeed(digest, seeds)) return {SeedChoice::Kind::kSeed, *s};
    return {SeedChoice::Kind::kNone, ""};
  }

 private:
  Clock& clock_;
  std::map<std::string, v1::HostStatus> hosts_;
  std::map<std::string, BlobSnapshot> blobs_;
};

// Manifest bodies as registries send them.
inline std::string ImageManifestJson(const std::string& config, uint64_t config_size,
                                     const std::vector<std::pair<std::string, uint64_t>>& layers,
                                     const std::string& media_type = kOciManifestType) {
  const bool docker = media_type == kDockerManifestType;
  nlohmann::json j{{"schemaVersion", 2}, {"mediaType", media_type}};
  j["config"] = {{"mediaType", docker ? "application/vnd.docker.container.image.v1+json"
                                      : "application/vnd.oci.image.config.v1+json"},
                 {"digest", config},
                 {"size", config_size}};
  j["layers"] = nlohmann::json::array();
  for (const auto& [d, size] : layers) {
    j["layers"].push_back(
        {{"mediaType", docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
                              : "application/vnd.oci.image.layer.v1.tar+gzip"},
         {"digest", d},
         {"size", size}});
  }
  return j.dump();
}

struct IndexEntry {
  std::string digest;
  uint64_t size;
  std::string os, arch, variant;
};
inline std::string IndexJson(const std::vector<IndexEntry>& entries,
                             const std::string& media_type = kOciIndexType) {
  nlohmann::json j{{"schemaVersion", 2}, {"mediaType", media_type}};
  j["manifests"] = nlohmann::json::array();
  for (const auto& e : entries) {
    nlohmann::json p{{"os", e.os}, {"architecture", e.arch}};
    if (!e.variant.empty()) p["variant"] = e.variant;
    j["manifests"].push_back(
        {{"mediaType", media_type == kOciIndexType ? kOciManifestType : kDockerManifestType},
         {"digest", e.digest},
         {"size", e.size},
         {"platform", p}});
  }
  return j.dump();
}

// A registry in memory. Lookups can be held (hold()) until release().
class FakeRegistry {
 public:
  std::string Add(const std::string& repository, const std::string& tag, const std::string& body,
                  const std::string& media_type) {
    std::string digest = absl::StrCat("sha256:", Sha256Hex(body));
    absl::MutexLock l(&mu_);
    docs_[repository + "@" + digest] = {body, media_type, digest};
    if (!tag.empty()) docs_[repository + ":" + tag] = {body, media_type, digest};
    return digest;
  }
  void Fail(absl::Status s) {
    absl::MutexLock l(&mu_);
    fail_ = std::move(s);
  }
  void Hold() {
    absl::MutexLock l(&mu_);
    held_ = true;
  }
  void Release() {
    absl::MutexLock l(&mu_);
    held_ = false;
  }
  // Blocks until `n` lookups are inside GetManifest (held there).
  void AwaitInside(int n) {
    std::pair<FakeRegistry*, int> arg(this, n);
    absl::MutexLock l(&mu_);
    mu_.Await(absl::Condition(
        +[](std::pair<FakeRegistry*, int>* a)
             ABSL_NO_THREAD_SAFETY_ANALYSIS { return a->first->inside_ >= a->second; },
        &arg));
  }
  int lookups() const {
    absl::MutexLock l(&mu_);
    return lookups_;
  }
  std::vector<RegistryCredentials> credentials_seen() const {
    absl::MutexLock l(&mu_);
    return creds_;
  }

  absl::StatusOr<ManifestResponse> Lookup(const OriginRepo& repo, absl::string_view reference,
                                          const RegistryCredentials& creds) {
    absl::MutexLock l(&mu_);
    ++lookups_;
    ++inside_;
    creds_.push_back(creds);
    mu_.Await(absl::Condition(
        +[](FakeRegistry* r) ABSL_NO_THREAD_SAFETY_ANALYSIS { return !r->held_; }, this));
    --inside_;
    if (!fail_.ok()) return fail_;
    std::string sep = absl::StartsWith(reference, "sha256:") ? "@" : ":";
    auto it = docs_.find(absl::StrCat(repo.repository, sep, reference));
    if (it == docs_.end()) {
      return absl::NotFoundError(
          absl::StrCat("origin ", repo.registry, " answered 404 for manifest ", reference, " in ",
                       repo.repository, " (MANIFEST_UNKNOWN: manifest unknown)"));
    }
    return it->second;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, ManifestResponse> docs_;
  absl::Status fail_;
  bool held_ = false;
  int inside_ = 0;
  int lookups_ = 0;
  std::vector<RegistryCredentials> creds_;
};

class FakeRegistryClient : public OriginClient {
 public:
  FakeRegistryClient(FakeRegistry& r, RegistryCredentials c) : r_(r), creds_(std::move(c)) {}
  absl::StatusOr<uint64_t> BlobSize(const OriginRepo&, absl::string_view) override {
    return absl::UnimplementedError("not used by the resolver");
  }
  RangeResult FetchRange(const OriginRepo&, absl::string_view, uint64_t, uint64_t, const ByteSink&,
                         const std::atomic<bool>*) override {
    return {0, absl::UnimplementedError("not used by the resolver")};
  }
  absl::StatusOr<ManifestResponse> GetManifest(const OriginRepo& repo, absl::string_view reference,
                                               const std::vector<std::string>&, bool) override {
    return r_.Lookup(repo, reference, creds_);
  }

 private:
  FakeRegistry& r_;
  RegistryCredentials creds_;
};

}  // namespace shoal::testing
