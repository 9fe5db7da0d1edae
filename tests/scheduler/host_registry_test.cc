#include "scheduler/host_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace shoal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

v1::HostInfo Host(std::string id, v1::HostRole role = v1::HOST_ROLE_PEER,
                  std::string ip = "127.0.0.2") {
  v1::HostInfo h;
  h.set_id(std::move(id));
  h.set_role(role);
  h.set_ip(std::move(ip));
  h.set_data_port(6881);
  return h;
}

class HostRegistryTest : public ::testing::Test {
 protected:
  SimulatedClock clock_;
  HostRegistry registry_{clock_, absl::Seconds(6)};  // 3 x 2s heartbeats
};

TEST_F(HostRegistryTest, AliveUntilThreeHeartbeatIntervalsPassWithoutOne) {
  registry_.Register(Host("a"));
  clock_.Advance(absl::Seconds(6));
  EXPECT_TRUE(registry_.IsAlive("a"));
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_FALSE(registry_.IsAlive("a"));
}

TEST_F(HostRegistryTest, HeartbeatsKeepAHostAlive) {
  registry_.Register(Host("a"));
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(absl::Seconds(2));
    EXPECT_TRUE(registry_.Heartbeat("a", 123));
  }
  EXPECT_TRUE(registry_.IsAlive("a"));
  EXPECT_EQ(registry_.Find("a")->info.free_disk_bytes(), 123u);
}

TEST_F(HostRegistryTest, UnknownHostsAndDeclaredDeadHostsMustRegisterAgain) {
  EXPECT_FALSE(registry_.Heartbeat("stranger", 0));
  registry_.Register(Host("a"));
  clock_.Advance(absl::Seconds(7));
  EXPECT_THAT(registry_.CollectNewlyDead(), ElementsAre("a"));
  EXPECT_FALSE(registry_.Heartbeat("a", 0));  // late heartbeat does not resurrect it
  EXPECT_FALSE(registry_.IsAlive("a"));
  registry_.Register(Host("a"));
  EXPECT_TRUE(registry_.IsAlive("a"));
  EXPECT_TRUE(registry_.Heartbeat("a", 0));
}

TEST_F(HostRegistryTest, DeathIsReportedOnce) {
  registry_.Register(Host("a"));
  registry_.Register(Host("b"));
  clock_.Advance(absl::Seconds(4));
  registry_.Heartbeat("b", 0);
  clock_.Advance(absl::Seconds(3));
  EXPECT_THAT(registry_.CollectNewlyDead(), ElementsAre("a"));
  EXPECT_THAT(registry_.CollectNewlyDead(), IsEmpty());
}

TEST_F(HostRegistryTest, RegisteringAgainReplacesTheHostInfo) {
  registry_.Register(Host("a", v1::HOST_ROLE_PEER, "10.0.0.1"));
  registry_.Register(Host("a", v1::HOST_ROLE_PEER, "10.0.0.2"));
  EXPECT_EQ(registry_.Find("a")->info.ip(), "10.0.0.2");
  EXPECT_EQ(registry_.List().size(), 1u);
}

TEST_F(HostRegistryTest, LiveSeedsLeavesOutPeersAndDeadSeeds) {
  registry_.Register(Host("s1", v1::HOST_ROLE_SEED));
  registry_.Register(Host("p1"));
  clock_.Advance(absl::Seconds(5));
  registry_.Register(Host("s2", v1::HOST_ROLE_SEED));
  clock_.Advance(absl::Seconds(2));
  EXPECT_THAT(registry_.LiveSeeds(), ElementsAre("s2"));
}

TEST_F(HostRegistryTest, ListShowsLivenessAndLastSeen) {
  registry_.Register(Host("b"));
  clock_.Advance(absl::Seconds(7));
  registry_.Register(Host("a"));
  auto list = registry_.List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].host().id(), "a");
  EXPECT_TRUE(list[0].alive());
  EXPECT_EQ(list[0].last_seen_unix_ms(), absl::ToUnixMillis(clock_.Now()));
  EXPECT_FALSE(list[1].alive());
}

TEST_F(HostRegistryTest, HostsDeadForAnHourAreForgotten) {
  registry_.Register(Host("a"));
  clock_.Advance(absl::Seconds(7));
  registry_.CollectNewlyDead();
  registry_.ForgetDead(absl::Hours(1));
  EXPECT_NE(registry_.Find("a"), nullptr);
  clock_.Advance(absl::Hours(1));
  registry_.ForgetDead(absl::Hours(1));
  EXPECT_EQ(registry_.Find("a"), nullptr);
}

TEST(HostInfoValidationTest, NamesTheMissingField) {
  v1::HostInfo h = Host("a");
  EXPECT_TRUE(HostRegistry::ValidateHostInfo(h).ok());
  h.set_ip("");
  EXPECT_THAT(std::string(HostRegistry::ValidateHostInfo(h).message()),
              ::testing::HasSubstr("host.ip"));
  h = Host("a");
  h.set_role(v1::HOST_ROLE_UNSPECIFIED);
  EXPECT_THAT(std::string(HostRegistry::ValidateHostInfo(h).message()),
              ::testing::HasSubstr("host.role"));
  h = Host("");
  EXPECT_EQ(HostRegistry::ValidateHostInfo(h).code(), absl::StatusCode::kInvalidArgument);
  h = Host("a");
  h.set_data_port(0);
  EXPECT_THAT(std::string(HostRegistry::ValidateHostInfo(h).message()),
              ::testing::HasSubstr("data_port"));
}

}  // namespace
}  // namespace shoal
