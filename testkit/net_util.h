// Addresses and plain-HTTP calls for tests that run real processes on loopback.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shoal::testkit {

// A TCP port that was free on `ip` a moment ago (bind to :0, read, close). The
// kernel hands out ephemeral ports in rotation, so a reuse race is unlikely.
absl::StatusOr<int> FreePort(const std::string& ip = "127.0.0.1");

// A loopback address (127.A.B.C) for one node of a test cluster. A and B come
// from our pid, so concurrent test processes use disjoint addresses; C counts
// up within the process. Linux routes all of 127.0.0.0/8 to lo without setup.
std::string NextLoopbackIp();

// "ip:port"
std::string HostPort(const std::string& ip, int port);

struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::string username;  // Basic auth when non-empty
  std::string password;
  bool path_as_is = false;  // send "../" in the path verbatim (no client-side normalisation)
  absl::Duration timeout = absl::Seconds(30);
};

struct HttpResult {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names; last value wins
  std::string Header(const std::string& lower_name) const;
};

// curl_global_init, once per process (HttpFetch calls it; other libcurl users in
// the testkit call it before their first handle).
void EnsureCurlInit();

// One HTTP exchange; an error only when no HTTP answer arrived.
absl::StatusOr<HttpResult> HttpFetch(const HttpCall& call);

// Polls `url` until any HTTP answer arrives; returns its status code.
absl::StatusOr<long> WaitForHttp(const std::string& url, absl::Duration timeout);

// Polls until a unix socket accepts connections.
absl::Status WaitForUnixSocket(const std::string& path, absl::Duration timeout);

}  // namespace shoal::testkit
