#include "testkit/daemon_probe.h"

#include <curl/curl.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/daemon_config.h"
#include "common/hashing.h"
#include "common/metrics.h"
#include "testkit/net_util.h"
#include "testkit/subprocess.h"

namespace shoal::testkit {

bool WaitUntil(const std::function<bool()>& cond, absl::Duration timeout, absl::Duration every) {
  absl::Time until = absl::Now() + timeout;
  while (true) {
    if (cond()) return true;
    if (absl::Now() >= until) return false;
    absl::SleepFor(every);
  }
}

absl::StatusOr<std::map<std::string, double>> ScrapeMetrics(const Daemon& d) {
  std::string address(absl::StripAsciiWhitespace(
      ReadFileOrEmpty(absl::StrCat(d.data_dir, "/", kMetricsAddressFile))));
  if (address.empty()) {
    return absl::NotFoundError(absl::StrCat(d.name, " wrote no ", kMetricsAddressFile,
                                            " (started without --metrics-listen?)"));
  }
  HttpCall call;
  call.url = absl::StrCat("http://", address, "/metrics");
  call.timeout = absl::Seconds(5);
  auto r = HttpFetch(call);
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return absl::UnavailableError(absl::StrCat(d.name, " /metrics answered ", r->status));
  }
  return ParseMetricsText(r->body);
}

double MetricOf(const Daemon& d, const std::string& name) {
  auto m = ScrapeMetrics(d);
  if (!m.ok()) return -1;
  auto it = m->find(name);
  return it == m->end() ? -1 : it->second;
}

bool DaemonReady(const Daemon& d) {
  std::string address(absl::StripAsciiWhitespace(
      ReadFileOrEmpty(absl::StrCat(d.data_dir, "/", kMetricsAddressFile))));
  if (address.empty()) return false;
  HttpCall call;
  call.url = absl::StrCat("http://", address, "/readyz");
  call.timeout = absl::Seconds(2);
  auto r = HttpFetch(call);
  return r.ok() && r->status == 200;
}

absl::Status WaitForSeeds(ShoalCluster& cluster, absl::Duration timeout) {
  for (int i = 0; i < cluster.seed_count(); ++i) {
    const Daemon& d = cluster.seed(i);
    bool ready = WaitUntil([&] { return DaemonReady(d); }, timeout);
    if (!ready) {
      return absl::DeadlineExceededError(
          absl::StrCat(d.name, " did not become ready (registered) within ",
                       absl::FormatDuration(timeout), "\n", cluster.LogTails()));
    }
  }
  // The task stream opens right after registration (one RPC).
  absl::SleepFor(absl::Milliseconds(300));
  return absl::OkStatus();
}

namespace {

struct StreamState {
  Hasher sha{Hasher::Kind::kSha256};
  uint64_t bytes = 0;
  std::function<void(uint64_t)> on_bytes;
  absl::Time start;
  absl::Duration first_byte = absl::InfiniteDuration();
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* st = static_cast<StreamState*>(user);
  if (st->bytes == 0 && size * n > 0) st->first_byte = absl::Now() - st->start;
  st->sha.Update(data, size * n);
  st->bytes += size * n;
  if (st->on_bytes) st->on_bytes(st->bytes);
  return size * n;
}

}  // namespace

MirrorStream StreamFromMirror(const std::string& mirror, const std::string& repository,
                              const std::string& digest, const std::string& registry,
                              absl::Duration timeout, std::function<void(uint64_t)> on_bytes) {
  EnsureCurlInit();
  MirrorStream out;
  StreamState st;
  st.on_bytes = std::move(on_bytes);
  std::string url =
      absl::StrCat("http://", mirror, "/v2/", repository, "/blobs/", digest, "?ns=", registry);
  CURL* h = curl_easy_init();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(timeout)));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "shoal-testkit");
  st.start = absl::Now();
  CURLcode rc = curl_easy_perform(h);
  out.elapsed = absl::Now() - st.start;
  out.first_byte = st.first_byte;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out.status);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK) out.error = curl_easy_strerror(rc);
  out.bytes = st.bytes;
  out.sha256 = absl::StrCat("sha256:", st.sha.FinalHex());
  return out;
}

}  // namespace shoal::testkit
