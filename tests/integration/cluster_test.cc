// The test cluster itself with the real daemons: every daemon comes up on its own
// loopback address, a peer's mirror answers the registry API version check, and
// a daemon killed with SIGKILL comes back on the same address and data dir.
#include <gtest/gtest.h>

#include <csignal>
#include <set>

#include "testkit/net_util.h"
#include "testkit/shoal_cluster.h"

namespace shoal::testkit {
namespace {

TEST(ShoalClusterTest, StartsKillsAndRestartsDaemons) {
  ClusterOptions o;
  o.seeds = 1;
  o.peers = 2;
  auto cluster = ShoalCluster::Start(o);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ShoalCluster& c = **cluster;

  std::set<std::string> ips;
  for (Daemon* d : c.all()) {
    EXPECT_TRUE(d->running()) << d->name;
    ips.insert(d->ip);
  }
  EXPECT_EQ(ips.size(), 4u) << "each daemon should have its own loopback address";

  HttpCall v2;
  v2.url = "http://" + c.mirror(0) + "/v2/";
  auto r = HttpFetch(v2);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200) << r->body;

  Daemon& peer = c.peer(1);
  ASSERT_TRUE(c.Kill(peer, SIGKILL).ok());
  EXPECT_FALSE(peer.running());
  v2.url = "http://" + c.mirror(1) + "/v2/";
  v2.timeout = absl::Seconds(2);
  EXPECT_FALSE(HttpFetch(v2).ok()) << "mirror still answers after SIGKILL";

  ASSERT_TRUE(c.Restart(peer).ok()) << c.LogTails();
  EXPECT_TRUE(peer.running());
  r = HttpFetch(v2);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);

  // The scheduler restarts on the same address too; peers keep running.
  ASSERT_TRUE(c.Kill(c.scheduler(), SIGKILL).ok());
  ASSERT_TRUE(c.Restart(c.scheduler()).ok()) << c.LogTails();
  EXPECT_TRUE(c.peer(0).running());
}

}  // namespace
}  // namespace shoal::testkit
