// What the origin registry served during one system's run, and to whom: totals
// from testkit's access-log accounting, plus a breakdown by client host (the
// registry logs each request's remote address; the testbed knows which host has
// which address) and the blobs served more than once. When shoal takes more than
// one copy from the origin, this says which daemon fetched what again.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bench/report.h"
#include "testkit/registry_process.h"

namespace shoal::bench {

struct OriginAccount {
  uint64_t blob_bytes = 0;
  int blob_gets = 0;
  int manifest_requests = 0;
  std::map<std::string, OriginClient> by_client;  // host name (or address when unknown)
  std::vector<OriginRepeat> repeats;
  absl::Time last_blob_answer = absl::InfinitePast();  // when the last blob GET completed
};

// Accounts the registry log lines in `log_text`. ip_to_host names the clients;
// blob_sizes (digest -> size) tells a repeat from a ranged fetch in pieces.
OriginAccount AccountOriginLog(absl::string_view log_text,
                               const std::map<std::string, std::string>& ip_to_host,
                               const std::map<std::string, uint64_t>& blob_sizes);

class OriginLedger {
 public:
  OriginLedger(testkit::RegistryProcess* origin, std::map<std::string, std::string> ip_to_host,
               std::map<std::string, uint64_t> blob_sizes);
  // Forget what was served so far.
  void Mark();
  // What was served since Mark().
  OriginAccount Read() const;

 private:
  testkit::RegistryProcess* origin_;
  std::map<std::string, std::string> ip_to_host_;
  std::map<std::string, uint64_t> blob_sizes_;
  size_t mark_ = 0;
};

}  // namespace shoal::bench
