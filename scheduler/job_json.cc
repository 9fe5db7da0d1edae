#include "scheduler/job_json.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "scheduler/api_error.h"

namespace shoal {
namespace {

using nlohmann::json;

absl::Status FieldError(const char* reason, const std::string& message) {
  return ApiError(absl::StatusCode::kInvalidArgument, reason, message);
}

absl::Status ReadString(const json& body, const char* key, std::string* out) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) {
    return FieldError("invalid_field",
                      absl::StrCat("field \"", key, "\" must be a string, got ", it->type_name()));
  }
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status ReadConcurrency(const json& body, const char* key, uint32_t* out) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_number_integer()) {
    return FieldError("invalid_concurrency",
                      absl::StrCat("field \"", key, "\" must be a whole number (0 for the ",
                                   "default), got ", it->dump()));
  }
  int64_t v = it->get<int64_t>();
  if (v < 0 || v > 0xffffffffLL) {
    return FieldError("invalid_concurrency",
                      absl::StrCat("field \"", key, "\" must be 0 (the default) or a positive ",
                                   "number, got ", v));
  }
  *out = static_cast<uint32_t>(v);
  return absl::OkStatus();
}

}  // namespace

const char* JobStateText(v1::JobState state) {
  switch (state) {
    case v1::JOB_STATE_PENDING:
      return "pending";
    case v1::JOB_STATE_RUNNING:
      return "running";
    case v1::JOB_STATE_SUCCEEDED:
      return "succeeded";
    case v1::JOB_STATE_FAILED:
      return "failed";
    case v1::JOB_STATE_CANCELLED:
      return "cancelled";
    default:
      return "unknown";
  }
}

json Rfc3339OrNull(int64_t unix_ms) {
  if (unix_ms == 0) return nullptr;
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

absl::StatusOr<v1::CreateJobRequest> ParseCreateJobJson(const std::string& text) {
  json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return FieldError("malformed_json",
                      "request body is not valid JSON; send an object such as "
                      "{\"image\": \"registry:5000/team/app:v1\", \"scope\": \"all-peers\"}");
  }
  if (!body.is_object()) {
    return FieldError("malformed_json",
                      absl::StrCat("request body must be a JSON object, got ", body.type_name()));
  }
  static const char* kKnown[] = {
      "image",    "platform", "scope",          "layer_concurrency", "host_concurrency",
      "username", "password", "idempotency_key"};
  for (const auto& [key, value] : body.items()) {
    bool known = false;
    for (const char* k : kKnown) known = known || key == k;
    if (!known) {
      return FieldError("unknown_field",
                        absl::StrCat("unknown field \"", key.substr(0, 100),
                                     "\"; known fields: image, platform, scope, "
                                     "layer_concurrency, host_concurrency, username, password, "
                                     "idempotency_key"));
    }
  }
  v1::CreateJobRequest req;
  std::string s;
  if (auto st = ReadString(body, "image", &s); !st.ok()) return st;
  if (s.empty()) {
    return FieldError("missing_field", "field \"image\" is required (e.g. \"alpine:3.19\")");
  }
  req.set_image(s);
  for (auto [key, setter] :
       std::initializer_list<std::pair<const char*, void (*)(v1::CreateJobRequest&, std::string)>>{
           {"platform", [](v1::CreateJobRequest&r, std::string v) { r.set_platform(v); }},
           {"scope", [](v1::CreateJobRequest&r, std::string v) { r.set_scope(v); }},
           {"username",
            [](v1::CreateJobRequest&r, std::string v) { r.mutable_auth()->set_username(v); }},
           {"password",
            [](v1::CreateJobRequest&r, std::string v) { r.mutable_auth()->set_password(v); }},
           {"idempotency_key",
            [](v1::CreateJobRequest&r, std::string v) { r.set_idempotency_key(v); }}}) {
    std::string v;
    if (auto st = ReadString(body, key, &v); !st.ok()) return st;
    setter(req, std::move(v));
  }
  uint32_t layers = 0, hosts = 0;
  if (auto st = ReadConcurrency(body, "layer_concurrency", &layers); !st.ok()) return st;
  if (auto st = ReadConcurrency(body, "host_concurrency", &hosts); !st.ok()) return st;
  req.set_layer_concurrency(layers);
  req.set_host_concurrency(hosts);
  return req;
}

json JobStatusJson(const v1::JobStatus& s) {
  json blobs = json::array();
  json timings = json::array();
  for (const v1::BlobStatus& b : s.blobs()) {
    json hosts = json::array();
    for (const v1::HostProgress& h : b.hosts()) {
      hosts.push_back({{"host_id", h.host_id()},
                       {"role", h.role()},
                       {"goal", h.goal()},
                       {"state", h.state()},
                       {"bytes_done", h.bytes_done()},
                       {"rate_bps", h.rate_bps()},
                       {"error", h.error()}});
      timings.push_back({{"digest", b.digest()},
                         {"host_id", h.host_id()},
                         {"role", h.role()},
                         {"requested_unix_ms", h.requested_unix_ms()},
                         {"started_unix_ms", h.started_unix_ms()},
                         {"finished_unix_ms", h.finished_unix_ms()}});
    }
    blobs.push_back({{"digest", b.digest()},
                     {"size", b.size()},
                     {"media_type", b.media_type()},
                     {"hosts", std::move(hosts)}});
  }
  return json{
      {"id", s.id()},
      {"image", s.image()},
      {"reference", s.reference()},
      {"resolved_digest", s.resolved_digest()},
      {"platform", s.platform()},
      {"scope", s.scope()},
      {"state", JobStateText(s.state())},
      {"error", s.error()},
      {"layer_concurrency", s.layer_concurrency()},
      {"host_concurrency", s.host_concurrency()},
      {"target_hosts", std::vector<std::string>(s.target_hosts().begin(), s.target_hosts().end())},
      {"blobs", std::move(blobs)},
      {"total_bytes", s.total_bytes()},
      {"done_bytes", s.done_bytes()},
      {"rate_bps", s.rate_bps()},
      {"eta_seconds", s.eta_seconds()},
      {"created_at", Rfc3339OrNull(s.created_unix_ms())},
      {"finished_at", Rfc3339OrNull(s.finished_unix_ms())},
      {"created_unix_ms", s.created_unix_ms()},
      {"finished_unix_ms", s.finished_unix_ms()},
      {"blob_timings", std::move(timings)}};
}

json HostsJson(const std::vector<v1::HostStatus>& hosts) {
  json out = json::array();
  for (const v1::HostStatus& h : hosts) {
    json labels = json::object();
    for (const auto& [k, v] : h.host().labels()) labels[k] = v;
    out.push_back({{"id", h.host().id()},
                   {"role", h.host().role() == v1::HOST_ROLE_SEED ? "seed" : "peer"},
                   {"ip", h.host().ip()},
                   {"data_port", h.host().data_port()},
                   {"labels", std::move(labels)},
                   {"upload_capacity_bps", h.host().upload_capacity_bps()},
                   {"free_disk_bytes", h.host().free_disk_bytes()},
                   {"alive", h.alive()},
                   {"last_seen", Rfc3339OrNull(h.last_seen_unix_ms())}});
  }
  return json{{"hosts", std::move(out)}};
}

json ErrorJson(const absl::Status& status) {
  return json{
      {"error", {{"code", ApiErrorReason(status)}, {"message", std::string(status.message())}}}};
}

}  // namespace shoal
