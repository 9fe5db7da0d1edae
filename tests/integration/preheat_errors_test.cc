// Issue 3 acceptance: bad input to the job API gets a 4xx whose JSON names the
// problem, an unknown tag gives a failed job with the registry's reason (not a
// hang), and shoalctl's exit codes tell scripts what happened.
#include "absl/strings/match.h"
#include "preheat_test_util.h"

namespace shoal::testkit {
namespace {

class PreheatErrorsTest : public PreheatFixture {
 protected:
  void SetUp() override {
    Setup s;
    s.image.repository = "shoal/err";
    s.image.tag = "v6";
    s.image.seed = 808;
    s.image.layer_sizes = {UnalignedSize(1 * kMiB + 23)};
    s.image.multi_platform = true;  // an index: an unknown platform is detectable
    s.peers = 1;
    Prepare(s);
  }
};

TEST_F(PreheatErrorsTest, BadInputIsA4xxThatNamesTheProblem) {
  struct Case {
    std::string what;
    std::string body;
    long status;
    std::string code;
    std::string mention;
  };
  const std::string ref = Ref();
  const std::vector<Case> cases = {
      {"malformed JSON", "{\"image\": ", 400, "malformed_json", "not valid JSON"},
      {"no image", "{}", 400, "missing_field", "image"},
      {"malformed reference", R"({"image":"Bad Ref!"})", 400, "invalid_reference",
       "malformed image reference"},
      {"negative concurrency", nlohmann::json{{"image", ref}, {"layer_concurrency", -2}}.dump(),
       400, "invalid_concurrency", "layer_concurrency"},
      {"unknown scope", nlohmann::json{{"image", ref}, {"scope", "everywhere"}}.dump(), 400,
       "invalid_scope", "everywhere"},
      {"unknown host", nlohmann::json{{"image", ref}, {"scope", "hosts:peer-1,nohost"}}.dump(), 400,
       "unknown_host", "nohost"},
      {"malformed platform", nlohmann::json{{"image", ref}, {"platform", "amd64"}}.dump(), 400,
       "invalid_platform", "OS/ARCH"},
      {"unknown platform", nlohmann::json{{"image", ref}, {"platform", "linux/s390x"}}.dump(), 400,
       "unknown_platform", "linux/s390x"},
      {"misspelt field", nlohmann::json{{"image", ref}, {"platfrom", "linux/amd64"}}.dump(), 400,
       "unknown_field", "platfrom"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    JobApiResult r = Call("POST", "/api/v1/jobs", c.body);
    EXPECT_EQ(r.status, c.status) << r.raw;
    ASSERT_TRUE(r.body.is_object() && r.body.contains("error")) << r.raw;
    EXPECT_EQ(r.body["error"]["code"], c.code) << r.raw;
    EXPECT_TRUE(absl::StrContains(r.body["error"]["message"].get<std::string>(), c.mention))
        << r.raw;
  }
  EXPECT_EQ(Call("GET", "/api/v1/jobs").body["jobs"].size(), 0u) << "bad input made a job";
  EXPECT_EQ(Call("GET", "/api/v1/jobs?state=bogus").status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/jobs/job-nope").status, 404);

  // An unknown tag: the registry's 404 fails the job with that reason at once.
  absl::Time start = absl::Now();
  JobApiResult missing = Create({{"image", image_.Reference(origin_) + "-missing"}});
  ASSERT_EQ(missing.status, 201) << missing.raw;
  nlohmann::json job = WaitForJob(missing.body["id"], absl::Seconds(20));
  EXPECT_EQ(job["state"], "failed");
  EXPECT_TRUE(absl::StrContains(job["error"].get<std::string>(), "404")) << job["error"];
  EXPECT_TRUE(absl::StrContains(job["error"].get<std::string>(), "v6-missing")) << job["error"];
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST_F(PreheatErrorsTest, ShoalctlExitCodesAndHelp) {
  auto help = Shoalctl({"--help"});
  ASSERT_TRUE(help.ok());
  EXPECT_EQ(help->exit_code, 0);
  for (const char* cmd : {"preheat IMAGE", "jobs [--state S]", "job ID", "cancel ID", "hosts",
                          "--platform", "--scope", "--wait", "--output"}) {
    EXPECT_TRUE(absl::StrContains(help->output, cmd)) << cmd;
  }
  auto usage = Shoalctl({"preheat"});
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->exit_code, 2) << usage->output;
  auto bad_ref = Shoalctl({"preheat", "Bad Ref!"});
  ASSERT_TRUE(bad_ref.ok());
  EXPECT_EQ(bad_ref->exit_code, 3) << bad_ref->output;
  EXPECT_TRUE(absl::StrContains(bad_ref->output, "malformed image reference")) << bad_ref->output;

  auto missing = Shoalctl({"preheat", image_.Reference(origin_) + "-gone", "--wait"});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->exit_code, 1) << missing->output;
  EXPECT_TRUE(absl::StrContains(missing->output, "404")) << missing->output;

  auto ok = Shoalctl({"--output", "json", "preheat", Ref(), "--wait"});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->exit_code, 0) << ok->output;
  auto status = nlohmann::json::parse(ok->output, nullptr, false);
  ASSERT_TRUE(status.is_object()) << ok->output;
  EXPECT_EQ(status["state"], "succeeded");

  auto hosts = Shoalctl({"hosts"});
  ASSERT_TRUE(hosts.ok());
  EXPECT_EQ(hosts->exit_code, 0);
  EXPECT_TRUE(absl::StrContains(hosts->output, "seed-1")) << hosts->output;
  EXPECT_TRUE(absl::StrContains(hosts->output, "peer-1")) << hosts->output;

  std::vector<std::string> away = {std::string(SHOAL_BIN_DIR) + "/shoalctl", "--scheduler",
                                   "127.0.0.1:1", "jobs"};
  auto unreachable = RunCommand(away, absl::Seconds(60));
  ASSERT_TRUE(unreachable.ok());
  EXPECT_EQ(unreachable->exit_code, 3) << unreachable->output;
  EXPECT_TRUE(absl::StrContains(unreachable->output, "cannot reach the scheduler"))
      << unreachable->output;
}

}  // namespace
}  // namespace shoal::testkit
