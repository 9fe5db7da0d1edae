// Reading the scheduler's preheat job status: when is a node done?
#include <gtest/gtest.h>

#include "bench/preheat_client.h"

namespace shoal::bench {
namespace {

constexpr char kRunning[] = R"({
  "id": "job-7", "state": "running", "image": "r:5000/bench/img:v1",
  "blobs": [
    {"digest": "sha256:aa", "size": 100, "hosts": [
      {"host_id": "node-1", "state": "succeeded", "bytes_done": 100},
      {"host_id": "node-2", "state": "succeeded", "bytes_done": 100},
      {"host_id": "seed-1", "role": "seed", "state": "succeeded", "bytes_done": 100}]},
    {"digest": "sha256:bb", "size": 50, "hosts": [
      {"host_id": "node-1", "state": "succeeded", "bytes_done": 50},
      {"host_id": "node-2", "state": "running", "bytes_done": 20},
      {"host_id": "seed-1", "role": "seed", "state": "succeeded", "bytes_done": 50}]}
  ]})";

TEST(BenchPreheatStatus, ANodeIsDoneWhenEveryBlobSucceededOnIt) {
  auto s = ParseJobStatus(kRunning);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->id, "job-7");
  EXPECT_FALSE(s->Terminal());
  auto done = s->HostsComplete();
  EXPECT_TRUE(done["node-1"]);
  EXPECT_FALSE(done["node-2"]) << "one blob is still running there";
  EXPECT_EQ(done.count("seed-1"), 0u) << "the seed's copy is not a node's";
  EXPECT_EQ(s->BytesDone(), 100u + 100 + 50 + 20) << "nodes' bytes only";
}

TEST(BenchPreheatStatus, AHostAbsentFromOneBlobIsNotDone) {
  auto s = ParseJobStatus(R"({"id": "j", "state": "running", "blobs": [
      {"digest": "sha256:aa", "size": 1, "hosts": [{"host_id": "node-1", "state": "succeeded"}]},
      {"digest": "sha256:bb", "size": 1, "hosts": []}]})");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->HostsComplete()["node-1"]);
}

TEST(BenchPreheatStatus, ANodesFinishTimeIsItsLastBlobsFinishTime) {
  // The shape the scheduler's JobStatusJson gives: finish times in blob_timings.
  auto s = ParseJobStatus(R"({"id": "j", "state": "running", "blobs": [
      {"digest": "sha256:aa", "size": 1, "hosts": [
         {"host_id": "node-1", "state": "succeeded"},
         {"host_id": "node-2", "state": "succeeded"}]},
      {"digest": "sha256:bb", "size": 1, "hosts": [
         {"host_id": "node-1", "state": "succeeded"},
         {"host_id": "node-2", "state": "running"}]}],
    "blob_timings": [
      {"digest": "sha256:aa", "host_id": "node-1", "finished_unix_ms": 5000},
      {"digest": "sha256:aa", "host_id": "node-2", "finished_unix_ms": 7000},
      {"digest": "sha256:bb", "host_id": "node-1", "finished_unix_ms": 9000},
      {"digest": "sha256:bb", "host_id": "node-2", "finished_unix_ms": 0}]})");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->HostFinishedUnixMs("node-1"), 9000);
  EXPECT_EQ(s->HostFinishedUnixMs("node-2"), 0) << "a blob still running has no finish time";
  EXPECT_EQ(s->HostFinishedUnixMs("node-9"), 0);
}

TEST(BenchPreheatStatus, TerminalStatesAndBadAnswers) {
  EXPECT_TRUE(ParseJobStatus(R"({"id":"j","state":"failed","error":"origin 500"})")->Terminal());
  EXPECT_EQ(ParseJobStatus(R"({"id":"j","state":"failed","error":"origin 500"})")->error,
            "origin 500");
  EXPECT_TRUE(ParseJobStatus(R"({"id":"j","state":"succeeded"})")->Terminal());
  EXPECT_FALSE(ParseJobStatus("<html>502</html>").ok());
  EXPECT_FALSE(ParseJobStatus(R"({"state":"running"})").ok()) << "no id";
}

}  // namespace
}  // namespace shoal::bench
