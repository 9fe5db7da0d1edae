#include "scheduler/scheduler_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace shoal {
namespace {

using ::testing::HasSubstr;

std::string Error(const SchedulerConfig& c) {
  return std::string(ValidateSchedulerConfig(c).message());
}

TEST(SchedulerConfigTest, DefaultsAreValidAndLocal) {
  SchedulerConfig c;
  EXPECT_TRUE(ValidateSchedulerConfig(c).ok());
  EXPECT_EQ(c.listen, "127.0.0.1:65003");
  EXPECT_EQ(c.http_listen, "127.0.0.1:65002");
}

// One timeout model: the job stall timeout follows the transfer flags unless set.
TEST(SchedulerConfigTest, JobStallTimeoutDerivesFromTheTransferTimeouts) {
  SchedulerConfig c;
  EXPECT_EQ(c.job_stall_timeout(), absl::Seconds(30 + 30 + 256 + 30));  // 5m46s
  c.transfer.min_rate = 64 << 10;  // a slower origin is allowed 4x the time per segment
  EXPECT_EQ(c.job_stall_timeout(), absl::Seconds(30 + 30 + 1024 + 30));
  c.jobs.stall_timeout = absl::Minutes(2);  // set explicitly: taken as is
  EXPECT_EQ(c.job_stall_timeout(), absl::Minutes(2));
  EXPECT_TRUE(ValidateSchedulerConfig(c).ok());
  c.jobs.stall_timeout = absl::Milliseconds(10);
  EXPECT_THAT(Error(c), HasSubstr("job-stall-timeout"));
}

TEST(SchedulerConfigTest, MessagesNameTheKey) {
  SchedulerConfig c;
  c.listen = "65003";
  EXPECT_THAT(Error(c), HasSubstr("listen"));
  c = SchedulerConfig();
  c.http_listen = "127.0.0.1:99999";
  EXPECT_THAT(Error(c), HasSubstr("http-listen"));
  c = SchedulerConfig();
  c.swarm.heartbeat_interval = absl::Milliseconds(10);
  EXPECT_THAT(Error(c), HasSubstr("heartbeat-interval"));
  c = SchedulerConfig();
  c.swarm.max_children_per_parent = 0;
  EXPECT_THAT(Error(c), HasSubstr("max-children-per-parent"));
  c = SchedulerConfig();
  c.swarm.parents_per_segment = 0;
  EXPECT_THAT(Error(c), HasSubstr("parents-per-segment"));
  c = SchedulerConfig();
  c.log_format = "xml";
  EXPECT_THAT(Error(c), HasSubstr("log-format"));
  c = SchedulerConfig();
  c.data_dir = "";
  EXPECT_THAT(Error(c), HasSubstr("data-dir"));
}

TEST(SchedulerConfigTest, FlagsOverrideDefaults) {
  SchedulerConfig c;
  OptionSet options("shoal-scheduler", "test");
  RegisterSchedulerOptions(options, &c);
  const char* argv[] = {"shoal-scheduler",
                        "--heartbeat-interval",
                        "5s",
                        "--max-children-per-parent=3",
                        "--parents-per-segment",
                        "2",
                        "--max-origin-fallbacks",
                        "0"};
  auto outcome = options.Parse(8, const_cast<char**>(argv));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(c.swarm.heartbeat_interval, absl::Seconds(5));
  EXPECT_EQ(c.swarm.liveness_timeout(), absl::Seconds(15));
  EXPECT_EQ(c.swarm.max_children_per_parent, 3u);
  EXPECT_EQ(c.swarm.parents_per_segment, 2u);
  EXPECT_EQ(c.swarm.max_origin_fallbacks, 0u);
}

}  // namespace
}  // namespace shoal
