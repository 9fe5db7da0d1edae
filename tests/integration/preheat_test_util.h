// Shared by the preheat acceptance tests: a real registry (optionally behind a
// FaultProxy that slows blob answers so jobs are observably mid-flight), a
// synthetic image pushed to it, a ShoalCluster whose scheduler resolves images
// on that registry, and small clients for the REST job API and shoalctl.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/hashing.h"
#include "testkit/fault_proxy.h"
#include "testkit/image_builder.h"
#include "testkit/image_pusher.h"
#include "testkit/net_util.h"
#include "testkit/registry_process.h"
#include "testkit/shoal_cluster.h"
#include "testkit/subprocess.h"
#include "testkit/temp_dir.h"

namespace shoal::testkit {

constexpr uint64_t kMiB = 1 << 20;

inline const std::vector<std::string>& TransferFlags() {
  static const auto* f = new std::vector<std::string>{
      "--segment-size", "4MiB", "--piece-size", "1MiB", "--chunk-size", "1MiB"};
  return *f;
}

struct JobApiResult {
  long status = 0;
  nlohmann::json body;
  std::string raw;
};

class PreheatFixture : public ::testing::Test {
 protected:
  struct Setup {
    ImageSpec image;
    RegistryOptions registry;
    bool proxy = false;  // put a FaultProxy in front of the registry
    int seeds = 1;
    int peers = 3;
  };

  void Prepare(const Setup& setup) {
    auto dir = TempDir::Create("preheat");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    auto reg = RegistryProcess::Start(setup.registry);
    ASSERT_TRUE(reg.ok()) << reg.status();
    registry_ = std::move(*reg);
    auto image = BuildImage(setup.image, dir_->path() + "/image");
    ASSERT_TRUE(image.ok()) << image.status();
    image_ = std::move(*image);
    ASSERT_TRUE(
        PushImage(image_, {registry_->url(), setup.registry.username, setup.registry.password})
            .ok());
    registry_->MarkAccessLog();
    origin_ = registry_->host_port();
    if (setup.proxy) {
      FaultProxy::Options po;
      po.upstream = registry_->host_port();
      auto proxy = FaultProxy::Start(po);
      ASSERT_TRUE(proxy.ok()) << proxy.status();
      proxy_ = std::move(*proxy);
      origin_ = proxy_->address();
    }
    ClusterOptions o;
    o.seeds = setup.seeds;
    o.peers = setup.peers;
    o.insecure_registries = {origin_};
    o.seed_flags = TransferFlags();
    o.peer_flags = TransferFlags();
    o.scheduler_flags = {"--insecure-registry",  origin_, "--job-poll-interval", "100ms",
                         "--heartbeat-interval", "1s"};
    o.log_level = "debug";
    auto cluster = ShoalCluster::Start(o);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    WaitForHosts(setup.seeds, setup.peers);
  }

  // Every blob GET of `digest` stalls `stall` once, after `after` bytes.
  void StallBlobsOnce(absl::Duration stall, uint64_t after, size_t platform = 0) {
    for (const BlobFile& b : image_.PlatformBlobs(platform)) {
      FaultRule r;
      r.path_regex = b.digest;
      r.method = "GET";
      r.action = FaultRule::Action::kStallMidBody;
      r.after_bytes = std::min<uint64_t>(after, b.size / 2);
      r.delay = stall;
      r.times = 1;
      proxy_->AddRule(r);
    }
  }

  std::string Ref() const { return image_.Reference(origin_); }

  JobApiResult Call(const std::string& method, const std::string& path,
                    const std::string& body = "") {
    HttpCall call;
    call.method = method;
    call.url = cluster_->scheduler_http_url() + path;
    call.body = body;
    if (!body.empty()) call.headers = {"Content-Type: application/json"};
    call.timeout = absl::Seconds(60);
    auto r = HttpFetch(call);
    JobApiResult out;
    EXPECT_TRUE(r.ok()) << method << " " << path << ": " << r.status();
    if (!r.ok()) return out;
    out.status = r->status;
    out.raw = r->body;
    out.body = nlohmann::json::parse(r->body, nullptr, false);
    return out;
  }

  JobApiResult Create(const nlohmann::json& body) {
    return Call("POST", "/api/v1/jobs", body.dump());
  }

  nlohmann::json Get(const std::string& id) { return Call("GET", "/api/v1/jobs/" + id).body; }

  // Bytes the job status reports on hosts of `role` ("seed" or "peer"), all blobs.
  static uint64_t BytesDoneOn(const nlohmann::json& job, const std::string& role) {
    uint64_t bytes = 0;
    for (const auto& b : job["blobs"]) {
      for (const auto& h : b["hosts"]) {
        if (h["role"] == role) bytes += h["bytes_done"].get<uint64_t>();
      }
    }
    return bytes;
  }

  // Polls until the job ends; the last status.
  nlohmann::json WaitForJob(const std::string& id, absl::Duration timeout = absl::Seconds(90)) {
    absl::Time deadline = absl::Now() + timeout;
    nlohmann::json j;
    while (absl::Now() < deadline) {
      j = Get(id);
      std::string state = j.value("state", "");
      if (state == "succeeded" || state == "failed" || state == "cancelled") return j;
      absl::SleepFor(absl::Milliseconds(200));
    }
    ADD_FAILURE() << "job " << id << " did not end within " << timeout << "; last status:\n"
                  << j.dump(2) << "\n"
                  << cluster_->LogTails(40);
    return j;
  }

  void WaitForHosts(int seeds, int peers) {
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      auto hosts = Call("GET", "/api/v1/hosts").body;
      int s = 0, p = 0;
      if (hosts.contains("hosts")) {
        for (const auto& h : hosts["hosts"]) {
          if (!h.value("alive", false)) continue;
          (h.value("role", "") == "seed" ? s : p)++;
        }
      }
      if (s >= seeds && p >= peers) return;
      absl::SleepFor(absl::Milliseconds(100));
    }
    FAIL() << "hosts did not register\n" << cluster_->LogTails();
  }

  // The blob as a node's containerd would get it: through the peer's mirror.
  // Returns the sha256 digest of what came back.
  std::string FetchThroughMirror(int peer, const BlobFile& blob) {
    HttpCall call;
    call.url = absl::StrCat("http://", cluster_->mirror(peer), "/v2/", image_.spec.repository,
                            "/blobs/", blob.digest, "?ns=", origin_);
    call.timeout = absl::Seconds(60);
    auto r = HttpFetch(call);
    if (!r.ok() || r->status != 200) {
      return absl::StrCat("error: ", r.ok() ? std::to_string(r->status) : r.status().ToString());
    }
    return absl::StrCat("sha256:", Sha256Hex(r->body));
  }

  // Each blob of the platform served exactly once by the origin.
  void ExpectOriginServedEachBlobOnce(size_t platform = 0) {
    RegistryAccessLog log = registry_->ReadAccessLog();
    for (const BlobFile& b : image_.PlatformBlobs(platform)) {
      EXPECT_EQ(log.Blob(b.digest).bytes_served, b.size)
          << b.digest << " (" << b.size << " bytes) should come from the origin exactly once\n"
          << log.Summary();
    }
  }

  // Bytes allocated to files under the seeds' and peers' data dirs (blocks, not
  // sizes: segment files may be created at full length and filled later).
  uint64_t DataDirBytes() {
    uint64_t total = 0;
    std::error_code ec;
    for (Daemon* d : cluster_->all()) {
      if (d->role == DaemonRole::kScheduler) continue;
      for (const auto& e : std::filesystem::recursive_directory_iterator(d->data_dir, ec)) {
        struct stat st {};
        if (lstat(e.path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
          total += static_cast<uint64_t>(st.st_blocks) * 512;
        }
      }
    }
    return total;
  }

  absl::StatusOr<CommandResult> Shoalctl(const std::vector<std::string>& args,
                                         absl::Duration timeout = absl::Seconds(120)) {
    std::vector<std::string> argv = {std::string(SHOAL_BIN_DIR) + "/shoalctl", "--scheduler",
                                     cluster_->scheduler_address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, timeout);
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<RegistryProcess> registry_;
  std::unique_ptr<FaultProxy> proxy_;
  std::string origin_;  // what image references name: the proxy or the registry
  BuiltImage image_;
  std::unique_ptr<ShoalCluster> cluster_;
};

// Start/finish times of the goal copies per host, from a job's blob_timings.
struct Interval {
  int64_t start = 0, end = 0;
};
inline std::map<std::string, std::map<std::string, Interval>> TimingsByHost(
    const nlohmann::json& job) {
  std::map<std::string, std::map<std::string, Interval>> out;  // host -> digest -> interval
  for (const auto& t : job["blob_timings"]) {
    out[t["host_id"]][t["digest"]] = {t["started_unix_ms"].get<int64_t>(),
                                      t["finished_unix_ms"].get<int64_t>()};
  }
  return out;
}

}  // namespace shoal::testkit
