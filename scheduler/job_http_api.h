// The REST job API (cpp-httplib) on --http-listen:
//   POST /api/v1/jobs                 create (201; 200 with existing=true for a duplicate)
//   GET  /api/v1/jobs[?state=S]       list, newest first
//   GET  /api/v1/jobs/<id>            status
//   POST /api/v1/jobs/<id>/cancel     cancel
//   GET  /api/v1/hosts                registered hosts and liveness
//   GET  /healthz                     "ok"
// Errors are JSON {"error": {"code", "message"}} with a 4xx/5xx status. Request
// bodies are never logged (they may hold registry credentials).
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "scheduler/job_manager.h"
#include "scheduler/job_swarm.h"

namespace httplib {
class Server;
}

namespace shoal {

class JobHttpApi {
 public:
  // listen: host:port (port 0 picks a free one).
  static absl::StatusOr<std::unique_ptr<JobHttpApi>> Start(const std::string& listen,
                                                           JobManager& jobs, JobSwarm& swarm);
  ~JobHttpApi();
  void Stop();
  int port() const { return port_; }
  std::string address() const;

 private:
  JobHttpApi(JobManager& jobs, JobSwarm& swarm);
  void Routes();

  JobManager& jobs_;
  JobSwarm& swarm_;
  std::unique_ptr<httplib::Server> server_;
  std::string host_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace shoal
