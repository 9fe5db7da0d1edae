// A SwarmCoordinator on a SimulatedClock with recording streams, and helpers
// that build announce messages and read back what hosts were told.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/logging.h"
#include "recording_sink.h"
#include "scheduler/swarm_coordinator.h"

namespace shoal::testing {

// 10 MiB in segments of 4 MiB (4, 4, 2), 1 MiB pieces.
constexpr uint64_t kBlobSize = 10ull << 20;
constexpr uint64_t kSegmentSize = 4ull << 20;
constexpr uint32_t kPieceSize = 1u << 20;
constexpr uint32_t kSegments = 3;

inline uint64_t SegLen(uint32_t k) {
  return k + 1 < kSegments ? kSegmentSize : kBlobSize - 2 * kSegmentSize;
}

struct Stream {
  uint64_t id = 0;
  std::shared_ptr<AnnounceRecorder> sink;
};

inline v1::AnnounceRequest LayoutMsg() {
  v1::AnnounceRequest r;
  auto* l = r.mutable_layout();
  l->set_size(kBlobSize);
  l->set_segment_size(kSegmentSize);
  l->set_piece_size(kPieceSize);
  l->set_segment_count(kSegments);
  return r;
}
inline v1::AnnounceRequest SegmentReadyMsg(uint32_t k, std::string info_hash = "") {
  v1::AnnounceRequest r;
  auto* m = r.mutable_segment_ready();
  m->set_index(k);
  m->set_torrent("d4:infod6:lengthi1eee");
  m->set_info_hash(info_hash.empty() ? absl::StrFormat("%040x", k + 1) : info_hash);
  m->set_length(SegLen(k));
  return r;
}
inline v1::AnnounceRequest HaveMsg(uint32_t k) {
  v1::AnnounceRequest r;
  r.mutable_have()->set_index(k);
  return r;
}
inline v1::AnnounceRequest ProgressMsg(uint32_t k, uint64_t bytes) {
  v1::AnnounceRequest r;
  r.mutable_progress()->set_index(k);
  r.mutable_progress()->set_bytes_done(bytes);
  return r;
}
inline v1::AnnounceRequest FailureMsg(uint32_t k, std::string parent) {
  v1::AnnounceRequest r;
  r.mutable_failure()->set_index(k);
  r.mutable_failure()->set_parent_host_id(std::move(parent));
  r.mutable_failure()->set_reason("piece hash mismatch");
  return r;
}
inline v1::AnnounceRequest NeedParentsMsg(uint32_t k) {
  v1::AnnounceRequest r;
  r.mutable_need_parents()->set_index(k);
  return r;
}
inline v1::AnnounceRequest DoneMsg() {
  v1::AnnounceRequest r;
  r.mutable_done();
  return r;
}
inline v1::AnnounceRequest FailedMsg(std::string reason) {
  v1::AnnounceRequest r;
  r.mutable_failed()->set_reason(std::move(reason));
  return r;
}

// Fetch tasks among `tasks`, as digests.
inline std::vector<std::string> FetchDigests(const std::vector<v1::Task>& tasks) {
  std::vector<std::string> out;
  for (const auto& t : tasks) {
    if (t.has_fetch()) out.push_back(t.fetch().blob().digest());
  }
  return out;
}

// The parent ids of the last ParentSet for segment k among `msgs` (nullopt: none).
inline std::optional<std::vector<std::string>> LastParents(
    const std::vector<v1::AnnounceResponse>& msgs, uint32_t k) {
  std::optional<std::vector<std::string>> out;
  for (const auto& m : msgs) {
    if (!m.has_parents() || m.parents().segment_index() != k) continue;
    out.emplace();
    for (const auto& p : m.parents().parents()) out->push_back(p.host_id());
  }
  return out;
}

inline int Count(const std::vector<v1::AnnounceResponse>& msgs,
                 v1::AnnounceResponse::KindCase kind) {
  int n = 0;
  for (const auto& m : msgs) n += m.kind_case() == kind;
  return n;
}

class SwarmTest : public ::testing::Test {
 protected:
  SwarmTest() {
    // The coordinator's info lines would bury a failure's output.
    (void)InitLogging("warn", "text");
    Reset();
  }

  // Rebuilds the coordinator with policy_ (tests change policy_ first).
  void Reset() {
    coordinator_ = std::make_unique<SwarmCoordinator>(policy_, clock_);
    registered_.clear();
  }

  void Register(const std::string& id, v1::HostRole role = v1::HOST_ROLE_PEER,
                const std::string& zone = "", const std::string& ip = "") {
    v1::RegisterHostRequest req;
    auto* h = req.mutable_host();
    h->set_id(id);
    h->set_role(role);
    h->set_ip(ip.empty() ? "10.0.0." + std::to_string(registered_.size() + 1) : ip);
    h->set_data_port(6881);
    if (!zone.empty()) (*h->mutable_labels())["zone"] = zone;
    ASSERT_TRUE(coordinator_->RegisterHost(req).ok());
    registered_.insert(id);
  }
  void RegisterSeed(const std::string& id) {
    Register(id, v1::HOST_ROLE_SEED);
    tasks_[id] = std::make_shared<TaskRecorder>();
    ASSERT_TRUE(coordinator_->OpenTaskStream(id, tasks_[id]).ok());
  }

  absl::StatusOr<Stream> TryOpen(const std::string& host, int blob, bool want,
                                 std::vector<uint32_t> have = {}, bool verified = false) {
    v1::AnnounceOpen open;
    open.set_host_id(host);
    open.mutable_blob()->set_digest(TestDigest(blob));
    open.mutable_blob()->set_registry("registry.local:5000");
    open.mutable_blob()->set_repository("library/app");
    open.set_want(want);
    open.set_verified(verified);
    for (uint32_t k : have) open.add_have_segments(k);
    Stream s;
    s.sink = std::make_shared<AnnounceRecorder>();
    auto id = coordinator_->OpenAnnounce(open, s.sink);
    if (!id.ok()) return id.status();
    s.id = *id;
    return s;
  }
  Stream Open(const std::string& host, int blob, bool want, std::vector<uint32_t> have = {},
              bool verified = false) {
    auto s = TryOpen(host, blob, want, std::move(have), verified);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : Stream{};
  }
  void Say(const Stream& s, const v1::AnnounceRequest& r) {
    absl::Status st = coordinator_->OnAnnounce(s.id, r);
    EXPECT_TRUE(st.ok()) << st;
  }
  // A seed stream that has fetched the blob: layout and every segment announced.
  Stream SeedHolding(const std::string& seed, int blob, bool done = true) {
    Stream s = Open(seed, blob, /*want=*/false);
    Say(s, LayoutMsg());
    for (uint32_t k = 0; k < kSegments; ++k) Say(s, SegmentReadyMsg(k));
    if (done) Say(s, DoneMsg());
    return s;
  }

  // Moves time forward in 1 s steps; every host except those in `silent` heartbeats.
  void Pass(absl::Duration d, const std::set<std::string>& silent = {}) {
    for (absl::Duration t; t < d; t += absl::Seconds(1)) {
      clock_.Advance(absl::Seconds(1));
      for (const auto& id : registered_) {
        if (silent.contains(id)) continue;
        v1::HeartbeatRequest hb;
        hb.set_host_id(id);
        coordinator_->Heartbeat(hb);
      }
    }
  }

  SwarmPolicy policy_;
  SimulatedClock clock_;
  std::unique_ptr<SwarmCoordinator> coordinator_;
  std::set<std::string> registered_;
  std::map<std::string, std::shared_ptr<TaskRecorder>> tasks_;
};

}  // namespace shoal::testing
