// The registry mirror over loopback HTTP, shared by the mirror tests: a real
// MirrorServer on a free port, a real BlobStore in a temp dir, fake swarm
// (BlobProvider) and fake registry (OriginClient). No sleeps: the fakes release
// bytes and end waits on the test's cue.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "common/blob_store.h"
#include "common/hashing.h"
#include "common/segment_plan.h"
#include "peer/manifest_cache.h"
#include "peer/mirror_server.h"
#include "tests/peer/fake_blob_provider.h"
#include "tests/peer/fake_origin_client.h"

namespace shoal::mirror_test {

namespace fs = std::filesystem;
using fakes::FakeBlobProvider;
using fakes::FakeBlobTransfer;
using fakes::FakeOriginClient;
using ::testing::ElementsAre;

inline constexpr char kRegistry[] = "127.0.0.1:5000";
inline constexpr char kNs[] = "?ns=127.0.0.1%3A5000";
inline constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr uint32_t kPieceSize = 16 * 1024;
inline constexpr uint64_t kSegmentSize = 32 * 1024;  // small, so cached reads cross segment files

inline std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

inline BlobDigest DigestOf(absl::string_view data) {
  return *BlobDigest::Parse(absl::StrCat("sha256:", Sha256Hex(data)));
}

// Counters move on the server thread just after the client has its last byte, so
// the test spins (yield, no sleep) until they do, for at most 10 s.
inline bool Eventually(const std::function<bool()>& condition) {
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

inline std::string OciCode(const httplib::Result& res) {
  if (!res) return "<no response>";
  nlohmann::json j = nlohmann::json::parse(res->body, nullptr, false);
  if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array() || j["errors"].empty() ||
      !j["errors"][0].contains("code") || !j["errors"][0].contains("message")) {
    return "<no OCI error body: " + res->body + ">";
  }
  return j["errors"][0]["code"].get<std::string>();
}

// Runs a GET on its own thread, collecting the body as it arrives, so the test can
// watch bytes land while it drives the fake transfer.
class BackgroundGet {
 public:
  BackgroundGet(httplib::Client& client, std::string path, httplib::Headers headers = {}) {
    thread_ = std::thread([this, &client, path = std::move(path), headers = std::move(headers)] {
      httplib::Result res = client.Get(path, headers, [this](const char* data, size_t len) {
        absl::MutexLock l(&mu_);
        body_.append(data, len);
        return true;
      });
      absl::MutexLock l(&mu_);
      error_ = res.error();
      status_ = res ? res->status : 0;
      done_ = true;
    });
  }
  ~BackgroundGet() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  bool AwaitBytes(size_t n) {
    absl::MutexLock l(&mu_);
    auto enough = [&] { return body_.size() >= n || done_; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10)) && body_.size() >= n;
  }
  std::string body() {
    absl::MutexLock l(&mu_);
    return body_;
  }
  httplib::Error error() {
    absl::MutexLock l(&mu_);
    return error_;
  }
  int status() {
    absl::MutexLock l(&mu_);
    return status_;
  }

 private:
  absl::Mutex mu_;
  std::string body_ ABSL_GUARDED_BY(mu_);
  httplib::Error error_ ABSL_GUARDED_BY(mu_) = httplib::Error::Unknown;
  int status_ ABSL_GUARDED_BY(mu_) = 0;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

class MirrorServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/shoal-mirror-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = BlobStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto manifests = ManifestCache::Open(dir_);
    ASSERT_TRUE(manifests.ok()) << manifests.status();
    manifests_ = std::move(*manifests);
    StartMirror();
  }

  void TearDown() override {
    client_.reset();
    mirror_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void StartMirror(const std::function<void(MirrorOptions&)>& adjust = nullptr) {
    client_.reset();
    mirror_.reset();
    MirrorOptions options;
    options.listen = "127.0.0.1:0";
    options.clock = &clock_;
    // Long real-time slices: the fakes end waits themselves (see FakeBlobTransfer).
    options.wait_slice = absl::Seconds(30);
    options.stall_timeout = absl::Minutes(10);
    if (adjust) adjust(options);
    mirror_ = std::make_unique<MirrorServer>(options, *store_, provider_, origin_, *manifests_);
    absl::Status started = mirror_->Start();
    ASSERT_TRUE(started.ok()) << started;
    ASSERT_GT(mirror_->port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", mirror_->port());
    client_->set_url_encode(false);  // send paths exactly as written, escapes included
    client_->set_read_timeout(30, 0);
  }

  // A verified blob in the store, cut into several segment files.
  BlobDigest PutCachedBlob(const std::string& data) {
    BlobDigest digest = DigestOf(data);
    auto plan = SegmentPlan::Create(data.size(), kSegmentSize, kPieceSize);
    EXPECT_TRUE(plan.ok());
    EXPECT_TRUE(store_->Prepare(digest, *plan).ok());
    for (SegmentIndex k = 0; k < plan->segment_count(); ++k) {
      std::fstream f(store_->SegmentPath(digest, k),
                     std::ios::in | std::ios::out | std::ios::binary);
      f.write(data.data() + plan->SegmentOffset(k),
              static_cast<std::streamsize>(plan->SegmentLength(k)));
      EXPECT_TRUE(f.good());
    }
    EXPECT_TRUE(store_->MarkVerified(digest).ok());
    return digest;
  }

  static std::string BlobPath(const BlobDigest& d, const std::string& query = kNs) {
    return "/v2/test/img/blobs/" + d.str() + query;
  }

  size_t EntriesUnder(const std::string& sub) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(fs::path(dir_) / sub, ec);
         it != fs::recursive_directory_iterator(); ++it) {
      ++n;
    }
    return n;
  }

  std::string dir_;
  SimulatedClock clock_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<ManifestCache> manifests_;
  FakeBlobProvider provider_;
  FakeOriginClient origin_;
  std::unique_ptr<MirrorServer> mirror_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace shoal::mirror_test
