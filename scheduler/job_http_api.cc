#include "scheduler/job_http_api.h"

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "scheduler/api_error.h"
#include "scheduler/job_json.h"

namespace shoal {
namespace {

using nlohmann::json;

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(2) + "\n", "application/json");
}

void ReplyError(httplib::Response& res, const absl::Status& s) {
  Reply(res, HttpStatusFor(s), ErrorJson(s));
}

}  // namespace

JobHttpApi::JobHttpApi(JobManager& jobs, JobSwarm& swarm)
    : jobs_(jobs), swarm_(swarm), server_(std::make_unique<httplib::Server>()) {}

absl::StatusOr<std::unique_ptr<JobHttpApi>> JobHttpApi::Start(const std::string& listen,
                                                              JobManager& jobs, JobSwarm& swarm) {
  size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(absl::StrCat("http-listen: '", listen, "' is not host:port"));
  }
  std::unique_ptr<JobHttpApi> api(new JobHttpApi(jobs, swarm));
  api->host_ = listen.substr(0, colon);
  api->Routes();
  api->server_->set_payload_max_length(1 << 20);
  bool bound = port == 0 ? (port = api->server_->bind_to_any_port(api->host_)) > 0
                         : api->server_->bind_to_port(api->host_, port);
  if (!bound) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", listen,
                     " for the REST job API (address in use, not local, or "
                     "not permitted); pick another --http-listen"));
  }
  api->port_ = port;
  httplib::Server* server = api->server_.get();
  api->thread_ = std::thread([server] { server->listen_after_bind(); });
  return api;
}

JobHttpApi::~JobHttpApi() { Stop(); }

void JobHttpApi::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

std::string JobHttpApi::address() const { return absl::StrCat(host_, ":", port_); }

void JobHttpApi::Routes() {
  httplib::Server& s = *server_;
  s.Post("/api/v1/jobs", [this](const httplib::Request& req, httplib::Response& res) {
    auto parsed = ParseCreateJobJson(req.body);
    if (!parsed.ok()) return ReplyError(res, parsed.status());
    if (parsed->idempotency_key().empty() && req.has_header("Idempotency-Key")) {
      parsed->set_idempotency_key(req.get_header_value("Idempotency-Key"));
    }
    auto created = jobs_.CreateJob(*parsed);
    if (!created.ok()) return ReplyError(res, created.status());
    json body{{"id", created->id},
              {"existing", created->existing},
              {"state", JobStateName(created->state)}};
    if (!created->error.empty()) body["error"] = created->error;
    res.set_header("Location", absl::StrCat("/api/v1/jobs/", created->id));
    Reply(res, created->existing ? 200 : 201, body);
  });
  s.Get("/api/v1/jobs", [this](const httplib::Request& req, httplib::Response& res) {
    std::optional<JobState> state;
    if (req.has_param("state")) {
      std::string text = req.get_param_value("state");
      state = ParseJobState(text);
      if (!state) {
        return ReplyError(res, ApiError(absl::StatusCode::kInvalidArgument, "invalid_state",
                                        absl::StrCat("state '", text.substr(0, 50),
                                                     "' is not pending, running, succeeded, "
                                                     "failed or cancelled")));
      }
    }
    json list = json::array();
    for (const v1::JobStatus& j : jobs_.ListJobs(state)) list.push_back(JobStatusJson(j));
    Reply(res, 200, json{{"jobs", std::move(list)}});
  });
  s.Get(R"(/api/v1/jobs/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    auto status = jobs_.GetJob(req.matches[1]);
    if (!status.ok()) return ReplyError(res, status.status());
    Reply(res, 200, JobStatusJson(*status));
  });
  s.Post(R"(/api/v1/jobs/([^/]+)/cancel)",
         [this](const httplib::Request& req, httplib::Response& res) {
           auto status = jobs_.CancelJob(req.matches[1]);
           if (!status.ok()) return ReplyError(res, status.status());
           Reply(res, 200, JobStatusJson(*status));
         });
  s.Get("/api/v1/hosts", [this](const httplib::Request&, httplib::Response& res) {
    Reply(res, 200, HostsJson(swarm_.Hosts()));
  });
  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // a handler already answered
    if (res.status == 404) {
      ReplyError(
          res,
          ApiError(
              absl::StatusCode::kNotFound, "no_route",
              absl::StrCat(
                  "no route ", req.method, " ", req.path,
                  "; the API is under /api/v1/jobs and /api/v1/hosts (README: Preheat jobs)")));
    } else if (res.status == 405) {
      ReplyError(res, ApiError(absl::StatusCode::kInvalidArgument, "method_not_allowed",
                               absl::StrCat(req.method, " is not allowed on ", req.path)));
      res.status = 405;
    }
  });
  s.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    Logger("http")->debug("{} {} -> {}", req.method, req.path, res.status);
  });
}

}  // namespace shoal
