// Rates and image shapes as a user writes them on the shoal-bench command line.
#include <gtest/gtest.h>

#include "bench/units.h"

namespace shoal::bench {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;

TEST(BenchRate, ReadsTcUnitsAsDecimalBits) {
  EXPECT_EQ(*ParseRate("200mbit"), 200'000'000u);
  EXPECT_EQ(*ParseRate("1gbit"), 1'000'000'000u);
  EXPECT_EQ(*ParseRate("1.5Gbit"), 1'500'000'000u);
  EXPECT_EQ(*ParseRate("400Mbit/s"), 400'000'000u);
  EXPECT_EQ(*ParseRate("100mbitps"), 100'000'000u);
  EXPECT_EQ(*ParseRate("64kbit"), 64'000u);
  EXPECT_EQ(*ParseRate(" 2500000bit "), 2'500'000u);
}

TEST(BenchRate, RefusesByteUnitsAndGarbageWithAHint) {
  for (const char* bad : {"200mbps", "25MB/s", "fast", "", "mbit", "-5mbit", "0gbit", "200"}) {
    auto r = ParseRate(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("mbit"), absl::string_view::npos)
        << bad << ": the message should show how to write a rate: " << r.status().message();
  }
  EXPECT_FALSE(ParseRate("10bit").ok()) << "below 1kbit is a typo, not a link";
}

TEST(BenchRate, FormatsBackToTheShortestTcSpelling) {
  EXPECT_EQ(FormatRate(200'000'000), "200mbit");
  EXPECT_EQ(FormatRate(1'000'000'000), "1gbit");
  EXPECT_EQ(FormatRate(1'500'000'000), "1500mbit");
  EXPECT_EQ(FormatRate(1234), "1234bit");
}

TEST(BenchLayers, ExpandsCountsAndSizes) {
  auto layers = ParseLayers("4x32MiB,1x1GiB");
  ASSERT_TRUE(layers.ok()) << layers.status();
  EXPECT_EQ(*layers, (std::vector<uint64_t>{32 * kMiB, 32 * kMiB, 32 * kMiB, 32 * kMiB, kGiB}));
  EXPECT_EQ(*ParseLayers("512KiB"), (std::vector<uint64_t>{512 * 1024}));
  EXPECT_EQ(ParseLayers(" 2X1GiB , 3x4096 ")->size(), 5u);
}

TEST(BenchLayers, BadEntriesNameTheCulprit) {
  struct Case {
    const char* text;
    const char* mentions;
  };
  for (const Case& c : {Case{"4x", "''"}, Case{"0x32MiB", "positive layer count"},
                        Case{"x32MiB", "positive layer count"}, Case{"4x32MiB,", "empty entry"},
                        Case{"4x32furlongs", "32furlongs"}, Case{"4x0", "positive size"}}) {
    auto r = ParseLayers(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.mentions), absl::string_view::npos)
        << c.text << " -> " << r.status().message();
  }
}

TEST(BenchLayers, FormatGroupsRunsOfEqualSizes) {
  EXPECT_EQ(FormatLayers({32 * kMiB, 32 * kMiB, kGiB, 32 * kMiB}), "2x32MiB,1x1GiB,1x32MiB");
  EXPECT_EQ(FormatLayers(*ParseLayers("8x128MiB")), "8x128MiB");
}

}  // namespace
}  // namespace shoal::bench
