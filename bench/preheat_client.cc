#include "bench/preheat_client.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "testkit/net_util.h"

namespace shoal::bench {
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

uint64_t U64(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

int64_t I64(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

}  // namespace

std::map<std::string, bool> JobStatus::HostsComplete() const {
  std::map<std::string, bool> done;
  for (const JobBlobProgress& b : blobs) {
    for (const JobHostProgress& h : b.hosts) {
      auto [it, inserted] = done.emplace(h.host_id, true);
      it->second = it->second && h.state == "succeeded";
    }
  }
  // A host missing from some blob's list has not got that blob.
  for (auto& [host, complete] : done) {
    for (const JobBlobProgress& b : blobs) {
      bool listed = false;
      for (const JobHostProgress& h : b.hosts) listed = listed || h.host_id == host;
      complete = complete && listed;
    }
  }
  return done;
}

uint64_t JobStatus::BytesDone() const {
  uint64_t total = 0;
  for (const JobBlobProgress& b : blobs) {
    for (const JobHostProgress& h : b.hosts) total += h.bytes_done;
  }
  return total;
}

int64_t JobStatus::HostFinishedUnixMs(const std::string& host) const {
  int64_t last = 0;
  for (const JobBlobProgress& b : blobs) {
    int64_t finished = 0;
    for (const JobHostProgress& h : b.hosts) {
      if (h.host_id == host) finished = h.finished_unix_ms;
    }
    if (finished == 0) return 0;
    last = std::max(last, finished);
  }
  return last;
}

absl::StatusOr<JobStatus> ParseJobStatus(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("job status is not a JSON object: ", text.substr(0, 200)));
  }
  JobStatus s;
  s.id = Str(j, "id");
  s.state = Str(j, "state");
  s.error = Str(j, "error");
  if (s.id.empty()) return absl::InvalidArgumentError("job status has no \"id\"");
  auto blobs = j.find("blobs");
  if (blobs != j.end() && blobs->is_array()) {
    for (const json& b : *blobs) {
      JobBlobProgress bp{Str(b, "digest"), U64(b, "size"), {}};
      auto hosts = b.find("hosts");
      if (hosts != b.end() && hosts->is_array()) {
        for (const json& h : *hosts) {
          // The seed's copy (listed when it sources the blob) is not a node's: the
          // bench measures nodes, and counting it overran the byte total.
          if (Str(h, "role") == "seed") continue;
          bp.hosts.push_back(
              {Str(h, "host_id"), Str(h, "state"), U64(h, "bytes_done"), Str(h, "error"), 0});
        }
      }
      s.blobs.push_back(std::move(bp));
    }
  }
  // Finish times are listed apart from progress, one entry per blob and host.
  auto timings = j.find("blob_timings");
  if (timings != j.end() && timings->is_array()) {
    for (const json& t : *timings) {
      for (JobBlobProgress& b : s.blobs) {
        if (b.digest != Str(t, "digest")) continue;
        for (JobHostProgress& h : b.hosts) {
          if (h.host_id == Str(t, "host_id")) h.finished_unix_ms = I64(t, "finished_unix_ms");
        }
      }
    }
  }
  return s;
}

absl::StatusOr<std::string> PreheatClient::Submit(const std::string& image_ref,
                                                  const std::string& scope,
                                                  const std::string& platform) {
  testkit::HttpCall call;
  call.method = "POST";
  call.url = base_url_ + "/api/v1/jobs";
  call.headers = {"Content-Type: application/json"};
  call.body = json{{"image", image_ref}, {"scope", scope}, {"platform", platform}}.dump();
  call.timeout = absl::Seconds(30);
  auto r = testkit::HttpFetch(call);
  if (!r.ok()) {
    return absl::UnimplementedError(
        absl::StrCat("no job API at ", call.url, " (", r.status().message(), ")"));
  }
  if (r->status == 404 || r->status == 405 || r->status == 501) {
    return absl::UnimplementedError(
        absl::StrCat("POST ", call.url, " answered ", r->status, ": the scheduler has no job API"));
  }
  if (r->status / 100 != 2) {
    return absl::InternalError(
        absl::StrCat("POST ", call.url, " answered ", r->status, ": ", r->body.substr(0, 500)));
  }
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded() || Str(j, "id").empty()) {
    return absl::InternalError(
        absl::StrCat("POST ", call.url, " answered without a job id: ", r->body.substr(0, 500)));
  }
  return Str(j, "id");
}

absl::StatusOr<JobStatus> PreheatClient::Get(const std::string& id) {
  testkit::HttpCall call;
  call.url = absl::StrCat(base_url_, "/api/v1/jobs/", id);
  call.timeout = absl::Seconds(30);
  auto r = testkit::HttpFetch(call);
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return absl::InternalError(
        absl::StrCat("GET ", call.url, " answered ", r->status, ": ", r->body.substr(0, 500)));
  }
  return ParseJobStatus(r->body);
}

}  // namespace shoal::bench
