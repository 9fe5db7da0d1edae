// An in-memory OriginClient for unit tests: serves blobs from a map, records every
// ranged request, and lets a test inject faults per call (cut a body after N bytes,
// answer 429 with Retry-After, 404, corrupt a byte) or block a call until it says so.
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/origin_client.h"

namespace shoal {

class FakeOrigin : public OriginClient {
 public:
  struct Fault {
    uint64_t deliver = UINT64_MAX;  // bytes delivered before the call ends
    absl::Status status;            // returned after them (OK: a silent short answer)
    int http_status = 0;
    absl::Duration retry_after = absl::ZeroDuration();
    bool corrupt = false;  // flip the first delivered byte
  };
  // Called for each FetchRange before any byte moves; call is 0-based across all calls.
  using FaultFn = std::function<std::optional<Fault>(uint64_t offset, uint64_t length, int call)>;
  using Hook = std::function<void(uint64_t offset, uint64_t length)>;

  void AddBlob(const std::string& digest, std::string bytes) {
    std::lock_guard<std::mutex> l(mu_);
    blobs_[digest] = std::move(bytes);
  }
  void set_fault(FaultFn fn) { fault_ = std::move(fn); }
  // Runs before each FetchRange, outside any lock: tests block here to order completions.
  void set_before_fetch(Hook hook) { before_fetch_ = std::move(hook); }

  uint64_t bytes_served() const {
    std::lock_guard<std::mutex> l(mu_);
    return bytes_served_;
  }
  std::vector<std::pair<uint64_t, uint64_t>> ranges() const {  // (offset, length) per call
    std::lock_guard<std::mutex> l(mu_);
    return ranges_;
  }
  int size_calls() const {
    std::lock_guard<std::mutex> l(mu_);
    return size_calls_;
  }

  absl::StatusOr<uint64_t> BlobSize(const OriginRepo& repo, absl::string_view digest) override {
    std::lock_guard<std::mutex> l(mu_);
    ++size_calls_;
    auto it = blobs_.find(std::string(digest));
    if (it == blobs_.end()) return NotFound(repo, digest);
    return it->second.size();
  }

  RangeResult FetchRange(const OriginRepo& repo, absl::string_view digest, uint64_t offset,
                         uint64_t length, const ByteSink& sink,
                         const std::atomic<bool>* cancel) override {
    if (before_fetch_) before_fetch_(offset, length);
    RangeResult r;
    std::string data;
    int call;
    {
      std::lock_guard<std::mutex> l(mu_);
      call = calls_++;
      ranges_.emplace_back(offset, length);
      auto it = blobs_.find(std::string(digest));
      if (it == blobs_.end()) {
        r.status = NotFound(repo, digest);
        r.http_status = 404;
        return r;
      }
      if (offset + length > it->second.size()) {
        r.status = absl::OutOfRangeError("range past the end");
        r.http_status = 416;
        return r;
      }
      data = it->second.substr(offset, length);
    }
    std::optional<Fault> fault = fault_ ? fault_(offset, length, call) : std::nullopt;
    uint64_t deliver = fault ? std::min<uint64_t>(fault->deliver, length) : length;
    if (fault && fault->corrupt && !data.empty()) data[0] = static_cast<char>(data[0] ^ 0x5a);
    // Delivered in slices, as a network would.
    for (uint64_t at = 0; at < deliver;) {
      if (cancel != nullptr && cancel->load()) {
        r.status = absl::CancelledError("cancelled");
        return r;
      }
      size_t n = static_cast<size_t>(std::min<uint64_t>(16 << 10, deliver - at));
      if (!sink(offset + at, data.data() + at, n)) {
        r.status = absl::CancelledError("sink refused");
        return r;
      }
      at += n;
      r.bytes += n;
      std::lock_guard<std::mutex> l(mu_);
      bytes_served_ += n;
    }
    r.http_status = 206;
    if (fault) {
      r.status = fault->status.ok() && r.bytes < length
                     ? absl::UnavailableError("answer ended early")
                     : fault->status;
      if (fault->http_status != 0) r.http_status = fault->http_status;
      r.retry_after = fault->retry_after;
    }
    return r;
  }

  absl::StatusOr<ManifestResponse> GetManifest(const OriginRepo& repo, absl::string_view reference,
                                               const std::vector<std::string>&, bool) override {
    return absl::NotFoundError(absl::StrCat("no manifest ", reference, " in fake origin"));
  }

 private:
  static absl::Status NotFound(const OriginRepo& repo, absl::string_view digest) {
    return absl::NotFoundError(absl::StrCat("origin ", repo.registry, " answered 404 for ", digest,
                                            " in ", repo.repository));
  }

  mutable std::mutex mu_;
  std::map<std::string, std::string> blobs_;
  FaultFn fault_;
  Hook before_fetch_;
  uint64_t bytes_served_ = 0;
  int calls_ = 0;
  int size_calls_ = 0;
  std::vector<std::pair<uint64_t, uint64_t>> ranges_;
};

}  // namespace shoal
