// An OriginClient for mirror tests: manifests by tag and digest in memory, every
// call recorded (to prove what reached the "registry"), errors and wrong bytes on
// demand. Blob calls are not used by the mirror and answer Unimplemented.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/hashing.h"
#include "common/origin_client.h"

namespace shoal::fakes {

class FakeOriginClient : public OriginClient {
 public:
  struct Call {
    OriginRepo repo;
    std::string reference;
    std::vector<std::string> accept;
    bool head_only = false;
  };

  // Serves `body` for repository@digest and, when tag is not empty, repository:tag.
  // Returns the digest.
  std::string AddManifest(const std::string& repository, const std::string& tag,
                          const std::string& body, const std::string& media_type) {
    std::string digest = absl::StrCat("sha256:", Sha256Hex(body));
    absl::MutexLock l(&mu_);
    manifests_[Key(repository, digest)] = {body, media_type, digest};
    if (!tag.empty()) manifests_[Key(repository, tag)] = {body, media_type, digest};
    return digest;
  }
  // Every later GetManifest for this reference fails with status.
  void FailReference(const std::string& reference, absl::Status status) {
    absl::MutexLock l(&mu_);
    failures_[reference] = std::move(status);
  }
  // The registry answers this digest with other bytes (a broken or hostile upstream).
  void CorruptDigest(const std::string& digest) {
    absl::MutexLock l(&mu_);
    corrupt_.push_back(digest);
  }
  // HEAD answers carry the body too (some OriginClient implementations may GET).
  void set_head_returns_body(bool on) {
    absl::MutexLock l(&mu_);
    head_returns_body_ = on;
  }
  std::vector<Call> calls() const {
    absl::MutexLock l(&mu_);
    return calls_;
  }

  absl::StatusOr<ManifestResponse> GetManifest(const OriginRepo& repo, absl::string_view reference,
                                               const std::vector<std::string>& accept,
                                               bool head_only) override {
    absl::MutexLock l(&mu_);
    calls_.push_back({repo, std::string(reference), accept, head_only});
    if (auto f = failures_.find(std::string(reference)); f != failures_.end()) return f->second;
    auto it = manifests_.find(Key(repo.repository, std::string(reference)));
    if (it == manifests_.end()) {
      return absl::NotFoundError(
          absl::StrCat("fake registry: no manifest ", repo.repository, ":", reference));
    }
    ManifestResponse out = it->second;
    for (const std::string& d : corrupt_) {
      if (d == out.digest) out.body += " ";
    }
    if (head_only && !head_returns_body_) out.body.clear();
    return out;
  }

  absl::StatusOr<uint64_t> BlobSize(const OriginRepo&, absl::string_view) override {
    return absl::UnimplementedError("fake origin: blobs are not served here");
  }
  RangeResult FetchRange(const OriginRepo&, absl::string_view, uint64_t, uint64_t, const ByteSink&,
                         const std::atomic<bool>*) override {
    RangeResult r;
    r.status = absl::UnimplementedError("fake origin: blobs are not served here");
    return r;
  }

 private:
  static std::string Key(const std::string& repository, const std::string& reference) {
    return repository + "|" + reference;
  }
  mutable absl::Mutex mu_;
  std::map<std::string, ManifestResponse> manifests_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Status> failures_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> corrupt_ ABSL_GUARDED_BY(mu_);
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  bool head_returns_body_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace shoal::fakes
