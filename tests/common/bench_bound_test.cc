// The fluid lower bound every shoal-bench system is measured against.
#include <gtest/gtest.h>

#include "bench/bound.h"

namespace shoal::bench {
namespace {

constexpr uint64_t kMbit = 1'000'000;

TEST(BenchBound, OriginUplinkBindsWhenItIsTheSlowestLink) {
  // The scenario: 8 nodes, 1 GiB, nodes 400 Mbit/s, origin 200 Mbit/s.
  const uint64_t f = 1ull << 30;
  PhysicalBound b = ComputeBound({f, 8, 200 * kMbit, 400 * kMbit, 400 * kMbit});
  EXPECT_NEAR(b.origin_seconds, f * 8.0 / 200e6, 1e-9);  // 42.9 s
  EXPECT_NEAR(b.node_seconds, f * 8.0 / 400e6, 1e-9);
  EXPECT_NEAR(b.swarm_seconds, 8 * f * 8.0 / (200e6 + 8 * 400e6), 1e-9);
  EXPECT_DOUBLE_EQ(b.seconds, b.origin_seconds);
  EXPECT_EQ(b.binding, "origin uplink");
}

TEST(BenchBound, NodeDownlinkBindsWithAFastOrigin) {
  PhysicalBound b = ComputeBound({1'000'000'000, 4, 10'000 * kMbit, 100 * kMbit, 100 * kMbit});
  EXPECT_DOUBLE_EQ(b.seconds, 80.0);  // 8 Gbit at 100 Mbit/s
  EXPECT_EQ(b.binding, "node downlink");
}

TEST(BenchBound, TotalUploadBindsWhenNodesCannotUploadWhatTheyDownload) {
  // Nodes download fast but upload slowly: 10 copies must be uploaded by the origin
  // (1000) and the nodes (10 x 10) together.
  PhysicalBound b = ComputeBound({1'000'000'000, 10, 1000 * kMbit, 1000 * kMbit, 10 * kMbit});
  EXPECT_NEAR(b.swarm_seconds, 10 * 8e9 / (1000e6 + 10 * 10e6), 1e-9);  // 72.7 s
  EXPECT_DOUBLE_EQ(b.seconds, b.swarm_seconds);
  EXPECT_EQ(b.binding, "total upload");
  EXPECT_GT(b.seconds, b.origin_seconds);
  EXPECT_GT(b.seconds, b.node_seconds);
}

TEST(BenchBound, OneNodeIsJustTheSlowerOfOriginAndNode) {
  PhysicalBound b = ComputeBound({125'000'000, 1, 100 * kMbit, 200 * kMbit, 200 * kMbit});
  EXPECT_DOUBLE_EQ(b.seconds, 10.0);
}

}  // namespace
}  // namespace shoal::bench
