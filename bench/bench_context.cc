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

void BenchContext::MarkOrigin() const { origin_ledger->Mark(); }

void BenchContext::CountOrigin(SystemResult& result, absl::Time started) const {
  OriginAccount a = origin_ledger->Read();
  if (a.last_blob_answer != absl::InfinitePast() && started != absl::InfinitePast()) {
    result.origin_done_seconds = absl::ToDoubleSeconds(a.last_blob_answer - started);
  }
  result.origin_bytes = a.blob_bytes;
  result.origin_blob_requests = a.blob_gets;
  result.origin_manifest_requests = a.manifest_requests;
  result.origin_clients = std::move(a.by_client);
  result.origin_repeats = std::move(a.repeats);
}

std::string BenchContext::BlobPath(const std::string& digest) const {
  return absl::StrCat("/v2/", repository, "/blobs/", digest);
}

}  // namespace shoal::bench
