#include "bench/bench_context.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace shoal::bench {

std::vector<const TestbedHost*> BenchContext::Nodes() const {
  std::vector<const TestbedHost*> nodes;
  for (const TestbedHost& h : testbed->hosts()) {
    if (absl::StartsWith(h.name, "node-")) nodes.push_back(&h);
  }
  return nodes;
}

std::string BenchContext::OriginHostPort() const {
  return absl::StrCat(testbed->host("registry").ip, ":", kRegistryPort);
}

PullOptions BenchContext::Pulls(TransferMeter* meter) const {
  PullOptions o;
  o.deadline = timeout;
  o.cancel = interrupted;
  o.meter = meter;
  return o;
}

void BenchContext::CountOrigin(SystemResult& result) const {
  testkit::RegistryAccessLog log = origin->ReadAccessLog();
  result.origin_bytes = log.TotalBlobBytesServed();
  result.origin_blob_requests = 0;
  for (const auto& [digest, counts] : log.blobs) result.origin_blob_requests += counts.get;
  result.origin_manifest_requests = log.TotalManifestRequests();
}

std::string BenchContext::BlobPath(const std::string& digest) const {
  return absl::StrCat("/v2/", repository, "/blobs/", digest);
}

}  // namespace shoal::bench
