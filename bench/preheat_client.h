// Client of the scheduler's REST preheat job API (POST /api/v1/jobs, GET
// /api/v1/jobs/<id>), and the reading of a job's status that shoal-bench needs:
// which hosts hold every blob of the image. Requests go out from the calling
// thread's network namespace.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace shoal::bench {

struct JobHostProgress {
  std::string host_id;
  std::string state;  // "pending", "running", "succeeded", "failed", ...
  uint64_t bytes_done = 0;
  std::string error;
  int64_t finished_unix_ms = 0;  // 0: not finished (or not reported)
};

struct JobBlobProgress {
  std::string digest;
  uint64_t size = 0;
  std::vector<JobHostProgress> hosts;
};

struct JobStatus {
  std::string id;
  std::string state;  // pending | running | succeeded | failed | cancelled
  std::string error;
  std::vector<JobBlobProgress> blobs;

  bool Terminal() const {
    return state == "succeeded" || state == "failed" || state == "cancelled";
  }
  // host id -> every listed blob is "succeeded" on it.
  std::map<std::string, bool> HostsComplete() const;
  uint64_t BytesDone() const;  // summed over blobs and hosts
  // When the last blob finished on `host` (the scheduler's clock), or 0 when some
  // blob has no finish time.
  int64_t HostFinishedUnixMs(const std::string& host) const;
};

// Parses the JSON a GET /api/v1/jobs/<id> (or the POST) answers. Unknown keys are
// ignored; missing optional ones take defaults.
absl::StatusOr<JobStatus> ParseJobStatus(const std::string& json_text);

class PreheatClient {
 public:
  explicit PreheatClient(std::string base_url) : base_url_(std::move(base_url)) {}
  // Submits a preheat of image_ref onto every peer. Unimplemented when the
  // scheduler has no job API (no listener, or 404/405 on the route).
  absl::StatusOr<std::string> Submit(const std::string& image_ref, const std::string& scope,
                                     const std::string& platform);
  absl::StatusOr<JobStatus> Get(const std::string& id);

 private:
  std::string base_url_;  // "http://10.a.b.202:65002"
};

}  // namespace shoal::bench
