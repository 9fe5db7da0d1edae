// Accounting of what an origin registry (docker-registry, distribution 2.8) served,
// read from its log: the proof that "the origin served each blob once".
//
// The registry logs one "response completed" line per request ("response completed
// with error" for answers >= 400), in logrus text
//   ... msg="response completed" http.request.method=GET
//       http.request.uri="/v2/t/img/blobs/sha256:ab.." http.request.useragent=curl/7.88.1
//       http.response.status=200 http.response.written=3000001
// or, with `log.formatter: json`, as a JSON object with the same keys. Both parse.
// http.response.written is the body bytes actually sent (a broken transfer counts
// what went out; a ranged GET counts its range).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace shoal::testkit {

struct RegistryRequest {
  std::string method;
  std::string uri;  // path and query as received
  std::string user_agent;
  int status = 0;
  uint64_t written = 0;  // body bytes sent
};

struct RequestCounts {
  int get = 0;                // GET requests, any status
  int head = 0;               // HEAD requests, any status
  int failed = 0;             // requests answered >= 400
  uint64_t bytes_served = 0;  // body bytes of 2xx GET answers (error bodies do not count)
};

struct RegistryAccessLog {
  std::vector<RegistryRequest> requests;           // every completed request, in log order
  std::map<std::string, RequestCounts> blobs;      // by digest ("sha256:...")
  std::map<std::string, RequestCounts> manifests;  // by reference (tag or digest)

  // Sum of blob GET body bytes over all digests.
  uint64_t TotalBlobBytesServed() const;
  // Blob GET bytes sent to clients whose user agent contains `agent_substr`.
  uint64_t BlobBytesServedTo(absl::string_view agent_substr) const;
  int TotalManifestRequests() const;  // GET + HEAD
  RequestCounts Blob(const std::string& digest) const;
  // A table for failure messages.
  std::string Summary() const;
};

// Parses everything the registry logged (non-request lines are skipped).
RegistryAccessLog ParseRegistryLog(absl::string_view log_text);

// Parses one logrus text line into key -> value (quotes removed, \" unescaped).
std::map<std::string, std::string> ParseLogfmt(absl::string_view line);

}  // namespace shoal::testkit
