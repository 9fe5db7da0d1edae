// Attributing the origin registry's blob traffic to testbed hosts.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "bench/origin_ledger.h"

namespace shoal::bench {
namespace {

std::string Line(const std::string& method, const std::string& uri, const std::string& remote,
                 int status, uint64_t written, const std::string& time = "2026-01-01T00:00:00Z") {
  return absl::StrCat("time=\"", time,
                      "\" level=info msg=\"response completed\" http.request.method=", method,
                      " http.request.remoteaddr=\"", remote, "\" http.request.uri=\"", uri,
                      "\" http.request.useragent=\"shoal\" http.response.status=", status,
                      " http.response.written=", written, "\n");
}

TEST(BenchOriginLedger, SaysWhoFetchedWhatAndWhatWasFetchedTwice) {
  const std::string a = "sha256:" + std::string(64, 'a');
  const std::string b = "sha256:" + std::string(64, 'b');
  std::string log =
      Line("GET", "/v2/bench/img/blobs/" + a, "10.1.2.211:40000", 206, 600) +
      Line("GET", "/v2/bench/img/blobs/" + a, "10.1.2.211:40002", 206, 400) +  // 2nd range
      Line("GET", "/v2/bench/img/blobs/" + b, "10.1.2.211:40004", 200, 450) +
      Line("GET", "/v2/bench/img/blobs/" + b + "?ns=x", "10.1.2.3:5555", 200, 450) +  // again
      Line("HEAD", "/v2/bench/img/blobs/" + b, "10.1.2.3:5556", 200, 0) +
      Line("GET", "/v2/bench/img/manifests/v1", "10.1.2.211:40006", 200, 900) +
      "time=\"x\" level=info msg=\"listening on 10.1.2.201:5000\"\n";
  OriginAccount acc = AccountOriginLog(log, {{"10.1.2.211", "seed-1"}, {"10.1.2.3", "node-3"}},
                                       {{a, 1000}, {b, 450}});
  EXPECT_EQ(acc.blob_bytes, 1000u + 450 + 450);
  EXPECT_EQ(acc.blob_gets, 4);
  EXPECT_EQ(acc.manifest_requests, 1);
  EXPECT_EQ(acc.by_client["seed-1"].blob_gets, 3);
  EXPECT_EQ(acc.by_client["seed-1"].blob_bytes, 1450u);
  EXPECT_EQ(acc.by_client["node-3"].blob_bytes, 450u);
  ASSERT_EQ(acc.repeats.size(), 1u) << "two ranges of one blob are one copy, not a repeat";
  EXPECT_EQ(acc.repeats[0].digest, b);
  EXPECT_EQ(acc.repeats[0].bytes, 900u);
  EXPECT_EQ(acc.repeats[0].clients, (std::map<std::string, int>{{"seed-1", 1}, {"node-3", 1}}));
}

TEST(BenchOriginLedger, KnowsWhenTheLastBlobAnswerCompleted) {
  const std::string a = "sha256:" + std::string(64, 'a');
  OriginAccount acc = AccountOriginLog(
      Line("GET", "/v2/r/blobs/" + a, "10.9.9.9:1", 206, 5, "2026-11-21T18:37:32.501712745Z") +
          Line("GET", "/v2/r/blobs/" + a, "10.9.9.9:1", 206, 5, "2026-11-21T18:37:40.25Z") +
          Line("GET", "/v2/r/manifests/v1", "10.9.9.9:1", 200, 5, "2026-11-21T18:38:00Z"),
      {}, {{a, 10}});
  absl::Time want;
  std::string err;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, "2026-11-21T18:37:40.25Z", &want, &err));
  EXPECT_EQ(acc.last_blob_answer, want) << "manifest answers do not count";
}

TEST(BenchOriginLedger, UnknownClientsAreShownByAddress) {
  const std::string a = "sha256:" + std::string(64, 'a');
  OriginAccount acc =
      AccountOriginLog(Line("GET", "/v2/r/blobs/" + a, "10.9.9.9:1", 200, 5), {}, {{a, 5}});
  EXPECT_EQ(acc.by_client["10.9.9.9"].blob_bytes, 5u);
  EXPECT_TRUE(acc.repeats.empty());
}

}  // namespace
}  // namespace shoal::bench
