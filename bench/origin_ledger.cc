#include "bench/origin_ledger.h"

#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "testkit/registry_log.h"
#include "testkit/subprocess.h"

namespace shoal::bench {

OriginAccount AccountOriginLog(absl::string_view log_text,
                               const std::map<std::string, std::string>& ip_to_host,
                               const std::map<std::string, uint64_t>& blob_sizes) {
  OriginAccount a;
  testkit::RegistryAccessLog parsed = testkit::ParseRegistryLog(log_text);
  a.blob_bytes = parsed.TotalBlobBytesServed();
  for (const auto& [digest, counts] : parsed.blobs) a.blob_gets += counts.get;
  a.manifest_requests = parsed.TotalManifestRequests();

  // Who asked: the same lines again, for the remote address testkit does not keep.
  std::map<std::string, std::map<std::string, int>> clients_by_blob;
  for (absl::string_view line : absl::StrSplit(log_text, '\n')) {
    if (!absl::StrContains(line, "msg=\"response completed\"")) continue;
    auto kv = testkit::ParseLogfmt(line);
    const std::string& uri = kv["http.request.uri"];
    size_t at = uri.find("/blobs/sha256:");
    if (kv["http.request.method"] != "GET" || at == std::string::npos) continue;
    std::string digest =
        uri.substr(at + 7, uri.find('?', at) == std::string::npos ? std::string::npos
                                                                  : uri.find('?', at) - at - 7);
    const std::string& remote = kv["http.request.remoteaddr"];
    std::string ip = remote.substr(0, remote.rfind(':'));
    auto host = ip_to_host.find(ip);
    const std::string client = host != ip_to_host.end() ? host->second : ip;
    uint64_t written = 0;
    (void)absl::SimpleAtoi(kv["http.response.written"], &written);
    int status = 0;
    (void)absl::SimpleAtoi(kv["http.response.status"], &status);
    OriginClient& c = a.by_client[client];
    ++c.blob_gets;
    if (status / 100 == 2) c.blob_bytes += written;
    ++clients_by_blob[digest][client];
    absl::Time answered;
    std::string err;
    if (absl::ParseTime(absl::RFC3339_full, kv["time"], &answered, &err)) {
      a.last_blob_answer = std::max(a.last_blob_answer, answered);
    }
  }
  for (const auto& [digest, counts] : parsed.blobs) {
    auto size = blob_sizes.find(digest);
    if (size == blob_sizes.end() || counts.bytes_served <= size->second) continue;
    a.repeats.push_back({digest, counts.get, counts.bytes_served, clients_by_blob[digest]});
  }
  return a;
}

OriginLedger::OriginLedger(testkit::RegistryProcess* origin,
                           std::map<std::string, std::string> ip_to_host,
                           std::map<std::string, uint64_t> blob_sizes)
    : origin_(origin), ip_to_host_(std::move(ip_to_host)), blob_sizes_(std::move(blob_sizes)) {}

void OriginLedger::Mark() {
  struct stat st {};
  mark_ = stat(origin_->log_path().c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

OriginAccount OriginLedger::Read() const {
  std::string log = testkit::ReadFileOrEmpty(origin_->log_path());
  return AccountOriginLog(absl::string_view(log).substr(std::min(mark_, log.size())), ip_to_host_,
                          blob_sizes_);
}

}  // namespace shoal::bench
