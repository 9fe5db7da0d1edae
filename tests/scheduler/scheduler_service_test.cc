// The real gRPC service in process on 127.0.0.1:0, driven by a fake seed and a
// fake peer through the generated client stubs.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>

#include "common/logging.h"
#include "recording_sink.h"
#include "scheduler/scheduler_server.h"
#include "shoal/v1/scheduler.grpc.pb.h"

namespace shoal::testing {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kSize = 6ull << 20;
constexpr uint64_t kSegment = 4ull << 20;

class SchedulerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)InitLogging("warn", "text");
    SchedulerServerOptions options;
    options.listen = "127.0.0.1:0";
    options.clock = &clock_;
    options.run_ticker = false;  // the test decides when liveness is checked
    auto server = SchedulerServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::Scheduler::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }

  // Every call gets a deadline so a bug fails the test instead of hanging it.
  static void Deadline(grpc::ClientContext* ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  }

  void Register(const std::string& id, v1::HostRole role, const std::string& ip) {
    grpc::ClientContext ctx;
    Deadline(&ctx);
    v1::RegisterHostRequest req;
    req.mutable_host()->set_id(id);
    req.mutable_host()->set_role(role);
    req.mutable_host()->set_ip(ip);
    req.mutable_host()->set_data_port(6881);
    v1::RegisterHostResponse resp;
    grpc::Status s = stub_->RegisterHost(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.heartbeat_interval_ms(), 2000u);
  }

  static v1::AnnounceRequest OpenMsg(const std::string& host, bool want) {
    v1::AnnounceRequest r;
    r.mutable_open()->set_host_id(host);
    r.mutable_open()->mutable_blob()->set_digest(TestDigest(42));
    r.mutable_open()->mutable_blob()->set_registry("127.0.0.1:5000");
    r.mutable_open()->mutable_blob()->set_repository("demo/app");
    r.mutable_open()->set_want(want);
    return r;
  }

  SimulatedClock clock_;
  std::unique_ptr<SchedulerServer> server_;
  std::unique_ptr<v1::Scheduler::Stub> stub_;
};

TEST_F(SchedulerServiceTest, PeerOpenBecomesSeedTaskThenLayoutSegmentAndParentsReachThePeer) {
  Register("seed-1", v1::HOST_ROLE_SEED, "127.0.0.11");
  Register("peer-1", v1::HOST_ROLE_PEER, "127.0.0.21");

  grpc::ClientContext task_ctx;
  Deadline(&task_ctx);
  v1::WatchTasksRequest watch;
  watch.set_host_id("seed-1");
  auto tasks = stub_->WatchTasks(&task_ctx, watch);
  tasks->WaitForInitialMetadata();  // the stream is attached from here on

  grpc::ClientContext peer_ctx;
  Deadline(&peer_ctx);
  auto peer = stub_->Announce(&peer_ctx);
  ASSERT_TRUE(peer->Write(OpenMsg("peer-1", true)));

  v1::Task task;
  ASSERT_TRUE(tasks->Read(&task));
  EXPECT_EQ(task.fetch().blob().digest(), TestDigest(42));
  EXPECT_EQ(task.fetch().blob().registry(), "127.0.0.1:5000");

  grpc::ClientContext seed_ctx;
  Deadline(&seed_ctx);
  auto seed = stub_->Announce(&seed_ctx);
  ASSERT_TRUE(seed->Write(OpenMsg("seed-1", false)));
  v1::AnnounceRequest layout;
  layout.mutable_layout()->set_size(kSize);
  layout.mutable_layout()->set_segment_size(kSegment);
  layout.mutable_layout()->set_piece_size(1u << 20);
  layout.mutable_layout()->set_segment_count(2);
  ASSERT_TRUE(seed->Write(layout));
  v1::AnnounceRequest ready;
  ready.mutable_segment_ready()->set_index(0);
  ready.mutable_segment_ready()->set_torrent("d4:infod6:lengthi4194304eee");
  ready.mutable_segment_ready()->set_info_hash(std::string(40, 'a'));
  ready.mutable_segment_ready()->set_length(kSegment);
  ASSERT_TRUE(seed->Write(ready));

  v1::AnnounceResponse got;
  ASSERT_TRUE(peer->Read(&got));
  ASSERT_TRUE(got.has_layout());
  EXPECT_EQ(got.layout().size(), kSize);
  ASSERT_TRUE(peer->Read(&got));
  ASSERT_TRUE(got.has_segment());
  EXPECT_EQ(got.segment().info_hash(), std::string(40, 'a'));
  EXPECT_EQ(got.segment().torrent(), "d4:infod6:lengthi4194304eee");
  ASSERT_TRUE(peer->Read(&got));
  ASSERT_TRUE(got.has_parents());
  EXPECT_EQ(got.parents().segment_index(), 0u);
  ASSERT_EQ(got.parents().parents_size(), 1);
  EXPECT_EQ(got.parents().parents(0).host_id(), "seed-1");
  EXPECT_EQ(got.parents().parents(0).ip(), "127.0.0.11");
  EXPECT_EQ(got.parents().parents(0).port(), 6881u);

  // The peer finishes and leaves cleanly.
  v1::AnnounceRequest done;
  done.mutable_done();
  ASSERT_TRUE(peer->Write(done));
  ASSERT_TRUE(peer->WritesDone());
  EXPECT_TRUE(peer->Finish().ok());
  auto snap = server_->coordinator().GetBlob(TestDigest(42));
  ASSERT_TRUE(snap.has_value());
  for (const auto& h : snap->hosts) {
    if (h.host_id == "peer-1") {
      EXPECT_EQ(h.state, "done");
    }
  }

  ASSERT_TRUE(seed->WritesDone());
  EXPECT_TRUE(seed->Finish().ok());
  task_ctx.TryCancel();
  EXPECT_EQ(tasks->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(SchedulerServiceTest, StreamNotStartingWithOpenIsRejected) {
  grpc::ClientContext ctx;
  Deadline(&ctx);
  auto stream = stub_->Announce(&ctx);
  v1::AnnounceRequest have;
  have.mutable_have()->set_index(0);
  stream->Write(have);
  stream->WritesDone();
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("open"));
}

TEST_F(SchedulerServiceTest, UnregisteredHostCannotWatchTasks) {
  grpc::ClientContext ctx;
  Deadline(&ctx);
  v1::WatchTasksRequest watch;
  watch.set_host_id("nobody");
  auto tasks = stub_->WatchTasks(&ctx, watch);
  v1::Task t;
  EXPECT_FALSE(tasks->Read(&t));
  grpc::Status s = tasks->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("RegisterHost"));
}

TEST_F(SchedulerServiceTest, HeartbeatAndListHosts) {
  grpc::ClientContext c1;
  Deadline(&c1);
  v1::HeartbeatRequest hb;
  hb.set_host_id("peer-1");
  v1::HeartbeatResponse hr;
  ASSERT_TRUE(stub_->Heartbeat(&c1, hb, &hr).ok());
  EXPECT_TRUE(hr.reregister());

  Register("peer-1", v1::HOST_ROLE_PEER, "127.0.0.21");
  Register("seed-1", v1::HOST_ROLE_SEED, "127.0.0.11");
  clock_.Advance(absl::Seconds(7));
  grpc::ClientContext c2;
  Deadline(&c2);
  ASSERT_TRUE(stub_->Heartbeat(&c2, hb, &hr).ok());
  EXPECT_FALSE(hr.reregister());

  grpc::ClientContext c3;
  Deadline(&c3);
  v1::ListHostsResponse list;
  ASSERT_TRUE(stub_->ListHosts(&c3, v1::ListHostsRequest(), &list).ok());
  ASSERT_EQ(list.hosts_size(), 2);
  EXPECT_EQ(list.hosts(0).host().id(), "peer-1");
  EXPECT_TRUE(list.hosts(0).alive());
  EXPECT_FALSE(list.hosts(1).alive());  // seed-1 missed its heartbeats
}

TEST_F(SchedulerServiceTest, DeadHostsStreamsEndWithUnavailable) {
  Register("peer-1", v1::HOST_ROLE_PEER, "127.0.0.21");
  grpc::ClientContext ctx;
  Deadline(&ctx);
  auto stream = stub_->Announce(&ctx);
  ASSERT_TRUE(stream->Write(OpenMsg("peer-1", true)));
  // No seed: the peer is sent to the origin, which also proves the open was processed.
  v1::AnnounceResponse got;
  ASSERT_TRUE(stream->Read(&got));
  EXPECT_TRUE(got.has_go_to_origin());

  clock_.Advance(absl::Seconds(7));
  server_->coordinator().Tick();
  EXPECT_FALSE(stream->Read(&got));
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(), HasSubstr("register again"));
}

TEST_F(SchedulerServiceTest, ShutdownEndsOpenStreamsWithinASecondOrTwo) {
  Register("peer-1", v1::HOST_ROLE_PEER, "127.0.0.21");
  grpc::ClientContext ctx;
  Deadline(&ctx);
  auto stream = stub_->Announce(&ctx);
  ASSERT_TRUE(stream->Write(OpenMsg("peer-1", true)));
  v1::AnnounceResponse got;
  ASSERT_TRUE(stream->Read(&got));

  auto start = std::chrono::steady_clock::now();
  server_->Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_FALSE(stream->Read(&got));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SchedulerServiceTest, PortInUseIsAClearError) {
  SchedulerServerOptions options;
  options.listen = server_->address();
  options.run_ticker = false;
  auto second = SchedulerServer::Start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("cannot listen on"));
}

}  // namespace
}  // namespace shoal::testing
