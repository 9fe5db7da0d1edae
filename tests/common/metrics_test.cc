// The metrics registry and its HTTP endpoint: what Prometheus (and the big-blob
// tests, which count re-fetched bytes with it) read must be exactly the counters.
#include "common/metrics.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include "absl/strings/match.h"

namespace shoal {
namespace {

TEST(MetricsRegistryTest, RendersCountersAndGaugesThatParseBack) {
  MetricsRegistry r;
  MetricCounter& bytes = r.Counter("shoal_test_bytes_total", "Bytes moved.");
  MetricGauge& depth = r.Gauge("shoal_test_depth", "Queue depth.");
  EXPECT_EQ(&bytes, &r.Counter("shoal_test_bytes_total", "ignored"));  // same metric by name
  bytes.Add(5'000'000'000ull);  // past 32 bits: 20 GB blobs are the point
  bytes.Add();
  depth.Set(-3);
  std::string text = r.Render({{"shoal_test_cache_bytes", "Cache.", [] { return 1.5; }},
                               {"shoal_test_served_total", "Served.", [] { return 7.0; }, true}});
  EXPECT_TRUE(absl::StrContains(text, "# TYPE shoal_test_bytes_total counter")) << text;
  EXPECT_TRUE(absl::StrContains(text, "# TYPE shoal_test_depth gauge")) << text;
  EXPECT_TRUE(absl::StrContains(text, "# TYPE shoal_test_served_total counter")) << text;
  EXPECT_TRUE(absl::StrContains(text, "# HELP shoal_test_bytes_total Bytes moved.")) << text;
  auto parsed = ParseMetricsText(text);
  EXPECT_EQ(parsed["shoal_test_bytes_total"], 5'000'000'001.0);
  EXPECT_EQ(parsed["shoal_test_depth"], -3.0);
  EXPECT_EQ(parsed["shoal_test_cache_bytes"], 1.5);
  EXPECT_EQ(parsed["shoal_test_served_total"], 7.0);
  EXPECT_EQ(parsed.size(), 4u);
}

TEST(MetricsRegistryTest, RaiseToNeverLowersACounter) {
  MetricCounter c;
  c.RaiseTo(100);
  c.RaiseTo(40);  // a stale session total must not make a counter go backwards
  EXPECT_EQ(c.value(), 100u);
  c.Add(1);
  EXPECT_EQ(c.value(), 101u);
}

TEST(MetricsServerTest, ServesMetricsHealthAndReadiness) {
  MetricsRegistry r;
  r.Counter("shoal_test_requests_total", "Requests.").Add(3);
  std::atomic<bool> ready{false};
  MetricsServer::Options o;
  o.listen = ":0";
  o.registry = &r;
  o.ready = [&ready] { return ready.load(); };
  auto server = MetricsServer::Start(o);
  ASSERT_TRUE(server.ok()) << server.status();
  std::string address = (*server)->address();
  ASSERT_TRUE(absl::StartsWith(address, "127.0.0.1:")) << address;
  httplib::Client cli("http://" + address);
  auto m = cli.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(ParseMetricsText(m->body)["shoal_test_requests_total"], 3.0) << m->body;
  auto h = cli.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto not_ready = cli.Get("/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  ready = true;
  auto is_ready = cli.Get("/readyz");
  ASSERT_TRUE(is_ready);
  EXPECT_EQ(is_ready->status, 200);
  (*server)->Stop();
  EXPECT_FALSE(cli.Get("/healthz")) << "still serving after Stop";
}

TEST(MetricsServerTest, BadListenAddressSaysWhichKey) {
  MetricsServer::Options o;
  o.listen = "localhost";
  auto server = MetricsServer::Start(o);
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(absl::StrContains(server.status().message(), "metrics-listen")) << server.status();
}

}  // namespace
}  // namespace shoal
