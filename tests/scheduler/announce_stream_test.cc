// What the announce stream accepts, and the per-host progress it records.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "swarm_test_util.h"

namespace shoal::testing {
namespace {

using ::testing::HasSubstr;
using K = v1::AnnounceResponse;

class AnnounceStreamTest : public SwarmTest {};

TEST_F(AnnounceStreamTest, UnregisteredHostIsToldToRegister) {
  auto s = TryOpen("stranger", 1, true);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("RegisterHost"));
}

TEST_F(AnnounceStreamTest, HostDeclaredDeadMustRegisterAgainBeforeAnnouncing) {
  Register("p1");
  Pass(absl::Seconds(7), {"p1"});
  coordinator_->Tick();
  EXPECT_EQ(TryOpen("p1", 1, true).status().code(), absl::StatusCode::kFailedPrecondition);
  Register("p1");
  EXPECT_TRUE(TryOpen("p1", 1, true).ok());
}

TEST_F(AnnounceStreamTest, BadDigestAndMalformedOriginAreRejected) {
  Register("p1");
  v1::AnnounceOpen open;
  open.set_host_id("p1");
  open.mutable_blob()->set_digest("sha256:nothex");
  auto s = coordinator_->OpenAnnounce(open, std::make_shared<AnnounceRecorder>());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);

  open.mutable_blob()->set_digest(TestDigest(1));
  open.mutable_blob()->set_repository("../etc");
  s = coordinator_->OpenAnnounce(open, std::make_shared<AnnounceRecorder>());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("blob.repository"));
}

TEST_F(AnnounceStreamTest, WantingABlobNobodyHasWithoutNamingItsOriginFailsFast) {
  RegisterSeed("seed");
  Register("p1");
  v1::AnnounceOpen open;
  open.set_host_id("p1");
  open.mutable_blob()->set_digest(TestDigest(1));
  open.set_want(true);
  auto sink = std::make_shared<AnnounceRecorder>();
  ASSERT_TRUE(coordinator_->OpenAnnounce(open, sink).ok());
  auto got = sink->Take();
  ASSERT_EQ(Count(got, K::kUpstreamFailed), 1);
  EXPECT_THAT(got.back().upstream_failed().reason(), HasSubstr("origin"));
  EXPECT_THAT(tasks_["seed"]->Take(), ::testing::IsEmpty());
}

TEST_F(AnnounceStreamTest, WantingWithoutOriginIsFineWhenTheSwarmHasIt) {
  RegisterSeed("seed");
  Register("p1");
  SeedHolding("seed", 1);
  v1::AnnounceOpen open;
  open.set_host_id("p1");
  open.mutable_blob()->set_digest(TestDigest(1));
  open.set_want(true);
  auto sink = std::make_shared<AnnounceRecorder>();
  ASSERT_TRUE(coordinator_->OpenAnnounce(open, sink).ok());
  auto got = sink->Take();
  EXPECT_EQ(Count(got, K::kUpstreamFailed), 0);
  EXPECT_EQ(Count(got, K::kSegment), static_cast<int>(kSegments));
}

TEST_F(AnnounceStreamTest, MessagesAreCheckedAgainstTheLayout) {
  RegisterSeed("seed");
  Register("other");
  Stream seed = Open("seed", 1, false);
  EXPECT_EQ(coordinator_->OnAnnounce(seed.id, SegmentReadyMsg(0)).code(),
            absl::StatusCode::kFailedPrecondition);  // layout first
  Say(seed, LayoutMsg());
  EXPECT_EQ(coordinator_->OnAnnounce(seed.id, HaveMsg(kSegments)).code(),
            absl::StatusCode::kInvalidArgument);
  v1::AnnounceRequest open;
  open.mutable_open()->set_host_id("seed");
  EXPECT_EQ(coordinator_->OnAnnounce(seed.id, open).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(coordinator_->OnAnnounce(seed.id, v1::AnnounceRequest()).code(),
            absl::StatusCode::kInvalidArgument);

  v1::AnnounceRequest wrong_length = SegmentReadyMsg(2);
  wrong_length.mutable_segment_ready()->set_length(kSegmentSize);
  EXPECT_EQ(coordinator_->OnAnnounce(seed.id, wrong_length).code(),
            absl::StatusCode::kInvalidArgument);

  Stream other = Open("other", 1, false);
  v1::AnnounceRequest layout = LayoutMsg();
  layout.mutable_layout()->set_segment_size(2 * kSegmentSize);
  layout.mutable_layout()->set_segment_count(2);
  absl::Status conflict = coordinator_->OnAnnounce(other.id, layout);
  EXPECT_EQ(conflict.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(conflict.message()), HasSubstr("same sizes"));
}

TEST_F(AnnounceStreamTest, SegmentWithADifferentTorrentDoesNotJoinTheSwarm) {
  RegisterSeed("seed");
  Register("odd");
  Register("child");
  SeedHolding("seed", 1);
  Stream odd = Open("odd", 1, false);
  EXPECT_EQ(coordinator_->OnAnnounce(odd.id, SegmentReadyMsg(0, std::string(40, 'f'))).code(),
            absl::StatusCode::kFailedPrecondition);
  Stream child = Open("child", 1, true);
  EXPECT_THAT(*LastParents(child.sink->Take(), 0), ::testing::ElementsAre("seed"));
}

TEST_F(AnnounceStreamTest, NewStreamForTheSameBlobReplacesTheOldOne) {
  Register("p1");
  Stream first = Open("p1", 1, false, {0});
  Stream second = Open("p1", 1, false, {0});
  EXPECT_TRUE(first.sink->closed());
  EXPECT_EQ(first.sink->status().code(), absl::StatusCode::kAborted);
  EXPECT_FALSE(second.sink->closed());
  EXPECT_EQ(coordinator_->OnAnnounce(first.id, HaveMsg(1)).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(AnnounceStreamTest, SnapshotShowsPerHostStateBytesRateAndError) {
  RegisterSeed("seed");
  Register("p1");
  Register("p2");
  Stream p1 = Open("p1", 1, true);
  Stream p2 = Open("p2", 1, true);
  SeedHolding("seed", 1);
  Say(p1, HaveMsg(0));
  Say(p1, ProgressMsg(1, 1000));
  v1::AnnounceRequest rate;
  rate.mutable_blob_progress()->set_bytes_done(100);  // behind the segment reports
  rate.mutable_blob_progress()->set_rate_bps(5000);
  Say(p1, rate);
  Say(p2, FailedMsg("disk full on /var/lib/shoal"));

  auto snap = coordinator_->GetBlob(TestDigest(1));
  ASSERT_TRUE(snap.has_value());
  EXPECT_EQ(snap->size, kBlobSize);
  EXPECT_EQ(snap->segments_known, kSegments);
  std::map<std::string, HostBlobSnapshot> by_host;
  for (const auto& h : snap->hosts) by_host[h.host_id] = h;
  EXPECT_EQ(by_host["seed"].state, "done");
  EXPECT_EQ(by_host["seed"].bytes_done, kBlobSize);
  EXPECT_EQ(by_host["p1"].state, "downloading");
  EXPECT_EQ(by_host["p1"].bytes_done, SegLen(0) + 1000);
  EXPECT_EQ(by_host["p1"].rate_bps, 5000u);
  EXPECT_EQ(by_host["p2"].state, "failed");
  EXPECT_EQ(by_host["p2"].error, "disk full on /var/lib/shoal");

  coordinator_->CloseAnnounce(p1.id);
  snap = coordinator_->GetBlob(TestDigest(1));
  for (const auto& h : snap->hosts) {
    if (h.host_id == "p1") {
      EXPECT_EQ(h.state, "left");
      EXPECT_FALSE(h.connected);
    }
  }
  EXPECT_FALSE(coordinator_->GetBlob(TestDigest(99)).has_value());
}

TEST_F(AnnounceStreamTest, JobRunnerCanSendAPeerAFetchAndCancelIt) {
  Register("p1");
  auto tasks = std::make_shared<TaskRecorder>();
  ASSERT_TRUE(coordinator_->OpenTaskStream("p1", tasks).ok());
  v1::FetchBlobTask fetch;
  fetch.mutable_blob()->set_digest(TestDigest(4));
  fetch.set_job_id("job-1");
  ASSERT_TRUE(coordinator_->RequestFetch("p1", fetch).ok());
  EXPECT_EQ(coordinator_->RequestFetch("nobody", fetch).code(), absl::StatusCode::kNotFound);
  coordinator_->CancelFetch("p1", TestDigest(4), "job-1");
  auto got = tasks->Take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].fetch().job_id(), "job-1");
  EXPECT_EQ(got[1].cancel().digest(), TestDigest(4));
}

TEST_F(AnnounceStreamTest, TaskStreamNeedsARegisteredHost) {
  EXPECT_EQ(coordinator_->OpenTaskStream("ghost", std::make_shared<TaskRecorder>()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(AnnounceStreamTest, ShutdownEndsEveryStreamWithUnavailable) {
  RegisterSeed("seed");
  Register("p1");
  Stream p1 = Open("p1", 1, true);
  coordinator_->Shutdown();
  EXPECT_EQ(p1.sink->status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(tasks_["seed"]->status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(TryOpen("p1", 2, true).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(AnnounceStreamTest, IdleBlobsAreForgottenButAnnouncedOnesKept) {
  RegisterSeed("seed");
  Register("p1");
  Stream seed = SeedHolding("seed", 1);
  Stream p1 = Open("p1", 2, false, {0});
  coordinator_->CloseAnnounce(p1.id);
  Pass(policy_.idle_blob_retention + absl::Seconds(1));
  coordinator_->Tick();
  EXPECT_TRUE(coordinator_->GetBlob(TestDigest(1)).has_value());
  EXPECT_FALSE(coordinator_->GetBlob(TestDigest(2)).has_value());
}

}  // namespace
}  // namespace shoal::testing
