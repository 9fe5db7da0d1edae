// What a caller sends the job API: scopes and the create request's JSON. Each
// mistake must come back as a 4xx that names it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "job_test_fakes.h"
#include "scheduler/api_error.h"
#include "scheduler/job_json.h"
#include "scheduler/job_scope.h"

namespace shoal::testing {
namespace {

using ::testing::HasSubstr;

std::vector<v1::HostStatus> Cluster() {
  SimulatedClock clock;
  FakeJobSwarm swarm(clock);
  swarm.AddHost("seed-1", v1::HOST_ROLE_SEED);
  swarm.AddHost("peer-1", v1::HOST_ROLE_PEER, {{"zone", "a"}, {"gpu", "yes"}});
  swarm.AddHost("peer-2", v1::HOST_ROLE_PEER, {{"zone", "a"}});
  swarm.AddHost("peer-3", v1::HOST_ROLE_PEER, {{"zone", "b"}});
  swarm.AddHost("peer-4", v1::HOST_ROLE_PEER, {{"zone", "b"}});
  swarm.SetAlive("peer-4", false);
  return swarm.Hosts();
}

std::vector<std::string> Targets(const std::string& scope) {
  auto s = ParseJobScope(scope);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return {};
  auto t = ResolveScopeTargets(*s, Cluster());
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : std::vector<std::string>{};
}

TEST(JobScopeTest, ScopesPickTheRightLivePeers) {
  EXPECT_EQ(Targets(""), (std::vector<std::string>{"peer-1", "peer-2", "peer-3"}));
  EXPECT_EQ(Targets("all-peers"), (std::vector<std::string>{"peer-1", "peer-2", "peer-3"}));
  EXPECT_EQ(Targets("zone=a"), (std::vector<std::string>{"peer-1", "peer-2"}));
  EXPECT_EQ(Targets("zone=a, gpu=yes"), (std::vector<std::string>{"peer-1"}));
  EXPECT_EQ(Targets("hosts:peer-3,peer-1,peer-3"), (std::vector<std::string>{"peer-3", "peer-1"}));
  EXPECT_TRUE(Targets("seeds").empty());
  EXPECT_EQ(ParseJobScope("hosts:peer-3,peer-1")->Canonical(), "hosts:peer-1,peer-3");
  EXPECT_EQ(ParseJobScope("zone=a,gpu=yes")->Canonical(), "gpu=yes,zone=a");
}

TEST(JobScopeTest, BadScopesAreNamed) {
  for (const char* bad :
       {"everyone", "hosts:", "hosts:a,,b", "zone=", "=a", "zone=a,zone=b", "zone==a"}) {
    SCOPED_TRACE(bad);
    auto s = ParseJobScope(bad);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(ApiErrorReason(s.status()), "invalid_scope");
    EXPECT_EQ(HttpStatusFor(s.status()), 400);
  }
  auto hosts = Cluster();
  auto unknown = ResolveScopeTargets(*ParseJobScope("hosts:peer-1,ghost"), hosts);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(ApiErrorReason(unknown.status()), "unknown_host");
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("'ghost'"));
  EXPECT_EQ(HttpStatusFor(unknown.status()), 400);
  auto seed = ResolveScopeTargets(*ParseJobScope("hosts:seed-1"), hosts);
  ASSERT_FALSE(seed.ok());
  EXPECT_THAT(std::string(seed.status().message()), HasSubstr("is a seed"));
  auto dead = ResolveScopeTargets(*ParseJobScope("hosts:peer-4"), hosts);
  ASSERT_FALSE(dead.ok());
  EXPECT_EQ(ApiErrorReason(dead.status()), "host_down");
  auto none = ResolveScopeTargets(*ParseJobScope("zone=c"), hosts);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(ApiErrorReason(none.status()), "no_targets");
}

TEST(CreateJobJsonTest, ReadsEveryField) {
  auto r = ParseCreateJobJson(R"({"image":"reg:5000/a:v1","platform":"linux/arm64",
      "scope":"zone=a","layer_concurrency":3,"host_concurrency":5,"username":"u",
      "password":"p","idempotency_key":"k1"})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->image(), "reg:5000/a:v1");
  EXPECT_EQ(r->platform(), "linux/arm64");
  EXPECT_EQ(r->scope(), "zone=a");
  EXPECT_EQ(r->layer_concurrency(), 3u);
  EXPECT_EQ(r->host_concurrency(), 5u);
  EXPECT_EQ(r->auth().username(), "u");
  EXPECT_EQ(r->auth().password(), "p");
  EXPECT_EQ(r->idempotency_key(), "k1");
}

TEST(CreateJobJsonTest, MistakesAreNamed) {
  struct Case {
    std::string body, reason, mention;
  };
  const std::vector<Case> cases = {
      {"{\"image\": \"a\"", "malformed_json", "not valid JSON"},
      {"[1,2]", "malformed_json", "object"},
      {"{}", "missing_field", "image"},
      {R"({"image":"a","layer_concurrency":-1})", "invalid_concurrency", "layer_concurrency"},
      {R"({"image":"a","host_concurrency":-5})", "invalid_concurrency", "host_concurrency"},
      {R"({"image":"a","host_concurrency":1.5})", "invalid_concurrency", "whole number"},
      {R"({"image":"a","layer_concurrency":"8"})", "invalid_concurrency", "whole number"},
      {R"({"image":42})", "invalid_field", "\"image\" must be a string"},
      {R"({"image":"a","scpoe":"seeds"})", "unknown_field", "scpoe"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    auto r = ParseCreateJobJson(c.body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(ApiErrorReason(r.status()), c.reason);
    EXPECT_EQ(HttpStatusFor(r.status()), 400);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.mention));
    nlohmann::json err = ErrorJson(r.status());
    EXPECT_EQ(err["error"]["code"], c.reason);
  }
}

TEST(JobStatusJsonTest, CarriesPerHostProgressAndTimings) {
  v1::JobStatus s;
  s.set_id("job-1");
  s.set_state(v1::JOB_STATE_RUNNING);
  s.set_eta_seconds(-1);
  s.set_created_unix_ms(1700000000123);
  auto* b = s.add_blobs();
  b->set_digest(FakeDigest(1));
  b->set_size(100);
  auto* h = b->add_hosts();
  h->set_host_id("peer-1");
  h->set_state("running");
  h->set_bytes_done(40);
  h->set_requested_unix_ms(1700000000200);
  h->set_started_unix_ms(1700000000300);
  nlohmann::json j = JobStatusJson(s);
  EXPECT_EQ(j["state"], "running");
  EXPECT_EQ(j["eta_seconds"], -1);
  EXPECT_EQ(j["created_at"], "2023-11-14T22:13:20.123Z");
  EXPECT_TRUE(j["finished_at"].is_null());
  EXPECT_EQ(j["blobs"][0]["hosts"][0]["bytes_done"], 40);
  EXPECT_EQ(j["blob_timings"][0]["host_id"], "peer-1");
  EXPECT_EQ(j["blob_timings"][0]["started_unix_ms"], 1700000000300);
  EXPECT_EQ(j["blob_timings"][0]["finished_unix_ms"], 0);
}

}  // namespace
}  // namespace shoal::testing
