// The testbed's naming and addressing plan (no namespaces are created here).
#include <gtest/gtest.h>

#include <set>

#include "bench/testbed.h"

namespace shoal::bench {
namespace {

TEST(BenchTestbedPlan, EveryHostHasItsOwnAddressAndTheRegistryTheOriginRate) {
  auto hosts = PlanHosts(200, 8, 400'000'000, 200'000'000);
  std::set<int> suffixes;
  std::set<std::string> names;
  for (const HostSpec& h : hosts) {
    EXPECT_TRUE(suffixes.insert(h.ip_suffix).second) << h.name << " reuses ." << h.ip_suffix;
    EXPECT_TRUE(names.insert(h.name).second) << h.name;
    EXPECT_GE(h.ip_suffix, 1);
    EXPECT_LE(h.ip_suffix, 254);
    EXPECT_EQ(h.rate_bps, h.name == "registry" ? 200'000'000u : 400'000'000u) << h.name;
  }
  EXPECT_EQ(hosts.size(), 200u + 3 + 8);
  EXPECT_TRUE(names.count("node-200") && names.count("seed-8") && names.count("cache"));
}

TEST(BenchTestbedPlan, RunTagsKeepInterfaceNamesShortAndCarryThePid) {
  for (int pid : {1, 4242, 4194304}) {
    std::string tag = MakeRunTag(pid, 1234567);
    EXPECT_EQ(tag.size(), 9u) << tag;
    // The longest name built from it: bridge-side veth of host .254.
    EXPECT_LE((tag + "v254").size(), 15u);
    EXPECT_EQ(PidFromName(tag + "-node-12"), pid) << tag;
    EXPECT_EQ(PidFromName(tag + "br"), pid) << tag;
    EXPECT_EQ(PidFromName(tag + "v201"), pid) << tag;
  }
  EXPECT_NE(MakeRunTag(4242, 1), MakeRunTag(4242, 2)) << "the random part must differ";
}

TEST(BenchTestbedPlan, OtherPeoplesNamesAreNotOurs) {
  for (const char* name :
       {"br-shoal", "docker0", "sb", "sbr0", "sb00003Kab-x", "sb000-node-1", "sbzzzzzzzXnode"}) {
    EXPECT_EQ(PidFromName(name), -1) << name;
  }
}

}  // namespace
}  // namespace shoal::bench
